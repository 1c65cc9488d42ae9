"""Rules an analyst can read: the generated table reference is up to date and complete, the
schema command, the path rule with its deliberate way out (--project-root), the example
scenario files, and the Python API for notebooks."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import gridopt
from gridopt.cli.common import app
from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.paths import PROJECT_ROOT_ENV
from gridopt.inputs.reference import reference_markdown, unit_of
from gridopt.inputs.schema import TABLES
from gridopt.studies.run import solve_case
from gridopt.studies.scenarios import read_scenarios
from tests.conftest import CASES, ROOT


def test_the_committed_reference_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        "docs/schema.md is out of date: run `gridopt schema --markdown > docs/schema.md`"
    )
    for table in TABLES.values():
        assert f"## `{table.name}`" in committed
        for col in table.columns:
            assert f"| `{col.name}` |" in committed


def test_units_come_from_the_column_names():
    assert unit_of("p_max_mw") == "MW"
    assert unit_of("marginal_cost_cny_per_mwh") == "CNY/MWh"
    assert unit_of("tariff_cny_per_mwh_th") == "CNY/MWh_th"
    assert unit_of("inflow_m3s") == "m3/s" and unit_of("storage_max_hm3").startswith("hm3")
    assert unit_of("volume_max_mwh_th") == "MWh_th" and unit_of("p_max_mwth") == "MWth"
    assert unit_of("name") == ""


def test_schema_command_shows_a_table_and_rejects_an_unknown_one():
    runner = CliRunner()
    res = runner.invoke(app, ["schema", "corridors"])
    assert res.exit_code == 0, res.output
    assert "| `poles_available` |" in res.stdout and "poles_available <= poles" in res.stdout
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0 and "generators" in res.stdout
    res = runner.invoke(app, ["schema", "generator"])
    assert res.exit_code == 2 and "generators" in res.output


def test_a_network_outside_the_project_needs_project_root(tmp_path, monkeypatch):
    """cases/x.yaml may reach ../networks/...; a network beside the project only with
    --project-root naming a folder that holds both."""
    project = tmp_path / "study" / "cases"
    project.mkdir(parents=True)
    shutil.copytree(ROOT / "networks" / "tiny_two_bus", tmp_path / "shared" / "tiny_two_bus")
    settings = yaml.safe_load((CASES / "tiny_two_bus.yaml").read_text())
    settings["network"] = "../../shared/tiny_two_bus"
    case = project / "two_bus.yaml"
    case.write_text(yaml.safe_dump(settings))
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    with pytest.raises(InputError) as err:
        load_case(case)
    assert "--project-root" in str(err.value)
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(case)])
    assert res.exit_code == 2 and "leaves the project folder" in res.output
    try:
        res = runner.invoke(app, ["--project-root", str(tmp_path), "validate", str(case)])
        assert res.exit_code == 0, res.output
        assert os.environ[PROJECT_ROOT_ENV] == str(tmp_path.resolve())  # for worker processes
    finally:
        os.environ.pop(PROJECT_ROOT_ENV, None)


def test_example_scenarios_have_a_base_and_valid_changes():
    scenarios = read_scenarios(CASES / "scenarios" / "pprd_week.yaml")
    assert [s.name for s in scenarios if s.base] == ["normal"]
    assert {"dry", "wet", "nuozhadu_out"} <= {s.name for s in scenarios}
    out = next(s for s in scenarios if s.name == "nuozhadu_out")
    data = load_case(CASES / "pprd_week.yaml", out.changes)
    assert data.tables["corridors"].at["Nuozhadu-Guangdong", "poles_available"] == 0


def test_python_api_returns_tables_as_dataframes(tmp_path):
    result = gridopt.solve(
        CASES / "tiny_two_bus.yaml",
        {"scale.demand": 1.1},
        out=tmp_path / "run",
        formats=("parquet",),
    )
    direct = solve_case(CASES / "tiny_two_bus.yaml", changes={"scale.demand": 1.1})
    assert result.optimal and result.status == "optimal"
    assert result.objective_cny == pytest.approx(direct.solution.objective_cny)
    assert isinstance(result["generation"], pd.DataFrame)
    pd.testing.assert_frame_equal(result.tables["generation"], direct.tables["generation"])
    assert "summary" in result.names
    back = gridopt.load(tmp_path / "run")
    assert back.objective_cny == pytest.approx(result.objective_cny)
    pd.testing.assert_frame_equal(back["prices"], result["prices"], check_dtype=False)
    with pytest.raises(InputError):
        gridopt.solve(CASES / "tiny_two_bus.yaml", {"model": "UC"})
