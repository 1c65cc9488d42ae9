"""`gridopt calibrate`: measures checked by hand on toys, and the PPRD year against its figures.

The toys are the hand-solved cases of the other test modules (their docstrings derive the
dispatch); a reference table written here names what to measure, and every model value it
reports is the hand-derived one. The PPRD calibration year (daily resolution, seconds to solve)
must write its report and keep its headline aggregates within their targets.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridopt.cli import app
from gridopt.errors import InputError
from gridopt.studies.calibrate import REFERENCE_FILE, TARGETS_PU, calibrate_case
from tests.conftest import CASES, copy_case

COLUMNS = "name,group,quantity,region,carrier,components,value,caveat,headline"


def _with_reference(tmp_path: Path, case: str, rows: list[str], append: str = "") -> Path:
    """A copy of a toy case (its network folder has the case's name) with reference rows."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = copy_case(tmp_path, case, append)
    (tmp_path / "networks" / case / REFERENCE_FILE).write_text("\n".join([COLUMNS, *rows]) + "\n")
    return path


def _model(result, figure: str) -> float:
    t = result.table.set_index("figure")
    return float(t.at[figure, "model"])


def test_generation_consumption_and_shares_on_two_buses_by_hand(tmp_path):
    """tiny_two_bus: load B 150, 250, 300, 200 MW; the 100 MW line carries cheap coal from A
    every hour (400 MWh), B's gas unit makes the rest (50, 150, 200, 100: 500 MWh). East
    serves 900 MWh, imports 400 (share 4/9), gas is 5/9 of its supply and all its generation.
    Solved in 2 snapshots of 2 h, each the mean of its hours (200 and 250 MW), the energies are
    the same: the weights count."""
    rows = [
        "coal of West,province,generation_mwh,West,coal,,400,,true",
        "half cheap and dear,station,generation_mwh,,,cheap*0.5;dear,600,,false",
        "East served,province,consumption_mwh,East,,,900,,true",
        "East import,hk_macao,import_mwh,East,,,400,,false",
        "East import share,hk_macao,import_share_pu,East,,,0.5,why not,false",
        "East gas of supply,station,supply_share_pu,East,gas,,0.5,,false",
        "East gas of generation,province,generation_share_pu,East,gas,,1,,false",
    ]
    horizons = ("", "horizon: {start: '2025-01-01 00:00', snapshots: 2, resolution_h: 2}")
    for i, append in enumerate(horizons):
        result = calibrate_case(_with_reference(tmp_path / str(i), "tiny_two_bus", rows, append))
        expected = {
            "coal of West": 400,
            "half cheap and dear": 700,
            "East served": 900,
            "East import": 400,
            "East import share": 4 / 9,
            "East gas of supply": 5 / 9,
            "East gas of generation": 1.0,
        }
        for figure, value in expected.items():
            assert _model(result, figure) == pytest.approx(value, rel=1e-6), figure
        t = result.table.set_index("figure")
        assert t.at["half cheap and dear", "deviation_pu"] == pytest.approx(700 / 600 - 1)
        assert t.at["half cheap and dear", "result"] == "fail"  # +17 %: beyond 15 %, no reason
        assert t.at["East import share", "result"] == "explained"  # -11 %: beyond 10 %, a reason
        assert t.at["East gas of supply", "result"] == "pass"  # +11 %: a station's 15 %
        assert t.at["coal of West", "result"] == "pass"


def test_gas_burn_gas_use_and_delivered_energy_by_hand(tmp_path):
    """tiny_gas (tests/test_gas.py): the CCGT burns 800 and 1000 MWth, the city draws 100 MWth
    each hour, the corridor link delivers 0 and 200 MW of import."""
    rows = [
        "coast burn,gas,gas_burn_mwh_th,Coast,,,1800,,true",
        "coast gas use,gas,gas_use_mwh_th,Coast,,,2000,,true",
        "corridor,corridor,delivered_mwh,,,corridor,200,,true",
        "coast import share,hk_macao,import_share_pu,Coast,,,0.2,,true",
    ]
    result = calibrate_case(_with_reference(tmp_path, "tiny_gas", rows))
    for figure, value in {
        "coast burn": 1800,
        "coast gas use": 2000,
        "corridor": 200,
        "coast import share": 200 / 1100,
    }.items():
        assert _model(result, figure) == pytest.approx(value, rel=1e-6), figure


def test_delivered_energy_of_a_corridor_is_after_its_losses(tmp_path):
    """tiny_corridor (tests/test_corridors.py): 80 MW sent B -> A in hours 0-1 (76 delivered),
    100 MW A -> B in hours 2-3 (95), 61 / 0.95 MW A -> B in hours 4-5 (61): 464 MWh."""
    rows = ["A-B,corridor,delivered_mwh,,,A-B,464,,true"]
    result = calibrate_case(_with_reference(tmp_path, "tiny_corridor", rows))
    assert _model(result, "A-B") == pytest.approx(464, rel=1e-6)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("x,station,generation_mwh,,,nowhere,1,,false", "components", "does not have"),
        ("x,station,generation_mwh,,,cheap*zero,1,,false", "components", "a share after"),
        ("x,station,import_share_pu,Atlantis,,,1,,false", "region", "unknown region"),
        ("x,station,supply_share_pu,East,,,1,,false", "carrier", "give one"),
        ("x,galaxy,consumption_mwh,East,,,1,,false", "group", "must be one of"),
        ("x,station,delivered_mwh,,,,1,,false", "components", "needs the corridors"),
        ("x,station,consumption_mwh,,,,1,,false", "region", "give one"),
    ],
)
def test_bad_reference_rows_are_named_by_file_row_and_column(tmp_path, row, column, words):
    case = _with_reference(tmp_path, "tiny_two_bus", [row])
    with pytest.raises(InputError) as err:
        calibrate_case(case)
    found = [p for p in err.value.problems if p.column == column and p.row == 2]
    assert found and any(words in p.rule for p in found), err.value.problems


def test_cli_exits_2_when_the_network_has_no_reference(tmp_path):
    case = copy_case(tmp_path, "tiny_two_bus")
    res = CliRunner().invoke(app, ["calibrate", str(case), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert REFERENCE_FILE in res.stderr


# ---- the PPRD year ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pprd(tmp_path_factory):
    out = tmp_path_factory.mktemp("calibration") / "pprd"
    result = calibrate_case(CASES / "pprd_calibration.yaml", out, formats=("csv",))
    assert result.run.solution.status == "optimal", result.run.solution.message
    return result, out


def test_pprd_report_and_sheet_are_written(pprd):
    result, out = pprd
    text = (out / "calibration.md").read_text()
    for heading in (
        "## Headline figures",
        "## Hydro stations",
        "## West-to-East corridors",
        "## Provinces",
        "## Hong Kong and Macao",
        "## Gas",
    ):
        assert heading in text
    sheet = pd.read_csv(out / "csv" / "calibration.csv")
    reference = pd.read_csv(result.run.data.network.folder / REFERENCE_FILE)
    assert list(sheet["figure"]) == list(reference["name"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calibration_figures"] == len(sheet)
    assert summary["status"] == "optimal"
    # every published figure in the report comes with its source and year columns
    assert sheet["source"].notna().sum() >= len(sheet) - sheet["status"].eq("estimate").sum()


def test_pprd_headline_aggregates_stay_within_their_targets(pprd):
    """The figures a later change must not push out of bounds: corridor energies, provincial
    consumption and hydro generation, Hong Kong's and Macao's import shares, the design energy
    of the stations. Deviation recomputed from the sheet against gridopt.studies.calibrate's
    targets."""
    result, _ = pprd
    t = result.table[result.table["headline"]]
    assert {"station", "river", "corridor", "province", "hk_macao"} <= set(t["group"])
    deviation = (t["model"] - t["published_value"]) / t["published_value"]
    bound = t["group"].map(TARGETS_PU)
    beyond = t[~(deviation.abs() <= bound)]
    assert beyond.empty, beyond[["figure", "model", "published_value"]].to_string()
    assert len(t) >= 30


def test_pprd_every_figure_beyond_its_target_is_explained(pprd):
    result, _ = pprd
    t = result.table
    assert (t["result"] != "fail").all(), t.loc[t["result"] == "fail", "figure"].tolist()
    beyond = t[t["result"] == "explained"]
    assert beyond["caveat"].str.len().gt(20).all()
    # the year is served in full: consumption figures are the network's demand
    served = t[t["quantity"] == "consumption_mwh"]
    np.testing.assert_allclose(served["model"], served["published_value"], rtol=1e-6)
    assert all(math.isfinite(v) for v in t["model"])


def test_pprd_plants_and_policies_run_as_in_the_real_system(pprd):
    """Guangdong's gas fleet runs its contracts (gas ~13 % of supply in 2023, within 20 %),
    Hong Kong's fuel mix holds (gas >= 50 %, coal <= 25 % of supply), Macao imports within 3
    points of the published 93 %; every figure beyond its target is one of the five whose
    reason the reference gives (2015 output of three stations, 2022's gas burn, Hong Kong's
    gas use at one efficiency)."""
    result, _ = pprd
    t = result.table.set_index("figure")
    gd = t.loc["Guangdong gas share of supply"]
    assert abs(gd["model"] / gd["published_value"] - 1) <= 0.20
    assert t.at["Hong Kong gas share of supply", "model"] >= 0.50 - 1e-6
    assert t.at["Hong Kong coal share of supply", "model"] <= 0.25 + 1e-6
    assert (
        abs(t.at["Macao import share", "model"] - t.at["Macao import share", "published_value"])
        <= 0.03
    )
    explained = set(t.index[t["result"] == "explained"])
    assert explained <= {
        "Ahai (observed 2015)",
        "Longkaikou (observed 2015)",
        "Ertan (observed 2015)",
        "Guangdong gas burnt for power",
        "Hong Kong gas use",
    }, explained
    # nothing is unserved in the calibration year
    assert result.run.summary["unserved_mwh"] == pytest.approx(0.0, abs=1e-3)
