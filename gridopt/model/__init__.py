"""The formulation: one module per family of constraints, assembled by a flat list.

Each family module has the same small interface:

- ``build(model: LinearModel) -> None`` adds its variables, rows, costs and balance injections;
- ``results(solution: Solution) -> dict[str, DataFrame]`` returns its tidy result tables
  (tables of the same name from several families are stacked, e.g. ``generation``, ``costs``).

The nodal balance comes last because it collects every injection registered before it; the
gas family comes after generation because it burns the output of gas-fired generators.
"""

from __future__ import annotations

import time
from types import ModuleType

from pyomo.common.gc_manager import PauseGC

from gridopt.case import CaseData
from gridopt.model import (
    balance,
    commitment,
    corridors,
    end_state,
    expansion,
    gas,
    generation,
    hydro,
    obligations,
    policy,
    security,
    storage,
    transmission,
)
from gridopt.model.core import LinearModel

# end_state: targets and values of what stores hold at the end (windows of a rolling run only)
# obligations: energy plans and gas contracts over calendar periods, once plants and supplies
# exist
DISPATCH: tuple[ModuleType, ...] = (generation, storage, hydro, transmission, corridors, gas,
                                    obligations, security, end_state, balance)
# unit commitment: the dispatch families plus commitment of the committable generators
UC: tuple[ModuleType, ...] = (generation, commitment, storage, hydro, transmission, corridors,
                              gas, obligations, security, end_state, balance)
# capacity expansion (case setting `expansion:`): the capacities first, since every family
# bounds its variables by them, and the policy rows once generation and hydro exist
EXPANSION: tuple[ModuleType, ...] = (expansion, generation, storage, hydro, transmission,
                                     corridors, gas, obligations, policy, balance)


def families(data: CaseData) -> tuple[ModuleType, ...]:
    """The constraint families of the case's model kind, in build order.

    A dispatch case ignores the commitment columns of the generator table (committable rows
    are plain generators with their p_min_mw floor and ramp limits). An expansion case adds
    the capacities (first) and the policy rows (before the balance).
    """
    if data.expanding:
        return (expansion, *UC[:-1], policy, UC[-1]) if data.case.model == "uc" else EXPANSION
    return UC if data.case.model == "uc" else DISPATCH


def build_model(data: CaseData) -> LinearModel:
    """Build the whole model of a case: each family in turn, then the objective."""
    t0 = time.perf_counter()
    # millions of Pyomo objects and no cycles among them: the garbage collector's passes over
    # them cost twice the build itself, so it waits until the model is built
    with PauseGC():
        model = LinearModel(data)
        for family in families(data):
            family.build(model)
        model.finish()
    model.build_seconds = time.perf_counter() - t0
    return model
