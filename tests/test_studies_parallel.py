"""The security and contingency studies on a Dask cluster: the same figures as one by one, a
variant on one matrix (the target's rows relaxed) equals the model built without the target,
the count of solves, and the full results of the secured case in the study's folder."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridopt.cli.common import app
from gridopt.inputs.case import load_case
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from gridopt.studies.security import contingency_study, cost_of_security
from tests.conftest import CASES

distributed = pytest.importorskip("distributed")

TOY = CASES / "tiny_security.yaml"


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
        yield c


def _toy_zone(**targets):
    return {
        "security": [
            {
                "name": "Zone",
                "buses": ["Z"],
                "imports": [{"line": "L1"}, {"line": "L2"}],
                "n_1": {"headroom": "spinning"},
                **targets,
            }
        ]
    }


@pytest.mark.parametrize("model", ["dispatch", "uc"])
def test_cost_of_security_on_dask_equals_one_by_one(client, model):
    uc = {
        "model": "uc",
        "overrides": [
            {"table": "generators", "name": "local", "column": "committable", "value": True}
        ],
    }
    data = load_case(
        TOY, {**_toy_zone(local_share={"min_pu": 0.3}), **(uc if model == "uc" else {})}
    )
    alone = cost_of_security(data, workers=1)
    spread = cost_of_security(data, client=client)
    cols = ["objective_cny", "cost_cny", "objective_alone_cny", "cost_alone_cny"]
    pd.testing.assert_frame_equal(
        alone.table[["zone", "target", "status"]], spread.table[["zone", "target", "status"]]
    )
    np.testing.assert_allclose(
        spread.table[cols].to_numpy(float),
        alone.table[cols].to_numpy(float),
        rtol=1e-9,
        equal_nan=True,
    )
    # all targets, none, and each of the two targets without the others and alone
    assert alone.solves == spread.solves == 6
    assert spread.reference.objective_cny == pytest.approx(alone.reference.objective_cny)
    assert "generation" in spread.reference_tables  # the secured case's dispatch


def test_a_variant_with_the_targets_rows_relaxed_is_the_model_without_the_target():
    """The first day of the PPRD week: every objective of the study against the model built
    from the zones without the target (or with only it), solved alone."""
    data = load_case(CASES / "pprd_week_security.yaml", {"horizon.snapshots": 24})
    study = cost_of_security(data)
    table = study.table.set_index(["zone", "target"])
    zones = data.security_zones
    hk = next(i for i, z in enumerate(zones) if z.name == "Hong Kong")

    def objective(security_zones) -> float:
        sol = solve(build_model(replace(data, security_zones=security_zones)), data.case.solver)
        assert sol.status.has_solution
        return sol.objective_cny

    none = [z.without("all") for z in zones]
    without = list(zones)
    without[hk] = zones[hk].without("n_1")
    alone = list(none)
    alone[hk] = zones[hk].without("all").model_copy(update={"n_1": zones[hk].n_1})
    ref = abs(study.reference.objective_cny)
    assert table.loc[("all zones", "no targets"), "objective_cny"] == pytest.approx(
        objective(none), abs=1e-7 * ref
    )
    assert table.loc[("Hong Kong", "N-1 infeed"), "objective_cny"] == pytest.approx(
        objective(without), abs=1e-7 * ref
    )
    assert table.loc[("Hong Kong", "N-1 infeed"), "objective_alone_cny"] == pytest.approx(
        objective(alone), abs=1e-7 * ref
    )
    n_targets = sum(t != "reserve_margin" for z in zones for t in z.targets())
    assert study.solves == 2 + 2 * n_targets


def test_contingencies_on_dask_equal_one_by_one(client):
    data = load_case(TOY)
    alone = contingency_study(data, workers=1)
    spread = contingency_study(data, client=client)
    pd.testing.assert_frame_equal(alone.table, spread.table, rtol=1e-9)
    assert alone.table["cost_increase_cny"].tolist() == pytest.approx([4400.0, 2800.0])
    assert spread.solves == 3


def test_security_command_keeps_the_secured_dispatch_and_counts_its_solves(tmp_path):
    res = CliRunner().invoke(
        app, ["security", str(TOY), "--out", str(tmp_path / "sec"), "--format", "xlsx,parquet"]
    )
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(tmp_path / "sec" / "results.xlsx", sheet_name=None)
    assert {"security_cost", "security", "generation", "flows", "prices", "buses"} <= set(sheets)
    gen = sheets["generation"].pivot(index="snapshot", columns="generator", values="p_mw")
    assert gen["local"].to_numpy() == pytest.approx([35.0, 20.0])  # the secured dispatch
    summary = sheets["summary"].set_index("item")["value"]
    assert summary["solves"] == 4  # all targets, none, N-1 without and alone
    assert "security solves: 4/4" in res.stderr
