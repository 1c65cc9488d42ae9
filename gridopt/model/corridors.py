"""Interprovincial corridors operated to schedules, and the energy obligations on them.

A corridor c (table `corridors`) joins bus0 to bus1: a bipole HVDC/UHVDC line or an AC corridor
whose transfer the operator schedules, forward (bus0 -> bus1, the contracted direction) and, if
`p_max_reverse_mw` > 0, back.

Ratings and poles. With n poles of which a are in service (`poles`, `poles_available`, blank:
all), the usable ratings, at the sending converter, and the no-load loss are

    P[c] = p_max * a / n,   R[c] = p_max_reverse * a / n,   L[c] = loss_noload * a / n

(a pole out of service takes its converters, and their no-load loss, with it); a = 0 takes the
corridor out. A corridor is two-way when R > 0.

Variables per snapshot t (MW): power sent forward f+[c,t] >= 0 and, on two-way corridors only,
sent back f-[c,t] >= 0; energised status u+[c,t] (energised, forward) and, on two-way
corridors, u-[c,t] (energised, reverse). With lambda[c] = `loss_pu` and m[c] = `min_transfer_pu`:

    f+[c,t] <= P[c] u+[c,t]                    corridor_capacity (dual: value of rating)
    f-[c,t] <= R[c] u-[c,t]                    corridor_capacity_reverse
    f+[c,t] >= m[c] P[c] u+[c,t]               corridor_min_transfer
    f-[c,t] >= m[c] R[c] u-[c,t]               corridor_min_transfer_reverse
    u+[c,t] + u-[c,t] <= 1                     corridor_direction (two-way corridors)
    u+[c,t] + u-[c,t] >= 1                     corridor_energised (two-way, not switchable)

and the injections into the nodal balance

    bus0:  -f+[c,t] + (1 - lambda[c]) f-[c,t] - L[c]/2 (u+[c,t] + u-[c,t])
    bus1:  (1 - lambda[c]) f+[c,t] - f-[c,t] - L[c]/2 (u+[c,t] + u-[c,t])

whose sum, -lambda (f+ + f-) - L (u+ + u-), is never positive: a corridor cannot create energy,
whatever values its variables take (in a relaxation too). The no-load loss is drawn half at each
converter station. Wheeling costs w[t] c[c] (f+ + f-), c = `marginal_cost_cny_per_mwh` >= 0.

Energisation and direction, LP and MIP:

- A dispatch case (an LP) keeps every corridor in service energised in every snapshot: u+ is a
  column fixed at 1 on one-way corridors, so the no-load loss is a constant drawn at both ends
  and the minimum transfer a floor on f+. A continuous status in [0, 1] was not used: the LP
  would set u+ = f+ / P, which makes the minimum transfer vacuous and turns the no-load loss
  into a proportional one, an "energised fraction" with no physical meaning. Bulk corridors are
  run energised; taking one out (or a pole) is an input, `poles_available`.
- Simultaneous flow both ways is impossible, not merely unprofitable: on a two-way corridor u+
  and u- are binary. Losses alone would not do in an LP: the reduced costs of f+ and f- sum to
  2c + lambda (pi0 + pi1) (pi: prices at the two ends), so circulating flow ties at zero prices
  with c = 0 and pays at negative prices (a surplus that must be curtailed at a penalty, or
  must-run), where it dumps energy into losses. A dispatch case whose network has a two-way
  corridor in service is therefore a MIP (one binary pair per two-way corridor and snapshot);
  its prices are those of the LP with the binaries fixed at the MIP's values (gridopt.solver).
  Its LP relaxation (`solver.relax`) is the convex hull f+ / P + f- / R <= 1, which can still
  circulate; the `circulating_mw` column of the results shows it.
- In a uc case (a MIP), a corridor marked `switchable` has a binary u+ (and u-) and may be
  de-energised hour by hour (u+ = u- = 0: no transfer, no no-load loss, no minimum); the others
  stay energised as in a dispatch case, adding no binaries (bulk bipoles are not switched with
  the daily load; de-energising one is an outage study). Switching has no cost and no minimum
  times.

Operating rules, on the schedule s[c,t] = f+[c,t] - f-[c,t] (net MW sent forward):

    s[c,t] - s[c,t-1] <= ramp[c] w[t],   s[c,t-1] - s[c,t] <= ramp[c] w[t]
                                         corridor_ramp_up / _down (energising and
                                         de-energising are schedule changes too)

    daily shape (`daily_profile`): the profile a[c,t] is divided by its w-weighted mean over
    each day d (so only its shape within the day matters); with H[d] the hours of day d and
    M[c,d] the day's mean schedule,

        H[d] M[c,d] = sum_{t in d} w[t] s[c,t]                      corridor_day_mean
        s[c,t] <= (1 + tol[c]) a[c,t] M[c,d]                         corridor_shape_upper
        s[c,t] >= (1 - tol[c]) a[c,t] M[c,d]                         corridor_shape_lower

    peak/valley ratio r[c] (`peak_valley_ratio_max`), with day variables Q (peak), V (valley):

        s[c,t] <= Q[c,d],   s[c,t] >= V[c,d]  (t in d),   Q[c,d] <= r[c] V[c,d]

    The day variables M, Q and V are bounded by the schedule's range, -R[c] <= . <= P[c]
    (implied: no optimum changes; an interior point handles bounded columns better than free
    ones).

A day is a calendar date of the snapshots (the first and last may be partial). Both day rules
describe forward delivery: on their days a two-way corridor sends forward only, and a corridor
de-energised for part of a day (uc) must be so for the whole day.

Contracts (table `contracts`). Contract k applies to each calendar period W (its month of each
year, or each year) that the snapshots reach:

    E[k,W] = sum_{t in W} w[t] sum_{c in k} (a+[k,c] f+[c,t] + a-[k,c] f-[c,t])
    E[k,W] + short[k,W] >= share[W] min[k]      contract_min (short: only with a penalty)
    E[k,W] <= share[W] max[k]                   contract_max

where, metered at the receiving end, a corridor oriented from -> to counts a+ = 1 - lambda,
a- = -1 and one oriented to -> from a+ = -1, a- = 1 - lambda (at the sending end: 1 and
-(1 - lambda), resp. -(1 - lambda) and 1), so E is the net energy the receiving region gets.
`corridors` lists corridors oriented from -> to; `from_region`/`to_region` take every corridor
between buses of the two regions, either way round. share[W] = hours of W in the horizon /
hours of the calendar period: 1 for a period inside the horizon, a pro-rata share (by hours)
for one the horizon covers in part, e.g. 168/8760 of an annual obligation in a one-week case.
short >= 0 costs `shortfall_penalty_cny_per_mwh`; blank, the minimum is hard. The dual of
contract_min is what one more MWh of obligation costs the system (CNY/MWh), capped by the
penalty; minus the dual of contract_max is what one more MWh allowed would save.

Must-take (table `must_take`), per obligation j on a plant g and period W:

    sum_{t in W} w[t] p[g,t] + short[j,W] >= max(share[W] min_mwh[j],
                                                 min_share[j] sum_{t in W} w[t] avail[g,t])

with p the generator's output (the hydro station's mw_per_m3s x turbined flow) and avail its
p_max x availability (a hydro station's p_max). The rows of contracts and must-take (windows,
proration, shortfalls, duals) are written by `gridopt.model.periods`, as those of the energy
obligations and gas contracts of `gridopt.model.obligations`: this module only says which
variables make up each obligation's energy.

Reported per corridor and snapshot: schedule, sent and delivered power, losses (with the
no-load part), direction, utilisation, energised status, circulating flow (zero unless
relaxed), the congestion rent

    rent[c,t] = w[t] (pi1 (1 - lambda) f+ - pi0 f+ + pi0 (1 - lambda) f- - pi1 f-)

(what the corridor earns buying at its sending end and selling at its receiving end, no-load
loss left out: at an optimum with the minimum not binding it is (c + mu) x sent), and mu, the
value of one more MW of usable rating in that snapshot: minus the dual of corridor_capacity
per hour (CNY/MWh, i.e. CNY per MW per hour), for each direction while it is energised (blank
otherwise: with the direction off, its rating row's dual is degenerate and says nothing about
the rating). In a MIP these come from the LP with the binaries fixed. For nodal accounting
the table also gives p0 (net power drawn at bus0) and p1 (net power given at bus1), with
loss = p0 - p1 including the no-load loss. Corridors are not repeated in the `flows` table, so
that no energy is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import _layout
from gridopt.inputs.data import CaseData
from gridopt.model.core import LinearModel, Rows
from gridopt.model.periods import (
    Terms,
    Windows,
    bound_rows,
    contracts_table,
    join_terms,
    outcome,
    penalty_costs,
    prorated_bounds,
    window_terms,
    windows,
)
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "corridors"
SHAPE_SERIES = "corridor_shape_pu"
_FLOW_TOL_MW = 1e-6


@dataclass
class Layout:
    """Usable ratings and the index sets of the corridor table, as the formulation uses them."""

    table: pd.DataFrame
    fwd_mw: np.ndarray  # usable forward rating P
    rev_mw: np.ndarray  # usable reverse rating R
    noload_mw: np.ndarray  # no-load loss L of the poles in service
    loss_pu: np.ndarray
    in_service: np.ndarray  # bool
    two_way: np.ndarray  # bool: in service with R > 0
    rev_pos: np.ndarray  # row of each corridor in the reverse variables, -1 if one-way
    switchable: np.ndarray  # bool: in service, and may be de-energised (uc cases only)

    @property
    def two_idx(self) -> np.ndarray:
        return np.flatnonzero(self.two_way)


def layout(data: CaseData) -> Layout:
    corr = data.tables["corridors"]
    poles = corr["poles"].to_numpy(dtype=float)
    avail = corr["poles_available"].fillna(corr["poles"]).to_numpy(dtype=float)
    share = np.clip(avail / np.maximum(poles, 1.0), 0.0, 1.0)
    fwd = corr["p_max_mw"].to_numpy(dtype=float) * share
    rev = corr["p_max_reverse_mw"].to_numpy(dtype=float) * share
    in_service = (share > 0) & ((fwd > 0) | (rev > 0))
    two = in_service & (rev > 0)
    rev_pos = np.full(len(corr), -1)
    rev_pos[two] = np.arange(int(two.sum()))
    switchable = in_service & corr["switchable"].to_numpy(dtype=bool) & (data.case.model == "uc")
    return Layout(
        corr,
        fwd,
        rev,
        corr["loss_noload_mw"].to_numpy(dtype=float) * share,
        corr["loss_pu"].to_numpy(dtype=float),
        in_service,
        two,
        rev_pos,
        switchable,
    )


def build(model: LinearModel) -> None:
    data = model.data
    if not data.tables["corridors"].empty:
        lay = layout(data)
        _build_corridors(model, lay)
        _build_rules(model, lay)
        contracts = data.tables["contracts"]
        if not contracts.empty:
            win, terms = contract_terms(model, lay)
            bound_rows(model, "contract", win, terms, "energy delivered under contract {}")
    if not data.tables["must_take"].empty:
        win, terms = must_take_terms(model)
        bound_rows(model, "must_take", win, terms, "energy taken under must-take obligation {}")


def _build_corridors(model: LinearModel, lay: Layout) -> None:
    corr, T = lay.table, model.T
    two = lay.two_idx
    w = model.w[None, :]
    fwd = model.add_variables("corridor_fwd", corr.index)
    # status: binary on two-way corridors and on switchable ones in a uc case, else fixed at
    # 1 (0 if out of service); with any binary, every status is declared integer (the fixed
    # ones stay fixed)
    free = lay.in_service & (lay.switchable | lay.two_way)
    integer = bool(free.any())
    on_lb = np.where(lay.in_service & ~free, 1.0, 0.0)[:, None]
    on = model.add_variables(
        "corridor_on",
        corr.index,
        on_lb,
        np.where(lay.in_service, 1.0, 0.0)[:, None],
        integer=integer,
    )
    lam = lay.loss_pu[:, None]
    half_noload = 0.5 * lay.noload_mw[:, None]
    model.add_injection(NAME, corr["bus0"], fwd.cols, -1.0)
    model.add_injection(NAME, corr["bus1"], fwd.cols, 1.0 - lam)
    for bus in ("bus0", "bus1"):
        model.add_injection(NAME, corr[bus], on.cols, -half_noload)
    cost = corr["marginal_cost_cny_per_mwh"].to_numpy(dtype=float)[:, None]
    model.add_cost(fwd.cols, cost * w)

    rows = model.rows(
        "corridor_capacity",
        corr.index,
        meaning="sending rating of corridor {}",
        unit="MW",
        above="sends more than its rating by",
    )
    rows.add(fwd.cols).add(on.cols, -lay.fwd_mw[:, None]).less(0.0, per_weight=True)
    m = corr["min_transfer_pu"].to_numpy(dtype=float)
    idx = np.flatnonzero(lay.in_service & (m * lay.fwd_mw > 0))
    if len(idx):
        rows = model.rows(
            "corridor_min_transfer",
            corr.index[idx],
            meaning="minimum transfer of corridor {}",
            unit="MW",
            below="sends less than its minimum by",
        )
        rows.add(fwd.cols[idx]).add(on.cols[idx], -(m * lay.fwd_mw)[idx, None])
        rows.greater(0.0, per_weight=True)
    if not len(two):
        return
    rev = model.add_variables("corridor_rev", corr.index[two])
    on_rev = model.add_variables("corridor_on_reverse", corr.index[two], 0.0, 1.0, integer=True)
    model.add_injection(NAME, corr["bus1"].iloc[two], rev.cols, -1.0)
    model.add_injection(NAME, corr["bus0"].iloc[two], rev.cols, 1.0 - lam[two])
    for bus in ("bus0", "bus1"):
        model.add_injection(NAME, corr[bus].iloc[two], on_rev.cols, -half_noload[two])
    model.add_cost(rev.cols, cost[two] * w)
    rows = model.rows(
        "corridor_capacity_reverse",
        corr.index[two],
        meaning="reverse sending rating of corridor {}",
        unit="MW",
        above="sends back more than its rating by",
    )
    rows.add(rev.cols).add(on_rev.cols, -lay.rev_mw[two, None]).less(0.0, per_weight=True)
    sel = np.flatnonzero(m[two] * lay.rev_mw[two] > 0)
    if len(sel):
        rows = model.rows(
            "corridor_min_transfer_reverse",
            corr.index[two[sel]],
            meaning="minimum reverse transfer of corridor {}",
            unit="MW",
            below="sends back less than its minimum by",
        )
        rows.add(rev.cols[sel]).add(on_rev.cols[sel], -(m * lay.rev_mw)[two[sel], None])
        rows.greater(0.0, per_weight=True)
    rows = model.rows(
        "corridor_direction",
        corr.index[two],
        meaning="one direction at a time on corridor {}",
        unit="-",
    )
    rows.add(on.cols[two]).add(on_rev.cols).less(np.ones((len(two), T)))
    kept = two[~lay.switchable[two]]
    if len(kept):
        rows = model.rows(
            "corridor_energised", corr.index[kept], meaning="corridor {} energised", unit="-"
        )
        rows.add(on.cols[kept]).add(on_rev.cols[~lay.switchable[two]]).greater(1.0)


def _add_schedule(
    rows: Rows,
    model: LinearModel,
    lay: Layout,
    idx: np.ndarray,
    t_idx: np.ndarray,
    coef: float | np.ndarray = 1.0,
    row_ids: np.ndarray | None = None,
) -> None:
    """Add coef * s[c,t] = coef * (f+[c,t] - f-[c,t]) for corridors `idx` (the rows' first
    axis) at snapshot positions `t_idx` (their second axis), into rows `row_ids` (default:
    the rows themselves)."""
    shape = (len(idx), len(t_idx))
    if row_ids is None:
        row_ids = np.arange(shape[0] * shape[1]).reshape(shape)
    coef = np.broadcast_to(np.asarray(coef, dtype=float), shape)
    rows.scatter(row_ids, model.variables["corridor_fwd"].cols[idx][:, t_idx], coef)
    has = lay.rev_pos[idx] >= 0
    if has.any():
        rev = model.variables["corridor_rev"].cols[lay.rev_pos[idx[has]]][:, t_idx]
        rows.scatter(row_ids[has], rev, -coef[has])


def days_of(model: LinearModel) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Day of each snapshot (position), the days (dates), and the hours of each day."""
    codes, days = pd.factorize(pd.DatetimeIndex(model.snapshots).normalize())
    hours = np.bincount(codes, weights=model.w, minlength=len(days))
    return codes, pd.DatetimeIndex(days), hours


def daily_shape(model: LinearModel, lay: Layout, idx: np.ndarray) -> np.ndarray:
    """The delivery shape of corridors `idx` on the snapshots, each day divided by its mean."""
    data = model.data
    corr = lay.table.iloc[idx]
    file = str(data.network.folder / "timeseries" / f"{SHAPE_SERIES}.csv")
    series = data.network.series.get(SHAPE_SERIES)
    known = set(series.columns) if series is not None else set()
    missing = corr["daily_profile"][~corr["daily_profile"].isin(known)]
    if len(missing):  # e.g. set by a case override, after the network's own checks
        raise InputError(
            [
                Problem(file, f"profile of corridor '{c}' not found", column=v)
                for c, v in missing.items()
            ]
        )
    shape = (
        _layout(
            data.network,
            SHAPE_SERIES,
            corr,
            "daily_profile",
            data.snapshots,
            data.case.horizon,
            fill=1.0,
            hours=None if data.investment is None else data.investment.series_hours,
        )
        .to_numpy()
        .T
    )
    codes, days, hours = days_of(model)
    mean = np.zeros((len(idx), len(days)))
    np.add.at(mean.T, codes, (shape * model.w[None, :]).T)
    mean /= hours[None, :]
    bad_value = (shape < 0).any(axis=1)
    bad_day = (mean <= 0).any(axis=1)
    if bad_value.any() or bad_day.any():
        problems = [
            Problem(
                file,
                "a delivery shape must not be negative and must be above 0"
                " on some hour of every day",
                column=str(corr.at[c, "daily_profile"]),
            )
            for c in corr.index[bad_value | bad_day]
        ]
        raise InputError(problems)
    return shape / mean[:, codes]


def _build_rules(model: LinearModel, lay: Layout) -> None:
    corr, T = lay.table, model.T
    w = model.w
    ramp = corr["ramp_mw_per_h"].to_numpy(dtype=float)
    idx = np.flatnonzero(lay.in_service & ~np.isnan(ramp))
    now, before = model.transitions()  # t and t-1 (inside a typical period)
    if len(idx) and len(now):
        for name, sign in (("corridor_ramp_up", 1.0), ("corridor_ramp_down", -1.0)):
            rows = model.rows(
                name,
                corr.index[idx],
                model.snapshots[now],
                meaning=f"ramp limit ({name[14:]}) of corridor {{}}",
                unit="MW",
            )
            _add_schedule(rows, model, lay, idx, now, sign)
            _add_schedule(rows, model, lay, idx, before, -sign)
            rows.less(ramp[idx, None] * model.dt[None, now])
    codes, days, hours = days_of(model)
    D, t_all = len(days), np.arange(T)
    idx = np.flatnonzero(lay.in_service & corr["daily_profile"].notna().to_numpy())
    if len(idx):
        shape = daily_shape(model, lay, idx)
        tol = corr["shape_tolerance_pu"].to_numpy(dtype=float)[idx, None]
        low, high = _schedule_range(lay, idx, D)
        mean = model.add_variables(
            "corridor_mean_mw", _day_labels(corr.index[idx], days), low, high, time=False
        ).cols.reshape(len(idx), D)
        rows = model.rows(
            "corridor_day_mean",
            corr.index[idx],
            days,
            meaning="mean daily schedule of corridor {}",
            unit="MWh",
        )
        day_rows = np.arange(len(idx))[:, None] * D + codes[None, :]
        _add_schedule(rows, model, lay, idx, t_all, w[None, :], day_rows)
        rows.add(mean, -hours[None, :]).equal(0.0)
        for name, factor, bound in (
            ("corridor_shape_upper", 1 + tol, "less"),
            ("corridor_shape_lower", 1 - tol, "greater"),
        ):
            rows = model.rows(
                name,
                corr.index[idx],
                meaning=f"daily delivery shape ({name[15:]} band) of corridor {{}}",
                unit="MW",
            )
            _add_schedule(rows, model, lay, idx, t_all)
            rows.add(mean[:, codes], -factor * shape)
            getattr(rows, bound)(0.0)
    ratio = corr["peak_valley_ratio_max"].to_numpy(dtype=float)
    idx = np.flatnonzero(lay.in_service & ~np.isnan(ratio))
    if len(idx):
        labels = _day_labels(corr.index[idx], days)
        low, high = _schedule_range(lay, idx, D)
        peak = model.add_variables("corridor_peak_mw", labels, low, high, time=False)
        valley = model.add_variables("corridor_valley_mw", labels, low, high, time=False)
        peak_cols = peak.cols.reshape(len(idx), D)
        valley_cols = valley.cols.reshape(len(idx), D)
        for name, cols, bound in (
            ("corridor_day_peak", peak_cols, "less"),
            ("corridor_day_valley", valley_cols, "greater"),
        ):
            rows = model.rows(
                name, corr.index[idx], meaning=f"daily {name[13:]} of corridor {{}}", unit="MW"
            )
            _add_schedule(rows, model, lay, idx, t_all)
            rows.add(cols[:, codes], -1.0)
            getattr(rows, bound)(0.0)
        rows = model.rows(
            "corridor_peak_valley",
            corr.index[idx],
            days,
            meaning="peak/valley ratio of corridor {}",
            unit="MW",
        )
        rows.add(peak_cols).add(valley_cols, -ratio[idx, None]).less(0.0)


def _schedule_range(lay: Layout, idx: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of a day variable of corridors `idx` (one column per corridor and day): the
    range of the schedule, -R <= s[c,t] <= P.

    They are implied, so they change no optimum: the day mean is a weighted mean of s; a peak
    above P or a valley below -R can be moved to max_t s or min_t s without breaking
    Q <= r V. Without them the day variables were free, which interior point methods treat
    worse than bounded ones (the dual of a free column is an equation, not an inequality).
    """
    forward = lay.fwd_mw[idx]
    back = np.where(lay.two_way[idx], lay.rev_mw[idx], 0.0)
    shape = (len(idx) * days, 1)
    return (
        np.broadcast_to(np.repeat(-back, days)[:, None], shape),
        np.broadcast_to(np.repeat(forward, days)[:, None], shape),
    )


def _day_labels(names: pd.Index, days: pd.DatetimeIndex) -> pd.Index:
    return pd.Index([f"{n} {d:%Y-%m-%d}" for n in names for d in days])


# ---- obligations over calendar periods (gridopt.model.periods writes their rows) -------------
def contract_pairs(data: CaseData, lay: Layout) -> pd.DataFrame:
    """One row per (contract, corridor): orientation +1 (from -> to) or -1."""
    con = data.tables["contracts"]
    corr = lay.table
    pos = pd.Series(np.arange(len(con)), index=con.index)
    listed = con["corridors"].dropna().astype(str).str.split(";").explode().str.strip()
    parts = [
        pd.DataFrame(
            {
                "owner": pos[listed.index].to_numpy(),
                "corridor": corr.index.get_indexer(listed.to_numpy()),
                "orient": 1.0,
            }
        )
    ]
    region = data.tables["buses"]["region"]
    ends = pd.DataFrame(
        {
            "corridor": np.arange(len(corr)),
            "r0": region.reindex(corr["bus0"]).to_numpy(),
            "r1": region.reindex(corr["bus1"]).to_numpy(),
        }
    )
    regional = con[con["corridors"].isna()].assign(owner=lambda d: pos[d.index].to_numpy())
    for a, b, orient in (("r0", "r1", 1.0), ("r1", "r0", -1.0)):
        hit = regional.merge(ends, left_on=["from_region", "to_region"], right_on=[a, b])
        parts.append(
            pd.DataFrame(
                {
                    "owner": hit["owner"].to_numpy(),
                    "corridor": hit["corridor"].to_numpy(),
                    "orient": orient,
                }
            )
        )
    pairs = pd.concat(parts, ignore_index=True)
    return pairs[pairs["corridor"] >= 0].reset_index(drop=True)


def contract_terms(model: LinearModel, lay: Layout) -> tuple[Windows, Terms]:
    data = model.data
    con = data.tables["contracts"]
    win = windows(model, con, "contract")
    prorated_bounds(win, con)
    pairs = contract_pairs(data, lay)
    c = pairs["corridor"].to_numpy()
    keep = 1.0 - lay.loss_pu[c]
    forward = pairs["orient"].to_numpy() > 0
    sending = (con["metered_at"] == "sending").to_numpy()[pairs["owner"].to_numpy()]
    # receiving end: from -> to gets (1 - lambda) f+ - f-; to -> from gets (1 - lambda) f- - f+
    a_fwd = np.where(forward, np.where(sending, 1.0, keep), np.where(sending, -keep, -1.0))
    a_rev = np.where(forward, np.where(sending, -keep, -1.0), np.where(sending, 1.0, keep))
    owner = pairs["owner"].to_numpy()
    parts = [window_terms(win, model.w, owner, model.variables["corridor_fwd"].cols[c], a_fwd)]
    has = lay.rev_pos[c] >= 0
    if has.any():
        rev = model.variables["corridor_rev"].cols[lay.rev_pos[c[has]]]
        parts.append(window_terms(win, model.w, owner[has], rev, a_rev[has]))
    return win, join_terms(parts)


def must_take_terms(model: LinearModel) -> tuple[Windows, Terms]:
    data = model.data
    take = data.tables["must_take"]
    win = windows(model, take)
    prorated_bounds(win, take)
    parts, avail = [], np.zeros(len(win.table))
    owner = win.table["owner"].to_numpy()
    for column, table, var in (
        ("generator", "generators", "gen_p"),
        ("hydro", "hydro", "hydro_turbine"),
    ):
        sel = np.flatnonzero(take[column].notna().to_numpy())
        if not len(sel):
            continue
        plants = data.tables[table]
        k = plants.index.get_indexer(take[column].to_numpy()[sel])
        if table == "generators":
            coef = np.ones(len(k))
            cap = (
                plants["p_max_mw"].to_numpy()[k, None]
                * data.availability_pu[plants.index[k]].to_numpy().T
            )
        else:
            coef = plants["mw_per_m3s"].to_numpy()[k]
            cap = np.repeat(plants["p_max_mw"].to_numpy()[k, None], model.T, axis=1)
        parts.append(window_terms(win, model.w, sel, model.variables[var].cols[k], coef))
        # available energy of each window of these obligations
        pos = np.full(len(take), -1)
        pos[sel] = np.arange(len(sel))
        mine = pos[owner] >= 0
        avail[mine] = (win.mask[mine] * cap[pos[owner[mine]]] * model.w[None, :]).sum(axis=1)
    share = take["min_share_pu"].to_numpy(dtype=float)[owner]
    win.table["min"] = np.fmax(win.table["min"].to_numpy(), share * avail)
    return win, join_terms(parts)


# ---- results --------------------------------------------------------------------------------
def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    data = model.data
    out: dict[str, list[pd.DataFrame]] = {}
    if not data.tables["corridors"].empty:
        lay = layout(data)
        for name, table in _corridor_results(sol, lay).items():
            out.setdefault(name, []).append(table)
        if not data.tables["contracts"].empty:
            win, terms = contract_terms(model, lay)
            for name, table in _obligation_results(
                sol, "contract", win, terms, data.tables["contracts"]
            ).items():
                out.setdefault(name, []).append(table)
    if not data.tables["must_take"].empty:
        win, terms = must_take_terms(model)
        for name, table in _obligation_results(
            sol, "must_take", win, terms, data.tables["must_take"]
        ).items():
            out.setdefault(name, []).append(table)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def _per_corridor(sol: Solution, lay: Layout, name: str) -> np.ndarray:
    """A reverse-only family's values on all corridors (0 on one-way corridors)."""
    full = np.zeros((len(lay.table), sol.model.T))
    if sol.model.has(name) or name in sol.model.row_blocks:
        values = sol.value(name) if sol.model.has(name) else sol.dual(name)
        full[lay.two_idx] = values
    return full


def _corridor_results(sol: Solution, lay: Layout) -> dict[str, pd.DataFrame]:
    model = sol.model
    corr = lay.table
    w = model.w[None, :]
    fp = sol.value("corridor_fwd")
    fm = _per_corridor(sol, lay, "corridor_rev")
    on_fwd = sol.value("corridor_on")
    on_rev = _per_corridor(sol, lay, "corridor_on_reverse")
    on = on_fwd + on_rev
    lam = lay.loss_pu[:, None]
    sent = fp + fm
    noload = lay.noload_mw[:, None] * on
    p0 = fp - (1 - lam) * fm + 0.5 * noload
    p1 = (1 - lam) * fp - fm - 0.5 * noload
    back = fm > fp
    rating = np.where(back, lay.rev_mw[:, None], lay.fwd_mw[:, None])
    util = sent / np.where(rating > 0, rating, np.nan)
    util = np.where(sent <= _FLOW_TOL_MW, 0.0, util)
    prices = sol.dual("bus_balance")
    pi0 = prices[model.buses.get_indexer(corr["bus0"])]
    pi1 = prices[model.buses.get_indexer(corr["bus1"])]
    rent = w * (pi1 * (1 - lam) * fp - pi0 * fp + pi0 * (1 - lam) * fm - pi1 * fm)
    attrs = pd.DataFrame(
        {"bus0": corr["bus0"], "bus1": corr["bus1"], "carrier": corr["carrier"]}, index=corr.index
    )
    table = tidy(
        model.snapshots,
        corr.index,
        "corridor",
        {
            "schedule_mw": fp - fm,
            "sent_mw": sent,
            "delivered_mw": (1 - lam) * sent,
            "p0_mw": p0,
            "p1_mw": p1,
            "loss_mw": lam * sent + noload,
            "noload_loss_mw": noload,
            "circulating_mw": np.minimum(fp, fm),
            "energised": on,
            "rating_mw": np.broadcast_to(lay.fwd_mw[:, None], fp.shape),
            "rating_reverse_mw": np.broadcast_to(lay.rev_mw[:, None], fp.shape),
            "utilisation_pu": util,
            "congestion_rent_cny": rent,
            # a direction that is not energised has a degenerate dual: its value is left blank
            "capacity_value_cny_per_mwh": np.where(
                on_fwd > 0.5, -sol.dual("corridor_capacity"), np.nan
            ),
            "capacity_value_reverse_cny_per_mwh": np.where(
                on_rev > 0.5, -_per_corridor(sol, lay, "corridor_capacity_reverse"), np.nan
            ),
        },
        attrs,
    )
    tol = _FLOW_TOL_MW
    direction = np.select(
        [(fp > tol) & (fm > tol), fp > tol, fm > tol], ["both", "forward", "reverse"], "idle"
    )
    table.insert(table.columns.get_loc("schedule_mw"), "direction", direction.ravel())
    costs = pd.DataFrame(
        {
            "component": "corridor",
            "name": corr.index,
            "region": region_of(model.data.tables, corr["bus0"]),
            "carrier": corr["carrier"].to_numpy(),
            "cost_type": "wheeling",
            "cost_cny": (corr["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * sent * w).sum(1),
        }
    )
    return {"corridors": table, "costs": costs}


def _obligation_results(
    sol: Solution, prefix: str, win: Windows, terms: Terms, table: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    got = outcome(sol, prefix, win, terms)
    if prefix == "contract":
        kind = "contract"
        what = table["corridors"].fillna(table["from_region"] + " -> " + table["to_region"])
    else:
        kind = "must-take"
        what = table["generator"].fillna(table["hydro"])
    out = contracts_table(kind, table.index.to_numpy(), what.to_numpy(), win, got)
    result = {"contracts": out}
    if got.shortfall.any() or sol.model.has(f"{prefix}_shortfall"):
        result["costs"] = penalty_costs(win, got, table, kind, "shortfall penalty")
    return result
