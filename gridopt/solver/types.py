"""What solving gives, whatever the solver: statuses, the standard-form matrix, solutions.

These types are the seam between the formulation and the solver backends
(`gridopt.solver.backends`): a backend takes a `Matrix` and options and returns an `Outcome`;
`gridopt.solver.solve` wraps it into a `Solution`, which the constraint families read by
variable and row family (`Solution.value`, `Solution.dual`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.inputs.data import CaseData
from gridopt.inputs.settings import SolverOptions
from gridopt.model.core import LinearModel, RowBlock, VarBlock


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
    """min c'x + sum q x^2 + c0 s.t. row_lb <= A x <= row_ub, col_lb <= x <= col_ub."""

    c: np.ndarray
    c0: float
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    integer: np.ndarray
    q: np.ndarray | None = None  # quadratic costs per column (None: a linear objective)

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
    # iterations of each algorithm the solver ran ("ipm", "crossover", "simplex", "pdlp")
    iterations: dict[str, int] = field(default_factory=dict)

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
        duals = self.row_dual[block.first_row : block.first_row + n].reshape(block.shape)
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


# a solver-neutral hook: called with a MIP's state as its search goes
MipProgress = Callable[[GapPoint], None]


def seconds_to_gap(trace: list[GapPoint], gap: float) -> float | None:
    """The solver's time when the trace first reaches a relative gap <= `gap` (None: never)."""
    return next((p.seconds for p in trace if p.gap <= gap), None)


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


@dataclass
class Outcome:
    """What a backend returns for a matrix: status, point and duals (None: none), figures."""

    status: Status
    message: str
    objective_cny: float
    x: np.ndarray | None
    row_dual: np.ndarray | None
    mip_gap: float | None = None
    best_bound_cny: float | None = None
    handoff_seconds: float = 0.0
    solve_seconds: float = 0.0
    # the point is an interior point's, not a vertex (no crossover): its duals are interior
    interior: bool = False
    # iterations of each algorithm the backend ran ("ipm", "crossover", "simplex", "pdlp")
    iterations: dict[str, int] = field(default_factory=dict)
    # the row duals are those of the LP with the integer columns fixed at x (a MIP's prices)
    duals_with_integers_fixed: bool = False


class Backend(Protocol):
    """A solver backend: a module with these functions (see `gridopt.solver.backends`)."""

    def solve_matrix(
        self,
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
        """Solve min c'x + c0 over the matrix with the case's options; never raise for solver
        outcomes. `relax` drops integrality; `gap_trace` receives a MIP's progress, and
        `progress` is called with it as the search goes (about every second while the solver
        reports); `warm_start` is a point (one value per column) the solver may start from
        where it can (a MIP's first incumbent, if feasible); `need_duals` False says only the
        objective and the point are wanted, so the backend may skip the work that gives duals
        and a vertex (e.g. crossover after an interior point); `stop_when` ends a MIP at its
        first incumbent x for which stop_when(x) holds, with status INTERRUPTED and that
        incumbent as its point."""
        ...

    def primal_ray(self, matrix: Matrix) -> np.ndarray | None:
        """A direction along which the objective falls without end, if the LP is unbounded."""
        ...

    def check_options(self, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(option, rule broken) for each raw solver option (`solver.options` of a case) the
        backend would not take as given: checked before any solve, so a misspelt or invalid
        option is an input error rather than a note in the solver's log."""
        ...


def restrict(sol: Solution, kept: CaseData) -> Solution:
    """A solution on the first snapshots of its model only (`kept`: the case over them), as a
    solution of a model over them: the kept part of a window of a rolling run.

    Variable families over the window's snapshots keep their first K columns, row families
    over (a subset of) its snapshots their rows on the kept ones; families over other labels
    (days, periods, per-component values) are kept whole. The families' `results` read it as
    any solution.
    """
    model = sol.model
    K = kept.n_snapshots
    view = LinearModel(kept)
    x_parts, col = [], 0
    for name, var in model.variables.items():
        cols = var.cols[:, :K] if timed(var, model) else var.cols
        x_parts.append(sol.x[cols].ravel())
        new = np.arange(col, col + cols.size, dtype=np.int64).reshape(cols.shape)
        col += cols.size
        view.variables[name] = dataclasses.replace(var, cols=new)
    dual_parts, row = [], 0
    window_snaps = pd.Index(model.snapshots)
    for name, block in model.row_blocks.items():
        n, s = block.shape
        duals = sol.row_dual[block.first_row : block.first_row + n * s].reshape(n, s)
        labels = pd.Index(block.snapshots)
        if isinstance(labels, pd.DatetimeIndex) and labels.isin(window_snaps).all():
            keep = labels.isin(kept.snapshots)
        else:
            keep = np.ones(s, dtype=bool)
        part = duals[:, keep]
        dual_parts.append(part.ravel())
        view.row_blocks[name] = dataclasses.replace(
            block, snapshots=labels[keep], first_row=row, shape=part.shape
        )
        row += part.size
    view.n_cols, view.n_rows = col, row
    return dataclasses.replace(
        sol,
        model=view,
        x=np.concatenate(x_parts) if x_parts else np.zeros(0),
        row_dual=np.concatenate(dual_parts) if dual_parts else np.zeros(0),
    )


def timed(block: Any, model: LinearModel) -> bool:
    """Whether a variable family has one column per snapshot of the model."""
    return bool(getattr(block, "timed", True)) and block.shape[1] == model.T
