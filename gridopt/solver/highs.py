"""The HiGHS backend (highspy): the only module that knows the solver.

The matrix goes to HiGHS in one `passModel` call (`solve_matrix`); HiGHS' statuses map to
gridopt's `Status`. `trace_gap` records a MIP's incumbent, bound and gap from HiGHS' callbacks;
`run_highs` solves a HiGHS model built by another tool (PyPSA's, through linopy) with the same
options and trace, for benchmarks in the same process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np

from gridopt.inputs.settings import SolverOptions
from gridopt.solver.types import GapPoint, Matrix, Outcome, Status


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
    if options.mip_abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(options.mip_abs_gap))
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


# hipo: HiGHS' interior point with a direct (Cholesky-type) factorisation, from the
# highspy-extras package (with it installed, HiGHS' "ipm" is HiPO too); ipx: the interior point
# of the highspy wheel, whose conjugate gradients stall on LPs of millions of columns (a year of
# PPRD unit commitment relaxed: benchmarks/RESULTS.md)
_METHOD = {"choose": "choose", "simplex": "simplex", "ipm": "ipm", "hipo": "hipo",
           "ipx": "ipx", "pdlp": "pdlp"}
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


def chosen_options(options: SolverOptions, is_lp: bool, n_columns: int) -> dict[str, object]:
    """HiGHS options that `method: choose` adds for a model of this kind and size (none for a
    MIP, a small LP, another method, or options that set the solver themselves); options the
    case sets itself win."""
    if options.method != "choose" or not is_lp or n_columns < IPM_FROM_COLUMNS \
            or "solver" in options.options:
        return {}
    chosen = {"solver": "hipo", "run_crossover": "on" if n_columns < INTERIOR_FROM_COLUMNS
              else "off"}
    return {k: v for k, v in chosen.items() if k not in options.options}


def _choose_algorithm(h: highspy.Highs, options: SolverOptions, is_lp: bool,
                      n_columns: int) -> None:
    for key, value in chosen_options(options, is_lp, n_columns).items():
        h.setOptionValue(key, value)


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
    ({"presolve": "off", "solver": "ipm"}, "interior point without presolve, after a solver"
                                           " failure"),
    ({"presolve": "", "solver": "ipm", "run_crossover": "off"},
     "interior point without crossover, after a solver failure"),
    ({"presolve": "", "solver": "ipx", "run_crossover": "off"},
     "IPX interior point without crossover, after a solver failure"),
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
        if changes.get("solver") == "ipm" and len(changes) == 1 and failed not in (
                "choose", "simplex", "pdlp"):
            continue  # the failure was an interior point's already
        if changes.get("solver") == "ipx" and len(changes) == 1 and failed not in (
                "hipo", "ipm"):
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
        h.run()
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


def solve_matrix(matrix: Matrix, options: SolverOptions, *, relax: bool = False,
                 log: bool = False, log_file: Path | None = None,
                 gap_trace: list[GapPoint] | None = None,
                 start: np.ndarray | None = None) -> Outcome:
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
    has_integers = bool(matrix.integer.any())
    integrality = matrix.integer.astype(np.int32)
    if relax:
        integrality[:] = 0
    _choose_algorithm(h, options, not integrality.any(), int(A.shape[1]))
    _pass(h, matrix, integrality)
    if start is not None and integrality.any():
        # a feasible point of the MIP to start from (its integer values are kept as they are)
        point = highspy.HighsSolution()
        point.col_value = list(np.asarray(start, dtype=float))
        point.value_valid = True
        h.setSolution(point)
    handoff = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    if gap_trace is not None:
        _close_trace(h, gap_trace)
    status, message = _status(h)
    is_lp = not (has_integers and not relax)
    if status is Status.ERROR and is_lp:
        status, message = _retry(h, options)
    seconds = time.perf_counter() - t1
    info = h.getInfo()
    sol = h.getSolution()
    # a time-limited run keeps its point only if HiGHS says it is feasible
    has_x = status is Status.OPTIMAL or (
        status is Status.TIME_LIMIT
        and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible)
    is_mip = bool(integrality.any())
    return Outcome(
        status=status, message=message,
        objective_cny=float(info.objective_function_value) if has_x else float("nan"),
        x=np.asarray(sol.col_value, dtype=float) if has_x else None,
        row_dual=np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None,
        mip_gap=float(info.mip_gap) if is_mip else None,
        best_bound_cny=float(info.mip_dual_bound) if is_mip else None,
        handoff_seconds=handoff, solve_seconds=seconds,
        # an interior point's solution without crossover to a vertex: no valid basis
        interior=has_x and not is_mip and info.basis_validity != 1,
        iterations={"ipm": int(info.ipm_iteration_count),
                    "crossover": int(info.crossover_iteration_count),
                    "simplex": int(info.simplex_iteration_count),
                    "pdlp": int(info.pdlp_iteration_count)})


def primal_ray(matrix: Matrix) -> np.ndarray | None:
    """HiGHS' primal ray of an unbounded LP (presolve off: a presolved model has none)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    _pass(h, matrix, np.zeros(matrix.A.shape[1], dtype=np.int32), with_constant=False)
    h.setOptionValue("presolve", "off")
    h.run()
    result = h.getPrimalRay()  # type: ignore[attr-defined]
    if len(result) == 3:
        _status, has_ray, ray = result
    else:
        _status, ray = result
        has_ray = ray is not None
    return np.asarray(ray, dtype=float) if has_ray and ray is not None else None


def _pass(h: highspy.Highs, matrix: Matrix, integrality: np.ndarray,
          with_constant: bool = True) -> None:
    """The whole matrix to HiGHS in one call (infinite bounds as HiGHS' own infinity)."""
    A = matrix.A
    inf = highspy.kHighsInf
    h.passModel(
        int(A.shape[1]), int(A.shape[0]), int(A.nnz), 2, 1,
        float(matrix.c0) if with_constant else 0.0,
        matrix.c.astype(float), np.nan_to_num(matrix.col_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.col_ub, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_lb, neginf=-inf, posinf=inf),
        np.nan_to_num(matrix.row_ub, neginf=-inf, posinf=inf),
        A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data.astype(float),
        integrality.astype(np.int32),
    )
