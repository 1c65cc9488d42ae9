"""The level recursion shared by stores (storage units, gas storage): one row per component and
snapshot, built in bulk.

For a level x[i,t] (end of snapshot t), a retention r[i,t] (share of the previous level still
there) and terms y_k[i,t] that fill (coef > 0) or drain (coef < 0) it:

    x[i,t] = r[i,t] * x[i,t-1] + sum_k coef_k[i,t] * y_k[i,t]

where x[i,-1] is the given initial level x0[i], or, where x0[i] is NaN, x[i,T-1] (cyclic: the
horizon ends where it starts). The rows are written x - r * x_prev - sum_k coef_k * y_k = rhs,
with r[i,0] * x0[i] on the right-hand side of the first snapshot of non-cyclic components, so
the dual of a row is the value of one more unit of level at that time (sign turned).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel, RowBlock, VarBlock


def level_balance(model: LinearModel, name: str, components: pd.Index, level: VarBlock,
                  terms: list[tuple[np.ndarray, np.ndarray]], initial: np.ndarray,
                  retention: float | np.ndarray = 1.0, **words: str) -> RowBlock:
    """Add the rows of x[t] = r[t] x[t-1] + sum_k coef_k y_k[t]; `terms` are (cols, coef) pairs
    of the level's shape, `initial` is x0 (NaN: cyclic), `words` go to `model.rows`
    (meaning, unit, below, above)."""
    keep = np.broadcast_to(np.asarray(retention, dtype=float), level.shape)
    cyclic = np.isnan(initial)
    keep_prev = np.array(keep, copy=True)
    keep_prev[~cyclic, 0] = 0.0  # the level before the horizon is a constant, moved to the rhs
    rhs = np.zeros(level.shape)
    rhs[~cyclic, 0] = keep[~cyclic, 0] * initial[~cyclic]
    rows = model.rows(name, components, **words)
    rows.add(level.cols, 1.0).add(np.roll(level.cols, 1, axis=1), -keep_prev)
    for cols, coef in terms:
        rows.add(cols, -np.asarray(coef, dtype=float))
    return rows.equal(rhs)
