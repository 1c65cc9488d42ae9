"""Why a model has no solution, in its own words: infeasible rows by an elastic re-solve, and the
variables along which an unbounded model's cost falls (its primal ray)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gridopt.inputs.settings import SolverOptions
from gridopt.model.core import INF, LinearModel
from gridopt.solver.backends import backend_for
from gridopt.solver.matrix import model_matrix
from gridopt.solver.types import Conflict, Matrix


def diagnose_infeasibility(
    model: LinearModel, tolerance: float = 1e-6, backend: str = "highs"
) -> list[Conflict]:
    """Explain an infeasible model in its own words, by an elastic re-solve.

    Every row gets two penalised slacks, lb <= A x + s_up - s_down <= ub, and the total slack
    is minimised (integrality dropped); rows that only define an auxiliary variable
    (`RowBlock.definition`) keep no slack. Rows left with slack are the requirements that cannot
    be met together; they are grouped by row family and component, with the snapshots
    affected and the largest shortfall (s_up: the row's left side falls short) or excess.
    """
    base = model_matrix(model)
    n_rows, n_cols = base.A.shape
    eye = sp.identity(n_rows, format="csr")
    slack_ub = np.full(n_rows, INF)
    for block in model.row_blocks.values():
        if block.definition:
            slack_ub[block.first_row : block.first_row + int(np.prod(block.shape))] = 0.0
    elastic = Matrix(
        c=np.concatenate([np.zeros(n_cols), np.ones(2 * n_rows)]),
        c0=0.0,
        A=sp.hstack([base.A, eye, -eye], format="csr"),
        row_lb=base.row_lb,
        row_ub=base.row_ub,
        col_lb=np.concatenate([base.col_lb, np.zeros(2 * n_rows)]),
        col_ub=np.concatenate([base.col_ub, slack_ub, slack_ub]),
        integer=np.zeros(n_cols + 2 * n_rows, dtype=bool),
    )
    out = backend_for(backend).solve_matrix(elastic, SolverOptions())
    if not out.status.has_solution or out.x is None:
        return []
    x = out.x
    up = x[n_cols : n_cols + n_rows]
    down = x[n_cols + n_rows :]
    conflicts = _slack_rows(model, up, down, tolerance)
    if not conflicts and max(up.max(initial=0.0), down.max(initial=0.0)) > 0.0:
        # every requirement holds to within the tolerance, yet not all of them exactly: the
        # model is infeasible by less than the solver resolves (a bound given, or carried
        # over from an earlier solve, to more digits than that); name the rows that take it
        tiny = _slack_rows(model, up, down, 0.0)
        tiny.sort(key=lambda c: -c.worst)
        for c in tiny[:5]:
            c.message += (
                f" (less than {tolerance:g} {c.unit}: infeasible only within the solver's"
                " tolerances)"
            )
        return tiny[:5]
    conflicts.sort(key=lambda c: -c.n_snapshots * max(c.worst, 1.0))
    return conflicts


def _slack_rows(
    model: LinearModel, up: np.ndarray, down: np.ndarray, tolerance: float
) -> list[Conflict]:
    """The rows whose elastic slack (`up`: the left side falls short, `down`: it exceeds)
    is above `tolerance`, grouped by row family and component."""
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
                span = (
                    f"at {first}"
                    if len(when) == 1
                    else (f"in {len(when)} snapshots between {first} and {last}")
                )
                worst = float(grid[i].max())
                conflicts.append(
                    Conflict(
                        block.name,
                        str(block.components[i]),
                        (
                            f"{what} cannot be met {span}: {word} up to {worst:,.4g} {block.unit}"
                        ).strip(),
                        len(when),
                        first,
                        last,
                        worst,
                        block.unit,
                    )
                )
    return conflicts


def unbounded_components(model: LinearModel, limit: int = 10, backend: str = "highs") -> list[str]:
    """Variables along which the objective falls without end (the backend's primal ray)."""
    ray = backend_for(backend).primal_ray(model_matrix(model))
    if ray is None:
        return []
    found = []
    for block in model.variables.values():
        values = ray[block.cols]
        for i in np.flatnonzero((np.abs(values) > 1e-9).any(axis=1)):
            found.append(f"{block.name} of {block.components[i]}")
    return found[:limit]
