"""The HiGHS backend (highspy): the only module that knows the solver.

The matrix goes to HiGHS in one `passModel` call (`solve_matrix`); HiGHS' statuses map to
gridopt's `Status`; `check_options` checks a case's raw options against HiGHS' own option list
before a solve. An LP that fails numerically is solved again by other algorithms (`_retry`); a
MIP whose optimum HiGHS' own final check calls a "Solve error" keeps that optimum
(`keep_incumbent`, `_checked_optimum`) for gridopt's check relative to each row.
`trace_gap` records a MIP's incumbent, bound and gap from HiGHS' callbacks;
`run_highs` solves a HiGHS model built by another tool (PyPSA's, through linopy) with the same
options and trace, for benchmarks in the same process.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from gridopt.inputs.settings import SolverOptions
from gridopt.solver.memory import kept_heap
from gridopt.solver.types import GapPoint, Matrix, MipProgress, Outcome, Status


def trace_gap(h: highspy.Highs, trace: list[GapPoint]) -> None:
    """Append a `GapPoint` to `trace` whenever the incumbent or the bound has changed, as seen
    by HiGHS' MIP callbacks (a new incumbent, its interrupt checks and its log lines)."""

    def seen(event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        point = GapPoint(
            float(out.running_time),
            float(out.mip_primal_bound),
            float(out.mip_dual_bound),
            float(out.mip_gap),
        )
        last = trace[-1] if trace else None
        if last is None or (last.objective_cny, last.bound_cny) != (
            point.objective_cny,
            point.bound_cny,
        ):
            trace.append(point)

    for callback in (h.cbMipImprovingSolution, h.cbMipInterrupt, h.cbMipLogging):
        callback.subscribe(seen)


def report_progress(h: highspy.Highs, progress: MipProgress, every_s: float = 1.0) -> None:
    """Call `progress` with the MIP's state (a `GapPoint`) from HiGHS' MIP callbacks, at most
    every `every_s` seconds, and at once on a new incumbent."""
    last = [-1e9]

    def seen(event: highspy.HighsCallbackEvent, improving: bool = False) -> None:
        out = event.data_out
        now = float(out.running_time)
        if now - last[0] < every_s and not improving:
            return
        last[0] = now
        progress(
            GapPoint(
                now, float(out.mip_primal_bound), float(out.mip_dual_bound), float(out.mip_gap)
            )
        )

    h.cbMipImprovingSolution.subscribe(lambda event: seen(event, improving=True))
    for callback in (h.cbMipInterrupt, h.cbMipLogging):
        callback.subscribe(seen)


def stop_on(h: highspy.Highs, stop_when: Callable[[np.ndarray], bool], n_cols: int) -> list[bool]:
    """Interrupt the MIP at its first incumbent x with stop_when(x); the returned flag says
    whether it was met. HiGHS gives an incumbent to cbMipImprovingSolution and takes an
    interrupt only from cbMipInterrupt, so the first marks and the second stops."""
    met = [False]

    def improving(event: highspy.HighsCallbackEvent) -> None:
        x = np.asarray(event.data_out.mip_solution, dtype=float)
        if not met[0] and len(x) == n_cols and stop_when(x):
            met[0] = True

    def check(event: highspy.HighsCallbackEvent) -> None:
        if met[0]:
            event.interrupt()

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipInterrupt.subscribe(check)
    return met


@dataclass
class Incumbent:
    """A MIP's last incumbent and the best bound seen by HiGHS' callbacks (`keep_incumbent`)."""

    x: np.ndarray | None = None
    bound_cny: float = -math.inf


def keep_incumbent(h: highspy.Highs, n_cols: int) -> Incumbent:
    """Keep each new incumbent of the MIP and the bound its log lines report."""
    kept = Incumbent()
    # the bound that closes the gap reaches no callback but the log line HiGHS writes at the
    # end of its search, and log lines reach callbacks only with output on (written nowhere
    # unless a log is asked for)
    h.setOptionValue("output_flag", True)

    def bound(event: highspy.HighsCallbackEvent) -> None:
        kept.bound_cny = max(kept.bound_cny, float(event.data_out.mip_dual_bound))

    def improving(event: highspy.HighsCallbackEvent) -> None:
        x = np.asarray(event.data_out.mip_solution, dtype=float)
        if len(x) == n_cols:
            kept.x = x.copy()
        bound(event)

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipLogging.subscribe(bound)
    return kept


def _checked_optimum(
    h: highspy.Highs, matrix: Matrix, kept: Incumbent
) -> tuple[np.ndarray, float] | None:
    """The optimum a MIP found before HiGHS called its solve an error: HiGHS checks the point
    it claims optimal against the original rows with absolute tolerances, however large the
    row (ERGO-Code/HiGHS#2782, #2808; on a PPRD window a row of 29,427 off by 2.4e-5), and
    then forgets the point. Its last incumbent, where the bound seen closes the gap, is that
    point; `gridopt.solver.check` then holds it to tolerances relative to each row, as every
    answer is. None where there is no such incumbent."""
    if kept.x is None:
        return None
    objective = float(matrix.c @ kept.x + matrix.c0)
    gap = objective - kept.bound_cny
    relative = float(h.getOptionValue("mip_rel_gap")[1]) * max(abs(objective), 1e-9)
    absolute = float(h.getOptionValue("mip_abs_gap")[1])
    return (kept.x, objective) if gap <= max(relative, absolute) else None


def _close_trace(h: highspy.Highs, trace: list[GapPoint]) -> None:
    """The MIP's final state, which HiGHS reports to no callback (e.g. the bound that closes
    the gap at the end of the search)."""
    info = h.getInfo()
    if info.mip_node_count < 0:  # not solved as a MIP
        return
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    point = GapPoint(
        float(h.getRunTime()),
        float(info.objective_function_value) if feasible else float("inf"),
        float(info.mip_dual_bound),
        float(info.mip_gap),
    )
    if not trace or (trace[-1].objective_cny, trace[-1].bound_cny) != (
        point.objective_cny,
        point.bound_cny,
    ):
        trace.append(point)


def _apply_options(
    h: highspy.Highs, options: SolverOptions, log: bool = False, log_file: Path | None = None
) -> None:
    h.setOptionValue("output_flag", bool(log or log_file))
    h.setOptionValue("log_to_console", bool(log))
    if log_file is not None:
        h.setOptionValue("log_file", str(log_file))
    h.setOptionValue("solver", _METHOD[options.method])
    if options.time_limit_s is not None:
        h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.mip_abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(options.mip_abs_gap))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    for key, value in options.options.items():
        h.setOptionValue(str(key), value)
    if options.threads is not None or "threads" in options.options:
        # HiGHS keeps one thread pool per process, sized by the first solve: a later solve
        # asking for another size would stop with an error (and no solution) unless the
        # pool is rebuilt
        h.resetGlobalScheduler(True)


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


def _run(h: highspy.Highs) -> None:
    """Run HiGHS with malloc keeping freed memory for reuse (`gridopt.solver.memory`)."""
    with kept_heap():
        h.run()


def run_highs(
    h: highspy.Highs, options: SolverOptions | None = None, gap_trace: list[GapPoint] | None = None
) -> HighsRun:
    """Solve a HiGHS model built elsewhere (e.g. `linopy.Model.to_highspy()`) with gridopt's
    solver options, optionally tracing the MIP's gap."""
    _apply_options(h, options or SolverOptions())
    if gap_trace is not None:
        trace_gap(h, gap_trace)
    t0 = time.perf_counter()
    _run(h)
    seconds = time.perf_counter() - t0
    if gap_trace is not None:
        _close_trace(h, gap_trace)
    status, message = _status(h)
    info = h.getInfo()
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    integer = sum(kind != highspy.HighsVarType.kContinuous for kind in h.getLp().integrality_)
    return HighsRun(
        status=status,
        message=message,
        objective_cny=float(info.objective_function_value) if feasible else float("nan"),
        best_bound_cny=float(info.mip_dual_bound),
        mip_gap=float(info.mip_gap),
        solve_seconds=seconds,
        n_variables=int(h.getNumCol()),
        n_constraints=int(h.getNumRow()),
        n_nonzeros=int(h.getNumNz()),
        n_integer=int(integer),
    )


# hipo: HiGHS' interior point with a direct (Cholesky-type) factorisation, from the
# highspy-extras package (with it installed, HiGHS' "ipm" is HiPO too); ipx: the interior point
# of the highspy wheel, whose conjugate gradients stall on LPs of millions of columns (a year of
# PPRD unit commitment relaxed: benchmarks/RESULTS.md)
_METHOD = {
    "choose": "choose",
    "simplex": "simplex",
    "ipm": "ipm",
    "hipo": "hipo",
    "ipx": "ipx",
    "pdlp": "pdlp",
}
# `method: choose` by the size of an LP (columns), measured on the PPRD network
# (benchmarks/RESULTS.md, "Solver strategy"):
# - below IPM_FROM_COLUMNS, HiGHS' own choice (dual simplex): every method takes about a
#   second and simplex ends at a vertex;
# - from IPM_FROM_COLUMNS, HiPO with crossover: dual simplex is the slowest from a week up and
#   stops on a numerical failure on the week; crossover to a vertex costs a tenth of the
#   interior point's time at a month, and prices are the duals of a basis, as after simplex;
# - from INTERIOR_FROM_COLUMNS, HiPO without crossover: crossover's share of the time grows
#   with the size (a tenth at a month, 240,000 columns), and on the year (2.9 million) it had
#   not built its basis 7 minutes after HiPO had converged, and doubled the memory. The
#   solution is the interior point's, optimal within its tolerances; its prices are interior
#   duals (`price_basis` "lp_interior", tests/test_solver_strategy.py).
IPM_FROM_COLUMNS = 20_000
INTERIOR_FROM_COLUMNS = 500_000
# Left to itself, HiPO analyses both of its Newton systems (the normal equations and the
# augmented system), each with two fill-reducing orderings (AMD and METIS), and keeps the
# cheapest: on the PPRD year 68-90 s before its first iteration, for the normal equations with
# METIS every time (as on every PPRD LP measured: a week, a month, a quarter, the year, the
# expansion case). When `choose` picks HiPO it names them, and HiPO analyses only those
# (17-21 s on the year; benchmarks/RESULTS.md, "Solver strategy").
# Not where a column has more than NORMAL_EQUATIONS_MAX_COLUMN_NNZ non-zeros: a column of k
# non-zeros is a dense k x k block of the normal equations, and there the augmented system
# may be the cheaper (the densest column of a PPRD dispatch LP has 49, of the expansion 577).
NORMAL_EQUATIONS_MAX_COLUMN_NNZ = 1_000
# A MIP given more than one thread (`solver.threads`) under `method: choose` searches its tree
# in parallel (HiGHS' option `parallel` on, which for a MIP starts that many search workers and
# keeps its LPs on serial dual simplex; on an LP it would switch to the parallel dual simplex,
# slower on these models). On 96 h windows of the PPRD year of unit commitment, two workers
# against one: 15.2 s against 22.8 s (August), 44.2 s against 57.1 s (May), same schedule.


def chosen_options(
    options: SolverOptions, is_lp: bool, n_columns: int, densest_column_nnz: int = 0
) -> dict[str, object]:
    """HiGHS options that `method: choose` adds for a model of this kind and size (a
    parallel tree search for a MIP given threads; none for a small LP, another method, or
    options that set the solver themselves), and the crossover the case asks for
    (`solver.crossover` other than auto); HiGHS options the case sets itself win.
    `densest_column_nnz`: the most non-zeros of any one column of the matrix."""
    chosen: dict[str, object] = {}
    if options.method == "choose" and not is_lp and (options.threads or 1) > 1:
        chosen["parallel"] = "on"
    if (
        options.method == "choose"
        and is_lp
        and n_columns >= IPM_FROM_COLUMNS
        and "solver" not in options.options
    ):
        chosen = {
            "solver": "hipo",
            "run_crossover": "on" if n_columns < INTERIOR_FROM_COLUMNS else "off",
        }
        if densest_column_nnz <= NORMAL_EQUATIONS_MAX_COLUMN_NNZ:
            chosen |= {"hipo_system": "normaleq", "hipo_ordering": "metis"}
    if options.crossover != "auto":
        chosen["run_crossover"] = options.crossover
    return {k: v for k, v in chosen.items() if k not in options.options}


def _choose_algorithm(
    h: highspy.Highs, options: SolverOptions, is_lp: bool, A: sp.csr_matrix
) -> None:
    n_columns = int(A.shape[1])
    densest = int(np.bincount(A.indices, minlength=n_columns).max()) if A.nnz else 0
    for key, value in chosen_options(options, is_lp, n_columns, densest).items():
        h.setOptionValue(key, value)  # type: ignore[arg-type]


# What to try when an LP solve stops on a solver failure (model status "Not Set" or
# "Unknown"), in order; a configuration already tried is skipped. Seen on PPRD cases:
# - dual simplex stops on "excessive primal values" on the week, which interior point solves;
# - HiPO stops with "no progress" on some variants of a month, which IPX may still solve;
# - on a month, interior point and crossover solve the presolved LP, then the simplex clean-up
#   after postsolve stops; without presolve there is no postsolve to clean up after;
# - on week windows of the rolling year, crossover to a vertex fails with and without
#   presolve; the interior point's own solution and duals are optimal within its tolerances.
_FALLBACKS: tuple[tuple[dict[str, str], str], ...] = (
    ({"solver": "ipm"}, "interior point, after a simplex failure"),
    ({"solver": "ipx"}, "IPX interior point, after a HiPO failure"),
    (
        {"presolve": "off", "solver": "ipm"},
        "interior point without presolve, after a solver failure",
    ),
    (
        {"presolve": "", "solver": "ipm", "run_crossover": "off"},
        "interior point without crossover, after a solver failure",
    ),
    (
        {"presolve": "", "solver": "ipx", "run_crossover": "off"},
        "IPX interior point without crossover, after a solver failure",
    ),
)


def _config(h: highspy.Highs) -> tuple[str, ...]:
    return tuple(str(h.getOptionValue(k)[1]) for k in ("solver", "presolve", "run_crossover"))


def _retry(h: highspy.Highs, options: SolverOptions) -> tuple[Status, str]:
    """Re-solve an LP after a solver failure with the next configuration of `_FALLBACKS`
    that differs from those tried, until one ends in another status. A presolve of "" is the
    case's own; options the case sets itself (presolve off, crossover off) are kept."""
    tried = {_config(h)}
    failed = str(h.getOptionValue("solver")[1])
    status, message = Status.ERROR, h.modelStatusToString(h.getModelStatus())
    for changes, words in _FALLBACKS:
        if (
            changes.get("solver") == "ipm"
            and len(changes) == 1
            and failed not in ("choose", "simplex", "pdlp")
        ):
            continue  # the failure was an interior point's already
        if changes.get("solver") == "ipx" and len(changes) == 1 and failed not in ("hipo", "ipm"):
            continue
        if options.options.get("presolve") == "off" and changes.get("presolve") == "off":
            continue
        if options.options.get("run_crossover") == "off" and "run_crossover" in changes:
            continue
        for key, value in changes.items():
            h.setOptionValue(key, value or str(options.options.get(key, "choose")))
        if _config(h) in tried:
            continue
        tried.add(_config(h))
        h.clearSolver()
        _run(h)
        status, message = _status(h)
        message += f" ({words})"
        if status is not Status.ERROR:
            break
    return status, message


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
        S.kHighsInterrupt: Status.INTERRUPTED,  # type: ignore[attr-defined]
    }
    return mapping.get(ms, Status.ERROR), text


def solve_matrix(
    matrix: Matrix,
    options: SolverOptions,
    *,
    relax: bool = False,
    log: bool = False,
    log_file: Path | None = None,
    gap_trace: list[GapPoint] | None = None,
    progress: MipProgress | None = None,
    warm_start: np.ndarray | None = None,
    need_duals: bool = True,
    stop_when: Callable[[np.ndarray], bool] | None = None,
) -> Outcome:
    """Solve the matrix with HiGHS (the backend interface, `gridopt.solver.types.Backend`).

    `method: choose` picks the algorithm by the LP's size (`chosen_options`). Numerical
    failures of an LP ("Not Set", "Unknown") are retried with the algorithms that have solved
    such LPs before (`_retry`), and the message says which one answered.
    """
    t0 = time.perf_counter()
    A = matrix.A
    h = highspy.Highs()
    _apply_options(h, options, log, log_file)
    if gap_trace is not None:
        trace_gap(h, gap_trace)
    if progress is not None:
        report_progress(h, progress)
    has_integers = bool(matrix.integer.any())
    integrality = matrix.integer.astype(np.int32)
    if relax:
        integrality[:] = 0
    _choose_algorithm(h, options, not integrality.any(), A)
    if (
        not need_duals
        and not integrality.any()
        and options.crossover == "auto"
        and "run_crossover" not in options.options
    ):
        # the objective and point of the interior point are what is asked: no crossover
        h.setOptionValue("run_crossover", "off")
    _pass(h, matrix, integrality)
    _pass_quadratic(h, matrix, options)
    met = stop_on(h, stop_when, int(A.shape[1])) if stop_when is not None else [False]
    kept = keep_incumbent(h, int(A.shape[1])) if integrality.any() else Incumbent()
    if warm_start is not None and integrality.any():
        # a point to start a MIP from: HiGHS takes it as its first incumbent if feasible
        h.setSolution(
            int(A.shape[1]),
            np.arange(A.shape[1], dtype=np.int32),
            np.asarray(warm_start, dtype=float),
        )
    handoff = time.perf_counter() - t0
    t1 = time.perf_counter()
    _run(h)
    if gap_trace is not None:
        _close_trace(h, gap_trace)
    status, message = _status(h)
    is_lp = not (has_integers and not relax)
    if status is Status.ERROR and is_lp:
        status, message = _retry(h, options)
    seconds = time.perf_counter() - t1
    info = h.getInfo()
    sol = h.getSolution()
    # a time-limited run, or one stopped on `stop_when`, keeps its point only if HiGHS says
    # it is feasible
    stopped = status is Status.INTERRUPTED and met[0]
    if stopped:
        message = "stopped at its first incumbent that met the caller's condition"
    has_x = status is Status.OPTIMAL or (
        (status is Status.TIME_LIMIT or stopped)
        and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    )
    is_mip = bool(integrality.any())
    x = np.asarray(sol.col_value, dtype=float) if has_x else None
    objective = float(info.objective_function_value) if has_x else float("nan")
    gap, bound = float(info.mip_gap), float(info.mip_dual_bound)
    optimum = _checked_optimum(h, matrix, kept) if status is Status.ERROR and is_mip else None
    if optimum is not None:
        x, objective = optimum
        bound = kept.bound_cny
        gap = (objective - bound) / max(abs(objective), 1e-9)
        status = Status.OPTIMAL
        message = (
            "Optimal (HiGHS called its optimum a solve error, its rows checked with absolute"
            " tolerances; checked here relative to each row)"
        )
    return Outcome(
        status=status,
        message=message,
        objective_cny=objective,
        x=x,
        row_dual=np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None,
        mip_gap=gap if is_mip else None,
        best_bound_cny=bound if is_mip else None,
        handoff_seconds=handoff,
        solve_seconds=seconds,
        # an interior point's solution without crossover to a vertex: no valid basis
        interior=has_x and not is_mip and info.basis_validity != 1,
        iterations={
            "ipm": int(info.ipm_iteration_count),
            "crossover": int(info.crossover_iteration_count),
            "simplex": int(info.simplex_iteration_count),
            "pdlp": int(info.pdlp_iteration_count),
        },
    )


def primal_ray(matrix: Matrix) -> np.ndarray | None:
    """HiGHS' primal ray of an unbounded LP (presolve off: a presolved model has none)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    _pass(h, matrix, np.zeros(matrix.A.shape[1], dtype=np.int32), with_constant=False)
    h.setOptionValue("presolve", "off")
    _run(h)
    result = h.getPrimalRay()  # type: ignore[attr-defined]
    if len(result) == 3:
        _status, has_ray, ray = result
    else:
        _status, ray = result
        has_ray = ray is not None
    return np.asarray(ray, dtype=float) if has_ray and ray is not None else None


def _pass(
    h: highspy.Highs, matrix: Matrix, integrality: np.ndarray, with_constant: bool = True
) -> None:
    """The whole matrix to HiGHS in one call (infinite bounds as HiGHS' own infinity)."""
    A = matrix.A
    inf = highspy.kHighsInf
    h.passModel(
        int(A.shape[1]),
        int(A.shape[0]),
        int(A.nnz),
        2,
        1,
        float(matrix.c0) if with_constant else 0.0,
        matrix.c.astype(float),
        np.nan_to_num(matrix.col_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.col_ub, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_ub, neginf=-inf, posinf=inf),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(float),
        integrality.astype(np.int32),
    )


def _pass_quadratic(h: highspy.Highs, matrix: Matrix, options: SolverOptions) -> None:
    """Give HiGHS the quadratic costs of `matrix` (nothing when it has none): the same LP with
    the Hessian 2 diag(q), i.e. min c'x + 1/2 x'Hx, as one quadratic programme (a continuous
    one: `gridopt.solver.solve` refuses integer columns with quadratic costs).

    The model goes again as a whole, without an integrality vector: HiGHS' QP solver does not
    take one (highspy 1.15.1 aborts on a QP passed with it, even all zeros).
    """
    if matrix.q is None:
        return
    A = matrix.A.tocsc()
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(A.shape[1]), int(A.shape[0])
    lp.offset_ = float(matrix.c0)
    lp.col_cost_ = matrix.c.astype(float)
    lp.col_lower_ = np.nan_to_num(matrix.col_lb, neginf=-inf, posinf=inf)
    lp.col_upper_ = np.nan_to_num(matrix.col_ub, neginf=-inf, posinf=inf)
    lp.row_lower_ = np.nan_to_num(matrix.row_lb, neginf=-inf, posinf=inf)
    lp.row_upper_ = np.nan_to_num(matrix.row_ub, neginf=-inf, posinf=inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    qp = highspy.HighsModel()
    qp.lp_ = lp
    cols = np.flatnonzero(matrix.q)
    qp.hessian_.dim_ = lp.num_col_
    qp.hessian_.format_ = highspy.HessianFormat.kTriangular
    # column-wise lower triangle: one diagonal entry in each column with a quadratic cost
    qp.hessian_.start_ = np.searchsorted(cols, np.arange(lp.num_col_ + 1)).astype(np.int32)
    qp.hessian_.index_ = cols.astype(np.int32)
    qp.hessian_.value_ = 2.0 * matrix.q[cols]
    h.passModel(qp)
    # HiGHS adds 1e-7 x'x to a QP's Hessian by default, which moves its duals (the prices) by
    # 1e-7 x the output, ~1e-6 of a price; unregularised, they are exact (PYPOWER's to 1e-12)
    if "qp_regularization_value" not in options.options:
        h.setOptionValue("qp_regularization_value", 0.0)
    # simplex and PDLP are not QP solvers; where interior point was chosen (an LP of
    # IPM_FROM_COLUMNS columns or more), HiPO is the interior point that takes a QP: HiGHS'
    # active-set QP solver took 15 s on MATPOWER's 10,000-bus case where HiPO took 6 s, and
    # did not finish the 70,000-bus one in 30 minutes
    chosen = h.getOptionValue("solver")[1]
    if chosen in ("simplex", "pdlp"):
        h.setOptionValue("solver", "choose")
    elif chosen == "ipm":
        h.setOptionValue("solver", "hipo")


# ---- checking raw options before a solve ----------------------------------------------------

# a case never makes the solver read or write files, nor take over gridopt's own log
# (shown with --log and always saved as solver.log)
_OWN_LOG = ("output_flag", "log_to_console")
_FILE_WORDS = ("file", "write_", "read_", "mip_improving_solution")
# the loosest feasibility or optimality tolerance gridopt passes on: looser ones let HiGHS
# call an answer optimal that breaks the model's rows (e.g. demand left unserved and
# unaccounted for); HiGHS itself accepts any positive value
MAX_TOLERANCE = 1e-3
# options whose range in HiGHS lets them change the model or the machine's load
_MOST = {
    "small_matrix_value": (
        1e-6,
        "HiGHS drops every matrix coefficient below it, which changes the model",
    ),
    "threads": (4096, "the most threads gridopt starts"),
}


@dataclass(frozen=True)
class _OptionSpec:
    name: str
    kind: str  # bool, integer, double, string
    low: float | None
    high: float | None
    description: str


@functools.cache
def _option_specs() -> dict[str, _OptionSpec]:
    """HiGHS' own list of options, with types and ranges, from its options file."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "options.txt"
        h.writeOptions(str(path))
        text = path.read_text(encoding="utf-8", errors="replace")
    specs: dict[str, _OptionSpec] = {}
    notes: list[str] = []
    kind, low, high = "", None, None
    for line in text.splitlines():
        line = line.strip()
        head = re.match(
            r"#\s*\[type:\s*(\w+)(?:.*?range:\s*[\[{]\s*([^,\]}]+)\s*,\s*"
            r"([^\]}]+)[\]}])?",
            line,
        )
        if head:
            kind = head.group(1)
            low, high = (
                (_number(head.group(2)), _number(head.group(3))) if head.group(2) else (None, None)
            )
        elif line.startswith("#"):
            notes.append(line.lstrip("# ").strip())
        elif "=" in line and kind:
            name = line.split("=", 1)[0].strip()
            specs[name] = _OptionSpec(name, kind, low, high, " ".join(notes).rstrip(", "))
            notes, kind, low, high = [], "", None, None
        elif not line:
            notes = []
    return specs


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def check_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(option, rule broken) for each raw option HiGHS would not take as given, checked
    against HiGHS' own option list: the name, the type (true/false, whole number, number,
    text), the range, and HiGHS' own acceptance of the value; numbers must be finite,
    tolerances at most `MAX_TOLERANCE`, and options that read or write files or take over
    the log are refused (the backend interface, `gridopt.solver.types.Backend`)."""
    specs = _option_specs()
    found: list[tuple[str, str]] = []
    scratch: highspy.Highs | None = None
    for key, value in options.items():
        name = str(key)
        spec = specs.get(name)
        if spec is None:
            near = difflib.get_close_matches(name, list(specs), n=1)
            found.append(
                (name, "is not a HiGHS option" + (f" (did you mean {near[0]}?)" if near else ""))
            )
            continue
        rule = _option_rule(spec, value)
        if rule is None:
            if scratch is None:
                scratch = highspy.Highs()
                scratch.setOptionValue("output_flag", False)
            if scratch.setOptionValue(name, value) != highspy.HighsStatus.kOk:
                rule = f"HiGHS does not take this value ({spec.description})"
        if rule is not None:
            found.append((name, rule))
    return found


def _option_rule(spec: _OptionSpec, value: Any) -> str | None:
    name = spec.name
    if name in _OWN_LOG:
        return "is set by gridopt: the log is shown with --log and always saved as solver.log"
    if any(word in name for word in _FILE_WORDS):
        return "reads or writes files; a case does not make the solver touch files"
    if spec.kind == "bool":
        return None if isinstance(value, bool) else "HiGHS takes true or false"
    if spec.kind == "string":
        if isinstance(value, str):
            return None
        hint = (
            ' (YAML reads off, on, yes and no as true or false: write "off" in quotes)'
            if isinstance(value, bool)
            else ""
        )
        return f"HiGHS takes text here ({spec.description}){hint}"
    if isinstance(value, str):  # HiGHS reads numbers from text too (YAML reads 1e9 as text)
        with contextlib.suppress(ValueError):
            value = int(value) if spec.kind == "integer" else float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"HiGHS takes {'a whole number' if spec.kind == 'integer' else 'a number'}"
    if spec.kind == "integer" and not isinstance(value, int):
        return "HiGHS takes a whole number (no decimal point)"
    if not math.isfinite(value):
        return "must be a finite number (leave the option out for HiGHS' default)"
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        return f"must lie in [{spec.low:g}, {spec.high:g}] (HiGHS' range)"
    if name in _MOST and value > _MOST[name][0]:
        return f"must be at most {_MOST[name][0]:g}: {_MOST[name][1]}"
    if name.endswith("_tolerance") and value > MAX_TOLERANCE:
        return (
            f"a tolerance above {MAX_TOLERANCE:g} lets the solver call an answer optimal"
            " that breaks the model's balances (HiGHS' default is"
            f" {_default_of(name)})"
        )
    return None


def _default_of(name: str) -> str:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    status, value = h.getOptionValue(name)
    return f"{value:g}" if status == highspy.HighsStatus.kOk else "much smaller"
