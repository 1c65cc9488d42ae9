"""A long horizon solved in pieces: the windows of a rolling run (`gridopt.studies.rolling`) and
the stages of a future-cost function (`gridopt.studies.future_cost`).

A piece is the case with its horizon cut to some of its snapshots (`Window`), its initial-state
columns set to the state the piece before it left (`State`: stored levels, and what the
families carry, `gridopt.model.stores`), and conditions on what its stores hold at its end
(`CaseData.end_state`). `piece_data` makes that case.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.model.registry import store_kinds
from gridopt.model.stores import Carried, StoreKind, Stores


@dataclass(frozen=True)
class Window:
    """Window `number` (1-based): snapshots [start, keep_end) kept, [start, solve_end) solved."""

    number: int
    start: int
    keep_end: int
    solve_end: int


def stores(data: CaseData) -> dict[str, Stores]:
    """Every store of the case, per table, as its family reads it (`gridopt.model.stores`)."""
    return {kind.table: kind.read(data.tables) for kind in store_kinds(data)}


def kinds(data: CaseData) -> dict[str, StoreKind]:
    """The kinds of store of the case, per table."""
    return {kind.table: kind for kind in store_kinds(data)}


@dataclass
class State:
    """What a window starts from: the end of the kept part of the window before it."""

    levels: dict[str, np.ndarray]  # per store table, NaN: cyclic in this window
    # what the families hand on (`gridopt.model.stores.Carried`): table columns, history
    carried: list[Carried] = field(default_factory=list)
    # the energy calendar periods have delivered so far (`CaseData.delivered`; None: the
    # whole case's)
    delivered: pd.DataFrame | None = None


def piece_data(
    full: CaseData, w: Window, state: State, end_state: dict[str, pd.DataFrame]
) -> CaseData:
    """The case cut to window `w`'s snapshots [start, solve_end), starting from `state`, with
    `end_state` (`gridopt.studies.rolling`, module doc, step 2)."""
    a, c = w.start, w.solve_end
    snaps = full.snapshots[a:c]
    horizon = full.case.horizon.model_copy(
        update={"start": snaps[0].to_pydatetime(), "snapshots": c - a}
    )
    case = full.case.model_copy(update={"horizon": horizon, "rolling": None})
    sliced = {}
    for f in dataclasses.fields(full):
        value = getattr(full, f.name)
        if isinstance(value, pd.DataFrame) and value.index.equals(full.snapshots):
            sliced[f.name] = value.iloc[a:c]
    tables = dict(full.tables)
    history: dict[str, pd.DataFrame] = {}
    for carried in state.carried:
        for (table, column), values in carried.columns.items():
            if tables[table] is full.tables[table]:
                tables[table] = full.tables[table].copy()
            tables[table].loc[values.index, column] = values.to_numpy()
        history.update(carried.history)
    by_table = kinds(full)
    for table, level in state.levels.items():
        # end conditions come from end_state; a level not carried (NaN) stays cyclic
        tables[table] = by_table[table].start_at(full.tables[table], level)
    for df in tables.values():
        df.attrs = dict(df.attrs)
    return dataclasses.replace(
        full,
        case=case,
        tables=tables,
        snapshots=snaps,
        weights_h=full.weights_h[a:c],
        history=history,
        end_state=end_state,
        delivered=full.delivered if state.delivered is None else state.delivered,
        kept_snapshots=w.keep_end - a,
        **sliced,
    )
