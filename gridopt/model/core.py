"""The linear model under construction: Pyomo variables and constraints built in bulk.

Every constraint family adds its variables and rows here over whole index sets at once. A
variable family is one Pyomo `Var` over a flat index, laid out as a (component x snapshot) array
of column numbers; a row family is one Pyomo `BulkConstraint` (a sparse-matrix constraint), so
building a year-long model costs numpy time, not a Python call per row. The model remains a
normal Pyomo model: it can be written as an LP file or handed to any Pyomo solver, and
`gridopt.solver` hands its matrix to HiGHS in one call.

Injections into the nodal power balance are registered by each family (`add_injection`) and
the balance family turns them into one equation per bus and snapshot; costs likewise
(`add_cost`) become the objective. Nothing scans all components inside a rule.

Ratings. A family bounds a variable by a component's rating (p_max_mw, s_max_mw, ...) through
`rating` and `limit_by_rating`: the rating of component i is a constant, or, in an expansion
case where i has a candidate, the capacity variable K[i,p] of the period p of each snapshot
(registered by `gridopt.model.expansion`). The variable's own bound is then the most K can
reach, and one row per snapshot

    x[i,t] <= pu[i,t] K[i,p(t)]      (or x[i,t] >= pu[i,t] K[i,p(t)] for a lower bound)

does the bounding. In a case without candidates these rows are never made.

Quadratic costs. `add_quadratic_cost` adds sum q * x^2 (a convex, separable term, e.g. a
generator's c2 p^2 per hour) to the objective; `quadratic_vector` gives the diagonal q per
column, weighted like the linear costs, and `gridopt.solve` passes it to HiGHS as the Hessian
of a quadratic programme (an LP with such terms becomes a QP; a MIP cannot carry them).

Objective weights. In an expansion case each snapshot's costs count k[t] F[p(t)] times
(`gridopt.inputs.investment`): `cost_vector` multiplies the cost of every per-snapshot column by
it, so the
families keep writing their costs per snapshot as in a dispatch case.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.base.constraint import IndexedConstraint
from pyomo.core.base.matrix_constraint import MatrixConstraint, _MatrixConstraintData
from pyomo.core.base.set import Any as AnyIndex
from pyomo.core.expr.numeric_expr import LinearExpression

from gridopt.inputs.data import CaseData, InvestmentPeriods, TypicalPeriods
from gridopt.model.stores import StoreKind

INF = float("inf")


class _BulkRow(_MatrixConstraintData):
    """One row of a BulkConstraint, readable by Pyomo's writers and standard-form compiler."""

    __slots__ = ()

    def to_bounded_expression(self, evaluate_bounds: bool = False):
        return self.lower, self.body, self.upper

    # bounds are kept as float arrays with infinities; Pyomo expects None for "no bound"
    @property
    def lower(self):
        value = float(self.parent_component()._lower[self._index])
        return value if value > -INF else None

    @property
    def upper(self):
        value = float(self.parent_component()._upper[self._index])
        return value if value < INF else None

    @property
    def expr(self):
        if self.equality:
            return self.body == self.upper
        return pyo.inequality(self.lower, self.body, self.upper)


class BulkConstraint(MatrixConstraint):
    """A family of linear rows lb <= A x <= ub given as one CSR matrix over the model's columns.

    Row objects are made when something asks for them (an LP writer, Pyomo's compiler, a
    dual suffix) and then kept, so a year-long model does not pay for a million Python
    objects that the direct hand-off to HiGHS never reads.
    """

    def __init__(self, A_data, A_indices, A_indptr, lb, ub, x) -> None:
        # as MatrixConstraint, but `x` is the model's shared column list, not a copy of it:
        # a copy per family would cost one reference per column per family
        IndexedConstraint.__init__(self, AnyIndex)
        self._A_data = A_data
        self._A_indices = A_indices
        self._A_indptr = A_indptr
        self._lower = lb
        self._upper = ub
        self._x = x

    def construct(self, data: object = None) -> None:
        if self._constructed:  # type: ignore[has-type]
            return
        self._constructed = True
        self._ref = weakref.ref(self)
        self._made: dict[int, _BulkRow] = {}

    def __getitem__(self, i: int) -> _BulkRow:
        row = self._made.get(i)
        if row is None:
            if not 0 <= i < len(self._lower):
                raise KeyError(i)
            row = self._made[i] = _BulkRow(i, self._ref)
        return row

    def __len__(self) -> int:
        return len(self._lower)

    def __iter__(self):
        return iter(range(len(self._lower)))

    # Pyomo's block iteration passes `sort`; the parent Mapping signatures do not take it
    def keys(self, sort: object = False):
        return range(len(self._lower))

    def values(self, sort: object = False):
        return (self[i] for i in range(len(self._lower)))

    def items(self, sort: object = False):
        return ((i, self[i]) for i in range(len(self._lower)))

    @property
    def csr(self) -> sp.csr_matrix:
        return self._gridopt_csr

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) bounds of the rows, float arrays with infinities."""
        return self._gridopt_bounds


@dataclass
class VarBlock:
    """A family of variables: a Pyomo Var laid out as (component x snapshot) column numbers."""

    name: str
    components: pd.Index
    cols: np.ndarray  # int64, shape (n_components, n_snapshots)
    var: pyo.Var
    timed: bool = True  # one column per snapshot (False: one per component)

    @property
    def shape(self) -> tuple[int, int]:
        return self.cols.shape


@dataclass
class Capacity:
    """The variable rating of the extendable rows of a table: K[i,p] per period."""

    positions: np.ndarray  # rows of the component table that have a candidate
    cols: np.ndarray  # (n, periods) columns of the capacity variables
    upper: np.ndarray  # (n,) the most the rating can reach in any period


@dataclass
class RowBlock:
    """A family of constraint rows, kept with its labels so duals read back as tables."""

    name: str
    components: pd.Index
    snapshots: pd.Index
    first_row: int
    shape: tuple[int, int]
    constraint: BulkConstraint
    # "price" rows carry duals reported per MWh: dual divided by the snapshot weight
    per_weight: bool = False
    # what a row says, in words, and the unit of its left-hand side, for diagnoses
    meaning: str = ""
    unit: str = ""
    # words for a left side that falls short of / exceeds what the row requires
    below: str = "short by"
    above: str = "over by"
    # rows that only define an auxiliary variable (a total): never a requirement in themselves,
    # so an infeasibility diagnosis keeps them hard
    definition: bool = False


@dataclass
class Rows:
    """Rows being assembled: sum_k coef_k * x[col_k] in row row_k, then bounded."""

    name: str
    components: pd.Index
    snapshots: pd.Index
    shape: tuple[int, int]
    model: LinearModel
    meaning: str = ""
    unit: str = ""
    below: str = "short by"
    above: str = "over by"
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _coefs: list[np.ndarray] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(np.prod(self.shape))

    def add(self, cols: np.ndarray, coef: float | np.ndarray = 1.0) -> Rows:
        """Add coef * x[cols] to each row; `cols` has the rows' shape (one term per row)."""
        cols = np.broadcast_to(cols, self.shape)
        coef = np.broadcast_to(np.asarray(coef, dtype=float), self.shape)
        self._rows.append(np.arange(self.n).reshape(self.shape))
        self._cols.append(cols)
        self._coefs.append(coef)
        return self

    def scatter(self, rows: np.ndarray, cols: np.ndarray, coef: float | np.ndarray = 1.0) -> Rows:
        """Add coef * x[cols] into flat row numbers `rows` (many terms may share a row)."""
        rows, cols = np.broadcast_arrays(rows, cols)
        coef = np.broadcast_to(np.asarray(coef, dtype=float), rows.shape)
        self._rows.append(rows)
        self._cols.append(cols)
        self._coefs.append(coef)
        return self

    def equal(
        self, rhs: float | np.ndarray, per_weight: bool = False, definition: bool = False
    ) -> RowBlock:
        rhs = np.broadcast_to(np.asarray(rhs, dtype=float), self.shape)
        block = self.model._add_rows(self, rhs, rhs, per_weight)
        block.definition = definition
        return block

    def less(self, rhs: float | np.ndarray, per_weight: bool = False) -> RowBlock:
        ub = np.broadcast_to(np.asarray(rhs, dtype=float), self.shape)
        return self.model._add_rows(self, np.full(self.shape, -INF), ub, per_weight)

    def greater(self, rhs: float | np.ndarray, per_weight: bool = False) -> RowBlock:
        lb = np.broadcast_to(np.asarray(rhs, dtype=float), self.shape)
        return self.model._add_rows(self, lb, np.full(self.shape, INF), per_weight)


class LinearModel:
    """A Pyomo ConcreteModel plus the bookkeeping that lets families build it in bulk."""

    def __init__(self, data: CaseData):
        self.data = data
        self.pyomo = pyo.ConcreteModel(name=data.case.name)
        self.snapshots = pd.Index(data.snapshots)
        self.T = len(data.snapshots)
        self.build_seconds = 0.0
        self.w = data.weights_h
        # hours each snapshot lasts, for what happens within it (stored levels, ramps); the
        # same as its weight except on typical periods, whose weight counts every hour each
        # stands for (gridopt.inputs.aggregation)
        self.dt = (
            self.w
            if data.typical is None
            else np.full(self.T, float(data.case.horizon.resolution_h))
        )
        self.buses = pd.Index(data.tables["buses"].index)
        self.variables: dict[str, VarBlock] = {}
        self.row_blocks: dict[str, RowBlock] = {}
        self._columns: list[pyo.Var] = []
        self._col_data: list = []
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._cost: list[tuple[np.ndarray, np.ndarray]] = []
        self._quadratic: list[tuple[np.ndarray, np.ndarray]] = []
        self.cost_constant = 0.0
        self.n_cols = 0
        self.n_rows = 0
        # (bus row index (n,), cols (n, T), coef) for the nodal balance
        self.injections: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        # expansion cases: investment periods, the cost factor of each snapshot and the
        # variable ratings (gridopt.inputs.investment, gridopt.model.expansion)
        self.investment = data.investment
        self.objective_weight = (
            data.investment.objective_weight if data.investment is not None else np.ones(self.T)
        )
        # duals of "per MWh" rows are divided by this: CNY per MWh of the year, undiscounted
        self.price_weight = self.w * self.objective_weight
        self.capacities: dict[tuple[str, str], Capacity] = {}
        # stored levels linked across typical periods (`_stateful`), by level variable name
        self.levels: dict[str, Any] = {}
        # the kinds of store the families built, by table (`gridopt.model.stores`)
        self.store_kinds: dict[str, StoreKind] = {}
        # energy of calendar periods carried from piece to piece of a longer horizon, by row
        # prefix (`gridopt.model.periods`)
        self.carried_periods: dict[str, Any] = {}
        # neighbourhoods a MIP solution that leaves demand unserved is re-optimised over: each
        # maps a solution to the columns to free (gridopt.solver, gridopt.model.commitment)
        self.repairs: list[Callable[[np.ndarray], np.ndarray]] = []
        # roundings of an LP relaxation's point to one with integer columns that a MIP may
        # start from: each maps a point to the point with its family's integers set
        # (gridopt.solver `mip_start: rounded_relaxation`, gridopt.model.commitment)
        self.roundings: list[Callable[[np.ndarray], np.ndarray]] = []
        self._time_structure()

    # ---- time structure --------------------------------------------------------------------
    def _time_structure(self) -> None:
        """Which snapshot comes before which: rows that link t-1 and t stay inside a cycle.

        A chronological case is one cycle, the whole horizon; a case aggregated into typical
        periods (`gridopt.inputs.aggregation`) has one cycle per typical period and an expansion
        case
        one per sample (`gridopt.inputs.investment`), their snapshots contiguous. Per snapshot t:
        `period_start[t]` and `period_length[t]` (positions), `previous[t]` and `following[t]`
        (the neighbours inside the cycle, wrapping round at its ends), `first[t]` and
        `last[t]`.
        """
        t = np.arange(self.T)
        starts = np.zeros(self.T, dtype=bool)
        starts[0] = True
        if self.data.typical is not None:
            starts[:: self.data.typical.snapshots_per_period] = True
        elif self.data.investment is not None:
            starts |= np.asarray(self.data.investment.cycle_start, dtype=bool)
        first = np.flatnonzero(starts)
        start = first[np.cumsum(starts) - 1]
        length = np.diff(np.append(first, self.T))[np.cumsum(starts) - 1]
        self.period_start, self.period_length = start, length
        self.previous = start + (t - start - 1) % length
        self.following = start + (t - start + 1) % length
        self.first = t == start
        self.last = t == start + length - 1

    @property
    def periods(self) -> InvestmentPeriods:
        """The investment periods of an expansion case (an error in any other case)."""
        if self.investment is None:
            raise ValueError("an expansion case has investment periods; this case has none")
        return self.investment

    @property
    def typical(self) -> TypicalPeriods:
        """The typical periods of an aggregated case (an error in any other case)."""
        if self.data.typical is None:
            raise ValueError("the horizon is not aggregated into typical periods")
        return self.data.typical

    @property
    def aggregated(self) -> bool:
        """True when the snapshots are typical periods rather than the chronological horizon."""
        return self.data.typical is not None

    def transitions(self) -> tuple[np.ndarray, np.ndarray]:
        """(now, before): positions of the snapshot pairs (t, t-1) that rows linking consecutive
        snapshots (ramps) are written for. The first snapshot of a cycle has none in a
        chronological case; a typical period wraps round (it repeats: its last snapshot
        comes before its first). A one-snapshot period has none."""
        t = np.arange(self.T)
        now = t if self.aggregated else t[~self.first]
        now = now[self.previous[now] != now]
        return now, self.previous[now]

    def lag(self, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The snapshot `shift` steps before each snapshot, and whether it lies in the horizon.

        `shift` broadcasts against the snapshots (e.g. a column of delays). Chronological:
        t - shift, clipped into the horizon where it falls before it (`inside` False: the
        caller uses a value from before the horizon). Typical periods: counted round inside
        t's own period (a period repeats), so `inside` is always True.
        """
        t = np.arange(self.T)[None, :]
        start, length = self.period_start[None, :], self.period_length[None, :]
        if not self.aggregated:
            src = t - shift
            return np.clip(src, 0, self.T - 1), src >= 0
        src = start + (t - start - shift) % length
        return src, np.ones(src.shape, dtype=bool)

    # ---- variables -------------------------------------------------------------------------
    def add_variables(
        self,
        name: str,
        components: pd.Index,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        integer: bool = False,
        time: bool = True,
    ) -> VarBlock:
        """One variable per component and snapshot (or per component when `time` is False)."""
        n = len(components)
        width = self.T if time else 1
        size = n * width
        var = pyo.Var(range(size), domain=pyo.Integers if integer else pyo.Reals)
        self.pyomo.add_component(name, var)
        cols = (self.n_cols + np.arange(size, dtype=np.int64)).reshape(n, width)
        lb = np.broadcast_to(np.asarray(lower, dtype=float), (n, width)).ravel()
        ub = np.broadcast_to(np.asarray(upper, dtype=float), (n, width)).ravel()
        datas = list(var.values())
        # bounds also live on the Pyomo variables so the model stands on its own
        for v, lo, hi in zip(datas, lb.tolist(), ub.tolist(), strict=True):
            v.setlb(lo if lo > -INF else None)
            v.setub(hi if hi < INF else None)
        self._col_data += datas
        self._lb.append(lb)
        self._ub.append(ub)
        self._integer.append(np.full(size, integer))
        self.n_cols += size
        block = VarBlock(name, pd.Index(components), cols, var, timed=time)
        self.variables[name] = block
        return block

    # ---- ratings: constant, or the capacity an expansion case builds ---------------------
    def rating(self, table: str, column: str) -> np.ndarray:
        """The rating of each component of `table` (n,): the column's value, or, for a
        component with a candidate, the most its capacity can reach (a valid variable bound;
        `limit_by_rating` adds the rows that bound it by the capacity built)."""
        values = self.data.tables[table][column].to_numpy(dtype=float).copy()
        cap = self.capacities.get((table, column))
        if cap is not None:
            values[cap.positions] = cap.upper
        return values

    def limit_by_rating(
        self,
        var: VarBlock,
        table: str,
        column: str,
        pu: float | np.ndarray = 1.0,
        lower: bool = False,
    ) -> RowBlock | None:
        """Rows x[i,t] <= pu[i,t] K[i,p(t)] (`lower`: >=) for the components of `table` whose
        `column` has a candidate; `var` runs over the table's rows, `pu` broadcasts to its
        shape. Nothing when no component's rating is variable."""
        cap = self.capacities.get((table, column))
        if cap is None:
            return None
        per_unit = np.broadcast_to(np.asarray(pu, dtype=float), var.shape)[cap.positions]
        # a zero lower bound is the variable's own bound already
        keep = np.flatnonzero((per_unit != 0).any(axis=1)) if lower else np.arange(len(per_unit))
        if not len(keep):
            return None
        names = var.components[cap.positions[keep]]
        side = "lower" if lower else "upper"
        rows = self.rows(
            f"{var.name}_rating_{side}",
            names,
            meaning=f"{column} of {{}} (capacity built, {side} limit)",
            below="short of its minimum by",
            above="over the capacity built by",
        )
        rows.add(var.cols[cap.positions[keep]], 1.0)
        rows.add(cap.cols[keep][:, self.investment_period], -per_unit[keep])
        return rows.greater(0.0) if lower else rows.less(0.0)

    @property
    def investment_period(self) -> np.ndarray:
        """The investment period of each snapshot (0 when the case has none)."""
        return (
            self.investment.of_snapshot
            if self.investment is not None
            else np.zeros(self.T, dtype=int)
        )

    def rating_per_snapshot(
        self, table: str, column: str, x: np.ndarray | None = None
    ) -> np.ndarray:
        """(n, T) rating of each component in each snapshot: the constant, or the capacity
        built (from the solution `x`) in the snapshot's period."""
        values = self.data.tables[table][column].to_numpy(dtype=float)
        out = np.repeat(values[:, None], self.T, axis=1)
        cap = self.capacities.get((table, column))
        if cap is not None and x is not None:
            out[cap.positions] = x[cap.cols][:, self.investment_period]
        return out

    # ---- rows ------------------------------------------------------------------------------
    def rows(
        self,
        name: str,
        components: pd.Index,
        snapshots: pd.Index | None = None,
        meaning: str = "",
        unit: str = "",
        below: str = "short by",
        above: str = "over by",
    ) -> Rows:
        """Start a family of rows indexed by (component, snapshot).

        `meaning` names what one row requires, in words, with `{}` for the component (e.g.
        "power balance at bus {}"); `unit` is the unit of the row; `below` and `above` say
        what it means when the left side falls short of or exceeds the requirement. They
        feed the words of infeasibility diagnoses.
        """
        snaps = self.snapshots if snapshots is None else pd.Index(snapshots)
        return Rows(
            name,
            pd.Index(components),
            snaps,
            (len(components), len(snaps)),
            self,
            meaning or f"{name} of {{}}",
            unit,
            below,
            above,
        )

    def _add_rows(self, rows: Rows, lb: np.ndarray, ub: np.ndarray, per_weight: bool) -> RowBlock:
        if rows._rows:
            r = np.concatenate([a.ravel() for a in rows._rows])
            c = np.concatenate([a.ravel() for a in rows._cols])
            v = np.concatenate([a.ravel() for a in rows._coefs])
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        keep = v != 0.0
        matrix = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=(rows.n, self.n_cols))
        matrix.sum_duplicates()
        lb = lb.ravel()
        ub = ub.ravel()
        con = BulkConstraint(
            matrix.data,
            matrix.indices,
            matrix.indptr,
            lb.astype(float),
            ub.astype(float),
            self._col_data,
        )
        con._gridopt_csr = matrix
        con._gridopt_bounds = (lb.astype(float), ub.astype(float))
        self.pyomo.add_component(rows.name, con)
        block = RowBlock(
            rows.name,
            rows.components,
            rows.snapshots,
            self.n_rows,
            rows.shape,
            con,
            per_weight,
            rows.meaning,
            rows.unit,
            rows.below,
            rows.above,
        )
        self.n_rows += rows.n
        self.row_blocks[rows.name] = block
        return block

    # ---- objective and balance -------------------------------------------------------------
    def add_cost(self, cols: np.ndarray, cost_cny: float | np.ndarray) -> None:
        """Add sum cost_cny * x[cols] to the objective (CNY; include snapshot weights)."""
        cols, cost = np.broadcast_arrays(cols, np.asarray(cost_cny, dtype=float))
        self._cost.append((cols.ravel(), cost.ravel().astype(float)))

    def add_quadratic_cost(self, cols: np.ndarray, cost: float | np.ndarray) -> None:
        """Add sum cost * x[cols]^2 to the objective (currency of the case; include snapshot
        weights). `cost` must be >= 0, so that the objective stays convex."""
        cols, q = np.broadcast_arrays(cols, np.asarray(cost, dtype=float))
        if (q < 0).any():
            raise ValueError("quadratic costs must be >= 0 (a convex objective)")
        self._quadratic.append((cols.ravel(), q.ravel().astype(float)))

    @property
    def has_quadratic_costs(self) -> bool:
        return any((q != 0).any() for _, q in self._quadratic)

    def quadratic_vector(self) -> np.ndarray:
        """q per column: the objective holds sum q[j] x[j]^2, weighted like `cost_vector`."""
        q = np.zeros(self.n_cols)
        for cols, cost in self._quadratic:
            np.add.at(q, cols, cost)
        return self._weighted(q)

    def add_injection(
        self,
        family: str,
        bus: pd.Series | np.ndarray,
        cols: np.ndarray,
        coef: float | np.ndarray = 1.0,
    ) -> None:
        """Register coef * x[cols] (MW, shape n x T) as power into `bus` (one per component)."""
        bus_idx = self.buses.get_indexer(np.asarray(bus))
        coef = np.broadcast_to(np.asarray(coef, dtype=float), cols.shape)
        self.injections.append((family, bus_idx, cols, coef))

    def cost_vector(self) -> np.ndarray:
        c = np.zeros(self.n_cols)
        for cols, cost in self._cost:
            np.add.at(c, cols, cost)
        return self._weighted(c)

    def _weighted(self, c: np.ndarray) -> np.ndarray:
        """Per-column costs with each snapshot's objective weight applied (expansion cases)."""
        if not np.all(self.objective_weight == 1.0):
            # each snapshot's costs count k[t] F[p(t)] times (gridopt.inputs.investment)
            for block in self.variables.values():
                if block.timed:
                    c[block.cols] *= self.objective_weight[None, :]
        return c

    def finish(self) -> None:
        """Attach the objective: minimise total cost in CNY."""
        c = self.cost_vector()
        nz = np.flatnonzero(c)
        expr = LinearExpression(
            constant=self.cost_constant,
            linear_coefs=c[nz].tolist(),
            linear_vars=[self._col_data[i] for i in nz],
        )
        if self.has_quadratic_costs:
            q = self.quadratic_vector()
            expr = expr + pyo.quicksum(
                float(q[i]) * self._col_data[i] ** 2 for i in np.flatnonzero(q)
            )
        self.pyomo.objective = pyo.Objective(expr=expr, sense=pyo.minimize)

    # ---- matrix view (used by gridopt.solver) -------------------------------------------------
    def column_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self._lb), np.concatenate(self._ub)

    def integrality(self) -> np.ndarray:
        return np.concatenate(self._integer) if self._integer else np.zeros(0, dtype=bool)

    def variable(self, name: str) -> VarBlock:
        return self.variables[name]

    def bounds(self, block: VarBlock) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds of a variable family, (component x snapshot) arrays."""
        i = list(self.variables).index(block.name)
        shape = block.cols.shape
        return self._lb[i].reshape(shape), self._ub[i].reshape(shape)

    def set_bounds(self, block: VarBlock, lower: np.ndarray, upper: np.ndarray) -> None:
        """Replace the column bounds of a variable family (arrays broadcast to its shape)."""
        i = list(self.variables).index(block.name)
        shape = block.cols.shape
        lb = np.array(np.broadcast_to(np.asarray(lower, dtype=float), shape))
        ub = np.array(np.broadcast_to(np.asarray(upper, dtype=float), shape))
        self._lb[i], self._ub[i] = lb.ravel(), ub.ravel()
        for v, lo, hi in zip(
            [self._col_data[c] for c in block.cols.ravel()],
            lb.ravel().tolist(),
            ub.ravel().tolist(),
            strict=True,
        ):
            v.setlb(lo if lo > -INF else None)
            v.setub(hi if hi < INF else None)

    def has(self, name: str) -> bool:
        return name in self.variables
