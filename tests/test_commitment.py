"""Unit commitment: optimum checked by exhaustive search and against PyPSA; invariants from tables.

The tiny case (`cases/tiny_uc.yaml`) has three units on one bus over 24 hours: a coal unit that
is on at the start (minimum up/down 8 h, ramp 80 MW/h), a CCGT that is off (4 h, 150 MW/h) and
a peaker (1 h, no ramp limit), with stable minima, start-up and shut-down capabilities and start
costs.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from gridopt.studies.run import RunResult
from tests.conftest import CASES, ROOT
from tests.conftest import solve as solve_case

TOL = 1e-6


# ---- an independent exhaustive search ----------------------------------------------------------
def exhaustive_optimum(data: CaseData) -> float:
    """Least cost over every on/off schedule of single units, by dynamic programming.

    Written from the physics, not from gridopt's rows. A unit is on or off each hour; it may stop
    only after min_up_h hours on and start only after min_down_h hours off, counting the hours
    its initial state has lasted. On, it makes between its stable minimum and its rating; in the
    hour it starts at most its start-up capability, in the hour before it stops at most its
    shut-down capability. With no ramp limits between running hours, the cost of a schedule is
    its start costs plus, hour by hour, the merit-order cost of meeting demand within those
    limits (infinite where they cannot meet it). The state of the search (each unit's status and
    hours in it, counted up to max(min up, min down) + 1) holds everything that decides which
    schedules may follow and what each hour costs, so minimising over states hour by hour
    (backwards) is the same as listing every feasible schedule: the result is the exact
    optimum over all schedules.
    """
    g = data.tables["generators"]
    assert (pd.to_numeric(g["units"]) == 1).all() and g["ramp_up_mw_per_h"].isna().all()
    assert g["ramp_down_mw_per_h"].isna().all()
    demand = data.load_mw.sum(axis=1).to_numpy()
    T, n = len(demand), len(g)
    cap = g["p_max_mw"].to_numpy(float)
    lo = g["p_min_stable_pu"].to_numpy(float) * cap
    su = g["startup_ramp_pu"].fillna(1.0).to_numpy(float) * cap
    sd = g["shutdown_ramp_pu"].fillna(1.0).to_numpy(float) * cap
    cost = g["marginal_cost_cny_per_mwh"].to_numpy(float)
    start = g["start_cost_cny"].to_numpy(float)
    up = np.maximum(pd.to_numeric(g["min_up_h"]).to_numpy(int), 1)
    down = np.maximum(pd.to_numeric(g["min_down_h"]).to_numpy(int), 1)
    top = np.maximum(up, down) + 1  # hours in state, counted up to `top`
    on0 = pd.to_numeric(g["units_on_initial"]).fillna(1).to_numpy(int)
    held0 = pd.to_numeric(g["hours_in_state_initial"]).fillna(10_000).to_numpy(int)

    # a unit's state: (status, hours in it); the joint states are all combinations
    unit_states = [[(s, k) for s in (0, 1) for k in range(1, top[i] + 1)] for i in range(n)]
    joint = list(itertools.product(*unit_states))
    index = {state: j for j, state in enumerate(joint)}

    def step(state: tuple, nxt: tuple) -> tuple | None:
        out = []
        for i, ((s, k), s2) in enumerate(zip(state, nxt, strict=True)):
            if s2 == s:
                out.append((s, min(k + 1, top[i])))
            elif k >= (up[i] if s == 1 else down[i]):
                out.append((s2, 1))
            else:
                return None
        return tuple(out)

    choices = list(itertools.product((0, 1), repeat=n))

    def hour_cost(t: int, state: tuple, nxt: tuple | None) -> float:
        lo_t = np.array([lo[i] * s for i, (s, _k) in enumerate(state)])
        hi_t = np.array([cap[i] * s for i, (s, _k) in enumerate(state)])
        for i, (s, k) in enumerate(state):
            if s and k == 1:
                hi_t[i] = min(hi_t[i], su[i])
            if s and nxt is not None and nxt[i] == 0:
                hi_t[i] = min(hi_t[i], sd[i])
        rest = demand[t] - lo_t.sum()
        if rest < -TOL or rest > (hi_t - lo_t).sum() + TOL:
            return np.inf
        total = float(cost @ lo_t)
        for i in np.argsort(cost, kind="stable"):
            take = min(max(rest, 0.0), hi_t[i] - lo_t[i])
            total += cost[i] * take
            rest -= take
        return total

    value = np.array([hour_cost(T - 1, state, None) for state in joint])
    for t in range(T - 2, -1, -1):
        new = np.full(len(joint), np.inf)
        for j, state in enumerate(joint):
            for nxt in choices:
                after = step(state, nxt)
                if after is None or not np.isfinite(value[index[after]]):
                    continue
                starts = sum(start[i] for i in range(n) if nxt[i] == 1 and state[i][0] == 0)
                c = hour_cost(t, state, nxt) + starts + value[index[after]]
                new[j] = min(new[j], c)
        value = new
    initial = tuple((int(on0[i] > 0), int(min(held0[i], top[i]))) for i in range(n))
    best = np.inf
    for first in choices:
        state = step(initial, first)
        if state is not None:
            starts = sum(start[i] for i in range(n) if first[i] == 1 and initial[i][0] == 0)
            best = min(best, starts + value[index[state]])
    return float(best)


def without_ramps(data: CaseData) -> CaseData:
    data.tables["generators"]["ramp_up_mw_per_h"] = np.nan
    data.tables["generators"]["ramp_down_mw_per_h"] = np.nan
    return data


def test_exhaustive_search_matches_mip():
    """Without running ramp limits the optimum of every schedule is found by exhaustive search;
    gridopt's MIP reaches the same cost (its start-up/shut-down limits, minimum up/down times and
    initial state are all binding in this case)."""
    data = without_ramps(load_case(CASES / "tiny_uc.yaml"))
    sol = solve(build_model(data))
    assert sol.status == "optimal"
    assert sol.objective_cny == pytest.approx(exhaustive_optimum(data), rel=1e-9)


@settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(st.integers(150, 800), min_size=8, max_size=8),
    st.lists(st.integers(1, 4), min_size=6, max_size=6),
    st.lists(st.integers(0, 16).map(lambda k: k / 20), min_size=3, max_size=3),
    st.lists(st.integers(0, 20).map(lambda k: k * 1_000.0), min_size=3, max_size=3),
    st.lists(st.integers(0, 1), min_size=3, max_size=3),
    st.lists(st.integers(1, 5), min_size=3, max_size=3),
)
def test_random_instances_match_exhaustive_search(load, times, stable, starts, on0, held0):
    """Random loads, minimum times, stable minima, start costs and initial states over 8 hours:
    the MIP optimum equals the exhaustive search's, and both agree on infeasibility."""
    data = without_ramps(load_case(CASES / "tiny_uc.yaml", {"horizon.snapshots": 8}))
    g = data.tables["generators"]
    g["min_up_h"], g["min_down_h"] = times[:3], times[3:]
    g["p_min_stable_pu"] = stable
    g["startup_ramp_pu"] = np.maximum(g["startup_ramp_pu"].fillna(1.0), stable)
    g["shutdown_ramp_pu"] = np.maximum(g["shutdown_ramp_pu"].fillna(1.0), stable)
    g["start_cost_cny"] = starts
    g["units_on_initial"], g["hours_in_state_initial"] = on0, held0
    data.load_mw.iloc[:, 0] = np.asarray(load, dtype=float)
    expected = exhaustive_optimum(data)
    sol = solve(build_model(data))
    if np.isfinite(expected):
        assert sol.status == "optimal"
        assert sol.objective_cny == pytest.approx(expected, rel=1e-7)
    else:
        assert sol.status in ("infeasible", "infeasible_or_unbounded")


# ---- PyPSA's committable model on the same data ------------------------------------------------
def pypsa_network(data: CaseData):
    """The tiny case as PyPSA committable generators (single units, same data)."""
    import pypsa

    n = pypsa.Network()
    n.set_snapshots(data.snapshots)
    for bus in data.tables["buses"].index:
        n.add("Bus", bus)
    for name, row in data.tables["loads"].iterrows():
        n.add("Load", name, bus=row["bus"], p_set=data.load_mw[name])
    for name, r in data.tables["generators"].iterrows():
        p_nom = r["p_max_mw"]
        on = r["units_on_initial"] > 0
        held = int(r["hours_in_state_initial"]) if pd.notna(r["hours_in_state_initial"]) else 999
        n.add(
            "Generator",
            name,
            bus=r["bus"],
            p_nom=p_nom,
            committable=True,
            p_min_pu=r["p_min_stable_pu"],
            marginal_cost=r["marginal_cost_cny_per_mwh"],
            start_up_cost=r["start_cost_cny"],
            min_up_time=int(r["min_up_h"]),
            min_down_time=int(r["min_down_h"]),
            ramp_limit_up=r["ramp_up_mw_per_h"] / p_nom,
            ramp_limit_down=r["ramp_down_mw_per_h"] / p_nom,
            ramp_limit_start_up=r["startup_ramp_pu"],
            ramp_limit_shut_down=r["shutdown_ramp_pu"],
            up_time_before=held if on else 0,
            down_time_before=0 if on else held,
        )
    return n


def pypsa_objectives(data: CaseData) -> tuple[float, float]:
    """PyPSA's MIP optimum and the optimum of its LP relaxation (integrality dropped)."""
    n = pypsa_network(data)
    logging.getLogger("pypsa").setLevel(logging.ERROR)
    logging.getLogger("linopy").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = n.optimize.create_model()
        values = []
        for relax in (False, True):
            h = m.to_highspy()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("solve_relaxation", relax)
            h.run()
            assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            values.append(h.getInfo().objective_function_value)
    return values[0], values[1]


def test_pypsa_committable_same_optimum_and_looser_relaxation():
    """On this data PyPSA's committable rows describe the same schedules (start-up and shut-down
    capabilities within ramp + stable minimum), so the MIP optima agree. Every PyPSA row is then
    implied by gridopt's, so gridopt's LP relaxation is at least as high; here it is higher."""
    data = load_case(CASES / "tiny_uc.yaml")
    model = build_model(data)
    mip, lp = solve(model), solve(model, relax=True)
    pypsa_mip, pypsa_lp = pypsa_objectives(data)
    assert mip.objective_cny == pytest.approx(pypsa_mip, rel=1e-9)
    assert lp.objective_cny >= pypsa_lp - 1e-6
    assert lp.objective_cny > pypsa_lp + 1_000.0  # strictly tighter on this case
    assert lp.objective_cny <= mip.objective_cny + 1e-6


# ---- relaxation, prices, forced commitment, clusters -------------------------------------------
def test_mip_is_not_below_relaxation_and_prices_say_their_basis():
    mip = solve_case("tiny_uc")
    lp = solve_case("tiny_uc", **{"solver.relax": True})
    assert mip.solution.status == lp.solution.status == "optimal"
    assert mip.solution.objective_cny >= lp.solution.objective_cny - TOL
    assert mip.summary["price_basis"] == "commitment_fixed"
    assert lp.summary["price_basis"] == "lp_relaxation" and lp.summary["relaxed"] is True
    assert (mip.tables["prices"]["price_basis"] == "commitment_fixed").all()
    assert mip.summary["mip_gap"] == pytest.approx(0.0, abs=1e-9)
    assert mip.summary["best_bound_cny"] == pytest.approx(mip.solution.objective_cny, rel=1e-9)
    # the relaxation's commitment is fractional somewhere, the MIP's never
    assert (lp.tables["commitment"]["units_on"] % 1 > 1e-6).any()
    assert (mip.tables["commitment"]["units_on"] % 1 == 0).all()
    # with commitment fixed, the price is the marginal cost of a running unit that is not at a
    # limit: the coal unit at 250 CNY/MWh at night, the CCGT at 450 in the day, the peaker 900
    prices = mip.tables["prices"]["price_cny_per_mwh"].to_numpy()
    assert prices[2] == pytest.approx(250) and prices[12] == pytest.approx(450)
    assert prices[18] == pytest.approx(900)
    # the cost sheet adds up to the objective, start-ups included
    assert mip.tables["costs"]["cost_cny"].sum() == pytest.approx(mip.solution.objective_cny)


def test_all_units_forced_on_equals_dispatch_lp():
    """Every unit on for the whole day (on at the start, just started, minimum up 24 h): the MIP
    is the dispatch LP with p_min = stable minimum and the same ramps; costs and prices agree."""
    forced = load_case(CASES / "tiny_uc.yaml")
    g = forced.tables["generators"]
    g["units_on_initial"], g["hours_in_state_initial"], g["min_up_h"] = 1, 0, 24
    # demand within what the three units can make together when all are on
    forced.load_mw = forced.load_mw.clip(450, 840)
    uc = solve(build_model(forced))
    assert uc.status == "optimal"
    assert (uc.value("uc_on") == 1).all() and uc.value("uc_start").sum() == 0

    lp = load_case(CASES / "tiny_uc.yaml", {"model": "dispatch"})
    lp.load_mw = lp.load_mw.clip(450, 840)
    g = lp.tables["generators"]
    g["p_min_mw"] = g["p_min_stable_pu"] * g["p_max_mw"]
    dispatch = solve(build_model(lp))
    assert dispatch.price_basis == "lp"
    assert uc.objective_cny == pytest.approx(dispatch.objective_cny, rel=1e-9)
    np.testing.assert_allclose(uc.dual("bus_balance"), dispatch.dual("bus_balance"), atol=1e-6)


def test_bulk_rows_equal_pyomo_standard_form():
    """The commitment rows and integer columns reach HiGHS as Pyomo itself compiles them."""
    from gridopt.solver.matrix import matrix_from_blocks, matrix_from_pyomo

    model = build_model(load_case(CASES / "tiny_uc.yaml", {"reserve.enabled": True}))
    fast, generic = matrix_from_blocks(model), matrix_from_pyomo(model)
    assert abs(fast.A - generic.A).max() == 0.0
    np.testing.assert_array_equal(fast.integer, generic.integer)
    for x, y in (
        (fast.row_lb, generic.row_lb),
        (fast.row_ub, generic.row_ub),
        (fast.col_lb, generic.col_lb),
        (fast.col_ub, generic.col_ub),
        (fast.c, generic.c),
    ):
        np.testing.assert_array_equal(x, y)
    assert fast.integer.sum() == 3 * 3 * 24  # units on, starts, stops of 3 units over 24 h


def _case_copy(tmp_path: Path, generators: pd.DataFrame, extra: dict | None = None) -> Path:
    """tiny_uc with another generator table, in tmp_path."""
    net = tmp_path / "networks" / "uc"
    shutil.copytree(ROOT / "networks" / "tiny_uc", net)
    generators.to_csv(net / "generators.csv", index=False)
    settings_ = yaml.safe_load((CASES / "tiny_uc.yaml").read_text())
    settings_.update({"network": "../networks/uc", **(extra or {})})
    (tmp_path / "cases").mkdir()
    case = tmp_path / "cases" / "uc.yaml"
    case.write_text(yaml.safe_dump(settings_))
    return case


def test_cluster_equals_identical_units(tmp_path):
    """Three 100 MW CCGTs as one row with units = 3 (one integer per hour) or as three rows of
    one unit (three binaries): the same optimum."""
    gens = pd.read_csv(ROOT / "networks" / "tiny_uc" / "generators.csv")
    b = gens[gens["name"] == "ccgt B"].iloc[0]
    cluster = gens.copy()
    cluster.loc[cluster["name"] == "ccgt B", "units"] = 3
    single = b.copy()
    single["p_max_mw"] = b["p_max_mw"] / 3
    single["ramp_up_mw_per_h"] = b["ramp_up_mw_per_h"] / 3
    single["ramp_down_mw_per_h"] = b["ramp_down_mw_per_h"] / 3
    singles = pd.DataFrame([{**single, "name": f"ccgt B{i}"} for i in (1, 2, 3)])
    split = pd.concat([gens[gens["name"] != "ccgt B"], singles], ignore_index=True)
    one = solve_case(_case_copy(tmp_path / "a", cluster))
    three = solve_case(_case_copy(tmp_path / "b", split))
    assert one.solution.status == three.solution.status == "optimal"
    assert one.solution.objective_cny == pytest.approx(three.solution.objective_cny, rel=1e-9)
    on = one.tables["commitment"]
    assert on.loc[on["generator"] == "ccgt B", "units_on"].max() >= 2  # the cluster is used
    assert one.model.variable("uc_on").shape[0] == 3 and three.model.variable("uc_on").shape[0] == 5
    for run in (one, three):
        assert commitment_violations(run) == []


# ---- invariants, from the result tables alone -------------------------------------------------
def commitment_violations(run: RunResult, tol: float = 1e-5) -> list[str]:
    """Minimum up/down times, stable limits, start-up/shut-down limits and ramps, checked from
    the commitment and generation tables and the input generator table (not from the model)."""
    gens = run.data.tables["generators"]
    res = float(run.data.case.horizon.resolution_h)
    com = run.tables["commitment"]
    gen = run.tables["generation"].set_index(["generator", "snapshot"])["p_mw"]
    found = []
    for name, rows in com.groupby("generator", sort=False):
        r = gens.loc[name]
        rows = rows.sort_values("snapshot")
        u = rows["units_on"].to_numpy()
        v = rows["units_started"].to_numpy()
        z = rows["units_stopped"].to_numpy()
        p = gen.loc[name].reindex(rows["snapshot"]).to_numpy()
        n = int(r["units"])
        rating = r["p_max_mw"] / n
        u0 = n if pd.isna(r["units_on_initial"]) else int(r["units_on_initial"])
        held = np.inf if pd.isna(r["hours_in_state_initial"]) else r["hours_in_state_initial"]
        prev = np.concatenate([[u0], u[:-1]])
        if (np.abs(u - np.round(u)) > tol).any() or (u < -tol).any() or (u > n + tol).any():
            found.append(f"{name}: units on not a whole number in [0, {n}]")
        if np.abs(u - prev - v + z).max() > tol or (v < -tol).any() or (z < -tol).any():
            found.append(f"{name}: starts and stops do not match the units on")
        # minimum up/down: in any window of the minimum time, the units started (stopped) are
        # still on (off); the units on (off) before the horizon count as started (stopped)
        # `held` hours before it
        for hours, moves, now, before in (
            (r["min_up_h"], v, u, u0),
            (r["min_down_h"], z, n - u, n - u0),
        ):
            k = max(int(np.ceil(hours / res)), 1)
            carry = int(np.ceil(max(hours - held, 0) / res))
            window = np.convolve(moves, np.ones(k))[: len(moves)]
            window[:carry] += before
            if (window > now + tol).any():
                found.append(f"{name}: minimum up/down time {hours} h broken")
        if n == 1:  # a single unit: run lengths of on and off, inside the horizon
            status = np.concatenate([[u0], u]).astype(int)
            change = np.flatnonzero(np.diff(status)) + 1
            bounds = np.concatenate([[0], change, [len(status)]])
            for a, b in itertools.pairwise(bounds):
                if a == 0 or b == len(status):
                    continue  # runs that began before or end after the horizon
                need = r["min_up_h"] if status[a] else r["min_down_h"]
                if (b - a) * res < need - tol:
                    found.append(f"{name}: a run of {b - a} snapshots is shorter than {need} h")
        avail = run.data.availability_pu[name].to_numpy()
        cap = avail * rating
        lo = np.minimum(r["p_min_stable_pu"], avail) * rating
        su = (
            np.minimum(1.0 if pd.isna(r["startup_ramp_pu"]) else r["startup_ramp_pu"], avail)
            * rating
        )
        sd = (
            np.minimum(1.0 if pd.isna(r["shutdown_ramp_pu"]) else r["shutdown_ramp_pu"], avail)
            * rating
        )
        z_next = np.concatenate([z[1:], [0.0]])
        if (p < lo * u - tol).any() or (p > cap * u + tol).any():
            found.append(f"{name}: output outside the stable limits of the units on")
        # units that just started make at most su, units about to stop at most sd
        if (p > cap * (u - v - z_next) + su * v + sd * z_next + tol).any():
            found.append(f"{name}: start-up or shut-down capability exceeded")
        w = run.data.weights_h
        for column, sign in (("ramp_up_mw_per_h", 1.0), ("ramp_down_mw_per_h", -1.0)):
            if pd.isna(r[column]) or len(p) < 2:
                continue
            ramp = r[column] / n * w[1:]
            change = sign * (p[1:] - p[:-1])
            # running units move by the ramp; starting units from 0 to at most su (or at least
            # lo), stopping units from at least lo (or at most sd) to 0
            if sign > 0:
                limit = ramp * (u[1:] - v[1:]) + su[1:] * v[1:] - lo[:-1] * z[1:]
            else:
                limit = ramp * (u[1:] - v[1:]) + sd[:-1] * z[1:] - lo[1:] * v[1:]
            if (change > limit + tol).any():
                found.append(f"{name}: {column} exceeded")
    if "reserve" in run.tables:
        res_t = run.tables["reserve"]
        if (res_t["headroom_mw"] < res_t["requirement_mw"] - tol).any():
            found.append("reserve requirement not met")
    return found


def test_tiny_case_respects_commitment_rules():
    run = solve_case("tiny_uc")
    assert commitment_violations(run) == []
    com = run.tables["commitment"].set_index(["generator", "snapshot"])["units_on"]
    # the minimum up time of the CCGT is binding: once on, it stays on at least 4 h
    assert com.loc["ccgt B"].sum() >= 4
    # the start-up and start-up cost sheets
    assert set(run.tables["start_ups"]["generator"]) == {"ccgt B", "ocgt C"}
    costs = run.tables["start_up_costs"].set_index("generator")
    assert costs.loc["ccgt B", "start_cost_cny"] == 8_000 * costs.loc["ccgt B", "starts"]


def test_checker_catches_a_broken_schedule():
    """The invariant checker is not vacuous: a shortened run of the CCGT is reported."""
    run = solve_case("tiny_uc")
    com = run.tables["commitment"]
    b = com.index[(com["generator"] == "ccgt B") & (com["units_on"] == 1)]
    com.loc[b[1:], ["units_on"]] = 0.0  # on for one hour only
    com.loc[b[1], "units_stopped"] = 1.0
    assert any("minimum up" in v or "shorter" in v for v in commitment_violations(run))


def test_reserve_is_held_from_committed_headroom():
    plain = solve_case("tiny_uc")
    held = solve_case(
        "tiny_uc", **{"reserve.enabled": True, "reserve.requirement_pu_of_load": 0.10}
    )
    assert held.solution.status == "optimal"
    assert held.solution.objective_cny > plain.solution.objective_cny
    res = held.tables["reserve"]
    demand = held.data.load_mw.sum(axis=1).to_numpy()
    np.testing.assert_allclose(res["requirement_mw"], 0.10 * demand)
    assert (res["headroom_mw"] >= res["requirement_mw"] - TOL).all()
    assert commitment_violations(held) == []
    # all generation here is committable, so headroom = capacity on - demand: with commitment
    # fixed the reserve rows cannot bind and the reserve price is 0; in the LP relaxation the
    # units on are fractional and the requirement has a price
    assert (res["price_cny_per_mw_h"].abs() < TOL).all()
    relaxed = solve_case(
        "tiny_uc",
        **{"reserve.enabled": True, "solver.relax": True, "reserve.requirement_pu_of_load": 0.10},
    )
    assert relaxed.tables["reserve"]["price_cny_per_mw_h"].max() > 1.0
    assert (relaxed.tables["reserve"]["price_cny_per_mw_h"] >= -TOL).all()


def synthetic_uc(folder: Path, n_buses: int = 8, hours: int = 72) -> Path:
    """A synthetic network whose coal (4 units a bus) and gas (3 units) fleets are committable."""
    from gridopt.inputs.synthetic import write_synthetic

    case = write_synthetic(folder, n_buses=n_buses, hours=hours, seed=0, case_snapshots=hours)
    g = pd.read_csv(folder / "generators.csv")
    coal, gas = (g["carrier"] == "coal").to_numpy(), (g["carrier"] == "gas").to_numpy()
    g["committable"] = coal | gas
    g["units"] = np.select([coal, gas], [4, 3], 1)
    g["p_min_mw"] = 0.0
    g["p_min_stable_pu"] = np.select([coal, gas], [0.4, 0.3], 0.0)
    g["min_up_h"] = np.select([coal, gas], [8, 3], 0)
    g["min_down_h"] = np.select([coal, gas], [6, 2], 0)
    g["start_cost_cny"] = g["p_max_mw"] / g["units"] * np.select([coal, gas], [150, 60], 0)
    g["startup_ramp_pu"] = np.where(coal, 0.5, np.nan)
    g["shutdown_ramp_pu"] = np.where(coal, 0.5, np.nan)
    g.to_csv(folder / "generators.csv", index=False)
    return case


def test_time_limit_keeps_the_best_schedule_found(tmp_path):
    """A MIP stopped by its time limit (here after 4 s; proving optimality takes about ten times
    as long on a 2-core machine) writes its best schedule, with status time_limit, its gap and
    best bound, and prices of the dispatch with that schedule fixed."""
    from gridopt.studies.run import solve_case as run_case

    case = synthetic_uc(tmp_path / "net")
    out = tmp_path / "run"
    run = run_case(
        case,
        out,
        ("csv",),
        changes={"model": "uc", "solver.mip_gap": 0.0, "solver.time_limit_s": 4.0},
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert run.tables and (out / "csv" / "commitment.csv").exists()
    objective, bound = summary["objective_cny"], summary["best_bound_cny"]
    assert 0 < summary["mip_gap"] < 1 and bound < objective
    assert summary["mip_gap"] == pytest.approx((objective - bound) / objective, rel=1e-6)
    assert summary["price_basis"] == "commitment_fixed"
    assert pd.read_csv(out / "csv" / "prices.csv")["price_cny_per_mwh"].notna().all()
    assert commitment_violations(run) == []


# ---- inputs --------------------------------------------------------------------------------
def test_commitment_settings_are_validated(tmp_path):
    gens = pd.read_csv(ROOT / "networks" / "tiny_uc" / "generators.csv")
    gens.loc[gens["name"] == "ccgt B", "startup_ramp_pu"] = 0.3  # below the stable minimum 0.7
    gens.loc[gens["name"] == "coal A", "units_on_initial"] = 2  # a single unit
    case = _case_copy(tmp_path, gens, {"reserve": {"enabled": True, "regions": ["Mainland"]}})
    with pytest.raises(InputError) as err:
        load_case(case)
    text = str(err.value)
    assert "generators.csv, row 3, column 'startup_ramp_pu'" in text and "never start" in text
    assert "row 2, column 'units_on_initial'" in text and "exceeds units" in text
    assert "reserve.regions" in text and "Mainland" in text
    with pytest.raises(InputError, match="needs model: uc"):
        load_case(CASES / "tiny_two_bus.yaml", {"reserve.enabled": True})


def test_dispatch_case_ignores_commitment_columns():
    run = solve_case("tiny_uc", model="dispatch")
    assert run.solution.status == "optimal" and "commitment" not in run.tables
    assert not run.model.has("uc_on")


# ---- command line -------------------------------------------------------------------------
def test_cli_options_become_case_changes(monkeypatch):
    """--model, --mip-gap, --relax and --time-limit reach the case as dotted-key changes."""
    from typer.testing import CliRunner

    import gridopt.cli
    import gridopt.cli.solve

    seen = {}

    class Stop(Exception):
        pass

    def fake_solve_case(case, out_dir, formats, changes=None, **kwargs):
        seen.update(changes or {})
        raise Stop

    monkeypatch.setattr(gridopt.cli.solve, "solve_case", fake_solve_case)
    result = CliRunner().invoke(
        gridopt.cli.app,
        [
            "solve",
            str(CASES / "tiny_uc.yaml"),
            "--model",
            "uc",
            "--mip-gap",
            "0.01",
            "--relax",
            "--time-limit",
            "30",
        ],
    )
    assert isinstance(result.exception, Stop)
    assert seen == {
        "model": "uc",
        "solver.mip_gap": 0.01,
        "solver.relax": True,
        "solver.time_limit_s": 30.0,
    }


def test_cli_relaxed_uc_run_writes_commitment_and_says_so(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridopt",
            "solve",
            str(CASES / "tiny_uc.yaml"),
            "--relax",
            "--out",
            str(out),
            "--format",
            "csv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "uc" and summary["relaxed"] is True
    assert summary["price_basis"] == "lp_relaxation"
    for sheet in ("commitment", "start_ups", "start_up_costs", "prices"):
        assert (out / "csv" / f"{sheet}.csv").exists()
    prices = pd.read_csv(out / "csv" / "prices.csv")
    assert (prices["price_basis"] == "lp_relaxation").all()


def test_cli_rejects_an_unknown_model(tmp_path):
    from typer.testing import CliRunner

    import gridopt.cli

    result = CliRunner().invoke(
        gridopt.cli.app,
        ["solve", str(CASES / "tiny_uc.yaml"), "--model", "lp", "--out", str(tmp_path / "bad")],
    )
    assert result.exit_code == 2
    assert "'model'" in result.output and not (tmp_path / "bad").exists()


# ---- the PPRD unit-commitment case ----------------------------------------------------------
PPRD_UC = CASES / "pprd_uc_week.yaml"


def _pprd_ready() -> bool:
    gens = ROOT / "networks" / "pprd" / "generators.csv"
    if not PPRD_UC.exists() or not gens.exists():
        return False
    header = gens.read_text(encoding="utf-8").splitlines()[0].split(",")
    return "committable" in header


@pytest.mark.skipif(not _pprd_ready(), reason="networks/pprd has no commitment columns yet")
def test_pprd_uc_day_respects_commitment_rules():
    """The PPRD unit-commitment case over its first day (1% gap, 60 s at most): every schedule
    it returns keeps minimum up/down times, stable limits, start-up/shut-down limits and ramps."""
    run = solve_case(
        PPRD_UC, **{"horizon.snapshots": 24, "solver.mip_gap": 0.01, "solver.time_limit_s": 60}
    )
    assert run.solution.status in ("optimal", "time_limit") and run.tables
    assert commitment_violations(run) == []
    assert run.tables["commitment"]["units"].max() > 1  # fleets are clustered
