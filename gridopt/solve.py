"""Hand the Pyomo model to HiGHS and bring the answer back. The only solver-specific module.

The matrix goes to HiGHS in one `passModel` call. Two ways to get it:

- `matrix_from_blocks` stacks the CSR matrices the constraint families built (fast: no Python
  work per row); used whenever every active constraint is a `BulkConstraint`.
- `matrix_from_pyomo` runs Pyomo's own `LinearStandardFormCompiler` over the model; used when
  someone adds ordinary Pyomo constraints, and in tests as an independent check of the first.

A solve always returns a `Solution` with a `Status`; only the CLI turns statuses into exit codes.

Models with integer variables (unit commitment) are MIPs. `relax` drops integrality and solves
the LP relaxation. A MIP has no duals, so after it the integer variables are fixed at the MIP
solution and the remaining LP is solved for its duals: the prices of a MIP are those of its
dispatch with the commitment fixed (`Solution.price_basis` says which prices are given).
A MIP solution that leaves demand unserved is first re-optimised over the integer columns that
the model's families name for it (`LinearModel.repairs`; unit commitment frees the commitment of
the regions that shed), every other integer fixed, to an absolute gap of a hundredth of a MWh
of lost load (`_repair`): a relative gap on the whole system's cost would accept the shedding.
`gap_trace` records the MIP's incumbent, bound and gap as HiGHS reports them (`GapPoint`), so
that the time taken to reach a gap can be read afterwards (`seconds_to_gap`); `run_highs` solves
a HiGHS model built by another tool (PyPSA's, through linopy) with the same options and trace.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from gridopt.case import SolverOptions
from gridopt.model.core import INF, BulkConstraint, LinearModel, RowBlock, VarBlock


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self is Status.OPTIMAL


@dataclass
class Matrix:
    """min c'x + c0 s.t. row_lb <= A x <= row_ub, col_lb <= x <= col_ub."""

    c: np.ndarray
    c0: float
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    integer: np.ndarray

    @property
    def n_nonzeros(self) -> int:
        return int(self.A.nnz)


@dataclass
class Solution:
    """Primal and dual values of a solved model, with readers by variable and row family."""

    model: LinearModel
    status: Status
    objective_cny: float
    x: np.ndarray
    row_dual: np.ndarray
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    mip_gap: float | None = None
    best_bound_cny: float | None = None
    n_variables: int = 0
    n_constraints: int = 0
    n_nonzeros: int = 0
    # integrality dropped: the values are those of the LP relaxation
    relaxed: bool = False
    # what the duals are: "lp" (of a linear programme), "lp_relaxation" (of a MIP's
    # relaxation), "commitment_fixed" (of a MIP's LP with its integer variables fixed at the
    # MIP solution) or "none"
    price_basis: str = "lp"

    def value(self, block: VarBlock | str) -> np.ndarray:
        """Values of a variable family as a (component x snapshot) array."""
        if isinstance(block, str):
            block = self.model.variables[block]
        return self.x[block.cols]

    def dual(self, block: RowBlock | str) -> np.ndarray:
        """Duals of a row family, (component x snapshot); per-MWh rows divided by the weight."""
        if isinstance(block, str):
            block = self.model.row_blocks[block]
        n = int(np.prod(block.shape))
        duals = self.row_dual[block.first_row:block.first_row + n].reshape(block.shape)
        if block.per_weight:
            duals = duals / self.model.price_weight[None, : block.shape[1]]
        return duals


@dataclass
class GapPoint:
    """A MIP's progress as HiGHS reports it: seconds since its start, the incumbent's objective
    (inf: none yet), the best bound and the relative gap (incumbent - bound) / |incumbent|."""

    seconds: float
    objective_cny: float
    bound_cny: float
    gap: float


def trace_gap(h: highspy.Highs, trace: list[GapPoint]) -> None:
    """Append a `GapPoint` to `trace` whenever the incumbent or the bound has changed, as seen
    by HiGHS' MIP callbacks (a new incumbent, its interrupt checks and its log lines)."""

    def seen(event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        point = GapPoint(float(out.running_time), float(out.mip_primal_bound),
                         float(out.mip_dual_bound), float(out.mip_gap))
        last = trace[-1] if trace else None
        if last is None or (last.objective_cny, last.bound_cny) != (point.objective_cny,
                                                                    point.bound_cny):
            trace.append(point)

    for callback in (h.cbMipImprovingSolution, h.cbMipInterrupt, h.cbMipLogging):
        callback.subscribe(seen)


def _close_trace(h: highspy.Highs, trace: list[GapPoint]) -> None:
    """The MIP's final state, which HiGHS reports to no callback (e.g. the bound that closes
    the gap at the end of the search)."""
    info = h.getInfo()
    if info.mip_node_count < 0:  # not solved as a MIP
        return
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    point = GapPoint(float(h.getRunTime()), float(info.objective_function_value) if feasible
                     else float("inf"), float(info.mip_dual_bound), float(info.mip_gap))
    if not trace or (trace[-1].objective_cny, trace[-1].bound_cny) != (point.objective_cny,
                                                                      point.bound_cny):
        trace.append(point)


def seconds_to_gap(trace: list[GapPoint], gap: float) -> float | None:
    """The solver's time when the trace first reaches a relative gap <= `gap` (None: never)."""
    return next((p.seconds for p in trace if p.gap <= gap), None)


def _apply_options(h: highspy.Highs, options: SolverOptions, log: bool = False,
                   log_file: Path | None = None) -> None:
    h.setOptionValue("output_flag", bool(log or log_file))
    h.setOptionValue("log_to_console", bool(log))
    if log_file is not None:
        h.setOptionValue("log_file", str(log_file))
    h.setOptionValue("solver", _METHOD[options.method])
    if options.time_limit_s is not None:
        h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    for key, value in options.options.items():
        h.setOptionValue(str(key), value)


@dataclass
class HighsRun:
    """The outcome of `run_highs`: status, objective, best bound, gap, solve time and the size
    of the model HiGHS was given."""

    status: Status
    message: str
    objective_cny: float
    best_bound_cny: float
    mip_gap: float
    solve_seconds: float
    n_variables: int
    n_constraints: int
    n_nonzeros: int
    n_integer: int


def run_highs(h: highspy.Highs, options: SolverOptions | None = None,
              gap_trace: list[GapPoint] | None = None) -> HighsRun:
    """Solve a HiGHS model built elsewhere (e.g. `linopy.Model.to_highspy()`) with gridopt's
    solver options, optionally tracing the MIP's gap."""
    _apply_options(h, options or SolverOptions())
    if gap_trace is not None:
        trace_gap(h, gap_trace)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    if gap_trace is not None:
        _close_trace(h, gap_trace)
    status, message = _status(h)
    info = h.getInfo()
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    integer = sum(kind != highspy.HighsVarType.kContinuous for kind in h.getLp().integrality_)
    return HighsRun(status=status, message=message,
                    objective_cny=float(info.objective_function_value) if feasible
                    else float("nan"), best_bound_cny=float(info.mip_dual_bound),
                    mip_gap=float(info.mip_gap), solve_seconds=seconds,
                    n_variables=int(h.getNumCol()), n_constraints=int(h.getNumRow()),
                    n_nonzeros=int(h.getNumNz()), n_integer=int(integer))


def matrix_from_blocks(model: LinearModel) -> Matrix:
    """Stack the CSR matrices of the model's row families (all must be BulkConstraints)."""
    n = model.n_cols
    blocks = list(model.row_blocks.values())
    mats = []
    for b in blocks:
        m = b.constraint.csr
        m = sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], n))
        mats.append(m)
    A = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, n))
    lbs = [b.constraint._gridopt_bounds[0] for b in blocks]
    ubs = [b.constraint._gridopt_bounds[1] for b in blocks]
    col_lb, col_ub = model.column_bounds()
    return Matrix(c=model.cost_vector(), c0=model.cost_constant, A=A,
                  row_lb=np.concatenate(lbs) if lbs else np.zeros(0),
                  row_ub=np.concatenate(ubs) if ubs else np.zeros(0),
                  col_lb=col_lb, col_ub=col_ub, integer=model.integrality())


def matrix_from_pyomo(model: LinearModel) -> Matrix:
    """The same matrix through Pyomo's LinearStandardFormCompiler, in our row and column order."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    repn = LinearStandardFormCompiler().write(model.pyomo, mixed_form=True, set_sense=None)
    col_pos = {id(v): i for i, v in enumerate(model._col_data)}
    # the compiler leaves out columns that appear nowhere; map its columns back to ours
    order = np.array([col_pos[id(v)] for v in repn.columns], dtype=np.int64)
    row_of = {id(con): b.first_row + i
              for b in model.row_blocks.values() for i, con in enumerate(b.constraint.values())}
    rows = np.array([row_of[id(r.constraint)] for r in repn.rows], dtype=np.int64)
    if len(np.unique(rows)) != len(rows):
        raise ValueError("ranged rows are not expected in a gridopt model")
    kinds = np.array([r.bound_type for r in repn.rows], dtype=np.int64)
    rhs = np.asarray(repn.rhs, dtype=float)
    lb = np.full(model.n_rows, -INF)
    ub = np.full(model.n_rows, INF)
    # bound_type 0: equality, 1: body <= rhs, -1: body >= rhs
    lb[rows[kinds <= 0]] = rhs[kinds <= 0]
    ub[rows[kinds >= 0]] = rhs[kinds >= 0]
    A = sp.coo_matrix(repn.A)
    full = sp.csr_matrix((A.data, (rows[A.row], order[A.col])),
                         shape=(model.n_rows, model.n_cols))
    c = np.zeros(model.n_cols)
    obj = sp.coo_matrix(repn.c)
    c[order[obj.col]] = obj.data
    col_lb = np.array([v.lb if v.lb is not None else -INF for v in model._col_data])
    col_ub = np.array([v.ub if v.ub is not None else INF for v in model._col_data])
    return Matrix(c=c, c0=float(np.sum(repn.c_offset)), A=full, row_lb=lb, row_ub=ub,
                  col_lb=col_lb, col_ub=col_ub,
                  integer=np.array([v.is_integer() for v in model._col_data], dtype=bool))


def _all_bulk(model: LinearModel) -> bool:
    return all(isinstance(c, BulkConstraint)
               for c in model.pyomo.component_objects(pyo.Constraint, active=True))


# hipo: HiGHS' interior point with a direct (Cholesky-type) factorisation, from the
# highspy-extras package; ipm is IPX, whose conjugate gradients stall on LPs of millions of
# columns (a year of PPRD unit commitment relaxed: benchmarks/RESULTS.md)
_METHOD = {"choose": "choose", "simplex": "simplex", "ipm": "ipm", "hipo": "hipo",
           "pdlp": "pdlp"}
# `method: choose` on an LP of this many columns or more: interior point with crossover, not
# HiGHS' own choice (dual simplex). On the PPRD network dual simplex took 78 s for a week
# (48k columns) where interior point took 26 s, and did not finish a month in 10 minutes where
# interior point took 70 s; below this size both take about a second. Crossover ends at a
# vertex, so prices are the duals of a basis, as after simplex.
IPM_FROM_COLUMNS = 20_000


def _choose_algorithm(h: highspy.Highs, options: SolverOptions, is_lp: bool,
                      n_columns: int) -> None:
    if options.method == "choose" and is_lp and n_columns >= IPM_FROM_COLUMNS \
            and "solver" not in options.options:
        h.setOptionValue("solver", "ipm")


def solve(model: LinearModel, options: SolverOptions | None = None, log: bool = False,
          log_file: Path | None = None, matrix: Matrix | None = None,
          relax: bool | None = None, gap_trace: list[GapPoint] | None = None) -> Solution:
    """Solve the model with HiGHS; never raises for solver outcomes, returns a Status.

    `relax` (default: the options' `relax`) drops integrality. A MIP stopped by the time limit
    with a feasible solution returns it with status time_limit, its gap and best bound.
    `gap_trace`, a list, receives the MIP's progress (`trace_gap`).
    """
    options = options or SolverOptions()
    relax = options.relax if relax is None else relax
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if matrix is None:
        matrix = matrix_from_blocks(model) if _all_bulk(model) else matrix_from_pyomo(model)
    A = matrix.A
    h = highspy.Highs()
    _apply_options(h, options, log, log_file)
    if gap_trace is not None:
        trace_gap(h, gap_trace)
    inf = highspy.kHighsInf
    has_integers = bool(matrix.integer.any())
    integrality = matrix.integer.astype(np.int32)
    if relax:
        integrality[:] = 0
    _choose_algorithm(h, options, not integrality.any(), int(A.shape[1]))
    h.passModel(
        int(A.shape[1]), int(A.shape[0]), int(A.nnz), 2, 1, float(matrix.c0),
        matrix.c.astype(float), np.nan_to_num(matrix.col_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.col_ub, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_ub, neginf=-inf, posinf=inf),
        A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data.astype(float),
        integrality,
    )
    timings["handoff_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    if gap_trace is not None:
        _close_trace(h, gap_trace)
    status, message = _status(h)
    is_lp = not (has_integers and not relax)
    if status is Status.ERROR and is_lp and h.getOptionValue("solver")[1] != "ipm":
        # HiGHS' dual simplex occasionally stops on a numerical failure (model status "Not
        # Set", e.g. "excessive primal values") on an LP that interior point solves; its
        # crossover still gives a basic solution and duals
        h.clearSolver()
        h.setOptionValue("solver", "ipm")
        h.run()
        status, message = _status(h)
        message += " (interior point, after a simplex failure)"
    if status is Status.ERROR and is_lp and options.options.get("presolve") != "off":
        # seen on PPRD horizons of a month: interior point and crossover solve the presolved
        # LP to optimality, then the simplex clean-up after postsolve stops ("Not Set");
        # without presolve there is no postsolve to clean up after
        h.clearSolver()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "ipm")
        h.run()
        status, message = _status(h)
        message += " (interior point without presolve, after a solver failure)"
    if status is Status.ERROR and is_lp and options.options.get("run_crossover") != "off":
        # seen on week windows of the rolling PPRD year: interior point reaches the optimum,
        # then crossover to a vertex fails ("Not Set") with and without presolve; the
        # interior point's own solution and duals are optimal within its tolerances
        h.clearSolver()
        h.setOptionValue("presolve", str(options.options.get("presolve", "choose")))
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
        h.run()
        status, message = _status(h)
        message += " (interior point without crossover, after a solver failure)"
    timings["solve_seconds"] = time.perf_counter() - t1
    info = h.getInfo()
    sol = h.getSolution()
    # a time-limited run keeps its point only if HiGHS says it is feasible
    has_x = status is Status.OPTIMAL or (
        status is Status.TIME_LIMIT
        and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible)
    x = np.asarray(sol.col_value, dtype=float) if has_x else np.full(A.shape[1], np.nan)
    duals = (np.asarray(sol.row_dual, dtype=float) if sol.dual_valid
             else np.full(A.shape[0], np.nan))
    is_mip = bool(integrality.any())
    objective = float(info.objective_function_value) if has_x else float("nan")
    bound = float(info.mip_dual_bound)
    gap = float(info.mip_gap)
    if is_mip and has_x and model.repairs:
        t2 = time.perf_counter()
        repaired = _repair(model, matrix, x, objective, options)
        timings["repair_seconds"] = time.perf_counter() - t2
        if repaired is not None:
            x, objective, note = repaired
            message += f" ({note})"
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
    basis = "lp_relaxation" if relax and has_integers else "lp"
    if is_mip:
        basis = "none"
        if has_x:
            t2 = time.perf_counter()
            fixed = _duals_with_integers_fixed(matrix, x)
            timings["price_lp_seconds"] = time.perf_counter() - t2
            if fixed is not None:
                duals, basis = fixed, "commitment_fixed"
    return Solution(
        model=model, status=status, objective_cny=objective,
        x=x, row_dual=duals, message=message, timings=timings,
        mip_gap=gap if is_mip and has_x else None,
        best_bound_cny=bound if is_mip else None,
        n_variables=int(A.shape[1]), n_constraints=int(A.shape[0]), n_nonzeros=int(A.nnz),
        relaxed=relax and has_integers, price_basis=basis,
    )


# the repair of unserved energy (`_repair`): its sub-MIP's time limit (or the case's, if less),
# and its absolute gap in MWh of lost load (at the case's value of lost load)
REPAIR_TIME_S = 300.0
REPAIR_GAP_MWH = 0.01


def _repair(model: LinearModel, matrix: Matrix, x: np.ndarray, objective: float,
            options: SolverOptions) -> tuple[np.ndarray, float, str] | None:
    """Re-optimise a MIP solution over the neighbourhoods its families give (`model.repairs`),
    every other integer column fixed at its value, starting from the solution itself.

    The families free the integer columns that could serve demand the solution leaves
    unserved (gridopt.model.commitment.unserved_neighbourhood). The sub-MIP is solved to an
    absolute gap of REPAIR_GAP_MWH of lost load, not the case's relative gap: relative to the
    whole system's cost, that gap would accept the shedding as it is. Its solution is feasible
    for the whole MIP and no worse than `x`; its cost is compared with the whole MIP's bound,
    which stays valid. Returns the new solution, its objective and a note, or None.
    """
    free = np.zeros(len(x), dtype=bool)
    for neighbourhood in model.repairs:
        free |= neighbourhood(x)
    free &= matrix.integer
    if not free.any():
        return None
    col_lb, col_ub = matrix.col_lb.copy(), matrix.col_ub.copy()
    fixed = matrix.integer & ~free
    col_lb[fixed] = col_ub[fixed] = np.round(x[fixed])
    sub = Matrix(c=matrix.c, c0=matrix.c0, A=matrix.A, row_lb=matrix.row_lb,
                 row_ub=matrix.row_ub, col_lb=col_lb, col_ub=col_ub, integer=matrix.integer)
    h = _highs_for(sub)
    h.changeColsIntegrality(len(x), np.arange(len(x), dtype=np.int32),
                            matrix.integer.astype(np.int32))
    h.changeObjectiveOffset(float(matrix.c0))
    shedding = model.data.case.load_shedding
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", REPAIR_GAP_MWH * shedding.voll_cny_per_mwh)
    limit = min(REPAIR_TIME_S, options.time_limit_s or REPAIR_TIME_S)
    h.setOptionValue("time_limit", float(limit))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    start = highspy.HighsSolution()
    start.col_value = list(np.where(fixed, np.round(x), x))
    start.value_valid = True
    h.setSolution(start)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None
    new = float(info.objective_function_value)
    if not new < objective - 1e-9 * max(abs(objective), 1.0):
        return None
    freed = int(free.sum())
    return (np.asarray(h.getSolution().col_value, dtype=float), new,
            f"repaired: {freed:,} integer columns of the regions with unserved energy"
            f" re-optimised, objective {objective:,.0f} -> {new:,.0f} CNY")


def _duals_with_integers_fixed(matrix: Matrix, x: np.ndarray) -> np.ndarray | None:
    """Row duals of the LP left when the integer columns are fixed at their values in `x`."""
    col_lb, col_ub = matrix.col_lb.copy(), matrix.col_ub.copy()
    fixed = np.round(x[matrix.integer])
    col_lb[matrix.integer] = fixed
    col_ub[matrix.integer] = fixed
    lp = Matrix(c=matrix.c, c0=matrix.c0, A=matrix.A, row_lb=matrix.row_lb,
                row_ub=matrix.row_ub, col_lb=col_lb, col_ub=col_ub,
                integer=np.zeros_like(matrix.integer))
    h = _highs_for(lp)
    _choose_algorithm(h, SolverOptions(), True, int(lp.A.shape[1]))
    h.run()
    sol = h.getSolution()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
        return None
    return np.asarray(sol.row_dual, dtype=float)


def _status(h: highspy.Highs) -> tuple[Status, str]:
    ms = h.getModelStatus()
    text = h.modelStatusToString(ms)
    S = highspy.HighsModelStatus
    mapping = {
        S.kOptimal: Status.OPTIMAL,
        S.kInfeasible: Status.INFEASIBLE,
        S.kUnbounded: Status.UNBOUNDED,
        S.kUnboundedOrInfeasible: Status.INFEASIBLE_OR_UNBOUNDED,
        S.kTimeLimit: Status.TIME_LIMIT,
        S.kIterationLimit: Status.TIME_LIMIT,
        S.kInterrupt: Status.INTERRUPTED,
        S.kHighsInterrupt: Status.INTERRUPTED,
    }
    return mapping.get(ms, Status.ERROR), text


@dataclass
class Conflict:
    """One family of rows that cannot all hold: which component, when, and by how much."""

    row_family: str
    component: str
    message: str
    n_snapshots: int
    first: str
    last: str
    worst: float
    unit: str


def _highs_for(matrix: Matrix, c: np.ndarray | None = None) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    A = matrix.A
    inf = highspy.kHighsInf
    h.passModel(
        int(A.shape[1]), int(A.shape[0]), int(A.nnz), 2, 1, 0.0,
        (matrix.c if c is None else c).astype(float),
        np.nan_to_num(matrix.col_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.col_ub, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_ub, neginf=-inf, posinf=inf),
        A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data.astype(float),
        np.zeros(A.shape[1], dtype=np.int32),
    )
    return h


def diagnose_infeasibility(model: LinearModel, tolerance: float = 1e-6) -> list[Conflict]:
    """Explain an infeasible model in its own words, by an elastic re-solve.

    Every row gets two penalised slacks, lb <= A x + s_up - s_down <= ub, and the total slack
    is minimised (integrality dropped); rows that only define an auxiliary variable
    (`RowBlock.definition`) keep no slack. Rows left with slack are the requirements that cannot
    be met together; they are grouped by row family and component, with the snapshots
    affected and the largest shortfall (s_up: the row's left side falls short) or excess.
    """
    base = matrix_from_blocks(model) if _all_bulk(model) else matrix_from_pyomo(model)
    n_rows, n_cols = base.A.shape
    eye = sp.identity(n_rows, format="csr")
    slack_ub = np.full(n_rows, INF)
    for block in model.row_blocks.values():
        if block.definition:
            slack_ub[block.first_row:block.first_row + int(np.prod(block.shape))] = 0.0
    elastic = Matrix(
        c=np.concatenate([np.zeros(n_cols), np.ones(2 * n_rows)]), c0=0.0,
        A=sp.hstack([base.A, eye, -eye], format="csr"),
        row_lb=base.row_lb, row_ub=base.row_ub,
        col_lb=np.concatenate([base.col_lb, np.zeros(2 * n_rows)]),
        col_ub=np.concatenate([base.col_ub, slack_ub, slack_ub]),
        integer=np.zeros(n_cols + 2 * n_rows, dtype=bool),
    )
    h = _highs_for(elastic)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return []
    x = np.asarray(h.getSolution().col_value)
    up = x[n_cols:n_cols + n_rows]
    down = x[n_cols + n_rows:]
    conflicts = []
    for block in model.row_blocks.values():
        n = int(np.prod(block.shape))
        sl = slice(block.first_row, block.first_row + n)
        for amount, word in ((up[sl], block.below), (down[sl], block.above)):
            grid = amount.reshape(block.shape)
            hit = grid > tolerance
            for i in np.flatnonzero(hit.any(axis=1)):
                when = np.flatnonzero(hit[i])
                snaps = block.snapshots[when]
                first, last = str(snaps[0])[:16], str(snaps[-1])[:16]
                what = block.meaning.format(block.components[i])
                span = f"at {first}" if len(when) == 1 else (
                    f"in {len(when)} snapshots between {first} and {last}")
                worst = float(grid[i].max())
                conflicts.append(Conflict(
                    block.name, str(block.components[i]),
                    f"{what} cannot be met {span}: {word} up to {worst:,.4g} {block.unit}".strip(),
                    len(when), first, last, worst, block.unit))
    conflicts.sort(key=lambda c: -c.n_snapshots * max(c.worst, 1.0))
    return conflicts


def unbounded_components(model: LinearModel, limit: int = 10) -> list[str]:
    """Variables along which the objective falls without end (from HiGHS' primal ray)."""
    matrix = matrix_from_blocks(model) if _all_bulk(model) else matrix_from_pyomo(model)
    h = _highs_for(matrix)
    h.setOptionValue("presolve", "off")
    h.run()
    _status, has_ray, ray = _primal_ray(h, matrix.A.shape[1])
    if not has_ray:
        return []
    found = []
    for block in model.variables.values():
        values = ray[block.cols]
        for i in np.flatnonzero((np.abs(values) > 1e-9).any(axis=1)):
            found.append(f"{block.name} of {block.components[i]}")
    return found[:limit]


def _primal_ray(h: highspy.Highs, n: int) -> tuple[object, bool, np.ndarray]:
    result = h.getPrimalRay()
    if len(result) == 3:
        status, has_ray, ray = result
    else:
        status, ray = result
        has_ray = ray is not None
    return status, bool(has_ray), np.asarray(ray if ray is not None else np.zeros(n))
