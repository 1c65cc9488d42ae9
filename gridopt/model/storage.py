"""Storage units (batteries, pumped hydro): charge, discharge and state of charge.

Variables: charge c[s,t], discharge d[s,t] in [0, p_max] (MW); energy e[s,t] in [0, e_max] (MWh).
In an expansion case p_max and e_max of a unit with a candidate are the capacities built in the
snapshot's period (`LinearModel.rating`).

    e[s,t] = (1 - loss[s])^h[t] * e[s,t-1] + h[t] * (eta_c[s] * c[s,t] - d[s,t] / eta_d[s])

with h[t] the hours snapshot t lasts (its weight w[t], but on typical periods, whose weight
counts every hour a snapshot stands for, the resolution), and
where e[s,-1] is `soc_initial_mwh` when given, else e[s,T-1] (cyclic). A unit with an
`inflow_profile` (pumped hydro on a river) also gains h[t] (r[s,t] - spill[s,t]), its natural
inflow r (MW, `storage_inflow_mw`) less what it spills, 0 <= spill[s,t] <= r[s,t] (as PyPSA's
StorageUnit inflow and spill). The dual of this
equation is the value of stored energy (CNY/MWh). The recursion is `_stateful.level_balance`,
shared with gas storage and hydro reservoirs, and so is its linking across typical periods
(table `storage_year`: the level in every hour of the horizon, for a case in typical periods).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model._stateful import (
    StatePart,
    level_rows,
    level_state,
    level_values,
    year_table,
)
from gridopt.model.core import LinearModel
from gridopt.model.stores import Motion, StoreKind, Stores, hours_to_move
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "storage"


def _stores(tables: dict[str, pd.DataFrame]) -> Stores:
    """Storage units: energy range, rule (no initial level: cyclic), hours to fill at full
    power."""
    sto = tables["storage_units"]
    initial = sto["soc_initial_mwh"].to_numpy(dtype=float)
    upper = sto["energy_max_mwh"].to_numpy(dtype=float)
    return Stores(
        "storage_units",
        sto.index,
        np.zeros(len(sto)),
        upper,
        np.where(np.isnan(initial), "cyclic", "free").astype(object),
        initial,
        hours_to_move(upper, sto["p_max_mw"].to_numpy(dtype=float)),
    )


def _start_at(sto: pd.DataFrame, level: np.ndarray) -> pd.DataFrame:
    sto = sto.copy()
    sto["soc_initial_mwh"] = level
    return sto


def _motion(model: LinearModel) -> Motion:
    """How far each storage unit can fill or empty in each snapshot: charging at full power
    (times its charging efficiency) plus its natural inflow, or discharging at full power
    (over its discharging efficiency), after its standing loss."""
    sto = model.data.tables["storage_units"]
    dt = model.dt[None, :]
    p_max = model.rating("storage_units", "p_max_mw")[:, None]
    inflow = inflow_mw(model)
    rise = dt * (sto["efficiency_charge"].to_numpy()[:, None] * p_max + np.maximum(inflow, 0.0))
    fall = dt * (p_max / sto["efficiency_discharge"].to_numpy()[:, None] + np.maximum(-inflow, 0.0))
    keep = (1.0 - sto["standing_loss_per_h"].to_numpy()[:, None]) ** dt
    return Motion(rise, fall, np.broadcast_to(keep, rise.shape).copy())


STORES = (
    StoreKind(
        "storage_units",
        "sto_energy",
        "sto_energy_balance",
        "MWh",
        "storage unit",
        _stores,
        _start_at,
        _motion,
    ),
)


def build(model: LinearModel) -> None:
    sto = model.data.tables["storage_units"]
    if sto.empty:
        return
    model.store_kinds["storage_units"] = STORES[0]
    w = model.w[None, :]
    p_max = model.rating("storage_units", "p_max_mw")[:, None]
    charge = model.add_variables("sto_charge", sto.index, 0.0, p_max)
    discharge = model.add_variables("sto_discharge", sto.index, 0.0, p_max)
    energy = model.add_variables(
        "sto_energy", sto.index, 0.0, model.rating("storage_units", "energy_max_mwh")[:, None]
    )
    for var in (charge, discharge):
        model.limit_by_rating(var, "storage_units", "p_max_mw")
    model.limit_by_rating(energy, "storage_units", "energy_max_mwh")

    dt = model.dt[None, :]  # the hours a snapshot lasts (its weight but on typical periods)
    keep = (1.0 - sto["standing_loss_per_h"].to_numpy()[:, None]) ** dt
    rows, rhs = level_rows(
        model,
        "sto_energy_balance",
        sto.index,
        energy,
        sto["soc_initial_mwh"].to_numpy(),
        keep,
        meaning="energy balance of storage unit {}",
        unit="MWh",
        below="more energy than it can store or deliver, by",
        above="short of energy by",
    )
    rows.add(charge.cols, -dt * sto["efficiency_charge"].to_numpy()[:, None])
    rows.add(discharge.cols, dt / sto["efficiency_discharge"].to_numpy()[:, None])
    inflow = inflow_mw(model)
    if (inflow != 0).any():
        spill = model.add_variables("sto_spill", sto.index, 0.0, np.maximum(inflow, 0.0))
        rows.add(spill.cols, dt)
        rhs = rhs + dt * inflow
    rows.equal(rhs)

    model.add_cost(discharge.cols, sto["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * w)
    model.add_injection(NAME, sto["bus"], discharge.cols, 1.0)
    model.add_injection(NAME, sto["bus"], charge.cols, -1.0)


def inflow_mw(model: LinearModel) -> np.ndarray:
    """Natural inflow of each storage unit per snapshot (unit x snapshot), MW."""
    sto = model.data.tables["storage_units"]
    frame = model.data.storage_inflow_mw
    if frame is None or frame.empty:
        return np.zeros((len(sto), model.T))
    return frame.reindex(columns=sto.index, fill_value=0.0).to_numpy().T


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    sto = model.data.tables["storage_units"]
    if sto.empty:
        return {}
    attrs = pd.DataFrame(
        {
            "bus": sto["bus"],
            "region": region_of(model.data.tables, sto["bus"]),
            "carrier": sto["carrier"],
        },
        index=sto.index,
    )
    ch, dis = sol.value("sto_charge"), sol.value("sto_discharge")
    e = level_values(sol, "sto_energy")
    columns = {
        "charge_mw": ch,
        "discharge_mw": dis,
        "net_output_mw": dis - ch,
        "energy_mwh": e,
        "energy_value_cny_per_mwh": -sol.dual("sto_energy_balance"),
    }
    if model.has("sto_spill"):
        columns.update(inflow_mw=inflow_mw(model), spill_mw=sol.value("sto_spill"))
    table = tidy(model.snapshots, sto.index, "storage_unit", columns, attrs)
    w = model.w[None, :]
    costs = pd.DataFrame(
        {
            "component": "storage_unit",
            "name": sto.index,
            "region": attrs["region"].to_numpy(),
            "carrier": sto["carrier"].to_numpy(),
            "cost_type": "variable (discharge)",
            "cost_cny": (sto["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * dis * w).sum(
                axis=1
            ),
        }
    )
    return {
        "storage": table,
        "costs": costs,
        **year_table(
            sol, "sto_energy", "storage_year", sto.index, "storage_unit", "energy_mwh", attrs
        ),
    }


def state(model: LinearModel, resolution_h: float) -> list[StatePart]:
    """The levels of these stores as entries of the state (`gridopt.model._stateful`)."""
    part = level_state(model, STORES[0])
    return [part] if part is not None else []
