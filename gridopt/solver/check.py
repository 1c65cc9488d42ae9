"""Whether the solver's answer solves the model: checked before a point is called a solution.

A backend solves its own copy of the model (presolved, scaled) within its own tolerances; a
loose option, a numerical failure or a fault can make it report "optimal" for a point that
breaks the model's rows (e.g. no demand served and no unserved energy either). The point x
is checked against the matrix gridopt built, with tolerances relative to the data:

    row_lb_i - tol_i <= (A x)_i <= row_ub_i + tol_i,
        tol_i = max(ROW_TOL s_i, FAMILY_TOL max_{k in family of i} s_k),
        s_i = max(1, |row_lb_i|, |row_ub_i|, sum_j |A_ij x_j|)
    col_lb_j - tol_j <= x_j <= col_ub_j + tol_j,
        tol_j = max(ROW_TOL c_j, FAMILY_TOL max_{k in family of j} c_k),
        c_j = max(1, |col_lb_j|, |col_ub_j|, |x_j|)
    |x_j - round(x_j)| <= INTEGER_TOL             for integer columns of a MIP

(infinite bounds bound nothing), and every x_j must be finite. The family term leaves room for
first-order methods (PDLP), whose answers meet each row only to a share of the family's
largest term (1e-5 on the test cases), and for interior points without crossover, which
leave bounds of 0 broken by up to 2e-5 (spill of a PPRD station); simplex leaves below
1e-11 of a row's own terms. Breaches are reported in words per row family (its meaning and
unit, as infeasibility diagnoses are), worst first.
"""

from __future__ import annotations

import numpy as np

from gridopt.model.core import LinearModel
from gridopt.solver.types import Matrix

ROW_TOL = 1e-6
FAMILY_TOL = 1e-4
# the loosest integrality a case may ask the solver for (mip_feasibility_tolerance)
INTEGER_TOL = 1e-3
SHOWN = 5


def breaches(model: LinearModel, matrix: Matrix, x: np.ndarray, relax: bool = False) -> list[str]:
    """The model's rows, bounds and integrality that the point `x` breaks, in words (worst
    first, at most `SHOWN` row families and a count of the rest); empty when it holds."""
    x = np.asarray(x, dtype=float)
    if x.shape != (matrix.A.shape[1],):
        return [f"the solver returned {x.size} values for {matrix.A.shape[1]} variables"]
    if not np.isfinite(x).all():
        n = int((~np.isfinite(x)).sum())
        return [f"{n} variable value{'s are' if n != 1 else ' is'} not a finite number"]
    out: list[tuple[float, str]] = []
    act = matrix.A @ x
    size = np.abs(matrix.A) @ np.abs(x)
    lb, ub = matrix.row_lb, matrix.row_ub
    scale = np.maximum.reduce([np.ones_like(act), _finite_abs(lb), _finite_abs(ub), size])
    tol = ROW_TOL * scale
    for block in model.row_blocks.values():
        sl = slice(block.first_row, block.first_row + int(np.prod(block.shape)))
        if sl.stop > sl.start:
            tol[sl] = np.maximum(tol[sl], FAMILY_TOL * scale[sl].max())
    short = np.where(np.isfinite(lb), lb - act, 0.0)
    over = np.where(np.isfinite(ub), act - ub, 0.0)
    bad = np.maximum(short, over) > tol
    if bad.any():
        out += _row_words(model, short, over, bad)
    scale = np.maximum.reduce(
        [np.ones_like(x), _finite_abs(matrix.col_lb), _finite_abs(matrix.col_ub), np.abs(x)]
    )
    tol = ROW_TOL * scale
    for var in model.variables.values():
        cols = var.cols.ravel()
        if cols.size:
            tol[cols] = np.maximum(tol[cols], FAMILY_TOL * scale[cols].max())
    low = np.where(np.isfinite(matrix.col_lb), matrix.col_lb - x, 0.0)
    high = np.where(np.isfinite(matrix.col_ub), x - matrix.col_ub, 0.0)
    col_bad = np.maximum(low, high) > tol
    if not relax and matrix.integer.any():
        frac = np.abs(x - np.round(x))
        col_bad |= matrix.integer & (frac > INTEGER_TOL)
    if col_bad.any():
        out += _column_words(model, low, high, col_bad)
    out.sort(key=lambda item: -item[0])
    words = [w for _, w in out[:SHOWN]]
    if len(out) > SHOWN:
        words.append(f"and {len(out) - SHOWN} more families of rows or variables")
    return words


def _finite_abs(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), np.abs(values), 0.0)


def _row_words(
    model: LinearModel, short: np.ndarray, over: np.ndarray, bad: np.ndarray
) -> list[tuple[float, str]]:
    found = []
    for block in model.row_blocks.values():
        n = int(np.prod(block.shape))
        sl = slice(block.first_row, block.first_row + n)
        hit = bad[sl].reshape(block.shape)
        if not hit.any():
            continue
        gap = np.maximum(short[sl], over[sl]).reshape(block.shape)
        i, t = np.unravel_index(int(np.argmax(np.where(hit, gap, -np.inf))), block.shape)
        word = (
            block.below
            if short[sl].reshape(block.shape)[i, t] >= over[sl].reshape(block.shape)[i, t]
            else block.above
        )
        what = block.meaning.format(block.components[i])
        n_hit = int(hit.sum())
        when = str(block.snapshots[t])[:16] if t < len(block.snapshots) else ""
        at = f" at {when}" if when else ""
        more = f" ({n_hit} rows of this kind broken in all)" if n_hit > 1 else ""
        found.append(
            (float(gap[i, t]), f"{what}: {word} {gap[i, t]:,.4g} {block.unit}".rstrip() + at + more)
        )
    return found


def _column_words(
    model: LinearModel, low: np.ndarray, high: np.ndarray, bad: np.ndarray
) -> list[tuple[float, str]]:
    found = []
    for block in model.variables.values():
        cols = block.cols
        hit = bad[cols]
        if not hit.any():
            continue
        gap = np.maximum(low[cols], high[cols])
        i = int(np.argmax(hit.any(axis=1)))
        n_hit = int(hit.sum())
        worst = float(np.max(np.where(hit, gap, 0.0)))
        found.append(
            (
                worst,
                f"{block.name} of {block.components[i]} breaks its bounds or"
                f" integrality in {n_hit} value{'s' if n_hit != 1 else ''}"
                + (f" (by up to {worst:,.4g})" if worst > 0 else ""),
            )
        )
    return found
