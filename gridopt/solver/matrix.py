"""The model as one standard-form matrix, the form every solver backend takes.

Two ways to get it:

- `matrix_from_blocks` stacks the CSR matrices the constraint families built (fast: no Python
  work per row); used whenever every active constraint is a `BulkConstraint`.
- `matrix_from_pyomo` runs Pyomo's own `LinearStandardFormCompiler` over the model; used when
  someone adds ordinary Pyomo constraints, and in tests as an independent check of the first.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from gridopt.model.core import INF, BulkConstraint, LinearModel
from gridopt.solver.types import Matrix


def model_matrix(model: LinearModel) -> Matrix:
    """The model's matrix, from its bulk row families when every row is one (the fast way)."""
    return matrix_from_blocks(model) if _all_bulk(model) else matrix_from_pyomo(model)


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
    lbs = [b.constraint.bounds[0] for b in blocks]
    ubs = [b.constraint.bounds[1] for b in blocks]
    col_lb, col_ub = model.column_bounds()
    return Matrix(
        c=model.cost_vector(),
        c0=model.cost_constant,
        A=A,
        row_lb=np.concatenate(lbs) if lbs else np.zeros(0),
        row_ub=np.concatenate(ubs) if ubs else np.zeros(0),
        col_lb=col_lb,
        col_ub=col_ub,
        integer=model.integrality(),
        q=model.quadratic_vector() if model.has_quadratic_costs else None,
    )


def matrix_from_pyomo(model: LinearModel) -> Matrix:
    """The same matrix through Pyomo's LinearStandardFormCompiler, in our row and column order."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    repn = LinearStandardFormCompiler().write(model.pyomo, mixed_form=True, set_sense=None)
    col_pos = {id(v): i for i, v in enumerate(model._col_data)}
    # the compiler leaves out columns that appear nowhere; map its columns back to ours
    order = np.array([col_pos[id(v)] for v in repn.columns], dtype=np.int64)
    row_of = {
        id(con): b.first_row + i
        for b in model.row_blocks.values()
        for i, con in enumerate(b.constraint.values())
    }
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
    full = sp.csr_matrix((A.data, (rows[A.row], order[A.col])), shape=(model.n_rows, model.n_cols))
    c = np.zeros(model.n_cols)
    obj = sp.coo_matrix(repn.c)
    c[order[obj.col]] = obj.data
    col_lb = np.array([v.lb if v.lb is not None else -INF for v in model._col_data])
    col_ub = np.array([v.ub if v.ub is not None else INF for v in model._col_data])
    return Matrix(
        c=c,
        c0=float(np.sum(repn.c_offset)),
        A=full,
        row_lb=lb,
        row_ub=ub,
        col_lb=col_lb,
        col_ub=col_ub,
        integer=np.array([v.is_integer() for v in model._col_data], dtype=bool),
    )


def _all_bulk(model: LinearModel) -> bool:
    return all(
        isinstance(c, BulkConstraint)
        for c in model.pyomo.component_objects(pyo.Constraint, active=True)
    )
