"""Runs compared: `gridopt compare` sets results folders side by side with differences against
the first, and a sweep with a base scenario gives each scenario's differences against it."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridopt.cli.common import app
from gridopt.errors import InputError
from gridopt.studies.compare import compare_runs
from gridopt.studies.run import solve_case
from gridopt.studies.scenarios import Scenario, read_scenarios
from gridopt.studies.sweep_tables import ScenarioOutcome, combined_tables, key_tables
from tests.conftest import CASES


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """tiny_corridor at its demand and at 1.2 x, written as parquet and xlsx."""
    folder = tmp_path_factory.mktemp("runs")
    out = {}
    for name, demand in (("low", 1.0), ("high", 1.2)):
        out[name] = solve_case(
            CASES / "tiny_corridor.yaml",
            folder / name,
            formats=("xlsx", "parquet"),
            changes={"scale.demand": demand},
        )
        assert out[name].solution.status.value == "optimal"
    return folder, out


def test_compare_gives_the_difference_of_objectives_exactly(runs, tmp_path):
    folder, _ = runs
    res = CliRunner().invoke(
        app,
        [
            "compare",
            str(folder / "low"),
            str(folder / "high"),
            "--out",
            str(tmp_path / "cmp"),
            "--format",
            "xlsx,parquet",
        ],
    )
    assert res.exit_code == 0, res.output
    low = json.loads((folder / "low" / "summary.json").read_text())["objective_cny"]
    high = json.loads((folder / "high" / "summary.json").read_text())["objective_cny"]
    table = pd.read_parquet(tmp_path / "cmp" / "parquet" / "comparison.parquet")
    row = table.set_index("figure").loc["objective_cny"]
    assert float(row["low"]) == low and float(row["high"]) == high
    assert float(row["high - low"]) == high - low  # exactly
    assert high - low != 0
    sheet = pd.read_excel(tmp_path / "cmp" / "results.xlsx", sheet_name="comparison")
    diff = sheet.set_index("figure").loc["objective_cny", "high - low"]
    assert diff == pytest.approx(high - low, rel=1e-15)
    assert "high - low: objective" in res.stdout
    # the workbook has its charts: runs side by side and their differences
    book = openpyxl.load_workbook(tmp_path / "cmp" / "results.xlsx")
    assert len(book["energy_by_carrier"]._charts) == 2
    assert len(book["corridor_energy"]._charts) == 2


def test_compare_tables_hold_each_runs_figures(runs):
    folder, result = runs
    tables = compare_runs([folder / "low", folder / "high"])
    energy = tables["corridor_energy"].set_index("branch")
    for name in ("low", "high"):
        c = result[name].tables["corridors"]
        sent = (c["sent_mw"]).groupby(c["corridor"]).sum()  # hourly snapshots
        for corridor, mwh in sent.items():
            assert energy.loc[corridor, f"{name} (MWh)"] == pytest.approx(mwh)
    assert set(energy["kind"]) == {"corridor"}
    by_carrier = tables["energy_by_carrier"].set_index("carrier")
    for name in ("low", "high"):
        gen = result[name].tables["generation"]
        expected = gen.groupby("carrier")["energy_mwh"].sum()
        for carrier, mwh in expected.items():
            assert by_carrier.loc[carrier, f"{name} (MWh)"] == pytest.approx(mwh)
    assert (
        by_carrier["high - low (MWh)"] == by_carrier["high (MWh)"] - by_carrier["low (MWh)"]
    ).all()
    prices = tables["price_by_region"]
    assert len(prices) == 2 and "high - low (CNY/MWh)" in prices


def test_compare_needs_two_results_folders(runs, tmp_path):
    folder, _ = runs
    res = CliRunner().invoke(app, ["compare", str(folder / "low"), "--out", str(tmp_path)])
    assert res.exit_code == 2
    res = CliRunner().invoke(
        app,
        ["compare", str(folder / "low"), str(tmp_path / "nowhere"), "--out", str(tmp_path / "c")],
    )
    assert res.exit_code == 2 and "no results tables" in res.output


def test_sweep_differences_against_its_base(runs):
    _, result = runs
    scenarios = [
        Scenario("low", {"scale.demand": 1.0}, base=True),
        Scenario("high", {"scale.demand": 1.2}),
    ]
    outcomes = [
        ScenarioOutcome(
            s.name,
            "optimal",
            r.solution.objective_cny,
            ran=True,
            summary=r.summary,
            tables=key_tables(r.tables, r.summary),
        )
        for s, r in zip(scenarios, (result["low"], result["high"]), strict=True)
    ]
    tables = combined_tables(scenarios, outcomes)
    diff = tables["differences"].set_index("scenario")
    assert (diff["base"] == "low").all()
    assert diff.loc["low", "objective_cny - base"] == 0
    assert diff.loc["high", "objective_cny - base"] == (
        result["high"].solution.objective_cny - result["low"].solution.objective_cny
    )
    assert "scale.demand - base" not in diff  # the settings are not figures


def test_scenario_file_names_or_defines_its_base(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("base: normal\nproduct:\n  inflow_year: [dry, normal, wet]\n")
    with pytest.raises(InputError) as err:
        read_scenarios(path)
    assert "base" in str(err.value)  # product names are inflow_year-normal, ...
    path.write_text("base: inflow_year-normal\nproduct:\n  inflow_year: [dry, normal, wet]\n")
    assert [s.name for s in read_scenarios(path) if s.base] == ["inflow_year-normal"]
    path.write_text(
        "base: {name: normal, changes: {inflow_year: normal}}\n"
        "scenarios:\n  - {name: dry, changes: {inflow_year: dry}}\n"
    )
    listed = read_scenarios(path)
    assert [(s.name, s.base) for s in listed] == [("normal", True), ("dry", False)]
