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

A piece of a longer horizon valued by a future-cost function (a stage of one, a window of a
rolling run that uses one: `CaseData.delivered` given) carries each period's energy instead of
prorating it. With D0[k,W] the energy delivered in W before the piece (`CaseData.delivered`,
held as a column by the rows `<name>_delivered_start`, whose dual in a stage is the slope of a
cut) the piece's rows bound the period as a whole, in the share of it that the whole horizon
covers (share_H[W]: 1 for a year inside the horizon), the minimum only in the piece where
that share ends (the period's end, or the horizon's):

    D0[k,W] + E[k,W] + short[k,W] >= share_H[W] min[k]      (due in the piece)
    D0[k,W] + E[k,W]              <= share_H[W] max[k]

and D[k,W] = D0[k,W] + E[k,W] is an entry of the state the piece ends in (`state`, table
`<name>`, store `<obligation> <period>`, a sum over the piece's snapshots: at an earlier end it
counts the snapshots before it). The future-cost function then says what delivering now rather
than later is worth, and an annual contract is delivered when its energy is cheapest (the
Yazhong-Jiangxi line's 36 TWh in the Yalong's wet season) rather than 1/52 of it each week.
Every entry of the horizon (`carried_entries`; with the zones' energy shares, which
`gridopt.model.security` carries the same way: `gridopt.model.registry.carried_entries`) is in
every piece's state, so that the cuts of
all pieces name the same entries; one a piece does not reach passes through unchanged. Must-take
obligations (a share of what is available in each hour) stay pro rata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.model._stateful import StatePart
from gridopt.model.core import INF, LinearModel

if TYPE_CHECKING:
    from gridopt.inputs.data import CaseData
    from gridopt.solver.types import Solution

PERIOD_LABEL = pd.Index(["the period"])
# the end of the label of a period's look-ahead part in a window of a rolling run
LOOK_AHEAD = " look-ahead"
# the families whose period bounds a piece of a longer horizon carries (module doc): the
# prefix of their rows and their table
CARRIED = (
    ("contract", "contracts"),
    ("energy_obligation", "energy_obligations"),
    ("gas_contract", "gas_contracts"),
)


def look_ahead(model: LinearModel) -> np.ndarray:
    """Whether each snapshot t (T,) lies in the look-ahead of a rolling run's window: t >= K,
    K = `CaseData.kept_snapshots` (None: all kept, as in a single solve). Rows over a period
    hold on its kept part and on its look-ahead part apart (module doc)."""
    kept = model.data.kept_snapshots
    return np.arange(model.T) >= (model.T if kept is None else kept)


@dataclass
class Windows:
    """The calendar periods obligations apply to: one row per (obligation, period)."""

    # owner (position), label, period, share_pu, first, closes, min/max, penalty
    table: pd.DataFrame
    mask: np.ndarray  # bool (windows x snapshots): snapshots in the period
    # the periods' energy is carried from piece to piece (module doc): bounds on the whole
    # period, the minimum only where it ends in the piece
    carried: bool = False


def windows(model: LinearModel, table: pd.DataFrame, prefix: str | None = None) -> Windows:
    """Each obligation's calendar periods that the snapshots reach (in a window of a rolling
    run, their kept and look-ahead parts apart), and the share of each period's hours that
    lies in the horizon (in the part). In a piece that carries the periods' energy
    (`CaseData.delivered`, for families that name their row `prefix`) the parts are not split
    and every bound is the period's share of the whole horizon the piece is part of, its
    minimum due where that share ends (module doc)."""
    given = model.data.delivered
    carried = prefix is not None and given is not None
    # a window's look-ahead is discarded: its hours hold each obligation apart from the kept
    # ones (unless the energy is carried: the state then counts the kept hours alone)
    ahead = look_ahead(model) & (not carried)
    snaps = pd.DatetimeIndex(model.snapshots)
    win, mask = _periods(snaps, model.w, table, ahead)
    if carried and given is not None:
        whole = given.reindex(f"{prefix}: " + win["label"].astype(str))
        win["share_pu"] = whole["share_pu"].fillna(win["share_pu"]).to_numpy(dtype=float)
        end = snaps[-1] + pd.Timedelta(hours=float(model.w[-1]))
        due = pd.to_datetime(whole["due"]).fillna(win["ends"].set_axis(whole.index))
        win["closes"] = (due <= end).to_numpy()
    return Windows(win, mask, carried)


def _periods(
    snaps: pd.DatetimeIndex, w: np.ndarray, table: pd.DataFrame, ahead: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """The (obligation, period) pairs of `windows` over `snaps`, split where `ahead`."""
    years, months = snaps.year.to_numpy(), snaps.month.to_numpy()
    monthly = (table["period"] == "month").to_numpy()
    month = table["month"].fillna(0).to_numpy(dtype=int)
    key = np.where(
        monthly[:, None],
        np.where(months[None, :] == month[:, None], years * 100 + months, -1),
        years[None, :],
    )
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
    covered = mask.astype(float) @ w
    names = table.index.to_numpy()[win["owner"].to_numpy()]
    period = np.where(is_month, first.dt.strftime("%Y-%m"), first.dt.strftime("%Y")).astype(object)
    period[win["ahead"].to_numpy()] += LOOK_AHEAD
    win["label"] = names.astype(object) + " " + period
    win["period"] = period
    # pro rata by the hours of the part: a window's kept and look-ahead parts add up to the
    # period's share in the window
    win["share_pu"] = np.minimum(covered / full_h, 1.0)
    win["first"] = [snaps[np.argmax(m)] for m in mask] if len(win) else []
    # when the period ends, and whether by the end of the snapshots
    end = snaps[-1] + pd.Timedelta(hours=float(w[-1])) if len(snaps) else pd.Timestamp(0)
    win["ends"] = first + pd.to_timedelta(full_h, unit="h")
    win["closes"] = (win["ends"] <= end).to_numpy()
    return win, mask


def carried_entries(data: CaseData) -> pd.DataFrame:
    """Every (obligation, period) entry a piece of `data`'s horizon carries (module doc), as
    `CaseData.delivered` at the horizon's start: by label `<prefix>: <obligation> <period>`,
    the energy delivered before it (`before`, 0), the period's share of the horizon
    (`share_pu`) and when that share ends (`due`: the period's end, or the horizon's)."""
    snaps = pd.DatetimeIndex(data.snapshots)
    end = snaps[-1] + pd.Timedelta(hours=float(data.weights_h[-1]))
    parts = []
    for prefix, name in CARRIED:
        table = data.tables[name]
        if table.empty:
            continue
        win, _mask = _periods(snaps, data.weights_h, table, np.zeros(len(snaps), dtype=bool))
        parts.append(
            pd.DataFrame(
                {
                    "before": 0.0,
                    "share_pu": win["share_pu"].to_numpy(),
                    "due": np.minimum(win["ends"].to_numpy(), end.to_datetime64()),
                },
                index=pd.Index(f"{prefix}: " + win["label"].astype(str), dtype=object),
            )
        )
    if not parts:
        return pd.DataFrame(
            {"before": [], "share_pu": [], "due": pd.to_datetime([])}, index=pd.Index([])
        )
    return pd.concat(parts)


def open_minimums(win: Windows) -> None:
    """No minimum for a carried period that goes on after the piece (module doc)."""
    if win.carried:
        win.table.loc[~win.table["closes"].to_numpy(dtype=bool), "min"] = np.nan


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
    open_minimums(win)


@dataclass
class CapacityTerms:
    """Bound terms on variable capacities: window `row` gains coef * K[col] on its `side`."""

    side: str  # "min" or "max"
    row: np.ndarray
    col: np.ndarray
    coef: np.ndarray


@dataclass
class Carried:
    """The carried periods of one family in a built model (module doc): entry e's energy at
    the end is before[e] + sum of the terms whose entry is e."""

    prefix: str
    names: pd.Index  # `<obligation> <period>`
    unit: str
    before: np.ndarray  # column of D0, per entry
    start_rows: np.ndarray  # row that holds D0, per entry
    upper: np.ndarray  # the period's maximum (inf: none)
    entry: np.ndarray  # entry of each term
    terms: Terms


def _carry_rows(
    model: LinearModel, prefix: str, win: Windows, terms: Terms, unit: str
) -> np.ndarray:
    """The columns D0 of every carried entry of the family (those the piece reaches, and the
    horizon's others, which pass through), held by `<prefix>_delivered_start`; registers the
    family's state (`Carried`). Returns D0's column for each window of `win`."""
    given = model.data.delivered
    assert given is not None
    tag = f"{prefix}: "
    listed = given.loc[given.index.astype(str).str.startswith(tag), "before"]
    here = pd.Index(win.table["label"].to_numpy(dtype=object))
    names = pd.Index(listed.index.str.slice(len(tag)), dtype=object)
    names = names.append(here.difference(names, sort=False))
    start = listed.set_axis(names[: len(listed)]).reindex(names).fillna(0.0)
    before = model.add_variables(f"{prefix}_delivered_before", names, -INF, INF, time=False)
    rows = model.rows(
        f"{prefix}_delivered_start",
        names,
        PERIOD_LABEL,
        meaning="energy delivered before the horizon in {}",
        unit=unit,
    )
    block = rows.add(before.cols, 1.0).equal(start.to_numpy(dtype=float)[:, None])
    upper = pd.Series(win.table["max"].to_numpy(dtype=float), index=here)
    entry = names.get_indexer(here)
    model.carried_periods[prefix] = Carried(
        prefix,
        names,
        unit,
        before.cols[:, 0],
        block.first_row + np.arange(len(names)),
        upper.reindex(names).fillna(np.inf).to_numpy(),
        entry[terms.row],
        terms,
    )
    return before.cols[entry, 0]


def state(model: LinearModel, resolution_h: float) -> list[StatePart]:
    """The energy each carried period has delivered by the end of the horizon (module doc),
    one part per family; none where the model does not carry periods."""
    del resolution_h  # a sum over the snapshots, whatever the cuts' resolution
    parts = []
    for c in model.carried_periods.values():
        n = len(c.names)
        end = sp.csr_matrix(
            (
                np.r_[np.ones(n), c.terms.coef],
                (np.r_[np.arange(n), c.entry], np.r_[c.before, c.terms.col]),
            ),
            shape=(n, model.n_cols),
        )
        starts = c.start_rows if model.data.stage_state else None
        parts.append(
            StatePart(c.prefix, c.names, c.unit, end, np.full(n, -np.inf), c.upper, starts, True)
        )
    return parts


def delivered_at(model: LinearModel, x: np.ndarray, k: int) -> pd.DataFrame | None:
    """`CaseData.delivered` for a piece that starts after snapshot k - 1 of this solved model:
    every carried entry's energy delivered by then (module doc); None where the model carries
    none."""
    given = model.data.delivered
    if given is None:
        return None
    out = given.copy()
    snapshot = np.full(model.n_cols, -1, dtype=np.int64)
    for var in model.variables.values():
        if var.timed and var.cols.shape[1] == model.T:
            snapshot[var.cols] = np.arange(model.T)[None, :]
    for c in model.carried_periods.values():
        use = snapshot[c.terms.col] < k
        value = x[c.before] + np.bincount(
            c.entry[use], weights=c.terms.coef[use] * x[c.terms.col[use]], minlength=len(c.names)
        )
        # a solution meets the period's maximum to within the solver's tolerance only: an
        # excess carried on would leave a piece that must deliver no more infeasible by it
        value = np.minimum(value, c.upper)
        labels = pd.Index(f"{c.prefix}: " + c.names.astype(str), dtype=object)
        out = out.reindex(out.index.append(labels.difference(out.index, sort=False)))
        out.loc[labels, "before"] = value
    return out


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
    doc), with a shortfall column `<prefix>_shortfall` for soft minimums; where the periods'
    energy is carried, the energy delivered before the piece (`<prefix>_delivered_before`)
    counts in every row."""
    tab = win.table
    labels = pd.Index(tab["label"])
    before = _carry_rows(model, prefix, win, terms, unit) if win.carried else None
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
        if before is not None:
            rows.scatter(pos[sel], before[sel], 1.0)
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
    # energy delivered in the period before the piece (carried periods; 0 otherwise)
    before: np.ndarray


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
    if win.carried:
        # a carried period not due in these snapshots (the kept part of a rolling run's
        # window whose look-ahead it is due in) has no minimum here: its shortfall and dual
        # belong to the window that keeps the hours it is due in
        due_later = ~tab["closes"].to_numpy(dtype=bool)
        short[due_later] = 0.0
        duals["min"][due_later] = np.nan
    extra = capacity_bound_values(sol, win, capacity)
    before = np.zeros(n)
    given = model.data.delivered
    if win.carried and given is not None:
        at = given["before"].reindex(f"{prefix}: " + tab["label"].astype(str))
        before = at.fillna(0.0).to_numpy(dtype=float)
    return Outcome(
        quantity + 0.0,
        short + 0.0,
        duals["min"] + 0.0,
        duals["max"] + 0.0,
        tab["min"].to_numpy(dtype=float) + extra["min"],
        tab["max"].to_numpy(dtype=float) + extra["max"],
        before + 0.0,
    )


def contracts_table(
    kind: str, names: np.ndarray, on: np.ndarray, win: Windows, got: Outcome
) -> pd.DataFrame:
    """Rows of the `contracts` sheet (energy in MWh), one per window: `names` and `on` (what
    the obligation covers, in words) by owner position."""
    tab = win.table
    owner = tab["owner"].to_numpy()
    penalty = np.nan_to_num(tab["penalty"].to_numpy(dtype=float))
    table = pd.DataFrame(
        {
            "kind": kind,
            "contract": names[owner],
            "on": on[owner],
            "period": tab["period"],
            "first_snapshot": tab["first"],
            "period_share_pu": tab["share_pu"],
            "energy_mwh": got.quantity,
            "min_mwh": got.min_bound,
            "max_mwh": got.max_bound,
            "shortfall_mwh": got.shortfall,
            "shortfall_penalty_cny": penalty * got.shortfall + 0.0,
            "min_dual_cny_per_mwh": got.min_dual,
            "max_dual_cny_per_mwh": got.max_dual,
        }
    )
    return with_before(table, win, got, "energy_mwh")


def with_before(table: pd.DataFrame, win: Windows, got: Outcome, quantity: str) -> pd.DataFrame:
    """A results table with the energy each carried period delivered before the piece, in the
    column before `quantity` (`delivered_before_<unit>`, the unit of `quantity`); unchanged
    where the periods are not carried."""
    if win.carried:
        unit = quantity.split("_", 1)[1]
        table.insert(table.columns.get_loc(quantity), f"delivered_before_{unit}", got.before)
    return table


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
