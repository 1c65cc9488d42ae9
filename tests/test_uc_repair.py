"""Unit commitment that sheds load where the optimum would not: the repair of a MIP solution.

tiny_uc: coal A (400 MW), CCGT B (300 MW) and OCGT C (150 MW) on one island; demand peaks at
740 MW, so the peak needs C. A schedule that keeps C off is feasible once load shedding is
allowed (it sheds at least the peak above 700 MW, more where A and B cannot ramp fast
enough) and is a valid MIP solution; the repair re-optimises
the commitment of the region that sheds, with every other integer fixed, and must reach the
optimum, which sheds nothing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gridopt.inputs.case import load_case
from gridopt.model.commitment import fleet, unserved_neighbourhood
from gridopt.model.registry import build_model
from gridopt.solver.backends import backend_for
from gridopt.solver.check import breaches
from gridopt.solver.matrix import model_matrix
from gridopt.solver.solve import REPAIR_GAP_MWH, _repair, solve
from gridopt.solver.types import Status
from tests.conftest import CASES
from tests.conftest import solve as solve_case
from tests.test_commitment import without_ramps

SHEDDING = {"load_shedding": {"enabled": True, "voll_cny_per_mwh": 50_000}}


def _shed_mwh(model, x: np.ndarray) -> float:
    return float((x[model.variables["load_shed"].cols] * model.w[None, :]).sum())


def _repair_of(sol, data):
    """The repair of a solution of the whole model, as `solution_of` would run it."""
    return _repair(
        sol.model,
        backend_for("highs"),
        model_matrix(sol.model),
        sol.x,
        sol.objective_cny,
        data.case.solver,
    )


def _with_c_off(data):
    """The model, its matrix, and a worse MIP solution: C kept off all day (a restriction, so
    feasible for the MIP)."""
    model = build_model(data)
    matrix = model_matrix(model)
    c = model.variables["uc_on"].components.get_loc("ocgt C")
    off = np.concatenate(
        [model.variables[name].cols[c] for name in ("uc_on", "uc_start", "uc_stop")]
    )
    col_ub = matrix.col_ub.copy()
    col_ub[off] = 0.0
    bad = solve(model, data.case.solver, matrix=replace(matrix, col_ub=col_ub))
    return model, matrix, bad


def test_repair_turns_a_shedding_schedule_into_the_optimum():
    data = load_case(CASES / "tiny_uc.yaml", SHEDDING)
    best = solve(build_model(data), data.case.solver)
    assert best.status is Status.OPTIMAL and _shed_mwh(best.model, best.x) == 0.0
    model, matrix, bad = _with_c_off(data)
    assert bad.status is Status.OPTIMAL
    shed = _shed_mwh(model, bad.x)
    assert shed > 60.0 - 1e-6  # at least the peak above A + B's 700 MW (ramps add to it)
    # the neighbourhood is every commitment column of the island's units
    blocks = tuple(model.variables[n] for n in ("uc_on", "uc_start", "uc_stop"))
    free = unserved_neighbourhood(model, fleet(model), blocks, bad.x)
    assert free.sum() == 3 * 3 * model.T
    repaired = _repair(
        model, backend_for("highs"), matrix, bad.x, bad.objective_cny, data.case.solver
    )
    assert repaired is not None
    x, objective, note = repaired
    assert "repaired" in note
    # it stops at its first schedule that sheds nothing, rather than proving its gap beyond it
    assert note.endswith("stopped at its first solution that serves all demand")
    assert _shed_mwh(model, x) == pytest.approx(0.0, abs=1e-6)
    assert objective < bad.objective_cny
    assert objective == pytest.approx(best.objective_cny, abs=REPAIR_GAP_MWH * 50_000 + 1e-6)


def test_repair_leaves_a_schedule_that_sheds_nothing_alone():
    data = load_case(CASES / "tiny_uc.yaml", SHEDDING)
    best = solve(build_model(data), data.case.solver)
    assert _repair_of(best, data) is None


def test_a_loose_gap_still_ends_without_shedding_and_says_how_much_was_unserved():
    """At a 50 % gap HiGHS may stop on any schedule; whatever it stops on, the final one
    serves every hour, and the summary says so."""
    run = solve_case("tiny_uc", **SHEDDING, **{"solver.mip_gap": 0.5})
    assert run.solution.status is Status.OPTIMAL
    assert run.summary["unserved_mwh"] == pytest.approx(0.0, abs=1e-6)
    assert run.summary["unserved_by_region_mwh"] == {}


def test_a_mip_asked_to_stop_keeps_the_first_incumbent_that_met_the_condition():
    """`stop_when` (the backend interface): the MIP ends at its first incumbent that meets
    the condition, with status INTERRUPTED and a point that is a schedule of the whole model,
    no worse than that incumbent and no better than the optimum; a condition never met
    changes nothing."""
    data = load_case(CASES / "tiny_uc.yaml", {**SHEDDING, "solver.mip_gap": 0.0})
    model = build_model(data)
    matrix = model_matrix(model)
    backend = backend_for("highs")
    best = backend.solve_matrix(matrix, data.case.solver)
    assert best.status is Status.OPTIMAL
    met: list[float] = []

    def first(x: np.ndarray) -> bool:
        met.append(float(matrix.c @ x + matrix.c0))
        return True

    out = backend.solve_matrix(matrix, data.case.solver, stop_when=first)
    assert out.status is Status.INTERRUPTED and out.x is not None
    assert len(met) == 1  # asked once: the condition held at the first incumbent
    assert breaches(model, matrix, out.x, relax=False) == []
    assert best.objective_cny - 1e-6 <= out.objective_cny <= met[0] + 1e-6
    assert out.objective_cny > best.objective_cny  # stopped early: this case's first is worse
    never = backend.solve_matrix(matrix, data.case.solver, stop_when=lambda x: False)
    assert never.status is Status.OPTIMAL
    assert never.objective_cny == pytest.approx(best.objective_cny, rel=1e-9)


def test_a_repair_whose_relaxation_still_sheds_gets_the_least_time():
    """Demand 20 % higher: the peak (888 MW) exceeds all three units (850 MW), so no
    commitment serves every hour. The repair's relaxation says so before its search (it
    still sheds), the search gets REPAIR_MIN_TIME_S, and it still turns the schedule that
    keeps C off into one that sheds only what the optimum sheds."""
    data = load_case(CASES / "tiny_uc.yaml", SHEDDING)
    data.load_mw[:] = data.load_mw.to_numpy() * 1.2
    best = solve(build_model(data), data.case.solver)
    assert best.status is Status.OPTIMAL
    unavoidable = _shed_mwh(best.model, best.x)
    assert unavoidable >= (1.2 * 740.0 - 850.0) - 1e-6
    model, matrix, bad = _with_c_off(data)
    assert _shed_mwh(model, bad.x) > unavoidable + 100.0
    repaired = _repair(
        model, backend_for("highs"), matrix, bad.x, bad.objective_cny, data.case.solver
    )
    assert repaired is not None
    x, objective, note = repaired
    assert "given the least time: its relaxation leaves demand unserved too" in note
    assert _shed_mwh(model, x) == pytest.approx(unavoidable, abs=1e-3)
    assert objective == pytest.approx(best.objective_cny, abs=REPAIR_GAP_MWH * 50_000 + 1e-6)


def test_a_repair_whose_relaxation_is_no_lower_leaves_the_schedule_as_it_is():
    """Demand 20 % higher and every unit's minimum up and down time two days: no unit can
    change its state within the day, so even with the commitment relaxed the objective is
    no lower. The repair says so and keeps the schedule, without a search."""
    data = load_case(CASES / "tiny_uc.yaml", SHEDDING)
    data.load_mw[:] = data.load_mw.to_numpy() * 1.2
    data.tables["generators"]["min_up_h"] = 48
    data.tables["generators"]["min_down_h"] = 48
    best = solve(build_model(data), data.case.solver)
    assert best.status is Status.OPTIMAL and _shed_mwh(best.model, best.x) > 0.0
    repaired = _repair_of(best, data)
    assert repaired is not None
    x, objective, note = repaired
    assert note.startswith("not repaired: with the commitment of the regions")
    assert objective == best.objective_cny and np.array_equal(x, best.x)


def test_a_repair_whose_rounded_relaxation_serves_all_demand_needs_no_search():
    """Without running ramps, the repair's relaxation rounded (gas units B and C covering the
    gas capacity it commits) serves every hour: that schedule is the repair, found by one LP
    instead of a search. It is a schedule of the whole MIP, no better than the optimum and
    far better than keeping C off."""
    data = without_ramps(load_case(CASES / "tiny_uc.yaml", SHEDDING))
    best = solve(build_model(data), data.case.solver)
    model, matrix, bad = _with_c_off(data)
    assert _shed_mwh(model, bad.x) > 60.0 - 1e-6
    repaired = _repair(
        model, backend_for("highs"), matrix, bad.x, bad.objective_cny, data.case.solver
    )
    assert repaired is not None
    x, objective, note = repaired
    assert "rounded from their relaxation" in note and note.endswith("serving all demand")
    assert _shed_mwh(model, x) == pytest.approx(0.0, abs=1e-6)
    assert breaches(model, matrix, x, relax=False) == []
    assert best.objective_cny - 1e-6 <= objective < bad.objective_cny
    assert objective == pytest.approx(float(matrix.c @ x + matrix.c0), rel=1e-9)
