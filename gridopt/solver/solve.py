"""Solve a model: its matrix goes to a solver backend, the answer comes back as a `Solution`.

This is the solver-neutral part of solving. The model's matrix (`gridopt.solver.matrix`) goes to
the backend the case names (`solver.backend`, `gridopt.solver.backends`), which returns an
`Outcome`; a solve always returns a `Solution` with a `Status`, and only the CLI turns statuses
into exit codes.

Models with integer variables (unit commitment, blocks of expansion) are MIPs. `relax` drops
integrality and solves the LP relaxation. A MIP has no duals, so after it the integer variables
are fixed at the MIP solution and the remaining LP is solved for its duals: the prices of a MIP
are those of its dispatch with the commitment fixed (`Solution.price_basis` says which prices
are given). Before solving, the case's raw solver options are checked by the backend
(`solver_option_problems`: an input error, not a note in the solver's log); after, the point
the backend returns is checked against the model's own rows (`gridopt.solver.check`): one that
breaks them is an error in words, never a solution. `gap_trace` records the MIP's incumbent,
bound and gap as the backend reports them (`GapPoint`), so that the time taken to reach a gap
can be read afterwards (`seconds_to_gap`).

Quadratic costs (`LinearModel.add_quadratic_cost`) make an LP a convex QP, which the backend
solves directly (HiGHS: `gridopt.solver.highs._pass_quadratic`); its row duals are the prices
as for an LP. HiGHS has no mixed-integer QP: a model with integer variables (not relaxed) and
quadratic costs is refused with the ways out (`refuse_quadratic_mip`).

A MIP solution that leaves demand unserved is first re-optimised over the integer columns that
the model's families name for it (`LinearModel.repairs`; unit commitment frees the commitment of
the regions that shed), every other integer fixed, to an absolute gap of a hundredth of a MWh
of lost load (`_repair`): a relative gap on the whole system's cost would accept the shedding.
Its relaxation, rounded, is tried first: a schedule that serves all demand needs no search.

With `mip_start: rounded_relaxation` a MIP first solves its LP relaxation, the families round
it (`LinearModel.roundings`), and the LP with those integers fixed is solved (where that is
infeasible, the best rounding of the relaxation is searched instead, `_neighbourhood`):
within the MIP's gap of the relaxation's bound that is the answer, otherwise the MIP's first
incumbent (`_rounded_relaxation`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gridopt.errors import InputError, Problem
from gridopt.inputs.case_file import _with_lines
from gridopt.inputs.settings import Case, SolverOptions
from gridopt.model.core import LinearModel
from gridopt.solver.backends import backend_for
from gridopt.solver.check import breaches
from gridopt.solver.matrix import model_matrix
from gridopt.solver.types import (
    Backend,
    GapPoint,
    Matrix,
    MipProgress,
    Outcome,
    Solution,
    Status,
)


def solve(
    model: LinearModel,
    options: SolverOptions | None = None,
    log: bool = False,
    log_file: Path | None = None,
    matrix: Matrix | None = None,
    relax: bool | None = None,
    gap_trace: list[GapPoint] | None = None,
    progress: MipProgress | None = None,
    need_duals: bool = True,
) -> Solution:
    """Solve the model; never raises for solver outcomes, returns a Status.

    `relax` (default: the options' `relax`) drops integrality. A MIP stopped by the time limit
    with a feasible solution returns it with status time_limit, its gap and best bound.
    `gap_trace`, a list, receives the MIP's progress; `progress` is called with it as the
    search goes (a live line), whatever the backend. `need_duals` False: only the objective
    and the point are read (the backend may skip crossover; the duals may be missing).
    """
    options = options or SolverOptions()
    relax = options.relax if relax is None else relax
    backend = backend_for(options.backend)
    problems = _option_problems(backend, options, model.data.path)
    if problems:
        raise InputError(problems)
    t0 = time.perf_counter()
    if matrix is None:
        matrix = model_matrix(model)
    refuse_quadratic_mip(model, matrix, relax)
    prepared = time.perf_counter() - t0
    start: Start | None = None
    if options.mip_start == "rounded_relaxation" and model.roundings and not relax:
        start = _rounded_relaxation(model, backend, matrix, options)
        if start is not None and start.accepted is not None:
            return solution_of(model, matrix, start.accepted, options, relax, prepared)
    out = backend.solve_matrix(
        matrix,
        start.remaining(options) if start is not None else options,
        relax=relax,
        log=log,
        log_file=log_file,
        gap_trace=gap_trace,
        progress=progress,
        need_duals=need_duals,
        warm_start=start.point if start is not None else None,
    )
    if start is not None:
        out = start.before(out)
    return solution_of(model, matrix, out, options, relax, prepared)


def solution_of(
    model: LinearModel,
    matrix: Matrix,
    out: Outcome,
    options: SolverOptions | None = None,
    relax: bool | None = None,
    prepared_seconds: float = 0.0,
) -> Solution:
    """The `Solution` of a backend's `Outcome` for the model's matrix (solved here, or
    elsewhere, e.g. in a worker of a study): a MIP's prices come from the LP with its integers
    fixed, solved here. A point that breaks the model's own rows is not a solution
    (`_checked`)."""
    options = options or SolverOptions()
    relax = options.relax if relax is None else relax
    backend = backend_for(options.backend)
    out = _checked(model, matrix, out, relax)
    timings: dict[str, float] = {}
    timings["handoff_seconds"] = prepared_seconds + out.handoff_seconds
    timings["solve_seconds"] = out.solve_seconds
    n_rows, n_cols = matrix.A.shape
    has_x = out.x is not None
    x = out.x if out.x is not None else np.full(n_cols, np.nan)
    duals = out.row_dual if out.row_dual is not None else np.full(n_rows, np.nan)
    has_integers = bool(matrix.integer.any())
    is_mip = has_integers and not relax
    objective, gap, message = out.objective_cny, out.mip_gap, out.message
    if is_mip and has_x and model.repairs:
        t2 = time.perf_counter()
        repaired = _repair(model, backend, matrix, x, objective, options, out.solve_seconds)
        timings["repair_seconds"] = time.perf_counter() - t2
        if repaired is not None:
            x, objective, note = repaired
            message += f" ({note})"
            if out.best_bound_cny is not None:
                gap = abs(objective - out.best_bound_cny) / max(abs(objective), 1e-9)
    basis = "lp_relaxation" if relax and has_integers else "lp"
    if basis == "lp" and out.interior:
        basis = "lp_interior"  # no crossover: interior duals (gridopt.solver.highs)
    if is_mip:
        basis = "none"
        if has_x and out.duals_with_integers_fixed and out.row_dual is not None and x is out.x:
            # the answer is the LP of its integers fixed (`_rounded_relaxation`): its duals
            basis = "commitment_fixed"
        elif has_x:
            t2 = time.perf_counter()
            fixed = _duals_with_integers_fixed(backend, matrix, x)
            timings["price_lp_seconds"] = time.perf_counter() - t2
            if fixed is not None:
                duals, basis = fixed, "commitment_fixed"
    return Solution(
        model=model,
        status=out.status,
        objective_cny=objective if has_x else float("nan"),
        x=x,
        row_dual=duals,
        message=message,
        timings=timings,
        mip_gap=gap if is_mip and has_x else None,
        best_bound_cny=out.best_bound_cny if is_mip else None,
        n_variables=int(n_cols),
        n_constraints=int(n_rows),
        n_nonzeros=int(matrix.A.nnz),
        relaxed=relax and has_integers,
        price_basis=basis,
        iterations=out.iterations,
    )


def solver_option_problems(case: Case, path: Path | str) -> list[Problem]:
    """The case's raw solver options (`solver.options`) that its backend would not take,
    each located in the case file."""
    return _option_problems(backend_for(case.solver.backend), case.solver, path)


def _option_problems(
    backend: Backend, options: SolverOptions, path: Path | str | None
) -> list[Problem]:
    if not options.options:
        return []
    file = str(path) if path is not None else "solver options"
    found = [
        Problem(file, rule, column=f"solver.options.{name}", value=options.options.get(name))
        for name, rule in backend.check_options(options.options)
    ]
    return _with_lines(found, Path(path)) if found and path is not None else found


def _checked(model: LinearModel, matrix: Matrix, out: Outcome, relax: bool) -> Outcome:
    """The backend's outcome, unless its point breaks the model: then an error in words."""
    if out.x is None:
        return out
    found = breaches(model, matrix, out.x, relax=relax or not matrix.integer.any())
    if not found:
        return out
    return dataclasses.replace(
        out,
        status=Status.ERROR,
        x=None,
        row_dual=None,
        objective_cny=float("nan"),
        message=f"the solver reported '{out.message}' for a point that breaks the model's"
        " own rows: " + "; ".join(found),
    )


def refuse_quadratic_mip(model: LinearModel, matrix: Matrix, relax: bool) -> None:
    """Raise `InputError` for quadratic costs on a model with integer columns (not relaxed),
    naming the integer variable families and the ways out."""
    if matrix.q is None or relax or not matrix.integer.any():
        return
    kinds = sorted(
        {b.name for b in model.variables.values() if matrix.integer[b.cols.ravel()].any()}
    )
    raise InputError(
        [
            Problem(
                str(model.data.path),
                "quadratic costs cannot be solved with integer variables"
                f" ({', '.join(kinds)}): HiGHS has no mixed-integer quadratic programming."
                " Linearise the quadratic costs in segments"
                " (gridopt import matpower --quadratic-segments N), or"
                " solve the LP relaxation (--relax)",
                column="quadratic_cost_cny_per_mw2h",
            )
        ]
    )


# the repair of unserved energy (`_repair`): its sub-MIP's time limit, at most the case's and
# REPAIR_TIME_S, and otherwise as long as the MIP took, but at least REPAIR_MIN_TIME_S (on the
# windows of the PPRD year of unit commitment the repair, proving its gap over every cost of the
# regions it frees, took more than twice the MIP's own time in late March); and its absolute
# gap in MWh of lost load (at the case's value of lost load)
REPAIR_TIME_S = 300.0
REPAIR_MIN_TIME_S = 30.0
REPAIR_GAP_MWH = 0.01


def _repair(
    model: LinearModel,
    backend: Backend,
    matrix: Matrix,
    x: np.ndarray,
    objective: float,
    options: SolverOptions,
    mip_seconds: float = REPAIR_TIME_S,
) -> tuple[np.ndarray, float, str] | None:
    """Re-optimise a MIP solution over the neighbourhoods its families give (`model.repairs`),
    every other integer column fixed at its value, starting from the solution itself.

    The families free the integer columns that could serve demand the solution leaves
    unserved (gridopt.model.commitment.unserved_neighbourhood). The sub-MIP is solved to an
    absolute gap of REPAIR_GAP_MWH of lost load, not the case's relative gap: relative to the
    whole system's cost, that gap would accept the shedding as it is. Its solution is feasible
    for the whole MIP and no worse than `x`; its cost is compared with the whole MIP's bound,
    which stays valid. It stops at its first solution that leaves no region short (every
    neighbourhood empty): that solution is no worse than `x`, so the MIP's own gap still
    holds, and proving the REPAIR_GAP_MWH gap beyond it bought nothing the window keeps (on the
    PPRD year of unit commitment such repairs ran to their time limit). Otherwise it is given
    as long as the MIP took (`REPAIR_MIN_TIME_S` to `REPAIR_TIME_S`, `mip_seconds`); stopped
    there, it keeps the best it found. The note says which.

    Its relaxation (the freed integers continuous) comes first: the sub-MIP cannot do better
    than it. Where it is no lower than `x`'s objective (less the gap), `x` stays, with a
    note; where it still leaves demand unserved, no schedule of the freed units serves it
    all, and the sub-MIP gets only `REPAIR_MIN_TIME_S` to serve what it can. Otherwise that
    relaxation is rounded as a MIP's start is (`_rounded_repair`): a rounded schedule that
    costs less than `x` and serves all demand is the repair, found by one LP (and taken on
    the same terms as the search's first schedule that serves all demand); one that costs
    less but still sheds is where the search starts. Returns the new solution (or `x`), its
    objective and a note, or None where nothing is short or nothing better was found."""
    free = np.zeros(len(x), dtype=bool)
    for neighbourhood in model.repairs:
        free |= neighbourhood(x)
    free &= matrix.integer
    if not free.any():
        return None
    col_lb, col_ub = matrix.col_lb.copy(), matrix.col_ub.copy()
    fixed = matrix.integer & ~free
    col_lb[fixed] = col_ub[fixed] = np.round(x[fixed])
    sub = Matrix(
        c=matrix.c,
        c0=matrix.c0,
        A=matrix.A,
        row_lb=matrix.row_lb,
        row_ub=matrix.row_ub,
        col_lb=col_lb,
        col_ub=col_ub,
        integer=matrix.integer,
    )
    voll = model.data.case.load_shedding.voll_cny_per_mwh
    limit = min(
        REPAIR_TIME_S,
        options.time_limit_s or REPAIR_TIME_S,
        max(REPAIR_MIN_TIME_S, mip_seconds),
    )
    # the sub-MIP's own relaxation bounds what it can do: no better than its objective, and
    # where even the freed units' commitment taken continuous leaves demand unserved, no
    # schedule of theirs serves it all (the search could never stop at its first schedule
    # that does, and on the PPRD year such repairs ran to their limit)
    relaxed = backend.solve_matrix(sub, options, relax=True, need_duals=False)
    why = ""
    start = np.where(fixed, np.round(x), x)
    if relaxed.x is not None and relaxed.status is Status.OPTIMAL:
        if relaxed.objective_cny >= objective - REPAIR_GAP_MWH * voll:
            return (
                x,
                objective,
                "not repaired: with the commitment of the regions with unserved energy"
                " relaxed the objective is no lower, so no schedule of theirs serves more",
            )
        if any(n(relaxed.x).any() for n in model.repairs):
            limit = min(limit, REPAIR_MIN_TIME_S)
            why = ", given the least time: its relaxation leaves demand unserved too"
        rounded = _rounded_repair(model, backend, sub, relaxed.x, fixed, x)
        if rounded is not None and rounded.x is not None and rounded.objective_cny < objective:
            if not any(n(rounded.x).any() for n in model.repairs):
                return (
                    rounded.x,
                    rounded.objective_cny,
                    f"repaired: {int(free.sum()):,} integer columns of the regions with"
                    " unserved energy rounded from their relaxation, objective"
                    f" {objective:,.0f} -> {rounded.objective_cny:,.0f} CNY, serving all"
                    " demand",
                )
            start = rounded.x
    settings = options.model_copy(
        update={"mip_gap": 0.0, "time_limit_s": limit, "mip_abs_gap": REPAIR_GAP_MWH * voll}
    )
    out = backend.solve_matrix(
        sub,
        settings,
        warm_start=start,
        stop_when=lambda point: not any(n(point).any() for n in model.repairs),
    )
    if out.x is None or not out.objective_cny < objective - 1e-9 * max(abs(objective), 1.0):
        return None
    stop = {
        Status.TIME_LIMIT: f", stopped at its limit of {limit:.0f} s",
        Status.INTERRUPTED: ", stopped at its first solution that serves all demand",
    }
    return (
        out.x,
        out.objective_cny,
        f"repaired: {int(free.sum()):,} integer columns of the regions with unserved energy"
        f" re-optimised, objective {objective:,.0f} -> {out.objective_cny:,.0f} CNY"
        + stop.get(out.status, "")
        + why,
    )


def _rounded_repair(
    model: LinearModel,
    backend: Backend,
    sub: Matrix,
    relaxed: np.ndarray,
    fixed: np.ndarray,
    x: np.ndarray,
) -> Outcome | None:
    """The repair's relaxation (the freed integers continuous, `sub`) rounded by the model's
    families (`LinearModel.roundings`, as a MIP's start is), the other integers kept at their
    values in `x`, and the LP of the rest solved with all integers fixed. A schedule of the
    whole MIP where that LP is feasible, found in one LP rather than a search; None where it
    is not."""
    point = _rounded(model, np.clip(relaxed, sub.col_lb, sub.col_ub))
    point[fixed] = np.round(x[fixed])
    out = _solve_with_integers_fixed(backend, sub, point, need_duals=False)
    if out.x is None or not out.status.has_solution:
        return None
    return out


def _rounded(model: LinearModel, relaxed: np.ndarray) -> np.ndarray:
    """A copy of a relaxed point with its integer columns rounded by the model's families
    (`LinearModel.roundings`, e.g. unit commitment's `rounded_up_commitment`)."""
    point = relaxed.copy()
    for rounding in model.roundings:
        point = rounding(point)
    return point


def _integers_fixed(matrix: Matrix, x: np.ndarray) -> Matrix:
    """The LP left when the integer columns are fixed at their (rounded) values in `x`."""
    col_lb, col_ub = matrix.col_lb.copy(), matrix.col_ub.copy()
    fixed = np.round(x[matrix.integer])
    col_lb[matrix.integer] = fixed
    col_ub[matrix.integer] = fixed
    return dataclasses.replace(
        matrix, col_lb=col_lb, col_ub=col_ub, integer=np.zeros_like(matrix.integer)
    )


def _solve_with_integers_fixed(
    backend: Backend, matrix: Matrix, x: np.ndarray, need_duals: bool = True
) -> Outcome:
    """The LP left when the integer columns are fixed at their values in `x`, solved; with
    `need_duals`, with crossover, so that the prices of a MIP stay the duals of a vertex."""
    options = SolverOptions(options={"run_crossover": "on"}) if need_duals else SolverOptions()
    return backend.solve_matrix(
        _integers_fixed(matrix, x), options, relax=False, need_duals=need_duals
    )


def _duals_with_integers_fixed(
    backend: Backend, matrix: Matrix, x: np.ndarray
) -> np.ndarray | None:
    """Row duals of the LP left when the integer columns are fixed at their values in `x`."""
    out = _solve_with_integers_fixed(backend, matrix, x)
    if not out.status.has_solution or out.row_dual is None:
        return None
    return out.row_dual


@dataclasses.dataclass
class Start:
    """Where a MIP starts after its rounded relaxation (`_rounded_relaxation`): the answer
    itself (`accepted`) or a point for the solver to start from, and the time spent."""

    accepted: Outcome | None
    point: np.ndarray | None
    seconds: float
    note: str

    def remaining(self, options: SolverOptions) -> SolverOptions:
        """The options of the MIP after it: what is left of the time limit."""
        if options.time_limit_s is None:
            return options
        left = max(options.time_limit_s - self.seconds, MIP_MIN_TIME_S)
        return options.model_copy(update={"time_limit_s": left})

    def before(self, out: Outcome) -> Outcome:
        """The MIP's outcome with the start's time and note."""
        return dataclasses.replace(
            out,
            solve_seconds=out.solve_seconds + self.seconds,
            message=f"{out.message} ({self.note})",
        )


# the least time a MIP is given after its rounded relaxation, whatever the time limit left
MIP_MIN_TIME_S = 10.0


@dataclasses.dataclass
class Found:
    """What the search of the relaxation's neighbourhood found (`_neighbourhood`)."""

    status: Status
    x: np.ndarray | None
    note: str


# the longest search of the relaxation's neighbourhood (`_neighbourhood`), within the MIP's
# own time limit
NEIGHBOURHOOD_TIME_S = 30.0
# a relaxed integer within this of a whole number is that number (`_neighbourhood`)
INTEGRAL_TOL = 1e-6


def _neighbourhood(
    backend: Backend,
    matrix: Matrix,
    relaxed: np.ndarray,
    bound: float,
    options: SolverOptions,
    allowed: Callable[[float], float],
    t0: float,
) -> Found:
    """The best rounding of the relaxation: the MIP with every integer column kept between
    the floor and the ceiling of its relaxed value x*_j (so fixed where x*_j is whole),

        floor(x*_j) <= x_j <= ceil(x*_j)      (j integer)

    the relaxation-enforced neighbourhood search (RENS; T. Berthold, "RENS: the optimal
    rounding", Mathematical Programming Computation 6 (2014) 33-54). A smaller MIP than the
    whole (on the PPRD year's windows 4,000 to 13,000 of 16,128 integers are fractional in
    the relaxation; the rest are fixed), which may round a unit down where rounding it up is
    infeasible: it answered 14 of the 24 windows whose rounding was infeasible within their
    gap, in 15-35 s a window. Its point is a point of the
    MIP; it stops at its first point z with z - z_LP within the MIP's gap of the
    relaxation's bound z_LP, or after NEIGHBOURHOOD_TIME_S (and within the MIP's limit)."""
    lo, hi = matrix.col_lb.copy(), matrix.col_ub.copy()
    j = matrix.integer
    lo[j] = np.maximum(lo[j], np.floor(relaxed[j] + INTEGRAL_TOL))
    hi[j] = np.minimum(hi[j], np.ceil(relaxed[j] - INTEGRAL_TOL))
    hi[j] = np.maximum(hi[j], lo[j])
    free = int((hi[j] > lo[j]).sum())
    limit = NEIGHBOURHOOD_TIME_S
    if options.time_limit_s is not None:
        limit = min(limit, max(options.time_limit_s - (time.perf_counter() - t0), 1.0))
    c, c0 = matrix.c, matrix.c0

    def within(point: np.ndarray) -> bool:
        cost = float(c @ point) + c0
        return cost - bound <= allowed(cost)

    out = backend.solve_matrix(
        dataclasses.replace(matrix, col_lb=lo, col_ub=hi),
        options.model_copy(update={"time_limit_s": limit}),
        stop_when=within,
    )
    words = {
        Status.INTERRUPTED: "its first within the gap",
        Status.OPTIMAL: "its best",
        Status.TIME_LIMIT: f"its best in {limit:.0f} s",
    }.get(out.status, f"none ({out.status})")
    note = (
        f"the relaxation's neighbourhood ({free:,} of {int(j.sum()):,} integers between floor"
        f" and ceiling, the rest whole) searched: {words}"
    )
    kept = out.status in (Status.OPTIMAL, Status.INTERRUPTED, Status.TIME_LIMIT)
    return Found(out.status, out.x if kept else None, note)


def _rounded_relaxation(
    model: LinearModel, backend: Backend, matrix: Matrix, options: SolverOptions
) -> Start | None:
    """Solve the LP relaxation, round its integer columns (`LinearModel.roundings`, e.g. units
    on rounded up), and solve the LP of the rest with those integers fixed.

    The relaxation's optimum z_LP bounds the MIP's from below, so the rounded point's cost
    z_R proves its own gap:

        gap = z_R - z_LP <= max(mip_abs_gap, mip_gap |z_R|)   =>   z_R is an answer within
                                                                  the MIP's gap

    and it is then the answer, with z_LP as its bound and the duals of its fixed LP as its
    prices (they are the MIP's prices anyway, `solution_of`). Otherwise the rounded point,
    if feasible, is the MIP's first incumbent. None when the relaxation has no optimum (the
    MIP then runs as it would have). Why: on the windows of the PPRD year of unit commitment
    HiGHS spends most of a MIP's time in its root LP and cut rounds before its first
    incumbent, while the rounded relaxation is within a tenth of the asked gap."""
    t0 = time.perf_counter()
    lp = backend.solve_matrix(matrix, options, relax=True, need_duals=False)
    if lp.x is None or lp.status is not Status.OPTIMAL:
        return None
    relaxed = np.clip(lp.x, matrix.col_lb, matrix.col_ub)
    point = _rounded(model, relaxed)
    fixed = _solve_with_integers_fixed(backend, matrix, point)
    bound = lp.objective_cny

    def allowed(cost: float) -> float:
        return max(options.mip_abs_gap or 0.0, options.mip_gap * abs(cost))

    how = "the relaxation's integers rounded, the rest re-optimised"
    if fixed.x is None or not fixed.status.has_solution:
        # the rounding breaks rows it does not see (a unit rounded up whose stable minimum
        # others cannot ramp down for): the best rounding of the relaxation instead
        found = _neighbourhood(backend, matrix, relaxed, bound, options, allowed, t0)
        why = f"the rounded relaxation is infeasible: {fixed.status}"
        if found.x is None:
            return Start(None, None, time.perf_counter() - t0, f"{why}; {found.note}")
        fixed = _solve_with_integers_fixed(backend, matrix, found.x)
        if fixed.x is None or not fixed.status.has_solution:
            return Start(None, found.x, time.perf_counter() - t0, f"{why}; {found.note}")
        how = f"{why}; {found.note}, the rest re-optimised"
    seconds = time.perf_counter() - t0
    x, cost = fixed.x, fixed.objective_cny
    gap_cny = max(cost - bound, 0.0)
    note = (
        f"the rounded relaxation costs {gap_cny:,.0f} CNY more than the relaxation's bound,"
        f" {allowed(cost):,.0f} allowed"
    )
    if gap_cny > allowed(cost) or fixed.status is not Status.OPTIMAL:
        return Start(None, x, seconds, f"{note} ({how}): the MIP's first incumbent")
    accepted = Outcome(
        status=Status.OPTIMAL,
        message=f"Optimal within the MIP gap ({note}; {how})",
        objective_cny=cost,
        x=x,
        row_dual=fixed.row_dual,
        mip_gap=gap_cny / max(abs(cost), 1e-9),
        best_bound_cny=bound,
        handoff_seconds=lp.handoff_seconds + fixed.handoff_seconds,
        solve_seconds=seconds - lp.handoff_seconds - fixed.handoff_seconds,
        iterations={k: lp.iterations.get(k, 0) + v for k, v in fixed.iterations.items()},
        duals_with_integers_fixed=True,
    )
    return Start(accepted, x, seconds, note)
