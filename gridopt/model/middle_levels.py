"""Stores kept near the middle of their range where it costs nothing else: ties broken.

Many level paths of an LP cost the same (water may be held today or tomorrow), and a plan
read from an arbitrary one may empty a reservoir or ask for water no optimal schedule needs.
For the stores `CaseData.near_middle` names (per store table, a mask over its rows), with
m[i] = (x_min[i] + x_max[i]) / 2 the middle of store i's range and w[t] the hours of t:

    d[i,t] >= x[i,t] - m[i],    d[i,t] >= m[i] - x[i,t]      (rows `plan_<level>_above_middle`,
                                                               `plan_<level>_below_middle`)
    cost += OFF_MIDDLE_CNY_PER_UNIT_H * w[t] * d[i,t]

at a cost far below any value of stored water or energy (a reservoir's water is worth 1e4-1e6
CNY per hm3, stored energy hundreds of CNY per MWh), so it only chooses among equally cheap
paths: the one nearest the middle, which leaves room both ways. Seasonal plans of a rolling
run (`gridopt.studies.rolling`) use it; nothing is built when `near_middle` is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "middle_levels"
# what a unit (hm3, MWh, MWh_th) and hour away from the middle of a store's range costs, CNY
OFF_MIDDLE_CNY_PER_UNIT_H = 1e-4


def build(model: LinearModel) -> None:
    for table, followed in model.data.near_middle.items():
        kind = model.store_kinds.get(table)
        idx = np.flatnonzero(followed)
        if kind is None or not len(idx) or not model.has(kind.level):
            continue
        store = kind.read(model.data.tables)
        level = model.variable(kind.level)
        middle = (0.5 * (store.lower + store.upper))[idx, None]
        names = store.names[idx]
        off = model.add_variables(f"plan_{level.name}_off_middle", names)
        for side, sign in (("above", -1.0), ("below", 1.0)):
            model.rows(
                f"plan_{level.name}_{side}_middle",
                names,
                meaning=f"distance of {{}} {side} the middle of its range",
                unit=kind.unit,
            ).add(off.cols, 1.0).add(level.cols[idx], sign).greater(sign * middle)
        model.add_cost(off.cols, OFF_MIDDLE_CNY_PER_UNIT_H * model.w[None, :])


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    return {}
