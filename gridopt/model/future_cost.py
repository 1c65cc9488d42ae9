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
end-state expression of entry i (`state_of`), in units of THETA_UNIT_CNY (theta, the rows and
their right-hand sides divided by it: a year's future cost is some 1e11 CNY and a penalised
cut's slope 1e7 CNY per unit, which in CNY put the rows far outside the solver's comfortable
range, and crossover then failed on windows of a rolling run). beta_{k,i} is what one more
unit of entry i at the end is worth to the future (CNY per unit, negative where more water
saves cost later). The dual of a cut row is the weight of that cut in the function at the
optimum (times THETA_UNIT_CNY). Nothing is
built without `future_cost`; an empty set of cuts leaves theta = 0.

Where the function knows levels below (or above) which what follows cannot be feasible at all
(`FutureCost.reach`: a reservoir too low to get back to its end-of-year level, found by the
stages that could not start there), the end state keeps them, a miss paid at
`MISS_CNY_PER_UNIT` per unit so that a window is never infeasible for them:

    x_i + short_i >= low_i,   x_i - over_i <= high_i,   cost += MISS (short_i + over_i)
                                                  (rows `future_cost_reach_low`/`_high`)

Cuts value many end states alike (a reservoir's water at the same value over a range of its
levels, the same water in one store or the one below); an LP then takes any of them, and
the stages after it may pay for that choice where the cuts are not yet exact. Where the
function gives a path to stay near (`FutureCost.toward`: the cheapest path the future-cost
function's passes found, with a price p_i per unit a tiny fraction of the store's value),
the end state keeps to it among the states of (almost) equal cost:

    x_i - above_i + below_i = to_i,   cost += p_i (above_i + below_i)   (rows `future_cost_toward`)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.model import gas, hydro, periods, storage
from gridopt.model._stateful import StateBlock
from gridopt.model.core import INF, LinearModel, Rows, VarBlock

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "future_cost"
# the families that keep a state, in the order of its entries
KEEPERS = (storage, hydro, gas, periods)
CUT_COLUMNS = ["cut", "table", "store", "intercept_cny", "slope_cny_per_unit", "at_level"]
# the unit of theta and of the cut rows (module doc)
THETA_UNIT_CNY = 1e6
# what a unit of the end state beyond a level the future cannot recover from costs (module doc)
MISS_CNY_PER_UNIT = 1e7


def state_of(model: LinearModel, resolution_h: float | None = None) -> StateBlock:
    """Every entry of the state of a built model (`gridopt.model._stateful.StateBlock`): the
    levels of its stores and its water in transit, counted in steps of `resolution_h` hours
    (default: the model's resolution)."""
    res = resolution_h or model.data.case.horizon.resolution_h
    return StateBlock([part for family in KEEPERS for part in family.state(model, res)])


def theta_column(model: LinearModel) -> int | None:
    """The column of theta in a built model (None: it has no future cost)."""
    return int(model.variables[NAME].cols[0, 0]) if model.has(NAME) else None


def theta_cny(sol: Solution) -> float:
    """The future cost of a solution's end state, CNY (0: the model has none)."""
    col = theta_column(sol.model)
    return 0.0 if col is None else float(sol.x[col]) * THETA_UNIT_CNY


def cut_matrix(
    keys: pd.MultiIndex, end: sp.csr_matrix, cuts: pd.DataFrame, unit: float = 1.0
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The cuts as rows over the model's columns, without theta: (B E, rhs, cut numbers), so
    that cut k reads theta - (B E x)_k >= rhs_k (module doc), both divided by `unit` (theta's
    unit, THETA_UNIT_CNY). `keys` are the (table, store) of the state's entries and `end`
    their end-state expressions (`StateBlock.end`). Entries that a cut does not name have
    slope 0; a cut naming an entry the model does not have is an error."""
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
    return (B @ end).tocsr() / unit, (alpha - shift) / unit, ids.to_numpy()


def build(model: LinearModel) -> None:
    given = model.data.future_cost
    if given is None:
        return
    if model.aggregated:
        raise ValueError("a future cost of the end state needs a chronological horizon")
    state = state_of(model, given.resolution_h)
    theta = model.add_variables(NAME, pd.Index(["future cost"]), 0.0, INF, time=False)
    model.add_cost(theta.cols[:, 0], THETA_UNIT_CNY)
    end = state.end(model.n_cols)
    _reach(model, state.keys, end, given.reach)
    _toward(model, state.keys, end, given.toward)
    BE, rhs, ids = cut_matrix(state.keys, end, given.cuts, THETA_UNIT_CNY)
    if not len(ids):
        return
    rows = model.rows(
        "future_cost_cuts",
        pd.Index(ids, name="cut"),
        model.snapshots[-1:],
        meaning="future cost of the end state, cut {}",
        unit=f"{THETA_UNIT_CNY:,.0f} CNY",
        below="future cost below the cut by",
    )
    rows.add(np.broadcast_to(theta.cols[0, 0], (len(ids), 1)), 1.0)
    coo = BE.tocoo()
    rows.scatter(coo.row, coo.col, -coo.data)
    rows.greater(rhs[:, None])


def _entries(keys: pd.MultiIndex, table: pd.DataFrame, what: str) -> tuple[np.ndarray, pd.Index]:
    """The positions in the state of the entries a table names (`table`, `store`), and their
    labels `table: store`."""
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([table["table"], table["store"]]))
    if (pos < 0).any():
        raise KeyError(f"future-cost {what} names state entries the model does not have")
    return pos, pd.Index(table["table"].astype(str) + ": " + table["store"].astype(str))


def _paid(model: LinearModel, name: str, names: pd.Index, cost_cny: float | np.ndarray) -> VarBlock:
    """Columns >= 0, one per entry, each unit at `cost_cny` (a miss, a distance)."""
    block = model.add_variables(name, names, 0.0, INF, time=False)
    model.add_cost(block.cols[:, 0], cost_cny)
    return block


def _end_rows(model: LinearModel, name: str, names: pd.Index, what: str) -> Rows:
    """A row per entry of the end state, at the last snapshot, in the entry's units."""
    return model.rows(
        name,
        names,
        model.snapshots[-1:],
        meaning=f"end state {what}, {{}}",
        unit="units of the store",
    )


def _reach(
    model: LinearModel, keys: pd.MultiIndex, end: sp.csr_matrix, reach: pd.DataFrame | None
) -> None:
    """The levels the end state keeps, a miss paid (module doc)."""
    if reach is None or not len(reach):
        return
    pos, _names = _entries(keys, reach, "reach")
    for side, column, sign in (("low", "low", 1.0), ("high", "high", -1.0)):
        level = reach[column].to_numpy(dtype=float)
        held = np.isfinite(level)
        if not held.any():
            continue
        names = _names[held]
        miss = _paid(model, f"{NAME}_reach_{side}_miss", names, MISS_CNY_PER_UNIT)
        rows = _end_rows(model, f"{NAME}_reach_{side}", names, "the future can recover from")
        coo = end[pos[held]].tocoo()
        rows.scatter(coo.row, coo.col, sign * coo.data)
        rows.add(miss.cols, 1.0)
        rows.greater(sign * level[held][:, None])


def pull_block(end: sp.csr_matrix, price: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The rows x_i - above_i + below_i (= to_i) over the columns [x, above, below] and the
    costs of above and below (module doc): one entry per row of `end`."""
    k = end.shape[0]
    return sp.hstack([end, -sp.identity(k), sp.identity(k)], format="csr"), np.r_[price, price]


def _toward(
    model: LinearModel, keys: pd.MultiIndex, end: sp.csr_matrix, toward: pd.DataFrame | None
) -> None:
    """The end state kept near a path among states of almost equal cost (module doc)."""
    if toward is None or not len(toward):
        return
    pos, names = _entries(keys, toward, "path")
    price = toward["price_cny_per_unit"].to_numpy(dtype=float)
    block, cost = pull_block(end[pos], price)
    above = _paid(model, f"{NAME}_above_path", names, cost[: len(names)])
    below = _paid(model, f"{NAME}_below_path", names, cost[len(names) :])
    cols = np.r_[np.arange(end.shape[1]), above.cols[:, 0], below.cols[:, 0]]
    rows = _end_rows(model, f"{NAME}_toward", names, "near the future-cost function's path")
    coo = block.tocoo()
    rows.scatter(coo.row, cols[coo.col], coo.data)
    rows.equal(toward["level"].to_numpy(dtype=float)[:, None])


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    if model.data.future_cost is None or not model.has(NAME):
        return {}
    theta = float(sol.value(NAME)[0, 0]) * THETA_UNIT_CNY
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
