"""The families of each kind of model, in build order, and the model built from them.

Which families a case needs depends on its kind (dispatch, unit commitment, expansion); the
lists below are the one place that says so. Families are modules with `build(model)` and
`results(solution)`; a family with stores declares them in `STORES`, and one whose state
reaches past the end of a horizon gives `carry` (`gridopt.model.stores`). `store_kinds` and
`carrying` collect those declarations for whoever solves a horizon in pieces.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd
from pyomo.common.gc_manager import PauseGC

from gridopt.inputs.data import CaseData
from gridopt.model import (
    balance,
    commitment,
    corridors,
    end_state,
    expansion,
    future_cost,
    gas,
    generation,
    hydro,
    middle_levels,
    obligations,
    periods,
    policy,
    security,
    storage,
    transmission,
)
from gridopt.model.core import LinearModel
from gridopt.model.stores import Carried, Past, StoreKind

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

# end_state: targets and values of what stores hold at the end (windows of a rolling run only);
# future_cost: the cost after the horizon as a function of its end state (stages of a
# future-cost function and the windows that use one only)
# obligations: energy plans and gas contracts over calendar periods, once plants and supplies
# exist
DISPATCH: tuple[ModuleType, ...] = (
    generation,
    storage,
    hydro,
    transmission,
    corridors,
    gas,
    obligations,
    security,
    end_state,
    future_cost,
    balance,
)
# unit commitment: the dispatch families plus commitment of the committable generators
UC: tuple[ModuleType, ...] = (
    generation,
    commitment,
    storage,
    hydro,
    transmission,
    corridors,
    gas,
    obligations,
    security,
    end_state,
    future_cost,
    balance,
)
# capacity expansion (case setting `expansion:`): the capacities first, since every family
# bounds its variables by them, and the policy rows once generation and hydro exist
EXPANSION: tuple[ModuleType, ...] = (
    expansion,
    generation,
    storage,
    hydro,
    transmission,
    corridors,
    gas,
    obligations,
    policy,
    balance,
)


def families(data: CaseData) -> tuple[ModuleType, ...]:
    """The constraint families of the case's model kind, in build order.

    A dispatch case ignores the commitment columns of the generator table (committable rows
    are plain generators with their p_min_mw floor and ramp limits). An expansion case adds
    the capacities (first) and the policy rows (before the balance).
    """
    if data.expanding:
        return (expansion, *UC[:-1], policy, UC[-1]) if data.case.model == "uc" else EXPANSION
    chosen = UC if data.case.model == "uc" else DISPATCH
    # a plan that breaks ties toward the middle of the stores' ranges: after the balance,
    # which it does not inject into
    return (*chosen, middle_levels) if data.near_middle else chosen


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


def carried_entries(data: CaseData) -> pd.DataFrame:
    """`CaseData.delivered` at the start of `data`'s horizon for a horizon solved in pieces
    valued by a future-cost function: every calendar-period obligation's entry
    (`gridopt.model.periods.carried_entries`) and every zone's energy share's
    (`gridopt.model.security.carried_share_entries`), nothing delivered yet."""
    parts = [periods.carried_entries(data), security.carried_share_entries(data)]
    return pd.concat([p for p in parts if len(p)] or parts[:1])


def store_kinds(data: CaseData) -> list[StoreKind]:
    """Every kind of store the families of the case declare, whose table has rows."""
    return [
        kind
        for family in families(data)
        for kind in getattr(family, "STORES", ())
        if len(data.tables[kind.table])
    ]


def carrying(sol: Solution, k: int, past: Past) -> list[Carried]:
    """What every family of the solved model hands the next piece of the horizon, taken at the
    end of its snapshot k-1 (`gridopt.model.stores`)."""
    out = []
    for family in families(sol.model.data):
        carry = getattr(family, "carry", None)
        carried = carry(sol, k, past) if carry is not None else None
        if carried is not None:
            out.append(carried)
    return out
