"""The bulk hand-off to HiGHS equals Pyomo's own compilation of the same model."""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.inputs.case import load_case
from gridopt.model.registry import build_model
from gridopt.solver.matrix import matrix_from_blocks, matrix_from_pyomo
from gridopt.solver.solve import solve
from tests.conftest import CASES

TINY = ["tiny_two_bus", "tiny_kvl_loop", "tiny_storage", "tiny_hydro_cascade"]


def _same_matrix(a, b) -> None:
    assert a.A.shape == b.A.shape
    assert abs(a.A - b.A).max() < 1e-12 if a.A.nnz else b.A.nnz == 0
    for x, y in (
        (a.row_lb, b.row_lb),
        (a.row_ub, b.row_ub),
        (a.col_lb, b.col_lb),
        (a.col_ub, b.col_ub),
        (a.c, b.c),
    ):
        np.testing.assert_array_equal(x, y)
    assert a.c0 == pytest.approx(b.c0)


@pytest.mark.parametrize("case", TINY)
def test_bulk_matrix_equals_pyomo_standard_form(case):
    model = build_model(load_case(CASES / f"{case}.yaml"))
    _same_matrix(matrix_from_blocks(model), matrix_from_pyomo(model))


@pytest.mark.parametrize("case", TINY)
def test_both_handoffs_reach_the_same_optimum(case):
    model = build_model(load_case(CASES / f"{case}.yaml"))
    fast = solve(model)
    generic = solve(model, matrix=matrix_from_pyomo(model))
    assert fast.status == generic.status == "optimal"
    assert fast.objective_cny == pytest.approx(generic.objective_cny, rel=1e-9)


@pytest.mark.parametrize("method", ["simplex", "ipm", "hipo"])
def test_every_lp_method_reaches_the_same_optimum(method):
    """Each method gridopt offers is a HiGHS solver that runs here (hipo comes from
    highspy-extras) and finds the hand-checked cascade's optimum, prices included."""
    from gridopt.inputs.settings import SolverOptions

    model = build_model(load_case(CASES / "tiny_hydro_cascade.yaml"))
    reference = solve(model, SolverOptions(method="simplex"))
    sol = solve(model, SolverOptions(method=method))
    assert sol.status == "optimal"
    assert sol.objective_cny == pytest.approx(reference.objective_cny, rel=1e-7)
    np.testing.assert_allclose(
        sol.dual("bus_balance"), reference.dual("bus_balance"), rtol=1e-5, atol=1e-3
    )


def test_model_writes_as_lp_file(tmp_path):
    """The model is an ordinary Pyomo model: Pyomo's LP writer can write it."""
    model = build_model(load_case(CASES / "tiny_kvl_loop.yaml"))
    path = tmp_path / "model.lp"
    model.pyomo.write(str(path), io_options={"symbolic_solver_labels": True})
    text = path.read_text()
    assert "bus_balance" in text and "line_kvl" in text


def test_an_unbounded_model_names_the_variables_of_its_ray():
    """gridopt's own families bound every priced variable; a user-added one may not be."""
    import pandas as pd

    from gridopt.solver.diagnose import unbounded_components

    model = build_model(load_case(CASES / "tiny_two_bus.yaml"))
    free = model.add_variables("bonus", pd.Index(["giveaway"]), 0.0, time=False)
    model.add_cost(free.cols, -1.0)
    model.finish()
    assert solve(model).status in ("unbounded", "infeasible_or_unbounded")
    assert unbounded_components(model) == ["bonus of giveaway"]
