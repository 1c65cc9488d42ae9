"""The formulation: one module per family of constraints, assembled by a flat list.

Each family module has the same small interface:

- ``build(model: LinearModel) -> None`` adds its variables, rows, costs and balance injections;
- ``results(solution: Solution) -> dict[str, DataFrame]`` returns its tidy result tables
  (tables of the same name from several families are stacked, e.g. ``generation``, ``costs``).

The nodal balance comes last because it collects every injection registered before it.
"""

from __future__ import annotations

import time
from types import ModuleType

from gridopt.case import CaseData
from gridopt.model import balance, generation, hydro, storage, transmission
from gridopt.model.core import LinearModel

DISPATCH: tuple[ModuleType, ...] = (generation, storage, hydro, transmission, balance)


def families(data: CaseData) -> tuple[ModuleType, ...]:
    """The constraint families of the case's model kind, in build order."""
    return DISPATCH


def build_model(data: CaseData) -> LinearModel:
    """Build the whole model of a case: each family in turn, then the objective."""
    t0 = time.perf_counter()
    model = LinearModel(data)
    for family in families(data):
        family.build(model)
    model.finish()
    model.build_seconds = time.perf_counter() - t0
    return model
