"""The level recursion shared by every stored quantity (storage units, gas storage, hydro
reservoirs): one row per component and snapshot, built in bulk, and its linking across typical
periods.

For a level x[i,t] (end of snapshot t), a retention r[i,t] (share of the previous level still
there) and terms y_k[i,t] that fill (coef > 0) or drain (coef < 0) it:

    x[i,t] = r[i,t] * x[i,t-1] + sum_k coef_k[i,t] * y_k[i,t]

Chronological horizon: x[i,-1] is the given initial level x0[i], or, where x0[i] is NaN,
x[i,T-1] (cyclic: the horizon ends where it starts). The rows are written
x - r * x_prev - sum_k coef_k * y_k = rhs, with r[i,0] * x0[i] on the right-hand side of the
first snapshot of non-cyclic components, so the dual of a row is the value of one more unit of
level at that time (sign turned).

Typical periods (`gridopt.inputs.aggregation`): t-1 is taken inside t's own period, never across a
period boundary, and each component is linked in one of two ways (case setting
`horizon.aggregation.linking`):

- `periodic`: each typical period is cyclic in its own level (x[i, first - 1] = x[i, last]
  of the same period), as PyPSA does with representative periods; x0 is not used. Such a
  store cannot carry energy from one period to another.
- `seasonal` (after Kotzur et al. 2018, "Time series aggregation for energy system design:
  modeling seasonal storage", Applied Energy 213, 123-135): x[i,t] becomes the change of level
  since the start of t's period, d[i,t] (d[i, first - 1] = 0, free in sign), and a level
  S[i,o] at the start of each original period o = 0..O (chronological, O + 1 values) is
  chained through the typical periods k(o) that stand for them:

      S[i,o+1] = R[i,k(o)] S[i,o] + d[i, last of k(o)]         (rows `<name>_chain`)
      R[i,k] = prod_{t in k} r[i,t],  rho[i,t] = prod_{tau in k(t), tau <= t} r[i,tau]

  so the level in hour t of original period o is S[i,o] rho[i,t] + d[i,t]. With the extremes
  of d in each typical period, hi[i,k] >= d[i,t] >= lo[i,k] (t in k) (rows `<name>_hi`,
  `<name>_lo`), the level bounds hold in every hour of the year by

      S[i,o] + hi[i,k(o)] <= x_max[i],     R[i,k(o)] S[i,o] + lo[i,k(o)] >= x_min[i]

  (rows `<name>_upper`, `<name>_lower`; x_min <= S[i,o] <= x_max as column bounds). They are
  exact without standing losses and conservative with them (0 <= rho <= 1, S >= 0). S[i,0] =
  x0[i] where given, else S[i,O] = S[i,0] (row `<name>_year_cyclic`: the year ends where it
  starts); a given final level fixes S[i,O]. Components whose level cannot move (x_max =
  x_min) are periodic.

State of a stage (`CaseData.stage_state`, chronological only): the stages of a future-cost
function (`gridopt.studies.future_cost`) are built once and solved again from other start
levels. The level before the horizon is then a column x0[i], held by a row

    x0[i] = x0_given[i]                                      (rows `<name>_start`)

and the first level row reads x[i,0] - r[i,0] x0[i] - ... = ..., so that a new start is a
change of that row's bounds and its dual is d(cost)/d(x0[i]), the slope of a Benders cut.
`StatePart` and `StateBlock` describe the state of a built model: per entry its start row (if
any) and its value at the end of the horizon as a linear expression of the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.model.core import INF, LinearModel, RowBlock, Rows, VarBlock
from gridopt.model.stores import Motion, StoreKind
from gridopt.model.tables import tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution


@dataclass
class Linked:
    """Components of a level family chained across typical periods (seasonal linking)."""

    idx: np.ndarray  # positions of the linked components in the level family
    start: VarBlock  # S: (linked component x (O + 1)) level at the start of each period
    rho: np.ndarray  # (linked component x snapshot) retention since the start of the period


def level_rows(
    model: LinearModel,
    name: str,
    components: pd.Index,
    level: VarBlock,
    initial: np.ndarray,
    retention: float | np.ndarray = 1.0,
    final: np.ndarray | None = None,
    **words: str,
) -> tuple[Rows, np.ndarray]:
    """Start the rows x[t] - r[t] x[t-1] = rhs and link them across periods (module doc).

    Returns the rows, to which the caller adds its fill and drain terms, and their right-hand
    side so far (the initial level's share), to which it adds its constants before `equal`.
    `initial` is x0 (NaN: cyclic); `final` (NaN or None: free) is a level the horizon must end
    at, used only under seasonal linking (a chronological caller writes its own end rows).
    """
    keep = np.broadcast_to(np.asarray(retention, dtype=float), level.shape)
    chained = _chained(model, level)
    if model.aggregated:
        # every period starts from its own end (periodic) or from a change of zero (chained)
        keep_prev = np.where(model.first[None, :] & chained[:, None], 0.0, keep)
        rhs = np.zeros(level.shape)
    else:
        cyclic = np.isnan(initial)
        keep_prev = np.array(keep, copy=True)
        keep_prev[~cyclic, 0] = 0.0  # the level before the horizon is a constant, on the rhs
        rhs = np.zeros(level.shape)
        rhs[~cyclic, 0] = keep[~cyclic, 0] * initial[~cyclic]
    rows = model.rows(name, components, **words)
    rows.add(level.cols, 1.0).add(level.cols[:, model.previous], -keep_prev)
    given = np.flatnonzero(~np.isnan(initial))
    if model.data.stage_state and not model.aggregated and len(given):
        # the start level is a column held by its own row (module doc: state of a stage)
        x0 = start_state(
            model,
            f"{level.name}_at_start",
            f"{name}_start",
            components[given],
            np.asarray(initial, dtype=float)[given],
            words.get("unit", ""),
        )
        rows.scatter(given[:, None] * model.T, x0.cols, -keep[given, :1])
        rhs[given, 0] = 0.0
    if chained.any():
        _chain(
            model,
            name,
            components,
            level,
            np.flatnonzero(chained),
            keep,
            initial,
            final,
            words.get("unit", ""),
        )
    return rows, rhs


def start_state(
    model: LinearModel,
    column: str,
    name: str,
    components: pd.Index,
    value: np.ndarray,
    unit: str,
) -> VarBlock:
    """Columns x0[i] (one per component, free in sign) held at `value` by rows
    x0[i] = value[i] (rows `name`, on the first snapshot): a start state whose bounds a stage
    of a future-cost function changes between solves, and whose duals are the slopes of
    its cuts."""
    x0 = model.add_variables(column, components, -INF, INF, time=False)
    model.rows(
        name,
        components,
        model.snapshots[:1],
        meaning="start state of {}",
        unit=unit,
        below="start short by",
        above="start over by",
    ).add(x0.cols, 1.0).equal(np.asarray(value, dtype=float)[:, None])
    return x0


@dataclass
class StatePart:
    """Entries of the state of a built model that one family keeps (a kind of store, or the
    water in transit on its rivers): their labels, unit and range, their value at the end of
    the horizon as rows of `end` (entries x model columns: end value = end @ x), and the
    rows that hold their start (`start_rows`, -1 where the start is not a row; None in a
    model that is not a stage)."""

    table: str
    names: pd.Index
    unit: str
    end: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    start_rows: np.ndarray | None
    # the entries are sums over the horizon's snapshots (energy delivered so far): at an
    # earlier end b they count the snapshots before b (`gridopt.studies.future_cost.states_at`)
    sums: bool = False
    # how far the levels can move in each snapshot of the model (`gridopt.model.stores.Motion`)
    motion: Motion | None = None


@dataclass
class StateBlock:
    """The whole state of a built model: every entry of its parts, in order."""

    parts: list[StatePart]

    @property
    def labels(self) -> pd.DataFrame:
        """table, store and unit of each entry."""
        return pd.DataFrame(
            {
                "table": np.concatenate([[p.table] * len(p.names) for p in self.parts] or [[]]),
                "store": np.concatenate([p.names.to_numpy() for p in self.parts] or [[]]),
                "unit": np.concatenate([[p.unit] * len(p.names) for p in self.parts] or [[]]),
            }
        )

    @property
    def keys(self) -> pd.MultiIndex:
        """(table, store) of each entry: how cuts name them."""
        labels = self.labels
        return pd.MultiIndex.from_arrays([labels["table"], labels["store"]])

    def end(self, n_cols: int) -> sp.csr_matrix:
        """(entries x n_cols): the value of each entry at the end of the horizon is end @ x."""
        mats = [sp.csr_matrix(p.end, shape=(p.end.shape[0], n_cols)) for p in self.parts]
        return sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, n_cols))

    @property
    def start_rows(self) -> np.ndarray:
        """Row numbers that hold each entry's start (-1: none)."""
        return np.concatenate(
            [
                p.start_rows if p.start_rows is not None else np.full(len(p.names), -1)
                for p in self.parts
            ]
            or [np.zeros(0, dtype=np.int64)]
        ).astype(np.int64)

    @property
    def lower(self) -> np.ndarray:
        return np.concatenate([p.lower for p in self.parts] or [np.zeros(0)])

    @property
    def upper(self) -> np.ndarray:
        return np.concatenate([p.upper for p in self.parts] or [np.zeros(0)])


def level_state(model: LinearModel, kind: StoreKind) -> StatePart | None:
    """The stores of `kind` as entries of the state (their level at the end of the last
    snapshot; start rows where the model is a stage). None where the model has none or is
    in typical periods (no end in time)."""
    if kind.table not in model.store_kinds or model.aggregated or not model.has(kind.level):
        return None
    level = model.variables[kind.level]
    n = len(level.components)
    end = sp.csr_matrix((np.ones(n), (np.arange(n), level.cols[:, -1])), shape=(n, model.n_cols))
    lb, ub = model.bounds(level)
    block = model.row_blocks.get(f"{kind.balance}_start")
    starts = None
    if model.data.stage_state:
        starts = np.full(n, -1, dtype=np.int64)
        if block is not None:
            pos = level.components.get_indexer(block.components)
            starts[pos] = block.first_row + np.arange(len(pos))
    motion = kind.motion(model) if kind.motion is not None else None
    return StatePart(
        kind.table, level.components, kind.unit, end, lb[:, -1], ub[:, -1], starts, False, motion
    )


def level_balance(
    model: LinearModel,
    name: str,
    components: pd.Index,
    level: VarBlock,
    terms: list[tuple[np.ndarray, np.ndarray]],
    initial: np.ndarray,
    retention: float | np.ndarray = 1.0,
    **words: str,
) -> RowBlock:
    """Add the rows of x[t] = r[t] x[t-1] + sum_k coef_k y_k[t]; `terms` are (cols, coef) pairs
    of the level's shape, `initial` is x0 (NaN: cyclic), `words` go to `model.rows`
    (meaning, unit, below, above)."""
    rows, rhs = level_rows(model, name, components, level, initial, retention, **words)  # type: ignore[arg-type]
    for cols, coef in terms:
        rows.add(cols, -np.asarray(coef, dtype=float))
    return rows.equal(rhs)


def _chained(model: LinearModel, level: VarBlock) -> np.ndarray:
    """Which components of a level family are chained across typical periods."""
    if not model.aggregated or model.typical.linking != "seasonal":
        return np.zeros(level.shape[0], dtype=bool)
    lb, ub = model.bounds(level)
    return ub.min(axis=1) > lb.max(axis=1)


def _chain(
    model: LinearModel,
    name: str,
    components: pd.Index,
    level: VarBlock,
    idx: np.ndarray,
    keep: np.ndarray,
    initial: np.ndarray,
    final: np.ndarray | None,
    unit: str,
) -> None:
    """Seasonal linking of components `idx` of a level family (module doc)."""
    periods = model.typical
    order = periods.period_order  # typical period of each original period
    n_orig, n_typ = len(order), len(periods.period_weight)
    steps = periods.snapshots_per_period
    lb, ub = model.bounds(level)
    x_min, x_max = lb[idx].max(axis=1), ub[idx].min(axis=1)
    # the level family's columns now hold the change since the start of the period
    chained = np.isin(np.arange(level.shape[0]), idx)[:, None]
    model.set_bounds(level, np.where(chained, -INF, lb), np.where(chained, INF, ub))
    comps = components[idx]
    k = len(idx)
    rho = np.cumprod(keep[idx].reshape(k, n_typ, steps), axis=2)
    whole = rho[:, :, -1]  # R[i, k]
    rho = rho.reshape(k, n_typ * steps)

    s_lb = np.repeat(x_min[:, None], n_orig + 1, axis=1)
    s_ub = np.repeat(x_max[:, None], n_orig + 1, axis=1)
    given = ~np.isnan(initial[idx])
    s_lb[given, 0] = s_ub[given, 0] = initial[idx][given]
    end = np.full(k, np.nan) if final is None else np.asarray(final, dtype=float)[idx]
    fixed_end = ~np.isnan(end)
    s_lb[fixed_end, -1] = s_ub[fixed_end, -1] = end[fixed_end]
    labels = pd.Index([f"{c} period {o}" for c in comps for o in range(n_orig + 1)])
    start = model.add_variables(
        f"{level.name}_start", labels, s_lb.reshape(-1, 1), s_ub.reshape(-1, 1), time=False
    )
    s_cols = start.cols.reshape(k, n_orig + 1)
    start = VarBlock(start.name, comps, s_cols, start.var)
    typ = pd.Index([f"{c} typical {j}" for c in comps for j in range(n_typ)])
    hi = model.add_variables(f"{level.name}_hi", typ, -INF, INF, time=False).cols.reshape(k, n_typ)
    lo = model.add_variables(f"{level.name}_lo", typ, -INF, INF, time=False).cols.reshape(k, n_typ)

    origin = pd.Index(periods.period_start, name="period")
    last = order * steps + steps - 1  # the last snapshot of each original period's typical one
    model.rows(
        f"{name}_chain", comps, origin, meaning=f"{name} carried over a period by {{}}", unit=unit
    ).add(s_cols[:, 1:], 1.0).add(s_cols[:, :-1], -whole[:, order]).add(
        level.cols[idx][:, last], -1.0
    ).equal(0.0)
    cyclic = np.flatnonzero(~given & ~fixed_end)
    if len(cyclic):
        model.rows(
            f"{name}_year_cyclic",
            comps[cyclic],
            origin[:1],
            meaning=f"{name}: the horizon ends where it starts, for {{}}",
        ).add(s_cols[cyclic, -1:], 1.0).add(s_cols[cyclic, :1], -1.0).equal(0.0)
    kt = periods.period_of_snapshot
    model.rows(f"{name}_hi", comps, meaning=f"{name}: highest change in a period of {{}}").add(
        level.cols[idx], 1.0
    ).add(hi[:, kt], -1.0).less(0.0)
    model.rows(f"{name}_lo", comps, meaning=f"{name}: lowest change in a period of {{}}").add(
        level.cols[idx], 1.0
    ).add(lo[:, kt], -1.0).greater(0.0)
    model.rows(
        f"{name}_upper",
        comps,
        origin,
        meaning=f"{name}: level of {{}} above its most",
        above="over by",
    ).add(s_cols[:, :-1], 1.0).add(hi[:, order], 1.0).less(x_max[:, None])
    model.rows(
        f"{name}_lower",
        comps,
        origin,
        meaning=f"{name}: level of {{}} below its least",
        below="short by",
    ).add(s_cols[:, :-1], whole[:, order]).add(lo[:, order], 1.0).greater(x_min[:, None])
    model.levels[level.name] = Linked(idx, start, rho)


# ---- values of levels in results ---------------------------------------------------------------
def level_values(sol: Solution, name: str) -> np.ndarray:
    """The level family `name` on the snapshots, (component x snapshot).

    Chained components report the level on the dates of their typical period's own original
    period (its medoid): S[i, o*(k)] rho[i,t] + d[i,t]; the others their variable as it is.
    """
    x = np.array(sol.value(name), dtype=float)
    linked = sol.model.levels.get(name)
    if linked is not None:
        own = sol.model.typical.representative[sol.model.typical.period_of_snapshot]
        s = sol.value(linked.start)
        x[linked.idx] += s[:, own] * linked.rho
    return x


def chronological_levels(sol: Solution, name: str) -> np.ndarray:
    """The level family `name` in every snapshot of the whole horizon, (component x O*L).

    Chained components: S[i,o] rho[i,t] + d[i,t] for hour t of typical period k(o); the others
    repeat their typical period's level in every original period it stands for.
    """
    periods = sol.model.typical
    steps = periods.snapshots_per_period
    src = (periods.period_order[:, None] * steps + np.arange(steps)[None, :]).ravel()
    x = np.array(sol.value(name), dtype=float)[:, src]
    linked = sol.model.levels.get(name)
    if linked is not None:
        s = sol.value(linked.start)[:, :-1]
        x[linked.idx] += np.repeat(s, steps, axis=1) * linked.rho[:, src]
    return x


def year_table(
    sol: Solution,
    name: str,
    table: str,
    components: pd.Index,
    label: str,
    column: str,
    attributes: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """`{table: levels of family `name` in every snapshot of the horizon}` for a case in
    typical periods (`chronological_levels`); nothing for a chronological case, whose own
    table already runs through the horizon."""
    if not sol.model.aggregated:
        return {}
    return {
        table: tidy(
            sol.model.typical.chronological,
            components,
            label,
            {column: chronological_levels(sol, name)},
            attributes,
        )
    }
