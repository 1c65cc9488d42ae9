"""How the PPRD plants are really run: energy obligations, gas contracts, capacity payments.

Called by `build_pprd.py` (which owns the shared-data ledger and the writing). Every figure
comes from `operations.csv` (or `gas.csv`) through `Shared.value`, so it is listed with its
source and status in SOURCES.md; every other number is an entry of `ASSUMPTIONS` below,
merged into the build's assumption registry.

- `energy_obligations.csv`: Guangdong's gas fleet runs to annual contracts since 2022 ("many
  gas plants unwilling to increase production outside their annual contracts", confirmed): an
  annual minimum in full-load hours (the fleet's 2023 utilisation, an estimate) and an hour cap
  (the common provincial threshold above which gas plants are paid less, secondary; Guangdong's
  own quota hours of notice 粤发改价格〔2020〕284号 were not retrieved);
- `gas_contracts.csv`: the Dapeng LNG take-or-pay contract (North West Shelf SPA, 3.3 Mtpa for
  25 years from 2006, confirmed), gas not taken paid at the LNG price (assumption);
- `capacity_payments.csv`: Guangdong's capacity tariff for gas units (100 CNY/kW/yr,
  secondary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

COLUMNS = {
    "energy_obligations": ["name", "plants", "region", "carrier", "period", "month", "min_mwh",
                           "max_mwh", "min_hours", "max_hours",
                           "shortfall_penalty_cny_per_mwh"],
    "gas_contracts": ["name", "supplies", "period", "month", "min_mwh_th", "max_mwh_th",
                      "shortfall_penalty_cny_per_mwh_th"],
    "capacity_payments": ["name", "plants", "region", "carrier", "payment_cny_per_mw_yr"],
}

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "gd_gas_contract_hours": (
        "2023 utilisation as the annual contract minimum", "h/yr",
        "Guangdong's gas fleet generates its annual contract volumes (operations.csv,"
        " runs_only_contracted_volumes, confirmed); the volumes are not published, so the"
        " fleet's 2023 utilisation (gas_utilisation_hours, an ESTIMATE: 13 % of 2023 supply over"
        " the end-2023 capacity) is taken as its contracted minimum, a hard limit: the"
        " Guangdong gas-share calibration figure therefore holds largely by construction"),
    "gd_gas_hour_cap": (
        "3,500 h/yr", "h/yr",
        "the annual hour cap of Guangdong's gas units: notice 284号 pays energy beyond each"
        " class's quota at 0.463 CNY/kWh, below the fuel cost of an LNG-fired unit, so plants do"
        " not run beyond it; the quota hours were not retrieved, so the common provincial"
        " threshold of 3,500 h (high_price_hour_threshold, secondary) is used as a hard cap"),
    "dapeng_take_or_pay_penalty": (
        "the LNG price", "CNY/MWh_th",
        "the Dapeng SPA is take-or-pay (confirmed) but its clause is not published: gas not"
        " taken is paid in full at the price of the gas (ASSUMPTION), so gas up to the contract"
        " quantity costs nothing at the margin"),
    "hk_coal_plan": (
        "2023 coal share x Hong Kong's consumption", "MWh/yr",
        "Hong Kong's utilities plan their coal burn under the Scheme of Control: in 2023 coal"
        " made about a quarter of Hong Kong's supply (confirmed, China Daily HK), the most the"
        " fuel-mix policy allows. Its coal units get an annual minimum of that share of the"
        " network's Hong Kong consumption (derived); the policy's 25 % ceiling"
        " (security.yaml) then holds coal at a quarter. Without it, Hong Kong's coal and"
        " imports from Guangdong's coal-fired margin cost the same, and any split of the last"
        " tenth of its supply between them (coal 15-25 %, imports 25-35 %) is optimal. The"
        " minimum is prorated by hours while the ceiling is a share of the horizon's supply, so"
        " on a short, low-load horizon (a winter day) the two cannot both hold: the plan is"
        " therefore soft, its shortfall paid at 100 CNY/MWh (ASSUMPTION: a plan, not a"
        " contract; enough to break the tie with imports, far below the value of lost load)"),
    "capacity_payment_scope": (
        "Guangdong gas fleet", "-",
        "the 100 CNY/kW/yr capacity tariff (secondary) is paid on the Guangdong gas fleet's"
        " installed capacity; Hong Kong's and Macao's plants are paid under their own schemes"
        " (Scheme of Control), which are not in the data"),
}


# a plan's tie-break with imports, not a contract's penalty (SOURCES.md, hk_coal_plan)
HK_COAL_PLAN_SHORTFALL_CNY_PER_MWH = 100.0


@dataclass
class OperationsBuild:
    tables: dict[str, pd.DataFrame]
    markdown: str


def build_operations(shared: Any, generators: pd.DataFrame, supplies: pd.DataFrame,
                     lng_mwh_th_per_t: float, a: Callable[[str], Any],
                     md_table: Callable[[pd.DataFrame], str]) -> OperationsBuild:
    """The three tables and their section of SOURCES.md.

    `shared` is the build's ledger, `generators` and `supplies` the generator and gas-supply
    tables built so far, `lng_mwh_th_per_t` the README's LNG energy content.
    """
    fleet = "GD gas"
    if fleet not in set(generators["name"]):
        raise ValueError("the Guangdong gas fleet row is missing")
    shared.row("operations", "GD gas runs to annual contracts (energy obligation)",
               region="Guangdong", entity="gas-fired units",
               parameter="runs_only_contracted_volumes")
    hours_min = shared.value("operations", "GD gas annual contract minimum (min_hours)",
                             region="Guangdong", entity="gas-fired fleet",
                             parameter="gas_utilisation_hours")
    hours_max = shared.value("operations", "GD gas hour cap (max_hours)", region="China",
                             entity="gas-fired units", parameter="high_price_hour_threshold")
    shared.row("operations", "GD gas hour cap: energy beyond the quota paid 0.463 CNY/kWh",
               region="Guangdong", entity="gas-fired units (9F+/9E/6F- classes)",
               parameter="tariff_above_hour_cap")
    coal_share = shared.value("operations", "Hong Kong coal plan (2023 coal share)",
                              region="Hong Kong", entity="HK total", parameter="coal_share",
                              year=2023)
    hk_use = shared.value("hk_macao", "Hong Kong coal plan (consumption)", region="Hong Kong",
                          entity="HK total", parameter="electricity_consumption", year=2021)
    obligations = pd.DataFrame([{
        "name": "Guangdong gas annual contracts", "plants": fleet, "region": None,
        "carrier": None, "period": "year", "month": None, "min_mwh": None, "max_mwh": None,
        "min_hours": hours_min, "max_hours": hours_max,
        "shortfall_penalty_cny_per_mwh": None}, {
        "name": "Hong Kong coal plan", "plants": None, "region": "Hong Kong",
        "carrier": "coal", "period": "year", "month": None,
        "min_mwh": round(coal_share / 100.0 * hk_use * 1000.0, 1), "max_mwh": None,
        "min_hours": None, "max_hours": None,
        "shortfall_penalty_cny_per_mwh": HK_COAL_PLAN_SHORTFALL_CNY_PER_MWH}])

    mtpa = shared.value("operations", "Dapeng take-or-pay quantity", region="Guangdong",
                        entity="Dapeng LNG (phase I)", parameter="long_term_LNG_contract")
    shared.row("operations", "Dapeng downstream contracts are take-or-pay",
               region="Guangdong", entity="Dapeng LNG (phase I)",
               parameter="take_or_pay_downstream_contracts")
    dapeng = supplies.set_index("name").loc["Dapeng LNG"]
    contracts = pd.DataFrame([{
        "name": "Dapeng LNG take-or-pay (North West Shelf SPA)", "supplies": "Dapeng LNG",
        "period": "year", "month": None,
        "min_mwh_th": round(mtpa * 1e6 * lng_mwh_th_per_t, 1), "max_mwh_th": None,
        "shortfall_penalty_cny_per_mwh_th": float(dapeng["price_cny_per_mwh_th"])}])

    tariff = shared.value("operations", "GD gas capacity payment", region="Guangdong",
                          entity="gas-fired units", parameter="capacity_tariff")
    payments = pd.DataFrame([{
        "name": "Guangdong gas capacity tariff", "plants": fleet, "region": None,
        "carrier": None, "payment_cny_per_mw_yr": tariff * 1000.0}])

    p_max = float(generators.set_index("name").at[fleet, "p_max_mw"])
    summary = pd.DataFrame([
        {"table": "energy_obligations", "row": obligations.at[1, "name"],
         "figure": f"{coal_share:g} % (2023) x {hk_use:,.0f} GWh ="
                   f" {obligations.at[1, 'min_mwh'] / 1e6:,.2f} TWh/yr of Hong Kong's coal"
                   " units, at least"},
        {"table": "energy_obligations", "row": obligations.at[0, "name"],
         "figure": f"{hours_min:,.0f} to {hours_max:,.0f} full-load hours a year of {p_max:,.0f}"
                   f" MW: {hours_min * p_max / 1e6:,.1f} to {hours_max * p_max / 1e6:,.1f}"
                   " TWh/yr"},
        {"table": "gas_contracts", "row": contracts.at[0, "name"],
         "figure": f"{mtpa} Mtpa x {lng_mwh_th_per_t} MWh_th/t ="
                   f" {contracts.at[0, 'min_mwh_th'] / 1e6:,.2f} TWh_th/yr, not taken paid at"
                   f" {dapeng['price_cny_per_mwh_th']:.2f} CNY/MWh_th"},
        {"table": "capacity_payments", "row": payments.at[0, "name"],
         "figure": f"{tariff:g} CNY/kW/yr x {p_max:,.0f} MW = {tariff * p_max / 1e3:,.1f} M"
                   " CNY/yr"},
    ])
    return OperationsBuild({"energy_obligations": obligations, "gas_contracts": contracts,
                            "capacity_payments": payments}, md_table(summary))
