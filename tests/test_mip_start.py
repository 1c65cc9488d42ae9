"""A MIP that starts from its rounded LP relaxation (`solver.mip_start: rounded_relaxation`).

The tiny unit-commitment case (`cases/tiny_uc.yaml`: coal A on all day, CCGT B and OCGT C to
start) without ramp limits, whose optimum, 3,817,000 CNY, the exhaustive search of
tests/test_commitment.py finds. Its relaxation (3,748,061.90 CNY) has B and C partly on; rounded
up, B runs 07:00-21:00 and C 17:00-19:00, a schedule whose cost is worked out here hour by hour
by merit order, independently of gridopt's rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.model.commitment import fleet, rounded_up_commitment
from gridopt.model.registry import build_model
from gridopt.solver.matrix import model_matrix
from gridopt.solver.solve import solve
from gridopt.solver.types import Status
from tests.conftest import CASES
from tests.test_commitment import without_ramps

OPTIMUM_CNY = 3_817_000.0  # exhaustive search, tests/test_commitment.py


def _tiny(**changes: object) -> CaseData:
    settings = {"solver.mip_start": "rounded_relaxation", **changes}
    return without_ramps(load_case(CASES / "tiny_uc.yaml", settings))


def _schedule_cost(data: CaseData, on: np.ndarray) -> float:
    """Cost of an on/off schedule (unit x hour, single units, no ramp limits): start costs
    plus each hour's merit order between the units' lower and upper limits. A unit that is on
    makes at least its stable minimum; at most its start-up capability in its first hour and
    its shut-down capability in its last hour before it stops (min up >= 2 h), else its
    rating."""
    g = data.tables["generators"]
    rating = g["p_max_mw"].to_numpy(float)
    lo = g["p_min_stable_pu"].to_numpy(float) * rating
    su = g["startup_ramp_pu"].astype(float).fillna(1.0).to_numpy() * rating
    sd = g["shutdown_ramp_pu"].astype(float).fillna(1.0).to_numpy() * rating
    cost = g["marginal_cost_cny_per_mwh"].to_numpy(float)
    before = g["units_on_initial"].astype(float).to_numpy()[:, None]
    prev = np.concatenate([before, on[:, :-1]], axis=1)
    after = np.concatenate([on[:, 1:], on[:, -1:]], axis=1)
    starts = (on > prev) & (on > 0)
    stops_next = (on > 0) & (after < on) & (g["min_up_h"].to_numpy(float) >= 2)[:, None]
    hi = np.where(starts, su[:, None], rating[:, None])
    hi = np.where(stops_next, np.minimum(hi, sd[:, None]), hi) * on
    low = lo[:, None] * on
    demand = data.load_mw.sum(axis=1).to_numpy()
    total = float((starts * g["start_cost_cny"].to_numpy(float)[:, None]).sum())
    order = np.argsort(cost)
    for t, d in enumerate(demand):
        left = d - low[:, t].sum()
        assert left >= -1e-9, f"hour {t}: the stable minima exceed demand"
        total += float(low[:, t] @ cost)
        for i in order:
            take = min(left, hi[i, t] - low[i, t])
            total += take * cost[i]
            left -= take
        assert left <= 1e-9, f"hour {t}: demand not met"
    return total


def test_a_rounding_within_the_gap_is_the_answer_with_the_relaxation_as_its_bound():
    data = _tiny(**{"solver.mip_gap": 0.05})
    sol = solve(build_model(data), data.case.solver)
    relaxed = solve(build_model(data), data.case.solver, relax=True)
    assert sol.status is Status.OPTIMAL and "rounded relaxation" in sol.message
    assert "within the MIP gap" in sol.message
    on = np.round(sol.value("uc_on"))
    expected = np.zeros_like(on)
    expected[0] = 1.0  # coal A
    expected[1, 7:22] = 1.0  # CCGT B, 07:00-21:00
    expected[2, 17:20] = 1.0  # OCGT C, 17:00-19:00
    np.testing.assert_array_equal(on, expected)
    assert sol.objective_cny == pytest.approx(_schedule_cost(data, on), abs=1e-6)
    assert sol.objective_cny == pytest.approx(3_830_500.0, abs=1e-6)
    # the bound is the relaxation's, and it proves the gap: the optimum lies between them
    assert sol.best_bound_cny == pytest.approx(relaxed.objective_cny, rel=1e-9)
    assert sol.best_bound_cny <= OPTIMUM_CNY <= sol.objective_cny
    assert sol.objective_cny - sol.best_bound_cny <= 0.05 * sol.objective_cny
    # its prices are those of its dispatch with the commitment fixed, as for any MIP
    assert sol.price_basis == "commitment_fixed" and np.isfinite(sol.row_dual).all()
    fixed = solve(build_model(data), data.case.solver.model_copy(update={"mip_start": "none"}))
    assert fixed.price_basis == "commitment_fixed"


def test_a_rounding_outside_the_gap_starts_the_mip_which_still_reaches_the_optimum():
    data = _tiny(**{"solver.mip_gap": 0.0})
    sol = solve(build_model(data), data.case.solver)
    assert sol.status is Status.OPTIMAL
    assert "the MIP's first incumbent" in sol.message
    assert sol.objective_cny == pytest.approx(OPTIMUM_CNY, abs=1e-6)


def test_an_infeasible_rounding_leaves_the_mip_to_itself():
    # with its ramps, B rounded up to run until 21:00 leaves coal A unable to ramp up to
    # 22:00's demand once B stops, and nothing may be shed: no schedule from that rounding,
    # nor between the floors and ceilings of the relaxation
    data = load_case(CASES / "tiny_uc.yaml", {"solver.mip_start": "rounded_relaxation"})
    sol = solve(build_model(data), data.case.solver)
    plain = solve(build_model(data), data.case.solver.model_copy(update={"mip_start": "none"}))
    assert sol.status is Status.OPTIMAL and "rounded relaxation is infeasible" in sol.message
    assert "neighbourhood" in sol.message and "none (infeasible)" in sol.message
    assert sol.objective_cny == pytest.approx(plain.objective_cny, abs=1e-6)


def _fleet_and_peaker(tmp_path: Path, gap: float) -> CaseData:
    """The tiny case's day served by a fleet of four 200 MW CCGTs (stable minimum 180 MW
    each, 300 CNY/MWh, 1,000 CNY a start, two on before the day) and a 200 MW peaker (900
    CNY/MWh, not committed). The relaxation runs the fleet at load / 200 units, so rounded up
    its stable minima exceed the load (300 MW at 00:00 with two units on: 360 MW): no
    schedule; between the floor and the ceiling of each hour, one is."""
    base = {
        "bus": "X",
        "carrier": "gas",
        "ramp_up_mw_per_h": np.nan,
        "ramp_down_mw_per_h": np.nan,
        "co2_t_per_mwh": 0.37,
        "startup_ramp_pu": np.nan,
        "shutdown_ramp_pu": np.nan,
        "hours_in_state_initial": 5,
    }
    gens = pd.DataFrame(
        [
            {
                **base,
                "name": "ccgt fleet",
                "p_max_mw": 800.0,
                "marginal_cost_cny_per_mwh": 300.0,
                "committable": True,
                "units": 4,
                "p_min_stable_pu": 0.9,
                "min_up_h": 1,
                "min_down_h": 1,
                "start_cost_cny": 1000.0,
                "units_on_initial": 2,
            },
            {
                **base,
                "name": "ocgt peaker",
                "p_max_mw": 200.0,
                "marginal_cost_cny_per_mwh": 900.0,
                "committable": False,
                "units": 1,
                "p_min_stable_pu": 0.0,
                "min_up_h": 0,
                "min_down_h": 0,
                "start_cost_cny": 0.0,
                "units_on_initial": np.nan,
            },
        ]
    )
    net = tmp_path / "networks" / "uc"
    shutil.copytree(CASES.parent / "networks" / "tiny_uc", net)
    gens.to_csv(net / "generators.csv", index=False)
    settings = yaml.safe_load((CASES / "tiny_uc.yaml").read_text())
    settings.update(
        {
            "network": "../networks/uc",
            "solver": {"mip_gap": gap, "mip_start": "rounded_relaxation"},
        }
    )
    (tmp_path / "cases").mkdir()
    case = tmp_path / "cases" / "uc.yaml"
    case.write_text(yaml.safe_dump(settings))
    return load_case(case)


def test_an_infeasible_rounding_gives_way_to_the_best_rounding_of_the_relaxation(tmp_path):
    # the relaxation is weak here (a fraction of a unit at the fleet's cost where a whole
    # schedule needs the peaker): a 20 % gap
    data = _fleet_and_peaker(tmp_path / "a", 0.2)
    sol = solve(build_model(data), data.case.solver)
    relaxed = solve(build_model(data), data.case.solver, relax=True)
    optimum = solve(build_model(data), data.case.solver.model_copy(update={"mip_gap": 0.0}))
    assert sol.status is Status.OPTIMAL and "rounded relaxation is infeasible" in sol.message
    assert "neighbourhood" in sol.message and "within the MIP gap" in sol.message
    assert sol.best_bound_cny == pytest.approx(relaxed.objective_cny, rel=1e-9)
    assert sol.best_bound_cny <= optimum.objective_cny + 1e-6 <= sol.objective_cny + 2e-6
    assert sol.objective_cny - sol.best_bound_cny <= 0.2 * sol.objective_cny
    # its schedule costed by hand: the fleet makes all it can (it is the cheaper), the
    # peaker the rest, plus the starts
    on = np.round(sol.value("uc_on"))[0]
    load = data.load_mw.sum(axis=1).to_numpy()
    fleet_mw = np.minimum(load, 200.0 * on)
    assert (fleet_mw >= 180.0 * on - 1e-9).all() and (load - fleet_mw <= 200.0 + 1e-9).all()
    starts = np.maximum(np.diff(np.r_[2.0, on]), 0.0)
    hand = float(300.0 * fleet_mw.sum() + 900.0 * (load - fleet_mw).sum() + 1000.0 * starts.sum())
    assert sol.objective_cny == pytest.approx(hand, abs=1e-6)
    # at no gap it only starts the MIP, which reaches the optimum
    exact = _fleet_and_peaker(tmp_path / "b", 0.0)
    sol0 = solve(build_model(exact), exact.case.solver)
    assert "neighbourhood" in sol0.message and "first incumbent" in sol0.message
    assert sol0.objective_cny == pytest.approx(optimum.objective_cny, abs=1e-6)


def _rounding_of_tiny() -> tuple:
    """The tiny case's model, fleet, commitment blocks, and a zero point with coal A on."""
    model = build_model(_tiny())
    u, v, z = (model.variables[n] for n in ("uc_on", "uc_start", "uc_stop"))
    x = np.zeros(model.n_cols)
    x[u.cols[0]] = 1.0  # coal A on all day, as it starts
    return model, fleet(model), (u, v, z), x


def test_units_rounded_up_stay_on_for_their_minimum_up_time():
    model, f, (u, v, z), x = _rounding_of_tiny()
    x[u.cols[1, 5]] = 0.3  # CCGT B (minimum up 4 h) a third on at 05:00 only
    x[u.cols[2, 9]] = 1e-7  # OCGT C within the tolerance of off
    r = rounded_up_commitment(model, f, (u, v, z), x)
    on, started, stopped = r[u.cols], r[v.cols], r[z.cols]
    np.testing.assert_array_equal(on[1], (np.arange(24) >= 5) & (np.arange(24) <= 8))
    assert started[1, 5] == 1.0 and stopped[1, 9] == 1.0
    assert started[1].sum() == 1.0 and stopped[1].sum() == 1.0
    assert not on[2].any() and not on[0].min() < 1.0
    # every transition row holds: u[t] - u[t-1] = v[t] - z[t], u[-1] = U0
    prev = np.concatenate([f.units_on_initial[:, None], on[:, :-1]], axis=1)
    np.testing.assert_array_equal(on - prev, started - stopped)


def test_single_units_cover_their_fuels_relaxed_capacity_and_short_dips_stay_on():
    model, f, (u, v, z), x = _rounding_of_tiny()
    x[u.cols[0, 3:6]] = 0.0  # coal A (minimum down 8 h) off for 3 h in the relaxation
    # CCGT B (300 MW) and OCGT C (150 MW), both gas, half on at noon: 225 MW of committed
    # capacity, which B alone covers; rounding each up would start both
    x[u.cols[1, 12]] = x[u.cols[2, 12]] = 0.5
    r = rounded_up_commitment(model, f, (u, v, z), x)
    on, started, stopped = r[u.cols], r[v.cols], r[z.cols]
    assert on[0].all() and not started[0].any() and not stopped[0].any()
    np.testing.assert_array_equal(on[1], (np.arange(24) >= 12) & (np.arange(24) <= 15))
    assert not on[2].any()


def test_a_start_held_on_for_its_minimum_up_time_leaves_no_dip_shorter_than_its_minimum_down():
    """CCGT B (minimum up and down 4 h) a third on at 05:00 and from 11:00: held on from 05:00
    to 08:00 for its minimum up time, it would stop for 09:00 and 10:00 only, two hours
    against its four; it stays on through them instead."""
    model, f, (u, v, z), x = _rounding_of_tiny()
    x[u.cols[1, 5]] = 0.3
    x[u.cols[1, 11:]] = 0.3
    r = rounded_up_commitment(model, f, (u, v, z), x)
    on, started, stopped = r[u.cols], r[v.cols], r[z.cols]
    np.testing.assert_array_equal(on[1], np.arange(24) >= 5)
    assert started[1].sum() == 1.0 and started[1, 5] == 1.0 and not stopped[1].any()
    # every minimum up and down row of the model holds at the rounded point
    matrix = model_matrix(model)
    for name in ("uc_min_up", "uc_min_down", "uc_transition"):
        block = model.row_blocks[name]
        rows = slice(block.first_row, block.first_row + int(np.prod(block.shape)))
        lhs = matrix.A[rows] @ r
        assert (lhs <= matrix.row_ub[rows] + 1e-9).all()
        assert (lhs >= matrix.row_lb[rows] - 1e-9).all()
