"""The solver strategy of `method: choose`, and what the prices of an interior point mean.

Large LPs (a year) are solved by HiPO without crossover (gridopt.solver.highs.INTERIOR_FROM_COLUMNS;
the measurements behind the rule are in benchmarks/RESULTS.md). Without crossover the prices are
the interior point's duals, not those of a vertex. Where an hour's price is unique both are
the same number up to the solver's tolerances; these tests hold gridopt to that on two days
of the PPRD summer week, whose prices simplex finds at a vertex.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.inputs.case import load_case
from gridopt.inputs.settings import SolverOptions
from gridopt.model.registry import build_model
from gridopt.solver.highs import (
    INTERIOR_FROM_COLUMNS,
    IPM_FROM_COLUMNS,
    NORMAL_EQUATIONS_MAX_COLUMN_NNZ,
    chosen_options,
)
from gridopt.solver.solve import solve
from gridopt.solver.types import Status
from tests.conftest import CASES

# interior prices within this many CNY/MWh of the vertex prices (plus 1e-4 of the price):
# the interior point stops at a relative primal-dual gap of 1e-8, which leaves prices a few
# hundredths of a CNY/MWh from the optimum's (0.012 at most on these two days, 7e-4 on the
# whole week)
PRICE_TOLERANCE_CNY_PER_MWH = 0.05
NAMED_NEWTON_SYSTEM = {"hipo_system": "normaleq", "hipo_ordering": "metis"}


@pytest.fixture(scope="module")
def two_days():
    # without Hong Kong's zone: its fuel mix (gas at least half) makes the LNG terminal's node
    # buy LNG, which takes away the degenerate gas price the tests below look at
    data = load_case(
        CASES / "pprd_week.yaml", {"horizon.snapshots": 48, "security_off": ["Hong Kong"]}
    )
    model = build_model(data)
    vertex = solve(model, SolverOptions(method="simplex"))
    interior = solve(model, SolverOptions(method="hipo", options={"run_crossover": "off"}))
    return model, vertex, interior


def test_interior_point_duals_are_usable_nodal_prices(two_days):
    model, vertex, interior = two_days
    assert vertex.status == interior.status == "optimal"
    assert vertex.price_basis == "lp"
    assert interior.price_basis == "lp_interior"
    assert interior.objective_cny == pytest.approx(vertex.objective_cny, rel=1e-8)
    a, b = vertex.dual("bus_balance"), interior.dual("bus_balance")
    assert a.shape == (len(model.buses), 48)
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=PRICE_TOLERANCE_CNY_PER_MWH)


def test_interior_point_duals_are_optimal_where_prices_are_not_unique(two_days):
    """Every dual of the interior point (gas prices, water values, ...) is an optimal price:
    with the vertex's primal solution it meets the optimality conditions (reduced costs of
    the right sign at bounds, zero in between; row duals of the right sign where rows bind,
    zero where they do not) within the tolerance.

    Where a range of prices is optimal the two solvers differ and both are right: the LNG
    terminal node of Hong Kong neither buys LNG (299.78 CNY/MWh_th) nor sends gas to Hong Kong
    (156.78), so any price between the two is optimal; simplex gives an end of the range,
    the interior point a price inside it."""
    from gridopt.solver.matrix import matrix_from_blocks

    model, vertex, interior = two_days
    m = matrix_from_blocks(model)
    x, y = vertex.x, interior.row_dual
    reduced = m.c - m.A.T @ y
    near = 1e-7
    with np.errstate(invalid="ignore"):  # infinite bounds
        at_lower = x <= m.col_lb + near * (1 + np.abs(m.col_lb))
        at_upper = x >= m.col_ub - near * (1 + np.abs(m.col_ub))
    tol = PRICE_TOLERANCE_CNY_PER_MWH
    assert np.all(np.abs(reduced[~at_lower & ~at_upper]) <= tol)
    assert np.all(reduced[at_lower & ~at_upper] >= -tol)
    assert np.all(reduced[at_upper & ~at_lower] <= tol)
    ax = m.A @ x
    row_lower = np.abs(ax - m.row_lb) <= near * (1 + np.abs(m.row_lb))
    row_upper = np.abs(ax - m.row_ub) <= near * (1 + np.abs(m.row_ub))
    assert np.all(np.abs(y[~row_lower & ~row_upper]) <= tol)
    assert np.all(y[row_lower & ~row_upper] >= -tol)
    assert np.all(y[row_upper & ~row_lower] <= tol)
    # the degenerate gas node of the docstring: the two solvers' prices differ, each inside
    # the range of optimal prices
    gas = list(model.data.tables["gas_nodes"].index)
    lng, hk = gas.index("HK LNG"), gas.index("HK")
    supplies = model.data.tables["gas_supplies"]
    lng_price = supplies.loc[supplies["gas_node"] == "HK LNG", "price_cny_per_mwh_th"].min()
    pv, pi = vertex.dual("gas_balance"), interior.dual("gas_balance")
    assert np.abs(pv[lng] - pi[lng]).max() > 1.0
    for p in (pv, pi):
        assert np.all(p[lng] >= p[hk] - tol) and np.all(p[lng] <= lng_price + tol)


def test_interior_point_primal_is_feasible_within_tolerance(two_days):
    """Without crossover the point is inside the optimal face, not at a vertex: it still
    meets every row and bound to the solver's feasibility tolerance: 1e-6 of the size of the
    row's terms (or of the bound), and at most 1e-4 of its unit (MW, MWh, m3/s) on rows whose
    terms are all near zero (an idle gas store's balance is met to 2e-5 MWh_th)."""
    from gridopt.solver.matrix import matrix_from_blocks

    model, _vertex, interior = two_days
    m = matrix_from_blocks(model)
    ax = m.A @ interior.x
    bound = np.where(
        np.isfinite(m.row_ub), m.row_ub, np.where(np.isfinite(m.row_lb), m.row_lb, 0.0)
    )
    allowed = 1e-6 * (np.abs(bound) + abs(m.A) @ np.abs(interior.x)) + 1e-4
    assert np.all(m.row_lb - ax <= allowed)
    assert np.all(ax - m.row_ub <= allowed)
    with np.errstate(invalid="ignore"):  # infinite bounds
        assert np.all(interior.x >= m.col_lb - 1e-6 * np.abs(m.col_lb) - 1e-4)
        assert np.all(interior.x <= m.col_ub + 1e-6 * np.abs(m.col_ub) + 1e-4)


def test_choose_by_the_size_of_the_lp():
    mid, big = IPM_FROM_COLUMNS, INTERIOR_FROM_COLUMNS
    assert chosen_options(SolverOptions(), True, mid - 1) == {}  # HiGHS' own: dual simplex
    assert chosen_options(SolverOptions(), True, mid) == {
        "solver": "hipo",
        "run_crossover": "on",
        **NAMED_NEWTON_SYSTEM,
    }
    assert chosen_options(SolverOptions(), True, big) == {
        "solver": "hipo",
        "run_crossover": "off",
        **NAMED_NEWTON_SYSTEM,
    }
    assert chosen_options(SolverOptions(), False, big) == {}  # a MIP: branch and bound
    assert chosen_options(SolverOptions(method="simplex"), True, big) == {}
    # the case's own HiGHS options win
    assert chosen_options(SolverOptions(options={"run_crossover": "on"}), True, big) == {
        "solver": "hipo",
        **NAMED_NEWTON_SYSTEM,
    }
    assert chosen_options(SolverOptions(options={"solver": "ipx"}), True, big) == {}


def test_a_mip_given_threads_searches_its_tree_in_parallel_and_an_lp_does_not():
    big = INTERIOR_FROM_COLUMNS
    assert chosen_options(SolverOptions(threads=2), False, 10) == {"parallel": "on"}
    assert chosen_options(SolverOptions(threads=1), False, 10) == {}
    assert chosen_options(SolverOptions(threads=2, method="simplex"), False, 10) == {}
    assert chosen_options(SolverOptions(threads=2, options={"parallel": "off"}), False, 10) == {}
    # an LP keeps serial dual simplex below IPM_FROM_COLUMNS, HiPO above
    assert chosen_options(SolverOptions(threads=2), True, 10) == {}
    assert chosen_options(SolverOptions(threads=2), True, big) == {
        "solver": "hipo",
        "run_crossover": "off",
        **NAMED_NEWTON_SYSTEM,
    }


def test_hipo_is_told_its_newton_system_unless_a_column_is_dense():
    """HiPO chosen is told to factorise the normal equations ordered by METIS (what it picks
    itself on every PPRD LP, after analysing all four choices); with a dense column, where the
    augmented system may be cheaper, HiPO chooses for itself."""
    mid, big, dense = IPM_FROM_COLUMNS, INTERIOR_FROM_COLUMNS, NORMAL_EQUATIONS_MAX_COLUMN_NNZ
    named = NAMED_NEWTON_SYSTEM
    for size in (mid, big):
        assert named.items() <= chosen_options(SolverOptions(), True, size, dense).items()
        assert not named.keys() & chosen_options(SolverOptions(), True, size, dense + 1).keys()
    assert not named.keys() & chosen_options(SolverOptions(), True, mid - 1, 10).keys()
    assert not named.keys() & chosen_options(SolverOptions(method="hipo"), True, big, 10).keys()
    mine = SolverOptions(options={"hipo_system": "augmented"})
    assert chosen_options(mine, True, big, 10)["hipo_ordering"] == "metis"
    assert "hipo_system" not in chosen_options(mine, True, big, 10)


def test_a_parallel_tree_search_finds_the_same_optimum():
    """tiny_uc to a zero gap with one search worker and with two: the same optimum (the
    schedule may differ where ties allow it, the cost may not)."""
    data = load_case(CASES / "tiny_uc.yaml", {"solver.mip_gap": 0.0})
    costs = [
        solve(build_model(data), data.case.solver.model_copy(update={"threads": n})) for n in (1, 2)
    ]
    assert all(c.status is Status.OPTIMAL for c in costs)
    assert costs[1].objective_cny == pytest.approx(costs[0].objective_cny, rel=1e-9)


def test_crossover_is_asked_for_without_naming_the_solver():
    """`solver.crossover` on or off overrides the choice by size, for any interior method;
    HiGHS' own option still wins; a rolling run's windows take auto as off."""
    from gridopt.studies.rolling import window_case

    mid, big = IPM_FROM_COLUMNS, INTERIOR_FROM_COLUMNS
    off, on = SolverOptions(crossover="off"), SolverOptions(crossover="on")
    assert chosen_options(off, True, mid) == {
        "solver": "hipo",
        "run_crossover": "off",
        **NAMED_NEWTON_SYSTEM,
    }
    assert chosen_options(on, True, big) == {
        "solver": "hipo",
        "run_crossover": "on",
        **NAMED_NEWTON_SYSTEM,
    }
    assert chosen_options(SolverOptions(method="hipo", crossover="off"), True, 10) == {
        "run_crossover": "off"
    }
    both = SolverOptions(crossover="off", options={"run_crossover": "on"})
    assert chosen_options(both, True, big) == {"solver": "hipo", **NAMED_NEWTON_SYSTEM}
    data = load_case(CASES / "tiny_rolling.yaml")
    assert window_case(data).case.solver.crossover == "off"
    assert data.case.solver.crossover == "auto"
    kept = load_case(CASES / "tiny_rolling.yaml", {"solver.crossover": "on"})
    assert window_case(kept).case.solver.crossover == "on"


def test_solves_in_one_process_may_ask_for_different_thread_counts():
    """HiGHS sizes one thread pool per process at its first solve; a later solve asking for
    another size must still solve (not stop with an error and no solution)."""
    model = build_model(load_case(CASES / "tiny_storage.yaml"))
    objectives = [
        solve(model, SolverOptions(method="simplex", threads=n)).objective_cny for n in (1, 2, 1)
    ]
    reference = solve(model, SolverOptions(method="simplex")).objective_cny
    assert reference > 0
    assert objectives == pytest.approx([reference] * 3, rel=1e-9)


def test_an_optimum_highs_calls_a_solve_error_is_kept_and_checked(monkeypatch):
    """HiGHS checks the optimum its MIP claims against the original rows in absolute terms
    and calls the solve an error when a large row is off by more than 1e-6 (on a PPRD window
    of the unit-commitment year, a row of 29,427 off by 2.4e-5); it then forgets the point.
    gridopt keeps the last incumbent where the bound closes the gap, and checks it against
    the model relative to each row: the same schedule and cost as a solve that ends well."""
    import highspy

    data = load_case(CASES / "tiny_uc.yaml")
    model = build_model(data)
    well = solve(model, data.case.solver)
    assert well.status is Status.OPTIMAL
    real = highspy.Highs.getModelStatus

    def solve_error(self: highspy.Highs) -> highspy.HighsModelStatus:
        status = real(self)
        return highspy.HighsModelStatus.kSolveError if status == status.kOptimal else status

    monkeypatch.setattr(highspy.Highs, "getModelStatus", solve_error)
    kept = solve(model, data.case.solver)
    assert kept.status is Status.OPTIMAL
    assert "solve error" in kept.message
    assert kept.objective_cny == pytest.approx(well.objective_cny, rel=1e-9)
    assert kept.mip_gap is not None and kept.mip_gap <= data.case.solver.mip_gap + 1e-12
    # an LP's solve error is not a MIP's: it goes to the LP's own retries, and stays an error
    lp = solve(model, data.case.solver, relax=True)
    assert lp.status is Status.ERROR
