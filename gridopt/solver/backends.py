"""The solver backends gridopt can hand a model to, by the name a case gives (`solver.backend`).

A backend is one module with the two functions of `gridopt.solver.types.Backend`:
`solve_matrix(matrix, options, *, relax, log, log_file, gap_trace) -> Outcome` and
`primal_ray(matrix)`. It is the only place that imports its solver's package. To add one (a
GPU first-order LP solver, say, as an optional extra): write the module, add its name to
`solver.backend` in `gridopt.inputs.settings.SolverOptions` and to `_MODULES` here; nothing in
the constraint families changes.
"""

from __future__ import annotations

import importlib

from gridopt.solver.types import Backend

# backend name -> module implementing it (imported when first used)
_MODULES = {"highs": "gridopt.solver.highs"}


def backend_for(name: str) -> Backend:
    """The backend module registered under `name`."""
    if name not in _MODULES:
        raise ValueError(f"unknown solver backend {name!r}; known: {', '.join(_MODULES)}")
    module: Backend = importlib.import_module(_MODULES[name])
    return module
