"""The future cost of the state a horizon ends in: Benders cuts over every store together.

A stage of a future-cost function, or a window of a rolling run that uses one
(`gridopt.studies.future_cost`, `rolling.seasonal: future_cost`), minimises its own cost plus
the cost of everything after it, as a function of the state x it leaves: the level of every
store (reservoirs in hm3, storage units in MWh, gas storage in MWh_th) and the water released
in its last steps that has not yet reached the station below (m3/s per step of the cuts'
resolution; `gridopt.model.hydro.transit_entries`). `CaseData.future_cost` gives that function
as cuts k = 1..K, each made at a state xhat_k (`gridopt.inputs.data.FutureCost`):

    theta >= alpha_k + sum_i beta_{k,i} (x_i - xhat_{k,i})      (rows `future_cost_cuts`)
    theta >= 0                                                  (column `future_cost`, CNY)
    cost += theta

written theta - sum_i beta_{k,i} x_i >= alpha_k - sum_i beta_{k,i} xhat_{k,i}, with x_i the
end-state expression of entry i (`state_of`). beta_{k,i} is what one more unit of entry i at
the end is worth to the future (CNY per unit, negative where more water saves cost later).
The dual of a cut row is the weight of that cut in the function at the optimum. Nothing is
built without `future_cost`; an empty set of cuts leaves theta = 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.model import gas, hydro, storage
from gridopt.model._stateful import StateBlock
from gridopt.model.core import INF, LinearModel

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "future_cost"
# the families that keep a state, in the order of its entries
KEEPERS = (storage, hydro, gas)
CUT_COLUMNS = ["cut", "table", "store", "intercept_cny", "slope_cny_per_unit", "at_level"]


def state_of(model: LinearModel, resolution_h: float | None = None) -> StateBlock:
    """Every entry of the state of a built model (`gridopt.model._stateful.StateBlock`): the
    levels of its stores and its water in transit, counted in steps of `resolution_h` hours
    (default: the model's resolution)."""
    res = resolution_h or model.data.case.horizon.resolution_h
    return StateBlock([part for family in KEEPERS for part in family.state(model, res)])


def theta_column(model: LinearModel) -> int | None:
    """The column of theta in a built model (None: it has no future cost)."""
    return int(model.variables[NAME].cols[0, 0]) if model.has(NAME) else None


def cut_matrix(
    keys: pd.MultiIndex, end: sp.csr_matrix, cuts: pd.DataFrame
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The cuts as rows over the model's columns, without theta: (B E, rhs, cut numbers), so
    that cut k reads theta - (B E x)_k >= rhs_k (module doc). `keys` are the (table, store)
    of the state's entries and `end` their end-state expressions (`StateBlock.end`). Entries
    that a cut does not name have slope 0; a cut naming an entry the model does not have is
    an error."""
    ids = pd.Index(pd.unique(cuts["cut"]), name="cut")
    if not len(cuts):
        return sp.csr_matrix((0, end.shape[1])), np.zeros(0), ids.to_numpy()
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([cuts["table"], cuts["store"]]))
    if (pos < 0).any():
        missing = cuts.loc[pos < 0, ["table", "store"]].drop_duplicates()
        raise KeyError(
            "future-cost cuts name state entries the model does not have:"
            f" {[f'{t}: {s}' for t, s in missing.itertuples(index=False)][:10]}"
        )
    k = ids.get_indexer(cuts["cut"])
    slope = cuts["slope_cny_per_unit"].to_numpy(dtype=float)
    B = sp.csr_matrix((slope, (k, pos)), shape=(len(ids), len(keys)))
    shift = np.bincount(
        k, weights=slope * cuts["at_level"].to_numpy(dtype=float), minlength=len(ids)
    )
    alpha = cuts.groupby("cut", sort=False)["intercept_cny"].first().reindex(ids).to_numpy()
    return (B @ end).tocsr(), alpha - shift, ids.to_numpy()


def build(model: LinearModel) -> None:
    given = model.data.future_cost
    if given is None:
        return
    if model.aggregated:
        raise ValueError("a future cost of the end state needs a chronological horizon")
    state = state_of(model, given.resolution_h)
    theta = model.add_variables(NAME, pd.Index(["future cost"]), 0.0, INF, time=False)
    model.add_cost(theta.cols[:, 0], 1.0)
    BE, rhs, ids = cut_matrix(state.keys, state.end(model.n_cols), given.cuts)
    if not len(ids):
        return
    rows = model.rows(
        "future_cost_cuts",
        pd.Index(ids, name="cut"),
        model.snapshots[-1:],
        meaning="future cost of the end state, cut {}",
        unit="CNY",
        below="future cost below the cut by",
    )
    rows.add(np.broadcast_to(theta.cols[0, 0], (len(ids), 1)), 1.0)
    coo = BE.tocoo()
    rows.scatter(coo.row, coo.col, -coo.data)
    rows.greater(rhs[:, None])


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    if model.data.future_cost is None or not model.has(NAME):
        return {}
    theta = float(sol.value(NAME)[0, 0])
    table = pd.DataFrame({"snapshot": [model.snapshots[-1]], "future_cost_cny": [theta + 0.0]})
    costs = pd.DataFrame(
        {
            "component": ["future_cost"],
            "name": ["end state"],
            "region": [""],
            "carrier": [""],
            "cost_type": ["future cost of the end state"],
            "cost_cny": [theta + 0.0],
        }
    )
    return {"future_cost": table, "costs": costs}
