"""Hydro stations and river cascades: water balance in volume, routing with travel delay.

Variables per station h and snapshot t: turbined flow q[h,t] and spill s[h,t] (m3/s), storage
V[h,t] (hm3, end of snapshot). With k = 0.0036 hm3 per (m3/s x h) and w[t] the hours snapshot t
lasts (`model.dt`: its weight, but the resolution on typical periods):

    V[h,t] = V[h,t-1] + k * w[t] * (inflow[h,t] + arrivals[h,t] - q[h,t] - s[h,t] - z[h,t])
    V_min[h] <= V[h,t] <= V_max[h]          (V_max = 0: run-of-river, nothing stored)
    0 <= q[h,t] <= p_max[h] / mw_per_m3s[h],   s[h,t] >= 0
    q[h,t] + s[h,t] >= q_env_min[h]          (not built where implied: `implied_minimum`)
    power[h,t] = mw_per_m3s[h] * q[h,t]      (fixed head, so the model stays linear)

z[h,t] is a water-supply withdrawal (m3/s) the reservoir must deliver every hour:
`withdrawal_m3s` times its `withdrawal_profile` (e.g. a city's monthly supply schedule; 1 if
none). It leaves the river (it is not routed downstream). A river node without a reservoir
(storage_max_hm3 0, p_max_mw 0: an intake on the river) must pass on everything that reaches it
but what is withdrawn there, so its withdrawal is met only when the water arriving covers it
and the environmental minimum below: upstream reservoirs release for it.

Routing: station u releases r[u,t] = q[u,t] + s[u,t]; with a travel time of d snapshots
(d = tau / resolution, k_u = floor(d), f = d - k_u) the station below receives

    arrivals[h,t] = sum_{u -> h} (1 - f) * r[u, t - k_u] + f * r[u, t - k_u - 1]

and releases from before the horizon (t - k_u < 0) are constants: those of a rolling window's
history (`CaseData.history["release_m3s"]`, the releases of the snapshots before it, so water
still travelling at a window's start arrives in it), and before that history, or without
one, `release_initial_m3s`. On
typical periods (`gridopt.inputs.aggregation`) t - k_u is counted round inside t's own period (the
period repeats), so every release arrives within it and no constant enters.

Storage rule: `fixed` starts at V_0 and ends at V_0; `free` starts at V_0; `cyclic` has
V[h,-1] = V[h,T-1]. The recursion and its linking across typical periods (where the rules
apply to the level chained through the year; table `hydro_year`) are `_stateful.level_rows`.
The dual of the water balance is the water value (reported in CNY per m3 and per MWh that the
station would make of it).

State (`state`, for future-cost functions, `gridopt.model.future_cost`): the reservoir levels at
the end, and the water in transit: the release r[u, T-j] of each station u with a reach below
it in each of its last L_u steps (`transit_entries`), which reaches the station below after
the end. In a stage of a future-cost function (`CaseData.stage_state`) the releases before the
horizon are columns held by rows (`hydro_transit_start`) instead of constants, so that a stage
starts from any water in transit and the duals of those rows value it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.inputs.case import _layout
from gridopt.inputs.data import CaseData
from gridopt.model._stateful import (
    StatePart,
    level_rows,
    level_state,
    level_values,
    start_state,
    year_table,
)
from gridopt.model.core import LinearModel
from gridopt.model.stores import Carried, Motion, Past, StoreKind, Stores, hours_to_move
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "hydro"
HM3_PER_M3S_H = 3600.0 / 1e6


WITHDRAWAL_SERIES = "withdrawal_pu"


def withdrawal_m3s(data: CaseData) -> np.ndarray:
    """z[h,t]: each station's withdrawal in each snapshot (station x snapshot), m3/s."""
    hydro = data.tables["hydro"]
    base = hydro["withdrawal_m3s"].to_numpy(dtype=float)[:, None]
    T = data.n_snapshots
    if hydro.empty or hydro["withdrawal_profile"].isna().all():
        return np.repeat(base, T, axis=1)
    typical = data.typical
    snaps = data.snapshots if typical is None else typical.chronological
    hours = None if data.investment is None else data.investment.series_hours
    shape = (
        _layout(
            data.network,
            WITHDRAWAL_SERIES,
            hydro,
            "withdrawal_profile",
            snaps,
            data.case.horizon,
            fill=1.0,
            hours=hours,
        )
        .to_numpy()
        .T
    )
    if typical is not None:  # the typical periods' own snapshots
        steps = typical.snapshots_per_period
        shape = shape[
            :, (typical.representative[:, None] * steps + np.arange(steps)[None, :]).ravel()
        ]
    return base * shape


def initial_storage_hm3(hydro: pd.DataFrame) -> np.ndarray:
    """Storage before the first snapshot: as given, else half of the regulating range."""
    half = 0.5 * (hydro["storage_min_hm3"] + hydro["storage_max_hm3"])
    return hydro["storage_initial_hm3"].fillna(half).to_numpy()


def initial_release_m3s(hydro: pd.DataFrame) -> np.ndarray:
    return hydro["release_initial_m3s"].fillna(hydro["q_env_min_m3s"]).to_numpy()


def release_before_m3s(model: LinearModel, up: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Release of stations `up` (positions) `lag` >= 1 snapshots before the first, m3/s.

    From the history of a rolling window where it reaches that far back, else the station's
    `release_initial_m3s`. `up` and `lag` broadcast together.
    """
    up, lag = np.broadcast_arrays(up, lag)
    hydro = model.data.tables["hydro"]
    out = initial_release_m3s(hydro)[up]
    frame = model.data.history.get("release_m3s")
    if frame is not None and len(frame):
        # (station x L), lag 1 (the snapshot just before the horizon) first; NaN: not given
        past = frame.reindex(columns=hydro.index).to_numpy(dtype=float).T[:, ::-1]
        reach = (lag >= 1) & (lag <= past.shape[1])
        given = past[up[reach], lag[reach] - 1]
        known = np.flatnonzero(reach)[~np.isnan(given)]
        out.flat[known] = given[~np.isnan(given)]
    return out


def routing(model: LinearModel) -> pd.DataFrame:
    """One row per river reach u -> h: positions, whole-snapshot delay k and fraction f."""
    hydro = model.data.tables["hydro"]
    reach = hydro["downstream"].dropna()
    resolution_h = model.data.case.horizon.resolution_h
    delay = hydro.loc[reach.index, "travel_time_h"].to_numpy() / resolution_h
    k = np.floor(delay + 1e-9).astype(int)
    return pd.DataFrame(
        {
            "up": hydro.index.get_indexer(reach.index),
            "down": hydro.index.get_indexer(reach.to_numpy()),
            "k": k,
            "f": delay - k,
        },
        index=reach.index,
    )


def _stores(tables: dict[str, pd.DataFrame]) -> Stores:
    """Reservoirs: storage range, end rule, start level, hours to empty at full turbine flow."""
    hydro = tables["hydro"]
    upper = hydro["storage_max_hm3"].to_numpy(dtype=float)
    lower = np.minimum(hydro["storage_min_hm3"].to_numpy(dtype=float), upper)
    flow = (hydro["p_max_mw"] / hydro["mw_per_m3s"]).to_numpy(dtype=float)
    rule = hydro["end_rule"].to_numpy().astype(object)
    return Stores(
        "hydro",
        hydro.index,
        lower,
        upper,
        rule,
        np.where(rule == "cyclic", np.nan, initial_storage_hm3(hydro)),
        hours_to_move(upper - lower, HM3_PER_M3S_H * flow),
    )


def _start_at(hydro: pd.DataFrame, level: np.ndarray) -> pd.DataFrame:
    """Reservoirs starting at `level`, free at the end (what they hold at the end answers to
    `CaseData.end_state`); a reservoir without a level (NaN) is cyclic."""
    hydro = hydro.copy()
    hydro["storage_initial_hm3"] = level
    hydro["end_rule"] = np.where(np.isnan(level), "cyclic", "free")
    return hydro


def _motion(model: LinearModel) -> Motion:
    """How far each reservoir can rise or fall in each snapshot on its own: a station with no
    river above it rises at most by its inflow less its withdrawal and minimum release,

        rise[h,t] = k w[t] (inflow[h,t] - z[h,t] - q_env_min[h])

    and a station below another by as much as the stations above release (no limit); any
    station falls without limit (spill is unbounded)."""
    hydro = model.data.tables["hydro"]
    kw = HM3_PER_M3S_H * model.dt[None, :]
    inflow = model.data.inflow_m3s[hydro.index].to_numpy().T
    rise = kw * (inflow - withdrawal_m3s(model.data) - hydro["q_env_min_m3s"].to_numpy()[:, None])
    fed = hydro.index.isin(hydro["downstream"].dropna().to_numpy())
    rise[fed] = np.inf
    return Motion(rise, np.full(rise.shape, np.inf), np.ones(rise.shape))


STORES = (
    StoreKind(
        "hydro",
        "hydro_storage",
        "hydro_water_balance",
        "hm3",
        "hydro station",
        _stores,
        _start_at,
        _motion,
    ),
)


def build(model: LinearModel) -> None:
    hydro = model.data.tables["hydro"]
    if hydro.empty:
        return
    model.store_kinds["hydro"] = STORES[0]
    T, w, dt = model.T, model.w, model.dt
    conv = hydro["mw_per_m3s"].to_numpy()
    q_max = hydro["p_max_mw"].to_numpy() / conv
    v_max = hydro["storage_max_hm3"].to_numpy()
    v_min = np.minimum(hydro["storage_min_hm3"].to_numpy(), v_max)
    q = model.add_variables("hydro_turbine", hydro.index, 0.0, q_max[:, None])
    # spill has no upper bound: the most a station could spill in a snapshot (its whole
    # reservoir in one hour, up to 1e7 m3/s for the largest) never binds, and such a bound
    # only slows an interior point down (benchmarks/RESULTS.md)
    s = model.add_variables("hydro_spill", hydro.index, 0.0)
    v = model.add_variables("hydro_storage", hydro.index, v_min[:, None], v_max[:, None])

    v0 = initial_storage_hm3(hydro)
    rule = hydro["end_rule"].to_numpy()
    cyclic = rule == "cyclic"
    kw = HM3_PER_M3S_H * dt[None, :]
    inflow = model.data.inflow_m3s[hydro.index].to_numpy().T
    withdrawal = withdrawal_m3s(model.data)
    rows, rhs = level_rows(
        model,
        "hydro_water_balance",
        hydro.index,
        v,
        np.where(cyclic, np.nan, v0),
        final=np.where(rule == "fixed", v0, np.nan),
        meaning="water balance of hydro station {}",
        unit="hm3",
        below="more water than it can store or release, by",
        above="short of water by",
    )
    rhs = rhs + kw * (inflow - withdrawal)
    rows.add(q.cols, kw).add(s.cols, kw)

    # a stage of a future-cost function: the water in transit at its start is a state too
    transit = _transit_at_start(model) if model.data.stage_state else None
    # arrivals from upstream: time-shifted releases, for all reaches at once
    for down, up, src, share, inside, earlier, lag in arrival_terms(model):
        row = down * T + np.arange(T)[None, :]
        coef = -share * kw * inside
        rows.scatter(row, q.cols[up, src], coef)
        rows.scatter(row, s.cols[up, src], coef)
        if transit is None:
            # water released before the horizon, still on its way down, is a constant
            np.add.at(
                rhs,
                (np.broadcast_to(down, src.shape), np.broadcast_to(np.arange(T), src.shape)),
                share * kw * ~inside * earlier,
            )
        else:
            cols, entry = transit
            out = ~inside & (share > 0)
            ups = np.broadcast_to(up, src.shape)
            rows.scatter(row[out], cols[entry[ups[out], lag[out]]], -(share * kw)[out])
    rows.equal(rhs)

    fixed = np.flatnonzero(rule == "fixed")
    if len(fixed) and not model.aggregated:  # typical periods: in the linking (_stateful)
        end = model.rows(
            "hydro_end_storage",
            hydro.index[fixed],
            model.snapshots[-1:],
            meaning="end-of-horizon storage of hydro station {}",
            unit="hm3",
            below="end level short by",
            above="end level over by",
        )
        end.add(v.cols[fixed, -1:], 1.0).equal(v0[fixed, None])

    env = np.flatnonzero((hydro["q_env_min_m3s"].to_numpy() > 0) & ~implied_minimum(model))
    if len(env):
        rel = model.rows(
            "hydro_min_release",
            hydro.index[env],
            meaning="environmental minimum release of hydro station {}",
            unit="m3/s",
            below="release short by",
        )
        rel.add(q.cols[env], 1.0).add(s.cols[env], 1.0)
        rel.greater(hydro["q_env_min_m3s"].to_numpy()[env, None])

    model.add_injection(NAME, hydro["bus"], q.cols, conv[:, None])
    model.add_cost(
        q.cols, (hydro["marginal_cost_cny_per_mwh"].to_numpy() * conv)[:, None] * w[None, :]
    )


def transit_entries(model: LinearModel, resolution_h: float) -> pd.DataFrame:
    """The water in transit as entries of the state: the release of each station u with a
    reach below it in each of the last L_u steps of `resolution_h` hours, whose water has
    not all arrived by the end (d = tau_u / resolution_h, k = floor(d), L_u = k, + 1 where
    d has a fraction). Columns: `up` (position), `lag` (1: the last step), `store` (label)."""
    hydro = model.data.tables["hydro"]
    reach = hydro["downstream"].dropna()
    delay = hydro.loc[reach.index, "travel_time_h"].to_numpy(dtype=float) / resolution_h
    k = np.floor(delay + 1e-9).astype(int)
    steps = k + (delay - k > 0)  # as `routing`: a fraction f > 0 reaches one step further
    up = np.repeat(hydro.index.get_indexer(reach.index), steps)
    lag = np.concatenate([np.arange(1, n + 1) for n in steps] or [np.zeros(0, dtype=int)])
    names = hydro.index.to_numpy()[up]
    return pd.DataFrame(
        {
            "up": up.astype(int),
            "lag": lag.astype(int),
            "store": [f"{n} release t-{j}" for n, j in zip(names, lag, strict=True)],
        }
    )


def steps_in_transit(hydro: pd.DataFrame, resolution_h: float) -> int:
    """The most steps of `resolution_h` hours any station's release is in transit (max L_u,
    `transit_entries`; 0 without a reach with a travel time)."""
    reach = hydro["travel_time_h"][hydro["downstream"].notna()].to_numpy(dtype=float)
    return int(np.ceil(reach / resolution_h).max()) if len(reach) else 0


def _transit_at_start(model: LinearModel) -> tuple[np.ndarray, np.ndarray] | None:
    """Start columns of the water in transit (a stage, module doc of `_stateful`), held at the
    releases before the horizon (`release_before_m3s`), rows `hydro_transit_start`: (their
    columns, lookup (station x lag) -> entry)."""
    entries = transit_entries(model, model.data.case.horizon.resolution_h)
    if model.aggregated or not len(entries):
        return None
    up, lag = entries["up"].to_numpy(), entries["lag"].to_numpy()
    x0 = start_state(
        model,
        "hydro_transit_at_start",
        "hydro_transit_start",
        pd.Index(entries["store"]),
        release_before_m3s(model, up, lag),
        "m3/s",
    )
    lookup = np.full((len(model.data.tables["hydro"]), lag.max() + 1), -1, dtype=int)
    lookup[up, lag] = np.arange(len(entries))
    return x0.cols[:, 0], lookup


def state(model: LinearModel, resolution_h: float) -> list[StatePart]:
    """The state hydro keeps (`gridopt.model._stateful.StateBlock`): reservoir levels, and
    the water in transit (`transit_entries`) in steps of `resolution_h` hours R, the release
    of step j being the mean release of the snapshots of that step still in transit:

        (1/n_j) sum (q + s) over the n_j snapshots of hours
            [T_h - (j - 1) R - n_j r, T_h - (j - 1) R)

    of the horizon's T_h hours (r its resolution): all m = R / r of them for a step whose
    water is all in transit (j <= k, tau = (k + f) R), and the round(f m) (at least 1) nearest
    the end for the step of which a fraction f is (j = k + 1). At R = r that is the release of
    step j. At a finer resolution (an hourly window valued by daily cuts) it counts what is
    in transit as the coarse step does, f R x the entry: over all m snapshots it would also
    count water released early in the last step that has already arrived below, stored
    there and valued again (a window would then release water just before its end to have it
    counted twice)."""
    hydro = model.data.tables["hydro"]
    if hydro.empty or not model.has("hydro_turbine") or model.aggregated:
        return []
    parts = [p for p in (level_state(model, STORES[0]),) if p is not None]
    entries = transit_entries(model, resolution_h)
    if not len(entries):
        return parts
    res = model.data.case.horizon.resolution_h
    m = max(1, round(resolution_h / res))
    up, lag = entries["up"].to_numpy(), entries["lag"].to_numpy()
    delay = hydro["travel_time_h"].to_numpy(dtype=float)[up] / resolution_h
    k = np.floor(delay + 1e-9)
    partial = (lag == k + 1) & (delay - k > 1e-9)
    counted = np.where(partial, np.maximum(1, np.round((delay - k) * m)), m).astype(int)
    # the snapshots of each entry's step still in transit (clipped into the horizon)
    offset = np.arange(m)[None, :]
    snap = np.clip(model.T - (lag[:, None] - 1) * m - 1 - offset, 0, model.T - 1)
    keep = offset < counted[:, None]
    weight = np.broadcast_to(1.0 / counted[:, None], keep.shape)[keep]
    q = model.variables["hydro_turbine"].cols[up[:, None], snap][keep]
    s = model.variables["hydro_spill"].cols[up[:, None], snap][keep]
    n = len(entries)
    rows = np.repeat(np.arange(n), keep.sum(axis=1))
    end = sp.csr_matrix(
        (np.r_[weight, weight], (np.r_[rows, rows], np.r_[q, s])), shape=(n, model.n_cols)
    )
    end.sum_duplicates()
    block = model.row_blocks.get("hydro_transit_start")
    starts = None
    if model.data.stage_state:
        starts = np.full(n, -1, dtype=np.int64)
        if block is not None and res == resolution_h:
            starts = block.first_row + np.arange(n)
    parts.append(
        StatePart(
            "hydro_transit",
            pd.Index(entries["store"]),
            "m3/s",
            end,
            np.zeros(n),
            np.full(n, np.inf),  # spill has no upper bound
            starts,
        )
    )
    return parts


def implied_minimum(model: LinearModel) -> np.ndarray:
    """Stations whose minimum release holds in every snapshot without its row (bool, n).

    A station whose level cannot move (run-of-river: storage_min = storage_max = its initial
    level) releases exactly what reaches it, q + s = inflow + arrivals - z. Every station
    releases at least its minimum q_env (by its row, or because it is implied), so the
    arrivals of a run-of-river station are at least those of its upstream stations'
    minimums (or of their own floors, if higher), and its release at least

        floor[h,t] = inflow[h,t] - z[h,t] + sum_{u -> h} (1 - f) floor[u, t-k] + f floor[u, t-k-1]

    (releases before the horizon as given). Where floor[h,t] >= q_env[h] in every snapshot
    the row q + s >= q_env adds nothing and is not built: in PPRD the 11 run-of-river
    stations of the Yalong and Dadu, 96,360 rows of the year.
    """
    hydro = model.data.tables["hydro"]
    q_env = hydro["q_env_min_m3s"].to_numpy(dtype=float)
    v_min, v_max = hydro["storage_min_hm3"].to_numpy(), hydro["storage_max_hm3"].to_numpy()
    fixed = (np.minimum(v_min, v_max) == v_max) & (initial_storage_hm3(hydro) == v_max)
    # a stage's water in transit at its start is not known when it is built: every row stays
    if not fixed.any() or hydro["downstream"].isna().all() or model.data.stage_state:
        return np.zeros(len(hydro), dtype=bool)
    own = model.data.inflow_m3s[hydro.index].to_numpy().T - withdrawal_m3s(model.data)
    floor = np.repeat(q_env[:, None], model.T, axis=1)
    for _ in range(len(hydro)):  # one pass per level of the deepest cascade settles it
        arrivals = arrivals_m3s(model, floor)
        new = np.where(fixed[:, None], np.maximum(floor, own + arrivals), floor)
        if np.array_equal(new, floor):
            break
        floor = new
    return fixed & ((own + arrivals_m3s(model, floor)) >= q_env[:, None]).all(axis=1)


def arrival_terms(model: LinearModel):
    """Per delay part of every reach u -> h: (h, u, source snapshot, share, inside horizon,
    release before the horizon, snapshots before the first where outside).

    Arrays have shape (reaches x snapshots); `h` and `u` are column vectors of positions. The
    source snapshot is clipped into the horizon where `inside` is False: the term is then the
    constant release of u at that time before the horizon (`release_before_m3s`), m3/s.
    """
    reach = routing(model)
    if reach.empty:
        return
    down = reach["down"].to_numpy()[:, None]
    up = reach["up"].to_numpy()[:, None]
    k, f = reach["k"].to_numpy()[:, None], reach["f"].to_numpy()[:, None]
    for shift, share in ((k, 1.0 - f), (k + 1, f)):
        src, inside = model.lag(shift)
        lag = shift - np.arange(model.T)[None, :]  # snapshots before the first, where outside
        earlier = np.where(inside, 0.0, release_before_m3s(model, up, np.maximum(lag, 1)))
        yield (down, up, src, np.broadcast_to(share, src.shape), inside, earlier, lag)


def withdrawal_rows(model: LinearModel, stations: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The water-balance rows of `stations` and what their right-hand side gains when the
    stations' withdrawals z[h,t] are left out: + k w[t] z[h,t] (hm3), one value per row. The
    model with these rows so shifted is the model with those withdrawals at 0."""
    block = model.row_blocks.get("hydro_water_balance")
    hydro = model.data.tables["hydro"]
    if block is None or not stations:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    pos = hydro.index.get_indexer(stations)
    rows = block.first_row + pos[:, None] * model.T + np.arange(model.T)[None, :]
    shift = HM3_PER_M3S_H * model.dt[None, :] * withdrawal_m3s(model.data)[pos]
    return rows.ravel(), shift.ravel()


def water_value_cny_per_m3(sol: Solution) -> np.ndarray:
    """The water value of every station in every snapshot (station x snapshot), CNY/m3: minus
    the dual of its water balance, so that more water is worth more."""
    return -sol.dual("hydro_water_balance") / 1e6


def reaching_m3s(sol: Solution) -> np.ndarray:
    """The water reaching every station (station x snapshot), m3/s: its own inflow and the
    releases arriving from upstream."""
    model = sol.model
    hydro = model.data.tables["hydro"]
    release = sol.value("hydro_turbine") + sol.value("hydro_spill")
    return model.data.inflow_m3s[hydro.index].to_numpy().T + arrivals_m3s(model, release)


def arrivals_m3s(model: LinearModel, release: np.ndarray) -> np.ndarray:
    """Arrivals from upstream (m3/s) from releases, by the same terms as the water balance."""
    hydro = model.data.tables["hydro"]
    out = np.zeros((len(hydro), model.T))
    for down, up, src, share, inside, earlier, _lag in arrival_terms(model):
        flow = np.where(inside, release[up, src], earlier)
        np.add.at(
            out,
            (np.broadcast_to(down, src.shape), np.broadcast_to(np.arange(model.T), src.shape)),
            share * flow,
        )
    return out


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    hydro = model.data.tables["hydro"]
    if hydro.empty:
        return {}
    conv = hydro["mw_per_m3s"].to_numpy()[:, None]
    q, s = sol.value("hydro_turbine"), sol.value("hydro_spill")
    v = level_values(sol, "hydro_storage")
    p = conv * q
    w = model.w[None, :]
    region = region_of(model.data.tables, hydro["bus"])
    attrs = pd.DataFrame(
        {
            "bus": hydro["bus"],
            "region": region,
            "carrier": hydro["carrier"],
            "river": hydro["river"],
        },
        index=hydro.index,
    )
    # water value: CNY per hm3 of the balance row, sign turned so that more water is worth more
    value_hm3 = -sol.dual("hydro_water_balance")
    table = tidy(
        model.snapshots,
        hydro.index,
        "station",
        {
            "storage_hm3": v,
            "inflow_m3s": model.data.inflow_m3s[hydro.index].to_numpy().T,
            "withdrawal_m3s": withdrawal_m3s(model.data),
            "arrivals_m3s": arrivals_m3s(model, q + s),
            "turbined_m3s": q,
            "spilled_m3s": s,
            "p_mw": p,
            "water_value_cny_per_m3": value_hm3 / 1e6,
            "water_value_cny_per_mwh": value_hm3 / (conv / HM3_PER_M3S_H),
        },
        attrs,
    )
    gen = tidy(
        model.snapshots,
        hydro.index,
        "generator",
        {"p_mw": p, "energy_mwh": p * w, "co2_t": np.zeros_like(p)},
        attrs.drop(columns="river"),
    )
    costs = pd.DataFrame(
        {
            "component": "hydro",
            "name": hydro.index,
            "region": region,
            "carrier": hydro["carrier"].to_numpy(),
            "cost_type": "variable (O&M)",
            "cost_cny": (hydro["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * p * w).sum(
                axis=1
            ),
        }
    )
    return {
        "hydro": table,
        "generation": gen,
        "costs": costs,
        **year_table(
            sol, "hydro_storage", "hydro_year", hydro.index, "station", "storage_hm3", attrs
        ),
    }


def carry(sol: Solution, k: int, past: Past) -> Carried | None:
    """The releases of the snapshots before snapshot k (turbined plus spilled, m3/s), as far
    back as the longest travel time of a reach: water still on its way down the river arrives
    in the next piece of the horizon (`CaseData.history["release_m3s"]`)."""
    model = sol.model
    hydro = model.data.tables["hydro"]
    travel = hydro["travel_time_h"][hydro["downstream"].notna()]
    if not model.has("hydro_turbine") or not len(travel):
        return None
    length = math.ceil(travel.max() / model.data.case.horizon.resolution_h) + 1
    release = np.maximum(past.values("hydro_turbine") + past.values("hydro_spill"), 0.0)
    return Carried(
        history={
            "release_m3s": past.frame(release, model.variables["hydro_turbine"].components, length)
        }
    )
