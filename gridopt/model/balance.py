"""Nodal power balance, demand and (opt-in) load shedding. Nodal prices are its duals.

For every bus b and snapshot t:

    sum_{injections i at b} coef[i] * x[i,t] + shed[b,t] = demand[b,t]

where the injections are registered by the other families (generation, storage discharge
minus charge, hydro, line flows in minus out, link deliveries minus sendings). The price is
the dual of this row divided by the snapshot length: CNY/MWh.

Load shedding 0 <= shed[b,t] <= demand[b,t] exists only when the case enables it, costing
the value of lost load; otherwise a shortfall makes the model infeasible, as it should.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "balance"


def demand_mw(model: LinearModel) -> np.ndarray:
    """Demand per bus and snapshot (bus x snapshot), MW."""
    loads = model.data.tables["loads"]
    out = np.zeros((len(model.buses), model.T))
    if loads.empty:
        return out
    bus_idx = model.buses.get_indexer(loads["bus"])
    np.add.at(out, bus_idx, model.data.load_mw[loads.index].to_numpy().T)
    return out


def build(model: LinearModel) -> None:
    demand = demand_mw(model)
    T = model.T
    rows = model.rows(
        "bus_balance",
        model.buses,
        meaning="power balance at bus {}",
        unit="MW",
        below="supply short by",
        above="supply exceeds demand by",
    )
    shedding = model.data.case.load_shedding
    if shedding.enabled:
        shed = model.add_variables("load_shed", model.buses, 0.0, demand)
        rows.add(shed.cols, 1.0)
        model.add_cost(shed.cols, shedding.voll_cny_per_mwh * model.w[None, :])
    for _family, bus_idx, cols, coef in model.injections:
        rows.scatter(bus_idx[:, None] * T + np.arange(T)[None, :], cols, coef)
    rows.equal(demand, per_weight=True)


def unserved_mw(sol: Solution) -> np.ndarray:
    """Demand left unserved, (bus x snapshot) MW (zeros where load shedding is off)."""
    model = sol.model
    if model.has("load_shed"):
        return sol.value("load_shed")
    return np.zeros((len(model.buses), model.T))


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    buses = model.data.tables["buses"]
    demand = demand_mw(model)
    shed = unserved_mw(sol)
    attrs = pd.DataFrame({"region": buses["region"]}, index=buses.index)
    prices = tidy(
        model.snapshots, model.buses, "bus", {"price_cny_per_mwh": sol.dual("bus_balance")}, attrs
    )
    unserved = tidy(
        model.snapshots,
        model.buses,
        "bus",
        {"demand_mw": demand, "served_mw": demand - shed, "unserved_mw": shed},
        attrs,
    )
    out = {"prices": prices, "unserved": unserved}
    if model.has("load_shed"):
        voll = model.data.case.load_shedding.voll_cny_per_mwh
        out["costs"] = pd.DataFrame(
            {
                "component": "bus",
                "name": model.buses,
                "region": region_of(model.data.tables, pd.Series(model.buses)),
                "carrier": "",
                "cost_type": "unserved energy (VOLL)",
                "cost_cny": (voll * shed * model.w[None, :]).sum(axis=1),
            }
        )
    return out
