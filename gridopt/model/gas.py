"""Gas network: supplies, pipelines, storage, non-power demand and the fuel of gas-fired plants.

Gas is counted by its energy (lower heating value): flows in MWth, volumes in MWh_th, prices in
CNY/MWh_th (1 bcm ~ 10.22 TWh_th, see `gridopt.inputs.schema`). Sets: gas nodes n; supplies s at
node
n(s); pipelines p from node0(p) to node1(p); storages k at n(k); non-power demands d at n(d);
gas-fired generators g (the generators with a `gas_node`), of efficiency eta_g (MWh_e/MWh_th).

Variables per snapshot t (all >= 0):

    s[s,t]               supply,  min(p_min[s], P[s] a[s,t]) <= s[s,t] <= P[s] a[s,t]
    f[p,t] <= F[p]       pipeline flow node0 -> node1, as sent
    r[p,t] <= R[p]       pipeline flow node1 -> node0, as sent (R = 0: one-way)
    i[k,t] <= I[k]       storage injection;   o[k,t] <= O[k]  storage withdrawal
    v[k,t] <= V[k]       storage volume at the end of t (MWh_th)

with a[s,t] the supply's availability profile (1 if none). In an expansion case P, F, R, I, O
and V of a component with a candidate are the capacities built in the snapshot's period
(`LinearModel.rating`). Gas balance of node n, snapshot t
(rows `gas_balance`; a pipeline delivers eta_p of what it sends, the rest feeds compressors):

    sum_{s at n} s[s,t]
      + sum_{p: node1(p)=n} (eta_p f[p,t] - r[p,t]) + sum_{p: node0(p)=n} (eta_p r[p,t] - f[p,t])
      - sum_{k at n} (i[k,t] - o[k,t]) - sum_{g at n} p[g,t] / eta_g + u[n,t]
      = sum_{d at n} D[d,t]

where p[g,t] is the generator's output (MW, from `generation`), D the non-power demand profile
times its scale, and 0 <= u[n,t] <= sum_d D[d,t] the non-power demand left unserved, which
exists only when the case enables gas shedding, at VOLL_gas per MWh_th. Storage
(`_stateful.level_balance`, shared with storage units):

    v[k,t] = v[k,t-1] + h[t] (eta_k i[k,t] - o[k,t]),   v[k,-1] = volume_initial[k], else cyclic

(h[t] the hours snapshot t lasts: w[t], but on typical periods, whose weight w counts every
hour a snapshot stands for, its resolution; linking across typical periods as in `_stateful`)

Cost: sum_t w[t] (sum_s price[s] s[s,t] + sum_p tariff[p] (f[p,t] + r[p,t]) + VOLL_gas
sum_n u[n,t]). A generator on a gas node keeps only its non-fuel cost in `generation`: its fuel
is the gas it burns, paid for once, where the gas is supplied. No linepack: a pipeline delivers
in the snapshot it sends.

The dual of the gas balance divided by w[t] is the nodal gas price, CNY/MWh_th: the cost of
1 MWth more demand at n for one hour. Where a gas plant is at the margin of the power balance,
the power price is its gas price / eta_g + its non-fuel cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model._stateful import (
    StatePart,
    level_balance,
    level_state,
    level_values,
    year_table,
)
from gridopt.model.core import LinearModel
from gridopt.model.stores import Motion, StoreKind, Stores, hours_to_move
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "gas"


def demand_mwth(model: LinearModel) -> np.ndarray:
    """Non-power gas demand per gas node and snapshot (node x snapshot), MWth."""
    nodes = model.data.tables["gas_nodes"]
    dem = model.data.tables["gas_demands"]
    out = np.zeros((len(nodes), model.T))
    if dem.empty:
        return out
    np.add.at(
        out,
        nodes.index.get_indexer(dem["gas_node"]),
        model.data.gas_demand_mwth[dem.index].to_numpy().T,
    )
    return out


def supply_pu(model: LinearModel) -> np.ndarray:
    """Availability of each supply per snapshot (supply x snapshot), per unit of its rating."""
    sup = model.data.tables["gas_supplies"]
    return model.data.gas_supply_pu.reindex(columns=sup.index, fill_value=1.0).to_numpy().T


def available_mwth(model: LinearModel, x: np.ndarray | None = None) -> np.ndarray:
    """Most gas each supply can give per snapshot (supply x snapshot), MWth: the most its
    rating can reach, or, given a solution `x`, the capacity built."""
    rating = (
        model.rating_per_snapshot("gas_supplies", "p_max_mwth", x)
        if x is not None
        else model.rating("gas_supplies", "p_max_mwth")[:, None]
    )
    avail = supply_pu(model)
    # an extendable supply without a build limit has no finite rating: 0 where unavailable
    return np.where(avail > 0, rating * np.where(avail > 0, avail, 1.0), 0.0)


def gas_generators(model: LinearModel) -> np.ndarray:
    """Positions (in the generator table) of the generators that burn gas from a gas node."""
    return np.flatnonzero(model.data.tables["generators"]["gas_node"].notna().to_numpy())


def _rows_at(model: LinearModel, nodes: pd.Series) -> np.ndarray:
    """Flat row numbers of the gas balance of `nodes` (one per component) in every snapshot."""
    index = model.data.tables["gas_nodes"].index.get_indexer(np.asarray(nodes))
    return index[:, None] * model.T + np.arange(model.T)[None, :]


def _stores(tables: dict[str, pd.DataFrame]) -> Stores:
    """Gas storage: volume range, rule (no initial volume: cyclic), hours to fill or empty at
    the larger of its injection and withdrawal rates."""
    gas = tables["gas_storage"]
    initial = gas["volume_initial_mwh_th"].to_numpy(dtype=float)
    upper = gas["volume_max_mwh_th"].to_numpy(dtype=float)
    rate = np.maximum(gas["injection_max_mwth"], gas["withdrawal_max_mwth"]).to_numpy()
    return Stores(
        "gas_storage",
        gas.index,
        np.zeros(len(gas)),
        upper,
        np.where(np.isnan(initial), "cyclic", "free").astype(object),
        initial,
        hours_to_move(upper, rate.astype(float)),
    )


def _start_at(gas: pd.DataFrame, level: np.ndarray) -> pd.DataFrame:
    gas = gas.copy()
    gas["volume_initial_mwh_th"] = level
    return gas


def _motion(model: LinearModel) -> Motion:
    """How far each gas storage k at node n can fill or empty in each snapshot, dt[t] hours
    each. It empties at its withdrawal rate O[k]. It fills at its injection rate I[k] times its
    efficiency, but no faster than gas can reach its node:

        rise[k,t] = dt[t] eta_k min(I[k], max(0, in[n,t] + sum_{j at n, j != k} O[j] - D[n,t]))

    with in[n,t] the most the node's supplies and inbound pipelines (after their losses) can
    deliver, and D[n,t] its non-power demand where gas shedding is off (it must be served)."""
    tables = model.data.tables
    sto = tables["gas_storage"]
    nodes = tables["gas_nodes"]
    dt = model.dt[None, :]
    withdrawal = model.rating("gas_storage", "withdrawal_max_mwth")
    reach_mwth = np.zeros((len(nodes), model.T))
    sup, pipes = tables["gas_supplies"], tables["pipelines"]
    if len(sup):
        np.add.at(reach_mwth, nodes.index.get_indexer(sup["gas_node"]), available_mwth(model))
    if len(pipes):
        eta = pipes["efficiency"].to_numpy()
        for column, end in (("p_max_mwth", "node1"), ("p_max_reverse_mwth", "node0")):
            delivered = eta * model.rating("pipelines", column)
            np.add.at(reach_mwth, nodes.index.get_indexer(pipes[end]), delivered[:, None])
    at = nodes.index.get_indexer(sto["gas_node"])
    np.add.at(reach_mwth, at, withdrawal[:, None])
    if not model.data.case.gas_shedding.enabled:
        reach_mwth -= demand_mwth(model)
    # an unbounded candidate's withdrawal (inf - inf) leaves its node unbounded
    into_store_mwth = np.nan_to_num(
        np.maximum(reach_mwth[at] - withdrawal[:, None], 0.0), nan=np.inf
    )
    injection = model.rating("gas_storage", "injection_max_mwth")[:, None]
    rise = dt * sto["efficiency"].to_numpy()[:, None] * np.minimum(injection, into_store_mwth)
    fall = dt * withdrawal[:, None]
    return Motion(rise, fall, np.ones(rise.shape))


STORES = (
    StoreKind(
        "gas_storage",
        "gas_volume",
        "gas_storage_balance",
        "MWh_th",
        "gas storage",
        _stores,
        _start_at,
        _motion,
    ),
)


def build(model: LinearModel) -> None:
    tables = model.data.tables
    nodes = tables["gas_nodes"]
    if nodes.empty:
        return
    w = model.w[None, :]
    rows = model.rows(
        "gas_balance",
        nodes.index,
        meaning="gas balance at node {}",
        unit="MWth",
        below="gas supply short by",
        above="gas supply exceeds demand by",
    )

    sup = tables["gas_supplies"]
    if len(sup):
        upper = available_mwth(model)
        lower = np.minimum(sup["p_min_mwth"].to_numpy()[:, None], upper)
        s = model.add_variables("gas_supply", sup.index, lower, upper)
        model.limit_by_rating(s, "gas_supplies", "p_max_mwth", supply_pu(model))
        rows.scatter(_rows_at(model, sup["gas_node"]), s.cols, 1.0)
        model.add_cost(s.cols, sup["price_cny_per_mwh_th"].to_numpy()[:, None] * w)

    pipes = tables["pipelines"]
    if len(pipes):
        f = model.add_variables(
            "gas_flow_forward", pipes.index, 0.0, model.rating("pipelines", "p_max_mwth")[:, None]
        )
        r = model.add_variables(
            "gas_flow_reverse",
            pipes.index,
            0.0,
            model.rating("pipelines", "p_max_reverse_mwth")[:, None],
        )
        model.limit_by_rating(f, "pipelines", "p_max_mwth")
        model.limit_by_rating(r, "pipelines", "p_max_reverse_mwth")
        eta = pipes["efficiency"].to_numpy()[:, None]
        at0, at1 = _rows_at(model, pipes["node0"]), _rows_at(model, pipes["node1"])
        rows.scatter(at0, f.cols, -1.0).scatter(at1, f.cols, eta)
        rows.scatter(at1, r.cols, -1.0).scatter(at0, r.cols, eta)
        tariff = pipes["tariff_cny_per_mwh_th"].to_numpy()[:, None] * w
        model.add_cost(f.cols, tariff)
        model.add_cost(r.cols, tariff)

    sto = tables["gas_storage"]
    if len(sto):
        model.store_kinds["gas_storage"] = STORES[0]
        inj = model.add_variables(
            "gas_injection",
            sto.index,
            0.0,
            model.rating("gas_storage", "injection_max_mwth")[:, None],
        )
        out = model.add_variables(
            "gas_withdrawal",
            sto.index,
            0.0,
            model.rating("gas_storage", "withdrawal_max_mwth")[:, None],
        )
        vol = model.add_variables(
            "gas_volume", sto.index, 0.0, model.rating("gas_storage", "volume_max_mwh_th")[:, None]
        )
        for var, column in (
            (inj, "injection_max_mwth"),
            (out, "withdrawal_max_mwth"),
            (vol, "volume_max_mwh_th"),
        ):
            model.limit_by_rating(var, "gas_storage", column)
        dt = model.dt[None, :]  # the hours a snapshot lasts (its weight but on typical periods)
        level_balance(
            model,
            "gas_storage_balance",
            sto.index,
            vol,
            [(inj.cols, dt * sto["efficiency"].to_numpy()[:, None]), (out.cols, -dt)],
            sto["volume_initial_mwh_th"].to_numpy(),
            meaning="volume balance of gas storage {}",
            unit="MWh_th",
            below="more gas than it can store or deliver, by",
            above="short of gas by",
        )
        at = _rows_at(model, sto["gas_node"])
        rows.scatter(at, inj.cols, -1.0).scatter(at, out.cols, 1.0)

    burners = gas_generators(model)
    if len(burners):
        gens = tables["generators"].iloc[burners]
        p = model.variables["gen_p"]
        rows.scatter(
            _rows_at(model, gens["gas_node"]),
            p.cols[burners],
            -1.0 / gens["efficiency"].to_numpy()[:, None],
        )

    demand = demand_mwth(model)
    shedding = model.data.case.gas_shedding
    if shedding.enabled:
        shed = model.add_variables("gas_shed", nodes.index, 0.0, demand)
        rows.add(shed.cols, 1.0)
        model.add_cost(shed.cols, shedding.voll_cny_per_mwh_th * w)
    rows.equal(demand, per_weight=True)


def unserved_mwth(sol: Solution) -> np.ndarray:
    """Non-power gas demand left unserved, (gas node x snapshot) MWth (an empty array where gas
    shedding is off)."""
    model = sol.model
    if model.has("gas_shed"):
        return sol.value("gas_shed")
    return np.zeros((0, model.T))


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    tables = model.data.tables
    nodes = tables["gas_nodes"]
    if nodes.empty or "gas_balance" not in model.row_blocks:
        return {}
    snaps = model.snapshots
    w = model.w[None, :]
    price = sol.dual("gas_balance")  # node x snapshot, CNY/MWh_th
    node_region = nodes["region"]
    demand = demand_mwth(model)
    shed = unserved_mwth(sol) if model.has("gas_shed") else np.zeros_like(demand)
    out = {
        "gas_prices": tidy(
            snaps,
            nodes.index,
            "gas_node",
            {
                "price_cny_per_mwh_th": price,
                "non_power_demand_mwth": demand,
                "unserved_mwth": shed,
            },
            pd.DataFrame({"region": node_region}),
        )
    }
    costs = []
    if model.has("gas_shed"):
        costs.append(
            pd.DataFrame(
                {
                    "component": "gas_node",
                    "name": nodes.index,
                    "region": node_region.to_numpy(),
                    "carrier": "gas",
                    "cost_type": "unserved gas demand (VOLL)",
                    "cost_cny": (model.data.case.gas_shedding.voll_cny_per_mwh_th * shed * w).sum(
                        axis=1
                    ),
                }
            )
        )

    sup = tables["gas_supplies"]
    if len(sup):
        s = sol.value("gas_supply")
        unit_price = np.broadcast_to(sup["price_cny_per_mwh_th"].to_numpy()[:, None], s.shape)
        cost = unit_price * s * w
        attrs = pd.DataFrame(
            {
                "gas_node": sup["gas_node"],
                "kind": sup["kind"],
                "region": node_region.reindex(sup["gas_node"]).to_numpy(),
            },
            index=sup.index,
        )
        out["gas_supply"] = tidy(
            snaps,
            sup.index,
            "supply",
            {
                "supply_mwth": s,
                "available_mwth": available_mwth(model, sol.x),
                "price_cny_per_mwh_th": unit_price,
                "cost_cny": cost,
            },
            attrs,
        )
        costs.append(
            pd.DataFrame(
                {
                    "component": "gas_supply",
                    "name": sup.index,
                    "region": attrs["region"].to_numpy(),
                    "carrier": "gas",
                    "cost_type": ("gas purchase (" + sup["kind"] + ")").to_numpy(),
                    "cost_cny": cost.sum(axis=1),
                }
            )
        )

    pipes = tables["pipelines"]
    if len(pipes):
        f, r = sol.value("gas_flow_forward"), sol.value("gas_flow_reverse")
        eta = pipes["efficiency"].to_numpy()[:, None]
        fmax = model.rating_per_snapshot("pipelines", "p_max_mwth", sol.x)
        rmax = model.rating_per_snapshot("pipelines", "p_max_reverse_mwth", sol.x)
        use = np.maximum(
            np.divide(f, fmax, out=np.zeros_like(f), where=fmax > 0),
            np.divide(r, rmax, out=np.zeros_like(r), where=rmax > 0),
        )
        i0 = nodes.index.get_indexer(pipes["node0"])
        i1 = nodes.index.get_indexer(pipes["node1"])
        attrs = pd.DataFrame({"node0": pipes["node0"], "node1": pipes["node1"]}, index=pipes.index)
        out["gas_flows"] = tidy(
            snaps,
            pipes.index,
            "pipeline",
            {
                "forward_mwth": f,
                "reverse_mwth": r,
                # gas taken out at node0 and delivered at node1 (negative: the other way round)
                "p0_mwth": f - eta * r,
                "p1_mwth": eta * f - r,
                "loss_mwth": (1.0 - eta) * (f + r),
                "utilisation_pu": use,
                "price_spread_cny_per_mwh_th": price[i1] - price[i0],
            },
            attrs,
        )
        tariff = pipes["tariff_cny_per_mwh_th"].to_numpy()
        if (tariff > 0).any():
            costs.append(
                pd.DataFrame(
                    {
                        "component": "pipeline",
                        "name": pipes.index,
                        "region": node_region.reindex(pipes["node0"]).to_numpy(),
                        "carrier": "gas",
                        "cost_type": "transport tariff",
                        "cost_cny": (tariff[:, None] * (f + r) * w).sum(axis=1),
                    }
                )
            )

    sto = tables["gas_storage"]
    if len(sto):
        inj, wd = sol.value("gas_injection"), sol.value("gas_withdrawal")
        attrs = pd.DataFrame(
            {
                "gas_node": sto["gas_node"],
                "region": node_region.reindex(sto["gas_node"]).to_numpy(),
            },
            index=sto.index,
        )
        out["gas_storage"] = tidy(
            snaps,
            sto.index,
            "storage",
            {
                "injection_mwth": inj,
                "withdrawal_mwth": wd,
                "net_withdrawal_mwth": wd - inj,
                "volume_mwh_th": level_values(sol, "gas_volume"),
                "gas_value_cny_per_mwh_th": -sol.dual("gas_storage_balance"),
            },
            attrs,
        )
        out.update(
            year_table(
                sol, "gas_volume", "gas_storage_year", sto.index, "storage", "volume_mwh_th", attrs
            )
        )

    burners = gas_generators(model)
    if len(burners):
        gens = tables["generators"].iloc[burners]
        p = sol.value("gen_p")[burners]
        eff = gens["efficiency"].to_numpy()[:, None]
        node_price = price[nodes.index.get_indexer(gens["gas_node"])]
        attrs = pd.DataFrame(
            {
                "bus": gens["bus"],
                "region": region_of(tables, gens["bus"]),
                "carrier": gens["carrier"],
                "gas_node": gens["gas_node"],
                "efficiency": gens["efficiency"],
            },
            index=gens.index,
        )
        out["gas_burn"] = tidy(
            snaps,
            gens.index,
            "generator",
            {
                "p_mw": p,
                "burn_mwth": p / eff,
                "gas_price_cny_per_mwh_th": node_price,
                # the fuel cost of one more MWh of its output at its gas node's price
                "fuel_cost_cny_per_mwh": node_price / eff,
            },
            attrs,
        )
    if costs:
        out["costs"] = pd.concat(costs, ignore_index=True)
    return out


def state(model: LinearModel, resolution_h: float) -> list[StatePart]:
    """The levels of these stores as entries of the state (`gridopt.model._stateful`)."""
    part = level_state(model, STORES[0])
    return [part] if part is not None else []
