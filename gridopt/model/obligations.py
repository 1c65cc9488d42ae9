"""Plants and gas supplies run to contracts: energy obligations, take-or-pay, capacity payments.

How gas plants (and other fleets) are really run in Guangdong since 2022: they generate the
volumes of their annual contracts (a priority generation plan), within an annual hour cap,
buy their gas under take-or-pay contracts, and are paid for their capacity. Three tables:

Energy obligations (table `energy_obligations`). Obligation k covers a set of plants P(k):
those listed in `plants` (generators and hydro stations), or every plant of `region` and
`carrier` (gridopt.network.plant_sets). Its energy in calendar period W is

    E[k,W] = sum_{t in W} w[t] (sum_{g in P(k) gen.} p[g,t] + sum_{h in P(k) hydro} k_h q[h,t])

(p the generator's output, q the station's turbined flow, k_h its MW per m3/s), bounded by the
rows of `gridopt.model.periods`:

    E[k,W] + short[k,W] >= share[W] min[k],     E[k,W] <= share[W] max[k]

with min = `min_mwh`, or `min_hours` x sum_{g in P(k)} p_max[g] (full-load hours), and likewise
max (an hour cap is max_hours). In an expansion case a plant with a candidate counts its
capacity built in the window's period: H x K[g] moves to the right side as a variable.
short >= 0 exists when `shortfall_penalty_cny_per_mwh` is given, at that price. The dual of the
min row is the cost of one more MWh of the plan; minus that of the max row the saving of one
more MWh of cap.

Gas contracts (table `gas_contracts`): contract c takes gas from supplies S(c),

    G[c,W] = sum_{t in W} w[t] sum_{s in S(c)} s[s,t]                           (MWh_th)
    G[c,W] + short[c,W] >= share[W] min_mwh_th[c]     (take-or-pay)
    G[c,W]              <= share[W] max_mwh_th[c]

with short >= 0 paid at `shortfall_penalty_cny_per_mwh_th` (gas paid for but not taken; blank:
must-take). With the penalty equal to the contract price, gas up to the take-or-pay quantity
costs nothing at the margin: it is paid for either way.

Capacity payments (table `capacity_payments`): a fixed cost, sum_{g in P} pay x p_max[g] x
(horizon hours / 8,760 h), reported in `costs` and added to the objective as a constant, so it
moves no dispatch. An expansion case prices capacity by its investment and fixed O&M costs;
a payment between parties for existing capacity is left out there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.inputs.network import plant_sets
from gridopt.model.core import LinearModel
from gridopt.model.periods import (
    CapacityTerms,
    Terms,
    Windows,
    bound_rows,
    contracts_table,
    join_terms,
    open_minimums,
    outcome,
    penalty_costs,
    prorated_bounds,
    window_terms,
    windows,
    with_before,
)

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "obligations"
HOURS_PER_YEAR = 8760.0


# ---- energy obligations ----------------------------------------------------------------------
def _members(model: LinearModel, table: pd.DataFrame) -> pd.DataFrame:
    """One row per (obligation position, plant): its table, position and rating."""
    sets = plant_sets(model.data.tables, table)
    sets["owner"] = table.index.get_indexer(sets["owner"])
    pos = np.full(len(sets), -1)
    rating = np.zeros(len(sets))
    for tname in ("generators", "hydro"):
        mine = (sets["table"] == tname).to_numpy()
        plants = model.data.tables[tname]
        pos[mine] = plants.index.get_indexer(sets.loc[mine, "plant"])
        rating[mine] = plants["p_max_mw"].to_numpy(dtype=float)[pos[mine]]
    sets["pos"] = pos
    sets["rating_mw"] = rating
    return sets


def energy_terms(model: LinearModel) -> tuple[Windows, Terms, list[CapacityTerms]]:
    """Windows, energy terms and capacity terms of the energy obligations."""
    table = model.data.tables["energy_obligations"]
    win = windows(model, table, "energy_obligation")
    prorated_bounds(win, table)
    members = _members(model, table)
    parts = []
    owner_of = members["owner"].to_numpy()
    for tname, var in (("generators", "gen_p"), ("hydro", "hydro_turbine")):
        mine = (members["table"] == tname).to_numpy()
        if not mine.any():
            continue
        pos = members["pos"].to_numpy()[mine]
        coef = (
            np.ones(len(pos))
            if tname == "generators"
            else model.data.tables["hydro"]["mw_per_m3s"].to_numpy(dtype=float)[pos]
        )
        parts.append(
            window_terms(win, model.w, owner_of[mine], model.variables[var].cols[pos], coef)
        )
    # bounds in full-load hours: H x the set's rating, the capacity built where it is variable
    cap = model.capacities.get(("generators", "p_max_mw"))
    variable = np.zeros(len(members), dtype=bool)
    k_col = np.full(len(members), -1)
    if cap is not None:
        gens = (members["table"] == "generators").to_numpy()
        where = pd.Series(np.arange(len(cap.positions)), index=cap.positions)
        hit = gens & np.isin(members["pos"].to_numpy(), cap.positions)
        variable = hit
        k_col[hit] = where[members["pos"].to_numpy()[hit]].to_numpy()
    owner = win.table["owner"].to_numpy()
    share = win.table["share_pu"].to_numpy()
    fixed = np.bincount(
        owner_of[~variable],
        weights=members["rating_mw"].to_numpy()[~variable],
        minlength=len(table),
    )
    capacity: list[CapacityTerms] = []
    for side in ("min", "max"):
        hours = table[f"{side}_hours"].to_numpy(dtype=float)
        given = ~np.isnan(hours[owner])
        win.table.loc[given, side] = (hours * fixed)[owner[given]] * share[given]
        if cap is not None and variable.any():
            period = model.investment_period
            first_t = np.argmax(win.mask, axis=1)
            pair_w, pair_m = np.nonzero(
                (owner[:, None] == owner_of[None, variable]) & given[:, None]
            )
            cols = cap.cols[k_col[variable][pair_m], period[first_t[pair_w]]]
            coef = hours[owner[pair_w]] * share[pair_w]
            capacity.append(CapacityTerms(side, pair_w, cols, coef))
    open_minimums(win)
    return win, join_terms(parts), capacity


def _set_words(table: pd.DataFrame) -> pd.Series:
    """What each obligation covers, in words (its plants, or its region and carriers)."""
    scope = (
        table["region"].fillna("all regions")
        + ", "
        + table["carrier"].fillna("all carriers").str.replace(";", "+")
    )
    return table["plants"].fillna(scope)


# ---- gas contracts ---------------------------------------------------------------------------
def gas_terms(model: LinearModel) -> tuple[Windows, Terms]:
    table = model.data.tables["gas_contracts"]
    win = windows(model, table, "gas_contract")
    prorated_bounds(win, table, unit="mwh_th", penalty="shortfall_penalty_cny_per_mwh_th")
    listed = table["supplies"].astype(str).str.split(";").explode().str.strip()
    owner = table.index.get_indexer(listed.index)
    pos = model.data.tables["gas_supplies"].index.get_indexer(listed.to_numpy())
    terms = window_terms(
        win, model.w, owner, model.variables["gas_supply"].cols[pos], np.ones(len(pos))
    )
    return win, terms


# ---- capacity payments -----------------------------------------------------------------------
def capacity_payments_cny(model: LinearModel) -> pd.DataFrame:
    """Each paid plant's payment over the horizon (nothing in an expansion case)."""
    table = model.data.tables["capacity_payments"]
    if table.empty or model.investment is not None:
        return pd.DataFrame(columns=["owner", "plant", "table", "pos", "rating_mw", "cost_cny"])
    members = _members(model, table)
    rate = table["payment_cny_per_mw_yr"].to_numpy(dtype=float)[members["owner"].to_numpy()]
    horizon_h = float(np.sum(model.w))
    members["cost_cny"] = rate * members["rating_mw"].to_numpy() * horizon_h / HOURS_PER_YEAR
    return members


def build(model: LinearModel) -> None:
    tables = model.data.tables
    if not tables["energy_obligations"].empty:
        win, terms, capacity = energy_terms(model)
        bound_rows(
            model, "energy_obligation", win, terms, "energy of obligation {}", capacity=capacity
        )
    if not tables["gas_contracts"].empty and model.has("gas_supply"):
        win, terms = gas_terms(model)
        bound_rows(model, "gas_contract", win, terms, "gas taken under contract {}", unit="MWh_th")
    payments = capacity_payments_cny(model)
    if len(payments):
        model.cost_constant += float(payments["cost_cny"].sum())


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    tables = model.data.tables
    out: dict[str, list[pd.DataFrame]] = {}
    obligations = tables["energy_obligations"]
    if not obligations.empty:
        win, terms, capacity = energy_terms(model)
        got = outcome(sol, "energy_obligation", win, terms, capacity)
        out.setdefault("contracts", []).append(
            contracts_table(
                "energy obligation",
                obligations.index.to_numpy(),
                _set_words(obligations).to_numpy(),
                win,
                got,
            )
        )
        if model.has("energy_obligation_shortfall"):
            region = obligations["region"].fillna("").to_numpy()
            out.setdefault("costs", []).append(
                penalty_costs(
                    win, got, obligations, "energy obligation", "shortfall penalty", region
                )
            )
    contracts = tables["gas_contracts"]
    if not contracts.empty and model.has("gas_supply"):
        win, terms = gas_terms(model)
        got = outcome(sol, "gas_contract", win, terms)
        tab = win.table
        owner = tab["owner"].to_numpy()
        penalty = tab["penalty"].to_numpy()
        out.setdefault("gas_contracts", []).append(
            with_before(
                pd.DataFrame(
                    {
                        "contract": contracts.index.to_numpy()[owner],
                        "supplies": contracts["supplies"].to_numpy()[owner],
                        "period": tab["period"],
                        "first_snapshot": tab["first"],
                        "period_share_pu": tab["share_pu"],
                        "gas_mwh_th": got.quantity,
                        "min_mwh_th": got.min_bound,
                        "max_mwh_th": got.max_bound,
                        "not_taken_mwh_th": got.shortfall,
                        "take_or_pay_cny": np.nan_to_num(penalty) * got.shortfall + 0.0,
                        "min_dual_cny_per_mwh_th": got.min_dual,
                        "max_dual_cny_per_mwh_th": got.max_dual,
                    }
                ),
                win,
                got,
                "gas_mwh_th",
            )
        )
        if model.has("gas_contract_shortfall"):
            out.setdefault("costs", []).append(
                penalty_costs(
                    win,
                    got,
                    contracts,
                    "gas contract",
                    "take-or-pay (gas paid, not taken)",
                    carrier="gas",
                )
            )
    payments = capacity_payments_cny(model)
    if len(payments):
        buses = tables["buses"]["region"]
        plants = pd.concat(
            [tables["generators"][["bus", "carrier"]], tables["hydro"][["bus", "carrier"]]]
        )
        plants = plants[~plants.index.duplicated()]
        out.setdefault("costs", []).append(
            pd.DataFrame(
                {
                    "component": np.where(payments["table"] == "hydro", "hydro", "generator"),
                    "name": payments["plant"].to_numpy(),
                    "region": buses.reindex(plants["bus"].reindex(payments["plant"])).to_numpy(),
                    "carrier": plants["carrier"].reindex(payments["plant"]).to_numpy(),
                    "cost_type": "capacity payment",
                    "cost_cny": payments["cost_cny"].to_numpy(),
                }
            )
        )
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}
