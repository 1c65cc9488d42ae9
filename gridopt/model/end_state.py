"""Conditions on what stores hold at the end of the horizon: level targets and values.

A window of a rolling run (`gridopt.studies.rolling`) is a short horizon cut out of a long one:
what its
stores hold at its end must answer to a plan of the whole horizon. `CaseData.end_state` gives,
per store table (`hydro`: reservoirs in hm3; `storage_units`: MWh; `gas_storage`: MWh_th), a
frame indexed by store name with columns `level` (NaN: none), `rule` (`at_least` or `equal`),
`value_cny_per_unit` (NaN: none) and, optionally, `shortfall_penalty_cny_per_unit` (NaN or
absent: the target is hard). With x[i,T-1] the level of store i at the end of the last
snapshot:

    x[i,T-1] + s[i]          >= level[i]   rule at_least  (rows `end_level_<table>`)
    x[i,T-1] + s[i] - o[i]    = level[i]   rule equal     (rows `end_level_<table>_equal`)
    cost += k[i] (s[i] + o[i]) - value[i] x[i,T-1]

where s[i], o[i] >= 0 (columns `end_short_<table>`, `end_over_<table>`) exist only for targets
with a shortfall penalty k[i] (CNY per unit): a target that the window cannot reach then
costs k per unit missed instead of making the model infeasible. value[i] is what a unit left
in the store is worth (a water value, CNY per hm3 / MWh / MWh_th).

The dual of a target row is what the target costs: the objective's rise per unit more level
required (CNY per unit, at most k where penalised). The penalty and value terms keep the
costs table summing to the objective ("end-of-horizon target missed", and a negative cost,
"value of the level left at the end"). Nothing is built when `end_state` is empty, as in any
case that is not a window of a rolling run. A chronological horizon only: typical periods
(`gridopt.inputs.aggregation`) have no last snapshot in time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "end_state"


def _conditions(model: LinearModel):
    """Per store table with end conditions: (table, frame aligned to the level family's
    components, positions in it, level family, unit, label)."""
    for table, frame in model.data.end_state.items():
        if frame is None or frame.empty:
            continue
        kind = model.store_kinds.get(table)
        if kind is None or not model.has(kind.level):
            continue
        level = model.variable(kind.level)
        unit, label = kind.unit, kind.label
        pos = level.components.get_indexer(frame.index)
        if (pos < 0).any():
            raise KeyError(
                f"end_state[{table!r}] names stores that are not in the model:"
                f" {list(frame.index[pos < 0])}"
            )
        yield table, frame, pos, level, unit, label


def build(model: LinearModel) -> None:
    if not model.data.end_state:
        return
    if model.aggregated:
        raise ValueError("end-of-horizon conditions need a chronological horizon")
    for table, frame, pos, level, unit, label in _conditions(model):
        end = level.cols[pos, -1]
        target = frame["level"].to_numpy(dtype=float)
        rule = frame["rule"].to_numpy()
        penalty = _penalty(frame)
        for kind in ("at_least", "equal"):
            sel = np.flatnonzero(~np.isnan(target) & (rule == kind))
            if not len(sel):
                continue
            suffix = "_equal" if kind == "equal" else ""
            rows = model.rows(
                f"end_level_{table}{suffix}",
                frame.index[sel],
                model.snapshots[-1:],
                meaning=f"end-of-horizon level of {label} {{}}",
                unit=unit,
                below="end level short by",
                above="end level over by",
            )
            rows.add(end[sel, None], 1.0)
            soft = np.flatnonzero(~np.isnan(penalty[sel]))
            slacks = (("short", 1.0),) + ((("over", -1.0),) if kind == "equal" else ())
            for what, sign in slacks if len(soft) else ():
                slack = model.add_variables(
                    f"end_{what}_{table}{suffix}", frame.index[sel[soft]], time=False
                )
                rows.scatter(soft[:, None], slack.cols, sign)
                model.add_cost(slack.cols[:, 0], penalty[sel[soft]])
            (rows.equal if kind == "equal" else rows.greater)(target[sel, None])
        value = frame["value_cny_per_unit"].to_numpy(dtype=float)
        valued = np.flatnonzero(~np.isnan(value) & (value != 0))
        if len(valued):
            model.add_cost(end[valued], -value[valued])


def _penalty(frame: pd.DataFrame) -> np.ndarray:
    if "shortfall_penalty_cny_per_unit" not in frame:
        return np.full(len(frame), np.nan)
    return frame["shortfall_penalty_cny_per_unit"].to_numpy(dtype=float)


def _slack(sol: Solution, frame: pd.DataFrame, name: str) -> np.ndarray:
    """A slack family's values on all of `frame`'s stores (0 where it has none)."""
    out = np.zeros(len(frame))
    if sol.model.has(name):
        block = sol.model.variable(name)
        out[frame.index.get_indexer(block.components)] = sol.value(block)[:, 0]
    return out


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    if not model.data.end_state:
        return {}
    tables, costs = [], []
    for table, frame, pos, level, unit, _label in _conditions(model):
        end = sol.value(level)[pos, -1]
        target = frame["level"].to_numpy(dtype=float)
        dual = np.full(len(frame), np.nan)
        for suffix in ("", "_equal"):
            name = f"end_level_{table}{suffix}"
            if name in model.row_blocks:
                block = model.row_blocks[name]
                dual[frame.index.get_indexer(block.components)] = sol.dual(name)[:, 0]
        value = frame["value_cny_per_unit"].to_numpy(dtype=float)
        penalty = _penalty(frame)
        missed = np.sum(
            [
                _slack(sol, frame, f"end_{what}_{table}{suffix}")
                for what in ("short", "over")
                for suffix in ("", "_equal")
            ],
            axis=0,
        )
        tables.append(
            pd.DataFrame(
                {
                    "table": table,
                    "store": frame.index,
                    "unit": unit,
                    "snapshot": model.snapshots[-1],
                    "level": end + 0.0,
                    "target": target,
                    "rule": np.where(np.isnan(target), "", frame["rule"].to_numpy()),
                    "target_missed": missed + 0.0,
                    "shortfall_penalty_cny_per_unit": penalty,
                    "value_cny_per_unit": value,
                    "target_cost_cny_per_unit": dual + 0.0,
                }
            )
        )
        valued = ~np.isnan(value) & (value != 0)
        if valued.any():
            costs.append(
                pd.DataFrame(
                    {
                        "component": table,
                        "name": frame.index[valued],
                        "region": "",
                        "carrier": "",
                        "cost_type": "value of the level left at the end",
                        "cost_cny": -value[valued] * end[valued],
                    }
                )
            )
        soft = ~np.isnan(penalty)
        if soft.any():
            costs.append(
                pd.DataFrame(
                    {
                        "component": table,
                        "name": frame.index[soft],
                        "region": "",
                        "carrier": "",
                        "cost_type": "end-of-horizon target missed",
                        "cost_cny": penalty[soft] * missed[soft],
                    }
                )
            )
    out = {"end_state": pd.concat(tables, ignore_index=True)} if tables else {}
    if costs:
        out["costs"] = pd.concat(costs, ignore_index=True)
    return out
