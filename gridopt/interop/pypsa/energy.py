"""The gas network and the corridors of a gridopt case, written into a PyPSA network.

Gas (`gridopt.model.gas`, all in MWth and CNY/MWh_th):

============================  ================================================================
gridopt                       PyPSA
============================  ================================================================
gas_nodes                     Bus, carrier "gas" (v_nom 1, x, y; region as `gridopt_region`),
                              named "<node> gas" where a bus has the node's name
gas_supplies                  Generator on its gas bus, carrier "gas": p_nom = p_max_mwth,
                              p_max_pu = availability, p_min_pu = the take-or-pay floor,
                              marginal_cost = price; the kind as `gridopt_gas_kind`
pipelines                     Link node0 -> node1: p_nom = p_max_mwth, efficiency, marginal
                              cost = tariff; a rating back (p_max_reverse_mwth) is a second
                              Link "<name> reverse" (each direction pays its tariff and loses,
                              and both may carry gas at once, as in gridopt), or, lossless
                              and free, p_min_pu = -reverse / forward
gas_storage                   Store on a Bus "<name> store" (carrier "gas storage"): e_nom =
                              volume, e_initial (blank: e_cyclic); Link "<name> injection"
                              (gas node -> store, efficiency) and "<name> withdrawal" (back)
gas_demands                   Load on the gas bus
gas-fired generators          Link gas node -> bus, p in MWth burnt: p_nom = p_max_mw /
                              efficiency, efficiency, marginal_cost = non-fuel cost x
                              efficiency, p_max_pu = availability, p_min_pu = the must-run
                              floor, ramp limits and p_init as the generator's (per MWth)
gas shedding (enabled)        Generator per gas bus with demand at VOLL, p_max_pu = demand
============================  ================================================================

Corridors (`gridopt.model.corridors`), with the usable ratings P, R and no-load loss L of the
poles in service: Link "<name>" bus0 -> bus1, p_nom = P, efficiency = 1 - loss_pu, marginal
cost; a reverse rating is a Link "<name> reverse" (PyPSA may run both at once, which costs
losses: approximated, by name, since gridopt's directions are binary); the no-load loss is a
Load of L/2 at each end (exact while energised: always, in a dispatch case); on a one-way
corridor the minimum transfer is p_min_pu and the schedule ramp the Link's ramp limits. Refused
by name: daily delivery shapes and peak/valley ratios, minimum transfers and ramps of two-way
corridors, switchable corridors in a uc case, and contracts (table `contracts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pypsa

from gridopt.errors import Problem
from gridopt.inputs.data import CaseData
from gridopt.interop import names_preview
from gridopt.interop.pypsa.common import HINT

GAS = "gas"
GAS_SHEDDING = "gas shedding"


def gas_plants(data: CaseData) -> pd.Index:
    """The generators that burn gas from a gas node (exported as Links)."""
    gens = data.tables["generators"]
    return gens.index[gens["gas_node"].notna().to_numpy()] if "gas_node" in gens else gens.index[:0]


def export_gas(n: pypsa.Network, data: CaseData, notes: list[str]) -> list[Problem]:
    """Add the gas network (module docstring); return what cannot be exported."""
    t = data.tables
    nodes = t["gas_nodes"]
    if nodes.empty:
        return []
    file = str(data.path)
    problems = []
    # gas nodes named like buses (PPRD's provinces) get their carrier in the name
    at = pd.Series(
        np.where(nodes.index.isin(t["buses"].index), nodes.index + " gas", nodes.index),
        index=nodes.index,
    )
    clash = pd.Index(at).intersection(t["buses"].index)
    if len(clash):
        problems.append(
            Problem(
                file,
                "gas nodes and buses both become PyPSA Buses, so their"
                f" names must differ: {names_preview(clash)}",
            )
        )
        return problems
    hours = float(data.weights_h[0])
    n.add(
        "Bus",
        at.to_numpy(),
        carrier=GAS,
        v_nom=1.0,
        x=nodes["x_lon"].fillna(0.0).to_numpy(),
        y=nodes["y_lat"].fillna(0.0).to_numpy(),
        **{f"{HINT}region": nodes["region"].to_numpy()},
    )
    if GAS not in n.carriers.index and len(n.carriers):
        n.add("Carrier", [GAS], color="#e07b39")
    sup = t["gas_supplies"]
    if len(sup):
        p_nom = sup["p_max_mwth"].to_numpy(dtype=float)
        avail = data.gas_supply_pu.reindex(columns=sup.index, fill_value=1.0).set_axis(n.snapshots)
        floor = np.minimum(sup["p_min_mwth"].to_numpy()[None, :], avail.to_numpy() * p_nom)
        positive = np.where(p_nom > 0, p_nom, 1.0)
        n.add(
            "Generator",
            sup.index,
            bus=at[sup["gas_node"]].to_numpy(),
            carrier=GAS,
            p_nom=p_nom,
            p_max_pu=avail,
            p_min_pu=pd.DataFrame(
                np.where(p_nom > 0, floor / positive, 0.0), index=n.snapshots, columns=sup.index
            ),
            marginal_cost=sup["price_cny_per_mwh_th"].to_numpy(),
            **{f"{HINT}gas_kind": sup["kind"].to_numpy()},
        )
    pipes = t["pipelines"]
    if len(pipes):
        eff = pipes["efficiency"].to_numpy(dtype=float)
        tariff = pipes["tariff_cny_per_mwh_th"].to_numpy(dtype=float)
        fwd = pipes["p_max_mwth"].to_numpy(dtype=float)
        rev = pipes["p_max_reverse_mwth"].to_numpy(dtype=float)
        single = (rev > 0) & (eff == 1) & (tariff == 0) & (fwd >= rev) & (fwd > 0)
        split = (rev > 0) & ~single
        n.add(
            "Link",
            pipes.index,
            bus0=at[pipes["node0"]].to_numpy(),
            bus1=at[pipes["node1"]].to_numpy(),
            carrier=GAS,
            p_nom=fwd,
            efficiency=eff,
            marginal_cost=tariff,
            p_min_pu=np.where(single, -rev / np.where(fwd > 0, fwd, 1.0), 0.0),
            length=pipes["length_km"].fillna(0.0).to_numpy(),
        )
        if split.any():
            back = pipes.index[split]
            n.add(
                "Link",
                [f"{p} reverse" for p in back],
                bus0=at[pipes.loc[back, "node1"]].to_numpy(),
                bus1=at[pipes.loc[back, "node0"]].to_numpy(),
                carrier=GAS,
                p_nom=rev[split],
                efficiency=eff[split],
                marginal_cost=tariff[split],
            )
    store = t["gas_storage"]
    if len(store):
        buses = [f"{s} store" for s in store.index]
        n.add("Bus", buses, carrier="gas storage", v_nom=1.0)
        v0 = store["volume_initial_mwh_th"]
        n.add(
            "Store",
            store.index,
            bus=buses,
            carrier="gas storage",
            e_nom=store["volume_max_mwh_th"].to_numpy(),
            e_initial=v0.fillna(0.0).to_numpy(),
            e_cyclic=v0.isna().to_numpy(),
        )
        n.add(
            "Link",
            [f"{s} injection" for s in store.index],
            bus0=at[store["gas_node"]].to_numpy(),
            bus1=buses,
            carrier="gas storage",
            p_nom=store["injection_max_mwth"].to_numpy(),
            efficiency=store["efficiency"].to_numpy(),
        )
        n.add(
            "Link",
            [f"{s} withdrawal" for s in store.index],
            bus0=buses,
            bus1=at[store["gas_node"]].to_numpy(),
            carrier="gas storage",
            p_nom=store["withdrawal_max_mwth"].to_numpy(),
        )
    dem = t["gas_demands"]
    if len(dem):
        n.add(
            "Load",
            dem.index,
            bus=at[dem["gas_node"]].to_numpy(),
            carrier=GAS,
            p_set=data.gas_demand_mwth[dem.index].set_axis(n.snapshots),
        )
    problems += _gas_plants(n, data, hours, at)
    _gas_shedding(n, data, notes, at)
    return problems


def _gas_plants(n: pypsa.Network, data: CaseData, hours: float, at: pd.Series) -> list[Problem]:
    plants = gas_plants(data)
    if plants.empty:
        return []
    gens = data.tables["generators"].loc[plants]
    if (gens["quadratic_cost_cny_per_mw2h"] > 0).any():
        return [
            Problem(
                str(data.path),
                "gas-fired generators with a quadratic cost cannot be"
                " exported (PyPSA Links have no quadratic cost here):"
                f" {names_preview(plants[(gens['quadratic_cost_cny_per_mw2h'] > 0)])}",
                column="quadratic_cost_cny_per_mw2h",
            )
        ]
    eff = gens["efficiency"].to_numpy(dtype=float)
    p_max = gens["p_max_mw"].to_numpy(dtype=float)
    positive = np.where(p_max > 0, p_max, 1.0)
    avail = data.availability_pu[plants].set_axis(n.snapshots)
    floor = np.minimum(gens["p_min_mw"].to_numpy()[None, :], avail.to_numpy() * p_max)
    ramp: dict[str, Any] = {
        attr: np.where(p_max > 0, gens[col].to_numpy(dtype=float) * hours / positive, np.nan)
        for attr, col in (
            ("ramp_limit_up", "ramp_up_mw_per_h"),
            ("ramp_limit_down", "ramp_down_mw_per_h"),
        )
    }
    n.add(
        "Link",
        plants,
        bus0=at[gens["gas_node"]].to_numpy(),
        bus1=gens["bus"].to_numpy(),
        carrier=gens["carrier"].to_numpy(),
        p_nom=p_max / eff,
        efficiency=eff,
        marginal_cost=gens["marginal_cost_cny_per_mwh"].to_numpy() * eff,
        p_max_pu=avail,
        p_min_pu=pd.DataFrame(
            np.where(p_max > 0, floor / positive, 0.0), index=n.snapshots, columns=plants
        ),
        p_init=gens["p_initial_mw"].to_numpy(dtype=float) / eff,
        **ramp,
        **{f"{HINT}co2_t_per_mwh": gens["co2_t_per_mwh"].to_numpy()},
    )
    return []


def _gas_shedding(n: pypsa.Network, data: CaseData, notes: list[str], at: pd.Series) -> None:
    shedding = data.case.gas_shedding
    dem = data.tables["gas_demands"]
    if not shedding.enabled or dem.empty:
        return
    by_node = data.gas_demand_mwth[dem.index].T.groupby(dem["gas_node"]).sum().T.clip(lower=0)
    peak = by_node.max()
    peak = peak[peak > 0]
    names = [f"{node} {GAS_SHEDDING}" for node in peak.index]
    n.add(
        "Generator",
        names,
        bus=at[peak.index].to_numpy(),
        carrier=GAS_SHEDDING,
        p_nom=peak.to_numpy(),
        marginal_cost=shedding.voll_cny_per_mwh_th,
        p_max_pu=(by_node[peak.index] / peak).set_axis(names, axis=1).set_axis(n.snapshots),
    )
    notes.append(
        f"gas shedding is exported as {len(names)} generators with carrier"
        f" '{GAS_SHEDDING}' at the value of lost gas"
    )


def export_corridors(n: pypsa.Network, data: CaseData, notes: list[str]) -> list[Problem]:
    """Corridors as Links (module docstring); return what cannot be exported."""
    c = data.tables.get("corridors", pd.DataFrame())
    if c.empty:
        return []
    file = str(data.path)
    problems = []
    poles = c["poles"].to_numpy(dtype=float)
    share = c["poles_available"].fillna(c["poles"]).to_numpy(dtype=float) / poles
    P, R = c["p_max_mw"].to_numpy() * share, c["p_max_reverse_mw"].to_numpy() * share
    L = c["loss_noload_mw"].to_numpy() * share
    two_way = R > 0
    refused = {
        "daily delivery shapes": c["daily_profile"].notna().to_numpy(),
        "peak/valley ratios": c["peak_valley_ratio_max"].notna().to_numpy(),
        "minimum transfers of two-way corridors": two_way & (c["min_transfer_pu"] > 0).to_numpy(),
        "ramp limits of two-way corridors": two_way & c["ramp_mw_per_h"].notna().to_numpy(),
    }
    if data.case.model == "uc":
        refused["switchable corridors in a uc case"] = c["switchable"].astype(bool).to_numpy()
    for rule, mask in refused.items():
        if mask.any():
            problems.append(
                Problem(
                    file,
                    f"{rule} cannot be expressed in PyPSA: {names_preview(c.index[mask])}",
                    column="corridors",
                )
            )
    if problems:
        return problems
    live = share > 0
    if (~live).any():
        notes.append(
            f"corridors {names_preview(c.index[~live])} have no pole in service and are left out"
        )
    hours = float(data.weights_h[0])
    idx = c.index[live]
    eff = 1.0 - c["loss_pu"].to_numpy()[live]
    cost = c["marginal_cost_cny_per_mwh"].to_numpy()[live]
    ramp = (
        c["ramp_mw_per_h"].to_numpy(dtype=float)[live] * hours / np.where(P[live] > 0, P[live], 1.0)
    )
    n.add(
        "Link",
        idx,
        bus0=c.loc[idx, "bus0"].to_numpy(),
        bus1=c.loc[idx, "bus1"].to_numpy(),
        carrier=c.loc[idx, "carrier"].to_numpy(),
        p_nom=P[live],
        efficiency=eff,
        marginal_cost=cost,
        p_min_pu=np.where(two_way[live], 0.0, c["min_transfer_pu"].to_numpy()[live]),
        ramp_limit_up=ramp,
        ramp_limit_down=ramp,
        length=c.loc[idx, "length_km"].fillna(0.0).to_numpy(),
    )
    back = live & two_way
    if back.any():
        names = c.index[back]
        n.add(
            "Link",
            [f"{k} reverse" for k in names],
            bus0=c.loc[names, "bus1"].to_numpy(),
            bus1=c.loc[names, "bus0"].to_numpy(),
            carrier=c.loc[names, "carrier"].to_numpy(),
            p_nom=R[back],
            efficiency=1.0 - c.loc[names, "loss_pu"].to_numpy(),
            marginal_cost=c.loc[names, "marginal_cost_cny_per_mwh"].to_numpy(),
        )
        notes.append(
            f"two-way corridors {names_preview(names)} are two PyPSA Links, which"
            " may carry power both ways at once (gridopt's directions are binary):"
            " equal optima unless circulating power pays, at negative prices"
        )
    loss = live & (L > 0)
    if loss.any():
        names = c.index[loss]
        for end in ("bus0", "bus1"):
            labels = [f"{k} no-load loss {end}" for k in names]
            n.add(
                "Load",
                labels,
                bus=c.loc[names, end].to_numpy(),
                carrier="corridor losses",
                p_set=pd.DataFrame(
                    np.repeat((L[loss] / 2)[None, :], len(n.snapshots), axis=0),
                    index=n.snapshots,
                    columns=labels,
                ),
            )
    return problems
