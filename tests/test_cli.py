"""The command line end to end: exit codes, workbook and summary.json agree, errors in words."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CASES, ROOT, copy_case


def gridopt(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gridopt", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_solve_writes_workbook_that_agrees_with_summary(tmp_path):
    out = tmp_path / "run"
    res = gridopt(
        "solve", str(CASES / "tiny_storage.yaml"), "--out", str(out), "--format", "xlsx,csv,parquet"
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for phase in ("reading", "building", "solving", "writing"):
        assert phase in res.stderr
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "status",
        "objective_cny",
        "n_variables",
        "n_constraints",
        "build_seconds",
        "solve_seconds",
        "write_seconds",
        "case",
        "model",
    ):
        assert key in summary
    assert summary["status"] == "optimal"
    sheets = pd.read_excel(out / "results.xlsx", sheet_name=None)
    assert {
        "summary",
        "generation",
        "prices",
        "storage",
        "unserved",
        "costs",
        "generation_by_carrier",
    } <= set(sheets)
    items = dict(zip(sheets["summary"]["item"], sheets["summary"]["value"], strict=True))
    assert float(items["objective_cny"]) == pytest.approx(summary["objective_cny"])
    assert int(items["n_variables"]) == summary["n_variables"]
    # the cost sheet adds up to the objective, generation to the summary's energy
    assert sheets["costs"]["cost_cny"].sum() == pytest.approx(summary["objective_cny"])
    assert sheets["generation"]["energy_mwh"].sum() == pytest.approx(summary["generation_mwh"])
    assert pd.api.types.is_datetime64_any_dtype(sheets["prices"]["snapshot"])
    assert all("Unnamed" not in str(c) for df in sheets.values() for c in df.columns)
    csv = pd.read_csv(out / "csv" / "prices.csv")
    parquet = pd.read_parquet(out / "parquet" / "prices.parquet")
    assert csv["price_cny_per_mwh"].tolist() == pytest.approx(
        sheets["prices"]["price_cny_per_mwh"].tolist()
    )
    assert parquet["price_cny_per_mwh"].tolist() == pytest.approx(
        sheets["prices"]["price_cny_per_mwh"].tolist()
    )
    assert (out / "solver.log").exists()


def test_rerun_replaces_results_whole(tmp_path):
    out = tmp_path / "run"
    assert (
        gridopt(
            "solve", str(CASES / "tiny_two_bus.yaml"), "--out", str(out), "--format", "csv"
        ).returncode
        == 0
    )
    (out / "stale.txt").write_text("from an earlier run")
    assert (
        gridopt(
            "solve", str(CASES / "tiny_two_bus.yaml"), "--out", str(out), "--format", "csv"
        ).returncode
        == 0
    )
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folders left


def test_infeasible_case_exits_3_with_a_diagnosis(tmp_path):
    case = copy_case(tmp_path, "tiny_two_bus", "scale: {demand: 5.0}")
    res = gridopt("solve", str(case), "--out", str(tmp_path / "run"))
    assert res.returncode == 3
    assert "Traceback" not in res.stderr
    assert (
        "power balance at bus B cannot be met in 4 snapshots between 2025-01-01 00:00 and"
        " 2025-01-01 03:00: supply short by up to 900 MW"
    ) in res.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert len(summary["diagnosis"]) == 1


def test_a_case_infeasible_by_less_than_the_tolerance_names_the_row_that_takes_it(tmp_path):
    """Bus B can get at most 600 MW (its own 500 MW and the 100 MW line); at 02:00 it asks
    600.0000004 MW. The solver resolves 1e-7 MW, so the case is infeasible, but by less than
    the 1e-6 the diagnosis reports; it still names the balance and says why."""
    case = copy_case(tmp_path, "tiny_two_bus")
    load = tmp_path / "networks" / "tiny_two_bus" / "timeseries" / "load_mw.csv"
    load.write_text(load.read_text().replace("02:00,300", "02:00,600.0000004"))
    res = gridopt("solve", str(case), "--out", str(tmp_path / "run"))
    assert res.returncode == 3
    assert "Traceback" not in res.stderr
    assert "power balance at bus B cannot be met at 2025-01-01 02:00: supply short by" in (
        res.stderr
    )
    assert "infeasible only within the solver's tolerances" in res.stderr


def test_bad_table_value_names_file_row_and_column(tmp_path):
    net = tmp_path / "net"
    shutil.copytree(ROOT / "networks" / "tiny_two_bus", net)
    gens = (net / "generators.csv").read_text().replace("dear,B,gas,500", "dear,Q,gas,-5")
    (net / "generators.csv").write_text(gens)
    case = tmp_path / "case.yaml"
    case.write_text(
        (CASES / "tiny_two_bus.yaml").read_text().replace("../networks/tiny_two_bus", "net")
    )
    res = gridopt("validate", str(case))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "generators.csv, row 3, column 'p_max_mw'" in res.stderr
    assert "must be at least 0" in res.stderr
    # both problems are reported in the same pass: the negative rating and the unknown bus
    assert "row 3, column 'bus'" in res.stderr and "'Q'" in res.stderr
    res = gridopt("solve", str(case), "--out", str(tmp_path / "run"))
    assert res.returncode == 2
    assert not (tmp_path / "run").exists()


def test_bad_case_setting_is_reported(tmp_path):
    case = copy_case(tmp_path, "tiny_two_bus", "horizon: {snapshots: -4}")
    res = gridopt("validate", str(case))
    assert res.returncode == 2
    assert "horizon.snapshots" in res.stderr


def test_info_describes_case():
    res = gridopt("info", str(CASES / "tiny_kvl_loop.yaml"))
    assert res.returncode == 0, res.stderr
    assert "islands   1" in res.stdout
    assert "coal 1,000 MW" in res.stdout


def test_last_line_says_how_much_energy_went_unserved_and_where(tmp_path):
    """tiny_two_bus with the cheap plant's line cut and the dear plant derated to 200 MW: bus B
    (region East) needs 150, 250, 300 and 200 MW, so 50 + 100 MWh go unserved there, at 10,000
    CNY/MWh beside 750 MWh of the dear plant at 600; served in full, the line says so."""
    res = gridopt(
        "solve", str(CASES / "tiny_two_bus.yaml"), "--out", str(tmp_path / "a"), "--format", "csv"
    )
    assert res.returncode == 0, res.stderr
    assert (
        res.stdout.strip()
        .splitlines()[-1]
        .startswith("optimal: objective 380,000.00 CNY; no energy unserved;")
    )
    case = copy_case(
        tmp_path,
        "tiny_two_bus",
        append=(
            "load_shedding: {enabled: true, voll_cny_per_mwh: 10000}\n"
            "overrides:\n"
            "  - {table: lines, name: A-B, column: s_max_mw, value: 0}\n"
            "  - {table: generators, name: dear, column: p_max_mw, value: 200}\n"
        ),
    )
    res = gridopt("solve", str(case), "--out", str(tmp_path / "b"), "--format", "csv")
    assert res.returncode == 0, res.stderr
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "optimal: objective 1,950,000.00 CNY; 150.0 MWh unserved (East 150.0 MWh);"
    ), last
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["unserved_by_region_mwh"] == pytest.approx({"East": 150.0})
