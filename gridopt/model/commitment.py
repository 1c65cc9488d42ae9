"""Unit commitment of committable generators (cases with `model: uc`): a MIP.

A generator row marked `committable` is a cluster of N = `units` identical units, each of
rating P = p_max_mw / N (a single unit when N = 1). Per cluster g and snapshot t there are
three integer variables,

    u[g,t] in {0..N}  units on,    v[g,t] in {0..N}  units started,    z[g,t] in {0..N}  units
    stopped,

so a province's 40 coal units are one integer u per snapshot instead of 40 binaries (clustered
commitment as in GenX, after Palmintier & Webster 2014, "Heterogeneous unit clustering for
efficient operational flexibility modeling", IEEE Trans. Power Syst. 29(3), 1089-1098). The
output p[g,t] of the cluster is the generator family's `gen_p` (bounded there by 0 and
p_max_mw x availability; its must-run p_min_mw and ramp rows are not applied to committable rows
in a uc case). In a dispatch case this family is not built and committable rows are plain
generators.

Data, per unit of g, with a[t] the availability and w[t] the snapshot length in hours:

    cap[t] = a[t] P                               rating available
    lo[t]  = min(p_min_stable_pu, a[t]) P         minimum stable output of a unit that is on
    su[t]  = min(startup_ramp_pu, a[t]) P         most a unit makes in the hour it starts
    sd[t]  = min(shutdown_ramp_pu, a[t]) P        most it makes in its last hour before stopping
    RU = ramp_up_mw_per_h / N, RD = ramp_down_mw_per_h / N      ramp of a running unit, MW/h
    UT, DT = ceil(min_up_h / resolution_h), ceil(min_down_h / resolution_h), at least 1

Rows, for every committable g and snapshot t:

    (1) transition      u[t] - u[t-1] = v[t] - z[t]                  with u[-1] = U0
    (2) minimum up      sum_{tau = t-UT+1 .. t} v[tau] + U0 [t < K_up] <= u[t]
    (3) minimum down    sum_{tau = t-DT+1 .. t} z[tau] + (N - U0) [t < K_down] <= N - u[t]
    (4) stable minimum  p[t] >= lo[t] u[t]
    (5) output limit    p[t] <= cap[t] u[t] - (cap[t] - su[t]) v[t] - (cap[t] - sd[t]) z[t+1]
                        (UT >= 2; for UT = 1 two rows, one with the v term, one with the z term;
                        no z term in the last snapshot)
    (6) ramp up         p[t] - p[t-1] <= RU w[t] (u[t] - v[t]) + su[t] v[t] - lo[t-1] z[t]
    (7) ramp down       p[t-1] - p[t] <= RD w[t] (u[t] - v[t]) + sd[t-1] z[t] - lo[t] v[t]
                        ((6), (7) for t >= 1 and where the ramp limit is given)
    (8) cost            start_cost_cny * v[t] + stop_cost_cny * z[t] + no_load_cost_cny_per_h
                        * w[t] * u[t]  (each unit start and stop, each hour a unit is on)
    (9) reserve         sum_{g in region r} (cap[g,t] u[g,t] - p[g,t]) >= k * demand[r,t]

Initial conditions (exact): U0 = `units_on_initial` units are on before the horizon (blank:
all N, since a study period starts from a running system: starting a whole fleet in its first
hour would charge start costs that never happen, while units on but not needed stop at no cost)
and have been on for H = `hours_in_state_initial` hours; the N - U0 others have been off for H
hours (blank H: long enough that nothing carries over). The U0 units started H hours
before the first snapshot, so their start lies in the window of (2) for the first
K_up = ceil(max(0, min_up_h - H) / resolution_h) snapshots (they cannot stop before); likewise
the N - U0 stops lie in the window of (3) for the first K_down = ceil(max(0, min_down_h - H) /
resolution_h) snapshots. With UT = 1, (2) and (3) read v[t] <= u[t], z[t] <= N - u[t]: no more
starts than units off and no more stops than units on.

A window of a rolling run (`gridopt.studies.rolling`) knows more: the units started and stopped in
each
of the snapshots before it (`CaseData.history`, frames "units_started" and "units_stopped"),
v[tau] and z[tau] for tau < 0. Where given, these replace the block of U0 units above: the
constants of (2) and (3) are then the sums of v[tau] (resp. z[tau]) over their windows' parts
before the horizon, exact for clusters whose units started at different times.

(6) and (7) start at t = 1 when the output before the horizon is not known (as the generator
family's ramp rows; a unit starting in the first snapshot is still held to su by (5)). Where
it is, p[-1] = `p_initial_mw`, they also hold at t = 0 (`generation.output_change`), with lo and
sd of the snapshot before the horizon taken as those of the first one (a unit's availability
does not change at the horizon's start), and so does (5) at t = -1 (row `uc_stop_initial`):

    (cap[0] - sd[0]) z[0] <= cap[0] U0 - (cap[0] - su[0]) v[-1] - p[-1]

(v[-1] from the history, else 0; no v term when UT = 1, as (5) then has two rows).

Why each row is valid, unit by unit (the cluster rows are their sums): among the u[t] units on
at t, v[t] have just started (each makes at most su[t]) and z[t+1] stop at t+1 (each makes at
most sd[t]); with UT >= 2 these are different units, since (2) at t+1 gives
v[t] + v[t+1] <= u[t+1], i.e. v[t] <= u[t] - z[t+1]: that is (5). Units on at t-1 and t move by
at most RU w[t] (there are u[t] - v[t] of them), units starting at t go from 0 to at most su[t],
units stopping at t go from at least lo[t-1] to 0: that is (6), and (7) likewise.

The formulation, and why it is tight:

- (2), (3) are the minimum up/down inequalities of Rajan & Takriti (2005), "Minimum up/down
  polytopes of the unit commitment problem with start-up costs", IBM Research Report RC23628,
  which with (1) describe the convex hull of feasible on/off schedules of a unit; for a cluster
  they are the aggregated form used by GenX, exact for identical units (any aggregate schedule
  splits into unit schedules, first started first stopped).
- (4), (5) are the generation limits with start-up and shut-down capabilities of
  Morales-España, Latorre & Ramos (2013), "Tight and compact MILP formulation for the thermal
  unit commitment problem", IEEE Trans. Power Syst. 28(4), 4897-4908 (their rows for TU >= 2 and
  TU = 1), here in total output rather than output above minimum, with time-varying limits.
- (6), (7) are the two-period ramping inequalities of Arroyo & Conejo (2000) ("Optimal response
  of a thermal unit to an electricity spot market", IEEE Trans. Power Syst. 15(3); eqs. (24)-(25)
  of Knueven, Ostrowski & Watson 2020, "On mixed-integer programming formulations for the unit
  commitment problem", INFORMS J. Comput. 32(4)), p[t] - p[t-1] <= RU u[t-1] + su v[t] and
  p[t-1] - p[t] <= RD u[t] + sd z[t], tightened by the terms -(RU + lo) z[t] and -(RD + lo) v[t]
  (with u[t] - v[t] = u[t-1] - z[t] the right sides above are exactly these).

Every row of PyPSA's committable formulation (Rajan-Takriti windows, p_min/p_max x status, its
ramp rows p[t] - p[t-1] <= RU u[t-1] + SU (u[t] - u[t-1]) and p[t-1] - p[t] <= RD u[t] +
SD (u[t-1] - u[t])) is implied by these rows, also for fractional u, whenever SU <= RU + lo and
SD <= RD + lo (otherwise PyPSA's ramp rows also cut off feasible schedules: a unit could only stop
from above SU - RU). So on such data the LP relaxation here is at least as tight as PyPSA's.

Clusters: the output limits (4)-(5) and (1)-(3) are exact for identical units; the ramp rows
(6)-(7) for a cluster bound its total change, which lets a cluster spread a ramp over its units
as if they could share it, so they are a relaxation of unit-by-unit ramp limits when some units
of a cluster run at their rating (as in GenX). A cluster of one unit is exact.

Typical periods (`gridopt.inputs.aggregation`): each typical period is cyclic in its commitment, as
it
repeats: t-1 of its first snapshot is its last one in (1), (6), (7), the windows of (2), (3)
count round inside the period (at most its length) and (5) looks at the period's first
snapshot after its last; U0 and the initial windows do not apply; w[t] in (6), (7) is the hours
a snapshot lasts (the resolution), not its weight.

Reserve (9): optional, per region, with k the case's `reserve.requirement_pu_of_load`: the
headroom of committable units that are on (available rating of the units on minus their output)
covers a share of the region's demand. Only committable units hold reserve (not storage, hydro
or plain generators); ramp rates do not limit it. Its dual is the reserve price (CNY per MW and
hour).

Unserved energy: a solution that sheds load is re-optimised over the commitment of the regions
it sheds in, with every other integer fixed (`unserved_neighbourhood`, `gridopt.solver`): at a
relative MIP gap of 1 %, a week of the PPRD system (9 bn CNY) may otherwise keep up to 1,800
MWh shed at 50,000 CNY/MWh where a few more local units would serve it.

Prices: a MIP has no duals; `gridopt.solver` fixes the integer variables at the MIP solution and
solves the remaining LP, whose duals are the reported prices (`price_basis` in the summary and
the prices sheet says which prices are given).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import ndimage

from gridopt.inputs.data import CaseData
from gridopt.model import balance
from gridopt.model.core import LinearModel
from gridopt.model.generation import committed, output_change, ramp_steps
from gridopt.model.stores import Carried, Past
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "commitment"


@dataclass
class Fleet:
    """Committable generators of a uc case, with their per-unit data as (unit x snapshot)."""

    index: pd.Index
    rows: np.ndarray  # positions in the generators table
    units: np.ndarray  # N
    cap_mw: np.ndarray  # (k, T) available rating of one unit
    lo_mw: np.ndarray  # (k, T) stable minimum of one unit
    su_mw: np.ndarray  # (k, T) start-up capability of one unit
    sd_mw: np.ndarray  # (k, T) shut-down capability of one unit
    ramp_up_mw_per_h: np.ndarray  # (k,) per unit, NaN: none
    ramp_down_mw_per_h: np.ndarray
    up_snapshots: np.ndarray  # UT >= 1
    down_snapshots: np.ndarray  # DT >= 1
    units_on_initial: np.ndarray  # U0
    up_carry: np.ndarray  # K_up: first snapshots in which the U0 units must stay on
    down_carry: np.ndarray  # K_down: first snapshots in which the N - U0 units must stay off
    start_cost_cny: np.ndarray
    # (k, T): units that must stay on (off) at t because they started (stopped) before the
    # horizon: U0 [t < K_up] (N - U0 [t < K_down]), or from the history of a rolling window
    up_held: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    down_held: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    # (k,) v[-1], units started just before (or 0)
    started_before: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    # (k,) p[-1], NaN: not known
    p_initial_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.index)


def fleet(model: LinearModel) -> Fleet:
    """The committable generators of the model's case and their data (see the module doc)."""
    gens = model.data.tables["generators"]
    rows = np.flatnonzero(committed(model.data))
    g = gens.iloc[rows]
    n = pd.to_numeric(g["units"]).to_numpy(dtype=float)
    rating = g["p_max_mw"].to_numpy(dtype=float) / n
    avail = model.data.availability_pu[g.index].to_numpy().T
    cap = rating[:, None] * avail

    def capability(column: str) -> np.ndarray:
        pu = g[column].astype(float).fillna(1.0).to_numpy()
        return np.minimum(pu[:, None] * rating[:, None], cap)

    res = float(model.data.case.horizon.resolution_h)

    def snapshots(hours: np.ndarray) -> np.ndarray:
        return np.ceil(np.maximum(hours, 0.0) / res).astype(np.int64)

    up_h = pd.to_numeric(g["min_up_h"]).to_numpy(dtype=float)
    down_h = pd.to_numeric(g["min_down_h"]).to_numpy(dtype=float)
    u0 = pd.to_numeric(g["units_on_initial"]).to_numpy(dtype=float)
    u0 = np.where(np.isnan(u0), n, u0)
    held = pd.to_numeric(g["hours_in_state_initial"]).to_numpy(dtype=float)
    held = np.where(np.isnan(held), np.inf, held)
    f = Fleet(
        index=gens.index[rows],
        rows=rows,
        units=n,
        cap_mw=cap,
        lo_mw=np.minimum(g["p_min_stable_pu"].to_numpy(dtype=float)[:, None], avail)
        * rating[:, None],
        su_mw=capability("startup_ramp_pu"),
        sd_mw=capability("shutdown_ramp_pu"),
        ramp_up_mw_per_h=g["ramp_up_mw_per_h"].to_numpy(dtype=float) / n,
        ramp_down_mw_per_h=g["ramp_down_mw_per_h"].to_numpy(dtype=float) / n,
        up_snapshots=np.maximum(snapshots(up_h), 1),
        down_snapshots=np.maximum(snapshots(down_h), 1),
        units_on_initial=u0,
        # a typical period is cyclic: nothing carries over from before the horizon
        up_carry=np.where((u0 > 0) & (not model.aggregated), snapshots(up_h - held), 0),
        down_carry=np.where((u0 < n) & (not model.aggregated), snapshots(down_h - held), 0),
        start_cost_cny=g["start_cost_cny"].to_numpy(dtype=float),
        p_initial_mw=g["p_initial_mw"].to_numpy(dtype=float),
    )
    _held_before(model, f)
    return f


def _held_before(model: LinearModel, f: Fleet) -> None:
    """Fill the fleet's up_held, down_held and started_before (see Fleet), from the table's
    block of U0 units or, per generator, from the history of starts and stops before it."""
    t = np.arange(model.T)[None, :]
    f.up_held = np.where(t < f.up_carry[:, None], f.units_on_initial[:, None], 0.0)
    f.down_held = np.where(t < f.down_carry[:, None], (f.units - f.units_on_initial)[:, None], 0.0)
    f.started_before = np.zeros(len(f))
    if model.aggregated:  # a typical period is cyclic: nothing comes from before the horizon
        return
    for key, held, length in (
        ("units_started", f.up_held, f.up_snapshots),
        ("units_stopped", f.down_held, f.down_snapshots),
    ):
        frame = model.data.history.get(key)
        known = f.index.isin(frame.columns) if frame is not None else np.zeros(len(f), bool)
        if frame is None or not known.any():
            continue
        # lag 1 (the snapshot just before the horizon) first
        past = frame[f.index[known]].to_numpy(dtype=float).T[:, ::-1]
        total = np.concatenate([np.zeros((len(past), 1)), np.cumsum(past, axis=1)], axis=1)
        # starts tau = -1 .. -(UT - 1 - t) lie in the window of (2) at t
        reach = np.clip(length[known, None] - 1 - t, 0, past.shape[1])
        held[known] = np.take_along_axis(total, reach, axis=1)
        if key == "units_started" and past.shape[1]:
            f.started_before[known] = past[:, 0]


def windows(
    cols: np.ndarray, length: np.ndarray, model: LinearModel | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Terms of sum_{tau = t-L[g]+1 .. t, tau >= 0} x[g, tau] for every (g, t), by index arithmetic.

    On typical periods (`model.aggregated`) tau is counted round inside t's period, which
    repeats, and a window holds at most the whole period. Returns flat row numbers (g * T + t)
    and the columns x[g, tau] of every term.
    """
    k, T = cols.shape
    typical = model is not None and model.aggregated
    reach = model.period_length if model is not None and typical else np.arange(1, T + 1)
    counts = np.minimum(np.asarray(length)[:, None], reach[None, :]).ravel()
    rows = np.repeat(np.arange(k * T), counts)
    first = np.cumsum(counts) - counts
    lag = np.arange(int(counts.sum())) - np.repeat(first, counts)
    if model is None or not typical:
        return rows, cols.ravel()[rows - lag]
    t = rows % T
    start, span = model.period_start[t], model.period_length[t]
    return rows, cols.ravel()[rows - t + start + (t - start - lag) % span]


def build(model: LinearModel) -> None:
    f = fleet(model)
    if not len(f):
        return
    T = model.T
    n = f.units[:, None]
    u = model.add_variables("uc_on", f.index, 0.0, n, integer=True)
    v = model.add_variables("uc_start", f.index, 0.0, n, integer=True)
    z = model.add_variables("uc_stop", f.index, 0.0, n, integer=True)
    p = model.variable("gen_p").cols[f.rows]
    t = np.arange(T)[None, :]

    # (1) u[t] - u[t-1] - v[t] + z[t] = 0, u[-1] = U0; a typical period is cyclic instead
    previous = u.cols[:, model.previous]
    initial = (t == 0) & (not model.aggregated)
    keep_previous = np.where(initial, 0.0, -1.0)
    rhs = np.where(initial, f.units_on_initial[:, None], 0.0)
    model.rows("uc_transition", f.index, meaning="unit transitions of {}", unit="units").add(
        u.cols, 1.0
    ).add(previous, keep_previous).add(v.cols, -1.0).add(z.cols, 1.0).equal(rhs)

    # (2) sum of starts in the last UT snapshots <= u[t] (minus the starts before the horizon)
    rows = model.rows("uc_min_up", f.index, meaning="minimum up time of {}", unit="units")
    rows.add(u.cols, -1.0).scatter(*windows(v.cols, f.up_snapshots, model), 1.0)
    rows.less(-f.up_held)
    # (3) sum of stops in the last DT snapshots <= N - u[t]
    rows = model.rows("uc_min_down", f.index, meaning="minimum down time of {}", unit="units")
    rows.add(u.cols, 1.0).scatter(*windows(z.cols, f.down_snapshots, model), 1.0)
    rows.less(n - f.down_held)

    # (4) stable minimum of the units on
    model.rows("uc_p_min", f.index, meaning="stable minimum output of {}", unit="MW").add(
        p, 1.0
    ).add(u.cols, -f.lo_mw).greater(0.0)
    # (5) output limit with start-up and shut-down capabilities
    z_next = z.cols[:, model.following]
    last = (t == T - 1) & (not model.aggregated)  # a typical period's last hour has a next
    long_up = (f.up_snapshots >= 2)[:, None]
    model.rows("uc_p_max", f.index, meaning="output limit of the units on of {}", unit="MW").add(
        p, 1.0
    ).add(u.cols, -f.cap_mw).add(v.cols, f.cap_mw - f.su_mw).add(
        z_next, np.where(long_up & ~last, f.cap_mw - f.sd_mw, 0.0)
    ).less(0.0)
    short = np.flatnonzero(f.up_snapshots < 2)
    has = np.flatnonzero(~last[0])  # snapshots with one after them
    if len(short) and T > 1:
        nxt = model.following[has]
        model.rows(
            "uc_p_max_stop",
            f.index[short],
            model.snapshots[has],
            meaning="output before stopping of {}",
            unit="MW",
        ).add(p[short][:, has], 1.0).add(u.cols[short][:, has], -f.cap_mw[short][:, has]).add(
            z.cols[short][:, nxt], (f.cap_mw - f.sd_mw)[short][:, has]
        ).less(0.0)

    # (6), (7) ramping of the units on, with start-up and shut-down ramps
    for name, limit, sign in (
        ("uc_ramp_up", f.ramp_up_mw_per_h, 1.0),
        ("uc_ramp_down", f.ramp_down_mw_per_h, -1.0),
    ):
        g = np.flatnonzero(~np.isnan(limit))
        now, before, initial = ramp_steps(model, f.rows[g])
        if not len(g) or not len(now):
            continue
        ramp = limit[g, None] * model.dt[None, now]
        rows = model.rows(
            name,
            f.index[g],
            model.snapshots[now],
            meaning=f"{name.removeprefix('uc_').replace('_', ' ')} limit of {{}}",
            unit="MW",
        )
        shift = output_change(rows, p[g], now, before, initial, sign)
        # before the horizon (before = -1), lo and sd are those of its first snapshot
        prev = np.maximum(before, 0)
        ug, vg, zg = u.cols[g][:, now], v.cols[g][:, now], z.cols[g][:, now]
        rows.add(ug, -ramp)
        if sign > 0:
            rows.add(vg, ramp - f.su_mw[g][:, now]).add(zg, f.lo_mw[g][:, prev])
        else:
            rows.add(vg, ramp + f.lo_mw[g][:, now]).add(zg, -f.sd_mw[g][:, prev])
        rows.less(shift)

    # (5) at t = -1: units stopping in the first snapshot made at most sd before it
    g = np.flatnonzero(~np.isnan(f.p_initial_mw))
    if len(g) and T and not model.aggregated:
        cap, su, sd = f.cap_mw[g, 0], f.su_mw[g, 0], f.sd_mw[g, 0]
        started = np.where(f.up_snapshots[g] >= 2, (cap - su) * f.started_before[g], 0.0)
        model.rows(
            "uc_stop_initial",
            f.index[g],
            model.snapshots[:1],
            meaning="output before the horizon of the units stopping first of {}",
            unit="MW",
        ).add(z.cols[g, :1], (cap - sd)[:, None]).less(
            # the window before reached p[-1] within the solver's tolerance: that must not
            # leave a right-hand side a hair below zero
            np.maximum(cap * f.units_on_initial[g] - started - f.p_initial_mw[g], 0.0)[:, None]
        )

    # (8) start-up, shut-down and no-load costs
    model.add_cost(v.cols, f.start_cost_cny[:, None])
    gens = model.data.tables["generators"].iloc[f.rows]
    stop = gens["stop_cost_cny"].to_numpy(dtype=float)
    if (stop > 0).any():
        model.add_cost(z.cols, stop[:, None])
    no_load = gens["no_load_cost_cny_per_h"].to_numpy(dtype=float)
    if (no_load > 0).any():
        model.add_cost(u.cols, no_load[:, None] * model.w[None, :])
    # a solution that sheds load is re-optimised over the commitment of the regions it sheds
    # in (gridopt.solver): see `unserved_neighbourhood`
    model.repairs.append(lambda x: unserved_neighbourhood(model, f, (u, v, z), x))
    # a MIP may start from its relaxation with its commitment rounded (gridopt.solver)
    model.roundings.append(lambda x: rounded_up_commitment(model, f, (u, v, z), x))

    # (9) spinning reserve per region
    reserve = model.data.case.reserve
    if reserve.enabled:
        regions, demand = reserve_requirement_mw(model, f)
        region = region_of(model.data.tables, model.data.tables["generators"]["bus"].iloc[f.rows])
        held = np.flatnonzero(np.isin(region, regions))
        r = regions.get_indexer(region[held])[:, None] * T + t
        model.rows(
            "uc_reserve", regions, meaning="spinning reserve of region {}", unit="MW"
        ).scatter(r, u.cols[held], f.cap_mw[held]).scatter(r, p[held], -1.0).greater(
            demand, per_weight=True
        )


# load shed below this (MWh over the horizon) is solver noise, not a shortfall to repair
REPAIR_TOL_MWH = 1e-3


def unserved_neighbourhood(
    model: LinearModel, f: Fleet, blocks: tuple, x: np.ndarray
) -> np.ndarray:
    """The commitment columns (units on, started, stopped) of the committable units in every
    region where solution `x` leaves demand unserved, as a mask over the model's columns.

    Why: a MIP stopped at a relative gap g may keep load shed worth up to g x its objective,
    which on a system of 9 bn CNY a week is hundreds of MWh at a value of lost load of 50,000
    CNY/MWh, although committing a few more local units would serve it for a fraction of that
    (the LP relaxation sheds nothing). Re-optimising these units' commitment with every other
    integer fixed (gridopt.solver) removes such shedding wherever the rest of the schedule
    allows, and never makes the solution worse.
    """
    mask = np.zeros(len(x), dtype=bool)
    if not model.has("load_shed"):
        return mask
    shed = x[model.variables["load_shed"].cols] * model.w[None, :]
    regions = model.data.tables["buses"]["region"]
    short = regions.reindex(model.buses).to_numpy()[shed.sum(axis=1) > REPAIR_TOL_MWH]
    if not len(short):
        return mask
    bus = model.data.tables["generators"]["bus"].iloc[f.rows]
    mine = np.isin(regions.reindex(bus).to_numpy(), short)
    for block in blocks:
        mask[block.cols[mine].ravel()] = True
    return mask


# a relaxation's units on within this of an integer count as that integer
ROUND_TOL_UNITS = 1e-6


def rounded_up_commitment(model: LinearModel, f: Fleet, blocks: tuple, x: np.ndarray) -> np.ndarray:
    """Point `x` (an LP relaxation's) with integer commitment, starts and stops the changes
    between snapshots; the other columns keep their values.

    - A cluster of N > 1 units has its units on rounded up, u' = ceil(u): it holds at least
      the relaxation's capacity, reserve and ramp room.
    - Single units (N = 1) are switched on per region, fuel and snapshot in the order of their
      relaxed u until their ratings cover the relaxation's committed capacity there,
      sum_on cap >= sum_g cap[g] u[g]: rounding each up would start every unit the
      relaxation keeps a sliver of (Hong Kong's and Macao's 43 units), and their stable
      minima together exceed what the zone can use at night.
    - A stop followed by a start within the minimum down time DT is not made: the units stay
      on through the dip (a closing of u over DT snapshots, from U0 before the horizon).
    - A start keeps its units on for the minimum up time UT (H_up: starts before the horizon):
      u'[t] = max(u'[t], min(u'[t-1], H_up[t] + sum_{tau = t-UT+1 .. t-1} v'[tau])).
    - These two are repeated until neither changes u': a start held on for UT can end
      within DT of the next start (on the PPRD year, a Lamma CCGT picked at 02:00 and again
      from 09:00, held on until 05:00, stopped for three hours against its four).
    - v'[t] = max(u'[t] - u'[t-1], 0), z'[t] = max(u'[t-1] - u'[t], 0), u'[-1] = U0.

    A schedule that still breaks a row (a share held by a ceiling, a ramp) is judged by the
    solver, never assumed feasible."""
    u, v, z = blocks
    x = x.copy()
    n = f.units[:, None]
    relaxed = np.clip(x[u.cols], 0.0, n)
    on = np.ceil(relaxed - ROUND_TOL_UNITS)
    single = np.flatnonzero(f.units == 1)
    if len(single):
        gens = model.data.tables["generators"].iloc[f.rows[single]]
        region = region_of(model.data.tables, gens["bus"])
        group = pd.Series(region, dtype=str).str.cat(gens["carrier"].astype(str).to_numpy(), "|")
        on[single] = _covering(relaxed[single], f.cap_mw[single], group.to_numpy())
    prev = on[:, model.previous]
    if not model.aggregated:
        # each pass only adds units on, so this ends; one pass is not enough, as holding a
        # start on for UT can leave a dip shorter than DT before the next start
        while True:
            kept = _held_up(_without_short_stops(on, f), f)
            if np.array_equal(kept, on):
                break
            on = kept
        prev = np.concatenate([f.units_on_initial[:, None], on[:, :-1]], axis=1)
    change = on - prev
    x[u.cols], x[v.cols], x[z.cols] = on, np.maximum(change, 0.0), np.maximum(-change, 0.0)
    return x


def _covering(relaxed: np.ndarray, cap_mw: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Single units on (1) or off (0), per group and snapshot: in decreasing relaxed u, each
    unit is on while the ratings before it fall short of sum cap u of its group."""
    on = np.zeros_like(relaxed)
    for members in pd.Series(np.arange(len(group))).groupby(group).indices.values():
        r, c = relaxed[members], cap_mw[members]
        order = np.argsort(-r, axis=0, kind="stable")
        need = (r * c).sum(axis=0)
        c_sorted = np.take_along_axis(c, order, axis=0)
        before = np.cumsum(c_sorted, axis=0) - c_sorted
        taken = (before < need[None, :] * (1.0 - ROUND_TOL_UNITS)) & (
            np.take_along_axis(r, order, axis=0) > ROUND_TOL_UNITS
        )
        block = np.zeros_like(r)
        np.put_along_axis(block, order, taken.astype(float), axis=0)
        on[members] = block
    return on


def _without_short_stops(on: np.ndarray, f: Fleet) -> np.ndarray:
    """Dips of u shorter than the minimum down time filled (a grey closing over DT snapshots
    with U0 before the first): no stop is followed by a start within DT."""
    out = on.copy()
    for dt in np.unique(f.down_snapshots[f.down_snapshots > 1]):
        sel = f.down_snapshots == dt
        padded = np.concatenate([f.units_on_initial[sel, None], on[sel]], axis=1)
        closed = ndimage.grey_closing(padded, size=(1, int(dt)), mode="nearest")
        out[sel] = np.maximum(on[sel], closed[:, 1:])
    return out


def _held_up(on: np.ndarray, f: Fleet) -> np.ndarray:
    """Units kept on until their minimum up time has passed (see rounded_up_commitment)."""
    on = on.copy()
    starts = np.zeros_like(on)
    before = f.units_on_initial
    for t in range(on.shape[1]):
        first = max(t - int(f.up_snapshots.max()) + 1, 0)
        inside = (t - np.arange(first, t))[None, :] < f.up_snapshots[:, None]
        must = f.up_held[:, t] + (starts[:, first:t] * inside).sum(axis=1)
        on[:, t] = np.maximum(on[:, t], np.minimum(before, must))
        starts[:, t] = np.maximum(on[:, t] - before, 0.0)
        before = on[:, t]
    return on


def reserve_requirement_mw(model: LinearModel, f: Fleet) -> tuple[pd.Index, np.ndarray]:
    """Regions that hold reserve and their requirement (region x snapshot), MW."""
    reserve = model.data.case.reserve
    buses = model.data.tables["buses"]
    if reserve.regions == "all":
        held = region_of(model.data.tables, model.data.tables["generators"]["bus"].iloc[f.rows])
        regions = pd.Index(sorted(set(held)), name="region")
    else:
        regions = pd.Index(list(dict.fromkeys(reserve.regions)), name="region")
    by_bus = balance.demand_mw(model)
    region_idx = regions.get_indexer(buses["region"].reindex(model.buses).to_numpy())
    demand = np.zeros((len(regions), model.T))
    inside = region_idx >= 0
    np.add.at(demand, region_idx[inside], by_bus[inside])
    return regions, reserve.requirement_pu_of_load * demand


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    if not model.has("uc_on"):
        return {}
    f = fleet(model)
    gens = model.data.tables["generators"].iloc[f.rows]
    u, v, z = sol.value("uc_on"), sol.value("uc_start"), sol.value("uc_stop")
    if not sol.relaxed:  # integers within the solver's tolerance
        u, v, z = np.round(u), np.round(v), np.round(z)
    p = sol.value("gen_p")[f.rows]
    region = region_of(model.data.tables, gens["bus"])
    attrs = pd.DataFrame(
        {
            "bus": gens["bus"],
            "region": region,
            "carrier": gens["carrier"],
            "units": f.units.astype(int),
        },
        index=f.index,
    )
    committed_mw = f.cap_mw * u
    commitment = tidy(
        model.snapshots,
        f.index,
        "generator",
        {
            "units_on": u,
            "units_started": v,
            "units_stopped": z,
            "p_mw": p,
            "committed_capacity_mw": committed_mw,
            "headroom_mw": committed_mw - p,
        },
        attrs,
    )
    start_cost = f.start_cost_cny[:, None] * v
    events = tidy(
        model.snapshots,
        f.index,
        "generator",
        {"units_started": v, "units_stopped": z, "start_cost_cny": start_cost},
        attrs,
    )
    events = events[(events["units_started"] > 1e-9) | (events["units_stopped"] > 1e-9)]
    totals = pd.DataFrame(
        {
            "generator": f.index,
            "region": region,
            "carrier": gens["carrier"].to_numpy(),
            "units": f.units.astype(int),
            "starts": v.sum(axis=1),
            "cost_per_start_cny": f.start_cost_cny,
            "start_cost_cny": start_cost.sum(axis=1),
        }
    )
    costs = pd.DataFrame(
        {
            "component": "generator",
            "name": f.index,
            "region": region,
            "carrier": gens["carrier"].to_numpy(),
            "cost_type": "start-up",
            "cost_cny": start_cost.sum(axis=1),
        }
    )
    other = {
        "shut-down": gens["stop_cost_cny"].to_numpy(dtype=float)[:, None] * z,
        "no-load": gens["no_load_cost_cny_per_h"].to_numpy(dtype=float)[:, None]
        * u
        * model.w[None, :],
    }
    for kind, cost in other.items():
        if cost.any():
            costs = pd.concat(
                [costs, costs.assign(cost_type=kind, cost_cny=cost.sum(axis=1))], ignore_index=True
            )
    out = {
        "commitment": commitment,
        "start_ups": events.reset_index(drop=True),
        "start_up_costs": totals,
        "costs": costs,
    }
    if model.data.case.reserve.enabled:
        regions, requirement = reserve_requirement_mw(model, f)
        headroom = np.zeros_like(requirement)
        idx = regions.get_indexer(region)
        inside = idx >= 0
        np.add.at(headroom, idx[inside], (committed_mw - p)[inside])
        out["reserve"] = tidy(
            model.snapshots,
            regions,
            "region",
            {
                "requirement_mw": requirement,
                "headroom_mw": headroom,
                "price_cny_per_mw_h": sol.dual("uc_reserve"),
            },
        )
    return out


def carry(sol: Solution, k: int, past: Past) -> Carried | None:
    """Units on in snapshot k-1 (`units_on_initial`) and the units started and stopped in the
    snapshots before it, as far back as the longest minimum up or down time
    (`CaseData.history` "units_started" / "units_stopped"): minimum up and down times then
    hold across the boundary exactly, also for clusters."""
    model = sol.model
    if not model.has("uc_on"):
        return None
    names = model.variables["uc_on"].components
    gens = model.data.tables["generators"].loc[names]
    hours = pd.concat([pd.to_numeric(gens["min_up_h"]), pd.to_numeric(gens["min_down_h"])])
    length = math.ceil(hours.max() / model.data.case.horizon.resolution_h) if len(hours) else 0
    history = {
        key: past.frame(np.round(past.values(family)), model.variables[family].components, length)
        for key, family in (("units_started", "uc_start"), ("units_stopped", "uc_stop"))
    }
    on = np.round(sol.value("uc_on")[:, k - 1])
    return Carried(
        columns={("generators", "units_on_initial"): pd.Series(on, index=names)}, history=history
    )


def free_to_go_off(data: CaseData) -> CaseData:
    """The case with its committable units free to switch off when solved as a dispatch LP.

    A dispatch case holds every committable cluster at its must-run floor `p_min_mw` (its
    rule for them), which no unit commitment obeys: units switch off there. A dispatch LP that
    stands for a uc case (the seasonal plan of a rolling run) would then price water against
    output that the commitment need not make; with the floor at 0 it does not.
    """
    gens = data.tables["generators"].copy()
    gens.loc[gens["committable"].to_numpy(dtype=bool), "p_min_mw"] = 0.0
    return dataclasses.replace(data, tables={**data.tables, "generators": gens})
