"""Scenario sweeps on Dask: the same objectives as solving alone, resumable, failures isolated.

One local cluster of 2 worker processes serves the module (processes, so every task and result
crosses a pickle boundary as on a real cluster); the interruption test starts its own.
"""

from __future__ import annotations

import json
import logging
import os

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from gridopt.errors import InputError
from gridopt.studies.run import solve_case
from gridopt.studies.scenarios import Scenario, read_scenarios
from gridopt.studies.sweep import plan, run_sweep
from gridopt.studies.sweep_tables import NOT_RUN
from tests.conftest import CASES

distributed = pytest.importorskip("distributed")

CASE = CASES / "tiny_two_bus.yaml"
LINE = "{table: lines, name: A-B, column: s_max_mw, value: %d}"
# 2 named scenarios and a 2 x 2 product: demand scaling and the line's rating
SIX = f"""
scenarios:
  - name: base
  - name: gas_dear
    changes: {{scale: {{fuel_price: {{gas: 1.5}}}}}}
product:
  scale.demand: [0.8, 1.2]
  overrides: [[{LINE % 50}], [{LINE % 150}]]
"""


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        assert os.getpid() not in set(c.run(os.getpid).values())
        yield c


def _file(tmp_path, text: str, name: str = "scenarios.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sweep_gives_each_scenario_the_objective_of_solving_it_alone(tmp_path, client):
    scenarios = read_scenarios(_file(tmp_path, SIX))
    assert [s.name for s in scenarios] == [
        "base",
        "gas_dear",
        "demand-0.8_overrides-1",
        "demand-0.8_overrides-2",
        "demand-1.2_overrides-1",
        "demand-1.2_overrides-2",
    ]
    assert scenarios[1].changes == {"scale.fuel_price.gas": 1.5}
    out = tmp_path / "sweep"
    messages: list[str] = []
    result = run_sweep(CASE, scenarios, out, client=client, progress=messages.append)
    assert result.failed == []
    assert sorted(result.executed) == sorted(s.name for s in scenarios)
    alone = {
        s.name: solve_case(CASE, changes=s.changes).summary["objective_cny"] for s in scenarios
    }
    assert len(set(alone.values())) == 6  # the scenarios really differ
    for s in scenarios:
        assert result.outcome(s.name).objective_cny == pytest.approx(alone[s.name], rel=1e-9)
        written = json.loads((out / s.name / "summary.json").read_text())
        assert written["objective_cny"] == pytest.approx(alone[s.name], rel=1e-9)
        assert (out / s.name / "parquet" / "prices.parquet").exists()
    assert any("done (6/6), running 0, failed 0" in m for m in messages)

    sheets = pd.read_excel(out / "sweep.xlsx", sheet_name=None)
    assert {
        "comparison",
        "status",
        "summary",
        "generation_by_carrier",
        "price_by_region",
        "price_by_bus",
        "corridor_energy",
        "unserved_by_bus",
        "costs",
    } <= set(sheets)
    comp = sheets["comparison"].set_index("scenario")
    for name, objective in alone.items():
        assert comp.at[name, "objective_cny"] == pytest.approx(objective, rel=1e-9)
    assert comp.at["demand-1.2_overrides-1", "scale.demand"] == 1.2
    # gas sets the price at B (East); a dearer gas raises it by half
    assert comp.at["gas_dear", "price_East_cny_per_mwh"] == pytest.approx(
        1.5 * comp.at["base", "price_East_cny_per_mwh"]
    )
    energy = pd.read_parquet(out / "sweep_parquet" / "corridor_energy.parquet")
    sent = energy.set_index("scenario")["forward_sent_mwh"]
    assert sent["demand-0.8_overrides-1"] == pytest.approx(50 * 4)  # 50 MW for 4 hours
    status = pd.read_csv(out / "sweep_status.csv")
    assert set(status["status"]) == {"optimal"} and status["ran_now"].all()


def test_interrupted_sweep_reruns_only_the_missing_scenarios(tmp_path, client):
    scenarios = read_scenarios(_file(tmp_path, SIX))
    out = tmp_path / "sweep"

    def interrupt_after_two(message: str) -> None:
        if "done (2/6)" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a sweep of its own, whose cluster then stops
        run_sweep(CASE, scenarios, out, workers=1, progress=interrupt_after_two)
    status = pd.read_csv(out / "sweep_status.csv").set_index("scenario")
    assert (status["status"] == NOT_RUN).sum() >= 3
    missing, complete = plan(CASE, scenarios, out)
    assert 2 <= len(complete) < 6
    stamps = {name: (out / name / "summary.json").stat().st_mtime_ns for name in complete}

    result = run_sweep(CASE, scenarios, out, client=client)
    assert sorted(result.executed) == sorted(t.scenario for t in missing)
    assert sorted(result.skipped) == sorted(complete)
    assert result.failed == []
    for name, stamp in stamps.items():
        assert (out / name / "summary.json").stat().st_mtime_ns == stamp

    # a scenario whose definition changed is solved again; the others are not
    changed = [*scenarios[:1], Scenario("gas_dear", {"scale.fuel_price.gas": 2.0}), *scenarios[2:]]
    again = run_sweep(CASE, changed, out, client=client)
    assert again.executed == ["gas_dear"]
    assert again.outcome("gas_dear").objective_cny == pytest.approx(
        solve_case(CASE, changes={"scale.fuel_price.gas": 2.0}).summary["objective_cny"]
    )


def test_a_bad_override_fails_its_scenario_with_the_validation_message(tmp_path, client):
    table = _file(
        tmp_path,
        "\n".join(
            [
                "scenario,scale.demand,scale.fuel_price.gas,overrides",
                "base,,,",
                "negative_demand,-1,,",
                "gas_dear,,1.5,",
                'no_such_line,,,"[{table: lines, name: nope, column: s_max_mw, value: 1}]"',
                "demand_up,1.2,,",
            ]
        ),
        "scenarios.csv",
    )
    out = tmp_path / "sweep"
    result = run_sweep(CASE, table, out, client=client)
    assert sorted(result.failed) == ["negative_demand", "no_such_line"]
    bad = result.outcome("negative_demand")
    assert bad.status == "invalid"
    assert "column 'scale.demand': Input should be greater than or equal to 0" in bad.message
    missing = result.outcome("no_such_line")  # found by the worker, on reading the network
    assert "column 'overrides[0].name': no component of that name in lines" in missing.message
    assert missing.status == "invalid" and not (out / "no_such_line").exists()
    for name in ("base", "gas_dear", "demand_up"):
        assert result.outcome(name).ok and (out / name / "summary.json").exists()
    status = pd.read_csv(out / "sweep_status.csv").set_index("scenario")
    assert "no component of that name" in status.at["no_such_line", "message"]
    assert status.at["demand_up", "status"] == "optimal"


def test_scenario_file_problems_are_listed_together(tmp_path):
    bad = _file(
        tmp_path,
        yaml.safe_dump(
            {
                "scenarios": [
                    {"name": "../up", "changes": {}},
                    {"name": "a"},
                    {"name": "A"},
                    {"name": "sweep_parquet"},
                    {"name": "b", "chnages": {}},
                ],
                "product": {"scale.demand": 1.1},
                "extra": 1,
            }
        ),
    )
    with pytest.raises(InputError) as err:
        read_scenarios(bad)
    text = str(err.value)
    for expected in (
        "'extra': unknown setting",
        "scenarios[4].chnages",
        "product.scale.demand",
        "a scenario name is a folder name",
        "used twice",
        "is the name of a sweep output",
    ):
        assert expected in text, text
    with pytest.raises(InputError, match="needs a 'scenario' column"):
        read_scenarios(_file(tmp_path, "name,scale.demand\nx,1\n", "s.csv"))
    with pytest.raises(InputError, match="lists no scenarios"):
        read_scenarios(_file(tmp_path, "scenarios: []\n"))


def test_product_names_and_common_changes(tmp_path):
    scenarios = read_scenarios(
        _file(
            tmp_path,
            yaml.safe_dump(
                {
                    "changes": {"solver.time_limit_s": 60},
                    "product": {
                        "inflow_year": ["dry", "wet"],
                        "scale.fuel_price.gas": [1.0, 1.3],
                        "scale.capacity.gas": [2],
                    },
                },
                sort_keys=False,
            ),
        )
    )
    # "gas" ends two keys, so those are named in full
    assert [s.name for s in scenarios] == [
        "inflow_year-dry_scale.fuel_price.gas-1.0_scale.capacity.gas-2",
        "inflow_year-dry_scale.fuel_price.gas-1.3_scale.capacity.gas-2",
        "inflow_year-wet_scale.fuel_price.gas-1.0_scale.capacity.gas-2",
        "inflow_year-wet_scale.fuel_price.gas-1.3_scale.capacity.gas-2",
    ]
    assert all(s.changes["solver.time_limit_s"] == 60 for s in scenarios)
    assert scenarios[-1].changes["scale.fuel_price.gas"] == 1.3


def test_cli_exit_codes(tmp_path, client):
    from gridopt.cli.sweep import sweep

    app = typer.Typer()
    app.command()(sweep)
    runner = CliRunner()
    address = client.scheduler.address
    bad_file = _file(tmp_path, "scenarios: [{changes: {}}]\n", "bad.yaml")
    res = runner.invoke(
        app, [str(CASE), "--scenarios", str(bad_file), "--out", str(tmp_path / "a")]
    )
    assert res.exit_code == 2, res.output
    assert "each scenario is a mapping with a name" in res.output

    some_bad = _file(
        tmp_path,
        "scenarios: [{name: ok}, {name: broken, changes: {scale.demand: -1}}]\n",
        "some_bad.yaml",
    )
    res = runner.invoke(
        app, [str(CASE), "-s", str(some_bad), "-o", str(tmp_path / "b"), "--scheduler", address]
    )
    assert res.exit_code == 1, res.output
    assert "broken: invalid:" in res.output and (tmp_path / "b" / "ok" / "summary.json").exists()

    good = _file(tmp_path, "scenarios: [{name: ok}]\n", "good.yaml")
    res = runner.invoke(
        app, [str(CASE), "-s", str(good), "-o", str(tmp_path / "b"), "--scheduler", address]
    )
    assert res.exit_code == 0, res.output
    assert "0 now, 1 from an earlier run" in res.output
