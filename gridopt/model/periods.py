"""Obligations over calendar periods: the one place where their rows are written.

Several families bound an energy (or gas volume) summed over a calendar month or year:
corridor contracts and must-take (`gridopt.model.corridors`), energy obligations of fleets,
regions and carriers and gas take-or-pay contracts (`gridopt.model.obligations`). They share
this machinery; each family only says which variables make up the quantity of an obligation.

Obligation k applies to each calendar period W (its month of each year, or each year) that the
snapshots reach (`windows`). With w[t] the hours of snapshot t and a[k,j] the coefficient of
variable x[j] in the quantity (MWh per MW of output, or per MWth of gas):

    E[k,W] = sum_{t in W} w[t] sum_j a[k,j] x[j,t]                         (`Terms`)
    E[k,W] + short[k,W] >= share[W] min[k] + sum_i b[k,i] K[i]            <name>_min
    E[k,W]              <= share[W] max[k] + sum_i b[k,i] K[i]            <name>_max

where share[W] = hours of W in the horizon / hours of the calendar period (1 for a period
inside the horizon, e.g. 168/8760 of an annual obligation in a one-week case), short >= 0
exists only with a penalty (`shortfall_penalty_...`, its cost per unit short; blank: the
minimum is hard), and the K terms are capacities an expansion case builds (a bound stated in
full-load hours of plants whose rating is a variable: `CapacityTerms`). The dual of the min
row is what one more unit of obligation costs the system (capped by the penalty); minus the
dual of the max row is what one more unit allowed would save.

In a window of a rolling run, which keeps its first K snapshots and discards the rest, its
look-ahead (`CaseData.kept_snapshots` = K < T), every period W is two parts, each with the
rows above on its own (`look_ahead`; labels of the look-ahead part end in "look-ahead"):

    W_kept  = {t in W: t < K},    share[W_kept]  = hours of W_kept  / hours of the period
    W_ahead = {t in W: t >= K},   share[W_ahead] = hours of W_ahead / hours of the period

so share[W_kept] + share[W_ahead] is the window's share[W], and the kept parts of a run's
windows add up to the period's share of the run's horizon (a must-take's available energy,
`gridopt.model.corridors`, is also the part's). Held over the window as one, the obligation
would go to whichever hours meet it cheapest, the discarded look-ahead among them, and the kept
hours, all that the stitched run is made of, would miss their share (or, for a maximum, take
the look-ahead's too). The energy shares of security zones (`gridopt.model.security`) split
their periods the same way, by the same `look_ahead`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

PERIOD_LABEL = pd.Index(["the period"])
# the end of the label of a period's look-ahead part in a window of a rolling run
LOOK_AHEAD = " look-ahead"


def look_ahead(model: LinearModel) -> np.ndarray:
    """Whether each snapshot t (T,) lies in the look-ahead of a rolling run's window: t >= K,
    K = `CaseData.kept_snapshots` (None: all kept, as in a single solve). Rows over a period
    hold on its kept part and on its look-ahead part apart (module doc)."""
    kept = model.data.kept_snapshots
    return np.arange(model.T) >= (model.T if kept is None else kept)


@dataclass
class Windows:
    """The calendar periods obligations apply to: one row per (obligation, period)."""

    table: pd.DataFrame  # owner (position), label, period, share_pu, first, min/max, penalty
    mask: np.ndarray  # bool (windows x snapshots): snapshots in the period


def windows(model: LinearModel, table: pd.DataFrame) -> Windows:
    """Each obligation's calendar periods that the snapshots reach (in a window of a rolling
    run, their kept and look-ahead parts apart), and the share of each period's hours that
    lies in the horizon (in the part)."""
    snaps = pd.DatetimeIndex(model.snapshots)
    years, months = snaps.year.to_numpy(), snaps.month.to_numpy()
    monthly = (table["period"] == "month").to_numpy()
    month = table["month"].fillna(0).to_numpy(dtype=int)
    key = np.where(
        monthly[:, None],
        np.where(months[None, :] == month[:, None], years * 100 + months, -1),
        years[None, :],
    )
    # a window's look-ahead is discarded: its hours hold each obligation apart from the kept ones
    ahead = look_ahead(model)
    owner, t = np.nonzero(key >= 0)
    win = pd.DataFrame({"owner": owner, "key": key[owner, t], "ahead": ahead[t]})
    win = win.drop_duplicates(ignore_index=True)
    mask = (key[win["owner"].to_numpy()] == win["key"].to_numpy()[:, None]) & (
        ahead[None, :] == win["ahead"].to_numpy()[:, None]
    )
    is_month = monthly[win["owner"].to_numpy()]
    year = np.where(is_month, win["key"] // 100, win["key"]).astype(int)
    first = pd.to_datetime(
        pd.DataFrame({"year": year, "month": np.where(is_month, win["key"] % 100, 1), "day": 1})
    )
    full_h = np.where(
        is_month, first.dt.days_in_month * 24, np.where(first.dt.is_leap_year, 8784, 8760)
    ).astype(float)
    covered = mask.astype(float) @ model.w
    names = table.index.to_numpy()[win["owner"].to_numpy()]
    period = np.where(is_month, first.dt.strftime("%Y-%m"), first.dt.strftime("%Y")).astype(object)
    period[win["ahead"].to_numpy()] += LOOK_AHEAD
    win["label"] = names.astype(object) + " " + period
    win["period"] = period
    # pro rata by the hours of the part: a window's kept and look-ahead parts add up to the
    # period's share in the window
    win["share_pu"] = np.minimum(covered / full_h, 1.0)
    win["first"] = [snaps[np.argmax(m)] for m in mask] if len(win) else []
    return Windows(win, mask)


@dataclass
class Terms:
    """Quantity of each window as sum of coef * x[col] (coef includes the snapshot weight)."""

    row: np.ndarray
    col: np.ndarray
    coef: np.ndarray


def window_terms(
    win: Windows, w: np.ndarray, owner_rows: np.ndarray, cols: np.ndarray, coef: np.ndarray
) -> Terms:
    """Terms of the windows for variables `cols` (k x T) of owner `owner_rows` (k,), with a
    coefficient per owner row: every window of that owner takes every snapshot in it."""
    owner = win.table["owner"].to_numpy()
    # pair every window with the variable rows of its owner
    pair_w, pair_k = np.nonzero(owner[:, None] == np.asarray(owner_rows)[None, :])
    q, t = np.nonzero(win.mask[pair_w])
    return Terms(pair_w[q], cols[pair_k[q], t], np.asarray(coef, dtype=float)[pair_k[q]] * w[t])


def join_terms(parts: list[Terms]) -> Terms:
    if not parts:
        return Terms(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    return Terms(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("row", "col", "coef")))


def prorated_bounds(
    win: Windows,
    table: pd.DataFrame,
    unit: str = "mwh",
    penalty: str = "shortfall_penalty_cny_per_mwh",
) -> None:
    """Prorated bounds (`min_<unit>`, `max_<unit>` of `table`, NaN: none) and the penalty of
    each window, written into the window table as `min`, `max` and `penalty`."""
    owner = win.table["owner"].to_numpy()
    share = win.table["share_pu"].to_numpy()
    for side in ("min", "max"):
        column = f"{side}_{unit}"
        win.table[side] = (
            table[column].to_numpy(dtype=float)[owner] * share if column in table else np.nan
        )
    win.table["penalty"] = table[penalty].to_numpy(dtype=float)[owner]


@dataclass
class CapacityTerms:
    """Bound terms on variable capacities: window `row` gains coef * K[col] on its `side`."""

    side: str  # "min" or "max"
    row: np.ndarray
    col: np.ndarray
    coef: np.ndarray


def bound_rows(
    model: LinearModel,
    prefix: str,
    win: Windows,
    terms: Terms,
    meaning: str,
    unit: str = "MWh",
    capacity: list[CapacityTerms] | None = None,
) -> None:
    """The rows `<prefix>_min` and `<prefix>_max` of the windows with a bound (see the module
    doc), with a shortfall column `<prefix>_shortfall` for soft minimums."""
    tab = win.table
    labels = pd.Index(tab["label"])
    for side in ("min", "max"):
        bound = tab[side].to_numpy(dtype=float)
        sel = np.flatnonzero(~np.isnan(bound))
        if not len(sel):
            continue
        pos = np.full(len(tab), -1)
        pos[sel] = np.arange(len(sel))
        rows = model.rows(
            f"{prefix}_{side}",
            labels[sel],
            PERIOD_LABEL,
            meaning=f"{meaning} (its {side}imum)",
            unit=unit,
            below="falls short by",
            above="exceeds it by",
        )
        keep = pos[terms.row] >= 0
        rows.scatter(pos[terms.row[keep]], terms.col[keep], terms.coef[keep])
        for cap in capacity or []:
            if cap.side == side:
                mine = pos[cap.row] >= 0
                rows.scatter(pos[cap.row[mine]], cap.col[mine], -cap.coef[mine])
        if side == "min":
            soft = sel[~np.isnan(tab["penalty"].to_numpy()[sel])]
            if len(soft):
                short = model.add_variables(f"{prefix}_shortfall", labels[soft], time=False)
                rows.scatter(pos[soft], short.cols[:, 0], 1.0)
                model.add_cost(short.cols[:, 0], tab["penalty"].to_numpy()[soft])
            rows.greater(bound[sel][:, None])
        else:
            rows.less(bound[sel][:, None])


def capacity_bound_values(
    sol: Solution, win: Windows, capacity: list[CapacityTerms] | None
) -> dict[str, np.ndarray]:
    """The part of each window's bounds that capacities built add (0 without any)."""
    n = len(win.table)
    out = {"min": np.zeros(n), "max": np.zeros(n)}
    for cap in capacity or []:
        np.add.at(out[cap.side], cap.row, cap.coef * sol.x[cap.col])
    return out


@dataclass
class Outcome:
    """What a solution did with each window: quantity, shortfall and the duals of its bounds."""

    quantity: np.ndarray
    shortfall: np.ndarray
    min_dual: np.ndarray
    max_dual: np.ndarray
    min_bound: np.ndarray
    max_bound: np.ndarray


def outcome(
    sol: Solution,
    prefix: str,
    win: Windows,
    terms: Terms,
    capacity: list[CapacityTerms] | None = None,
) -> Outcome:
    """Each window's quantity, shortfall, bounds (capacities built included) and duals (the
    cost of one more unit of minimum, the saving of one more unit of maximum)."""
    model = sol.model
    tab = win.table
    n = len(tab)
    quantity = np.bincount(terms.row, weights=terms.coef * sol.x[terms.col], minlength=n)
    short = np.zeros(n)
    duals = {"min": np.full(n, np.nan), "max": np.full(n, np.nan)}
    labels = pd.Index(tab["label"])
    # the kept part of a rolling run's window (`gridopt.solver.types.restrict`) has the rows
    # and shortfalls of the window's look-ahead too, for periods it does not reach: not its own
    if model.has(f"{prefix}_shortfall"):
        short_block = model.variables[f"{prefix}_shortfall"]
        at = labels.get_indexer(short_block.components)
        short[at[at >= 0]] = sol.value(short_block)[at >= 0, 0]
    for side, sign in (("min", 1.0), ("max", -1.0)):
        name = f"{prefix}_{side}"
        if name in model.row_blocks:
            at = labels.get_indexer(model.row_blocks[name].components)
            duals[side][at[at >= 0]] = sign * sol.dual(name)[at >= 0, 0]
    extra = capacity_bound_values(sol, win, capacity)
    return Outcome(
        quantity + 0.0,
        short + 0.0,
        duals["min"] + 0.0,
        duals["max"] + 0.0,
        tab["min"].to_numpy(dtype=float) + extra["min"],
        tab["max"].to_numpy(dtype=float) + extra["max"],
    )


def penalty_costs(
    win: Windows,
    out: Outcome,
    table: pd.DataFrame,
    component: str,
    cost_type: str,
    region: str | np.ndarray = "",
    carrier: str = "",
) -> pd.DataFrame:
    """The cost of each obligation's shortfalls (penalty x shortfall), one row per obligation."""
    owner = win.table["owner"].to_numpy()
    penalty = np.nan_to_num(win.table["penalty"].to_numpy(dtype=float))
    owners = pd.Series(penalty * out.shortfall).groupby(owner).sum()
    region = np.asarray(region, dtype=object)
    return pd.DataFrame(
        {
            "component": component,
            "name": table.index.to_numpy()[owners.index],
            "region": region[owners.index] if region.ndim else region,
            "carrier": carrier,
            "cost_type": cost_type,
            "cost_cny": owners.to_numpy() + 0.0,
        }
    )
