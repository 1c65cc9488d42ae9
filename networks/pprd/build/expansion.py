"""PPRD capacity-expansion candidates (table `candidates`) and the batteries they may build.

Called by `build_pprd.py`, which owns the shared-data ledger: every cost comes from `costs.csv`
through `Shared.value` (so SOURCES.md lists its row, source and status); lifetimes, fixed O&M,
the discount rate, route lengths and block sizes are entries of `ASSUMPTIONS` below (the shared
data has no rows for them), merged into the build's assumption registry.

Candidates (2030 costs where the data has a 2030 row):
- solar and wind on every province's fleet row, gas (CCGT) on the gas-fired fleets of Guangdong,
  Fujian and Hainan, nuclear in Guangdong and Fujian;
- batteries (new storage rows of 0 MW in Guangdong, Guangxi and Yunnan) with power and energy
  built separately, and Guangdong pumped hydro, its energy at 6 h of its power;
- a new Yunnan-Guangdong UHVDC link (0 MW), costed from the HVDC line and converter rows;
- a third Guangdong-Hainan 500 kV submarine circuit (the rating of `GD-HI II` may grow);
- the WEPP II Jiangxi-Guangdong pipeline and the Guangdong, Guangxi and Fujian LNG terminals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from gas import MWTH_PER_BCM_YR

COLUMNS = {
    "candidates": ["name", "table", "component", "rating", "build_min", "build_max",
                   "block_size", "overnight_cost_cny_per_unit", "lifetime_yr", "discount_rate",
                   "fixed_om_cny_per_unit_yr", "build_year_min", "existing_retire_year",
                   "max_hours"],
}

# value, unit, why (merged into build_pprd.ASSUMPTIONS)
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "candidate_discount_rate": (
        0.08, "-", "ESTIMATE: real rate of the capital recovery factor of every candidate, the"
        " social discount rate of Chinese project appraisal (NDRC/MOC 'Economic evaluation"
        " methods and parameters', 3rd ed., 8 %); not in the shared data"),
    "candidate_lifetime_yr": (
        {"solar": 25, "wind": 25, "gas": 30, "nuclear": 50, "battery": 15, "pumped_hydro": 50,
         "hvdc": 40, "ac_line": 40, "pipeline": 40, "lng": 30}, "years",
        "ESTIMATE: typical economic lifetimes (as in PyPSA technology-data); no shared-data row"),
    "candidate_fixed_om_share": (
        {"solar": 0.015, "wind": 0.025, "gas": 0.025, "nuclear": 0.025, "battery": 0.02,
         "pumped_hydro": 0.01, "hvdc": 0.01, "ac_line": 0.01, "pipeline": 0.015, "lng": 0.025},
        "share of overnight cost per year",
        "ESTIMATE: fixed O&M per year as a share of the overnight cost; no shared-data row"),
    "candidate_batteries": (
        ["GD", "GX", "YN"], "-", "provinces given a battery row of 0 MW / 0 MWh that an"
        " expansion case may build (the largest solar fleets and the main load centre)"),
    "candidate_battery_efficiency": (
        0.95, "per direction", "ESTIMATE: 90 % round trip for lithium-ion batteries"),
    "candidate_pumped_hydro_hours": (
        "pumped_hydro_hours", "h", "new pumped hydro in Guangdong stores as many hours as the"
        " existing plants (assumption pumped_hydro_hours)"),
    "candidate_uhvdc": (
        {"name": "Yunnan-Guangdong UHVDC (candidate)", "bus0": "YN", "bus1": "GD",
         "block_mw": 8000.0}, "-", "a fifth Yunnan-Guangdong +-800 kV corridor, as a link of"
        " 0 MW that may grow; its MIP variant builds it in whole 8,000 MW bipoles (the rating"
        " of Ningxia-Hunan, Baihetan-Jiangsu and Yazhong-Jiangxi in corridors.csv)"),
    "candidate_uhvdc_cost_rule": (
        "line x length + converter pair", "CNY/MW",
        "overnight cost = HVDC overhead line (CNY/MW/km) x route length + HVDC converter pair"
        " (EUR/MW x EUR_to_CNY), both costs.csv rows; route length = route_factor x"
        " great-circle distance between the bus coordinates"),
    "candidate_hainan_ac": (
        "GD-HI II", "-", "a third 600 MW submarine circuit is represented by letting the rating"
        " of GD-HI II grow (its reactance stays: a parallel circuit would lower it), at the"
        " per-kW cost of Hainan interconnection II; block 600 MW"),
    "candidate_pipeline": (
        {"name": "WEPP II Jiangxi-Guangdong", "block_bcm_yr": 10.0}, "-",
        "the WEPP II Jiangxi -> Guangdong section may be looped; cost per MWth and km from"
        " WEPP III (125 bn CNY for 30 bcm/yr over 7,378 km: the investment row and the"
        " capacity and length in its item name), route length as for the UHVDC; the MIP variant"
        " builds it in loops of 10 bcm/yr"),
    "candidate_lng": (
        ["Huizhou LNG", "Beihai LNG", "Putian LNG"], "-",
        "LNG terminals that may be expanded, at the cost per MWth of send-out of Huizhou LNG"
        " phase 1 (6.6 bn CNY for 4 Mtpa; 1 Mtpa = 13.9 TWh_th / 8760 h)"),
    "candidate_nuclear": (["GD nuclear", "FJ nuclear"], "-", "coastal provinces with nuclear"
                          " sites in the plans"),
    "candidate_gas": (["GD gas", "FJ gas", "HI gas"], "-", "gas-fired fleets that"
                      " may grow: those of the LNG-importing provinces (Guangxi has none)"),
}

PROVINCES = ("GD", "GX", "YN", "GZ", "SC", "HI", "HN", "JX", "FJ")


def build_candidates(shared: Any, a: Callable[[str], Any], tables: dict[str, pd.DataFrame],
                     route_km: Callable[[str, str], float], efficiency: Callable[[float], float]
                     ) -> dict[str, pd.DataFrame]:
    """The candidates table, plus the battery rows and the candidate link it extends.

    `route_km(bus0, bus1)` is the route length between two buses, `efficiency(km)` that of an
    HVDC link of that length (both from build_pprd, so the rules stay in one place).
    """
    life = a("candidate_lifetime_yr")
    fom = a("candidate_fixed_om_share")
    rate = a("candidate_discount_rate")
    eur = shared.value("costs", "candidate costs in EUR", item="exchange rate",
                       parameter="EUR_to_CNY")

    def capex(item: str, used: str, year: int | None = 2030, parameter: str = "investment"
              ) -> float:
        match = {"item": item, "parameter": parameter}
        if year is not None:
            match["year"] = year
        return shared.value("costs", used, **match)

    rows: list[dict] = []

    def add(name: str, table: str, component: str, kind: str, cost: float,
            rating: str | None = None, **extra: Any) -> None:
        rows.append({"name": name, "table": table, "component": component, "rating": rating,
                     "build_min": 0.0, "build_max": extra.pop("build_max", None),
                     "block_size": extra.pop("block_size", None),
                     "overnight_cost_cny_per_unit": round(cost, 1),
                     "lifetime_yr": life[kind], "discount_rate": rate,
                     "fixed_om_cny_per_unit_yr": round(fom[kind] * cost, 1),
                     "build_year_min": None, "existing_retire_year": None,
                     "max_hours": extra.pop("max_hours", None)})

    kw = 1000.0  # CNY/kW -> CNY/MW
    solar = capex("solar PV (utility)", "solar candidates") * kw
    wind = capex("onshore wind", "wind candidates") * kw
    for code in PROVINCES:
        add(f"{code} solar new", "generators", f"{code} solar", "solar", solar)
        add(f"{code} wind new", "generators", f"{code} wind", "wind", wind)
    gas = capex("gas power (CCGT/OCGT, 'gas')", "gas candidates") * kw
    for name in a("candidate_gas"):
        add(f"{name} new", "generators", name, "gas", gas)
    nuclear = capex("nuclear", "nuclear candidates") * kw
    for name in a("candidate_nuclear"):
        add(f"{name} new", "generators", name, "nuclear", nuclear)

    bat_p = capex("battery storage (power-based)", "battery power candidates") * kw
    bat_e = capex("battery storage (energy)", "battery energy candidates") * kw
    eff = a("candidate_battery_efficiency")
    batteries = pd.DataFrame([{
        "name": f"{code} battery", "bus": code, "carrier": "battery", "p_max_mw": 0.0,
        "energy_max_mwh": 0.0, "efficiency_charge": eff, "efficiency_discharge": eff,
        "standing_loss_per_h": 0.0, "soc_initial_mwh": None, "marginal_cost_cny_per_mwh": 0.0}
        for code in a("candidate_batteries")])
    for code in a("candidate_batteries"):
        add(f"{code} battery power", "storage_units", f"{code} battery", "battery", bat_p,
            rating="p_max_mw")
        add(f"{code} battery energy", "storage_units", f"{code} battery", "battery", bat_e,
            rating="energy_max_mwh")
    phs = capex("pumped hydro storage", "pumped hydro candidates") * kw
    add("GD pumped hydro new", "storage_units", "GD pumped hydro", "pumped_hydro", phs,
        rating="p_max_mw", max_hours=a(a("candidate_pumped_hydro_hours")))

    spec = a("candidate_uhvdc")
    km = route_km(spec["bus0"], spec["bus1"])
    line = shared.value("costs", "UHVDC candidate (line)", item="HVDC overhead line",
                        parameter="investment", unit="EUR/MW/km") * eur
    conv = capex("HVDC converter pair", "UHVDC candidate (converters)", year=2025) * eur
    link = pd.DataFrame([{
        "name": spec["name"], "bus0": spec["bus0"], "bus1": spec["bus1"], "carrier": "UHVDC",
        "p_max_mw": 0.0, "p_min_pu": 0.0, "efficiency": efficiency(km),
        "marginal_cost_cny_per_mwh": 0.0, "length_km": round(km, 1)}])
    add("Yunnan-Guangdong UHVDC", "links", spec["name"], "hvdc", line * km + conv)

    hainan = capex("Hainan interconnection II (500 kV AC submarine, 600 MW)",
                   "Guangdong-Hainan circuit candidate", year=None,
                   parameter="investment_per_kW") * kw
    add("Guangdong-Hainan circuit", "lines", a("candidate_hainan_ac"), "ac_line", hainan,
        build_max=600.0)

    pipe = a("candidate_pipeline")
    wepp3 = capex("WEPP III pipeline (30 bcm/yr, 7,378 km)", "pipeline candidate",
                  year=2012) * 1e9
    per_mwth_km = wepp3 / (30.0 * MWTH_PER_BCM_YR) / 7378.0
    p = tables["pipelines"].set_index("name").loc[pipe["name"]]
    nodes = tables["gas_nodes"].set_index("name")
    pkm = route_km(p["node0"], p["node1"]) if p["node0"] in nodes.index else np.nan
    add("WEPP II Jiangxi-Guangdong loop", "pipelines", pipe["name"], "pipeline",
        per_mwth_km * pkm)

    huizhou = capex("Huizhou LNG phase 1 (4 Mtpa)", "LNG terminal candidates", year=2021) * 1e9
    lng_mwth = 4.0 * 1e6 * 13.9 / 8760.0  # 4 Mtpa of LNG at 13.9 MWh_th/t, MWth of send-out
    for name in a("candidate_lng"):
        add(f"{name} expansion", "gas_supplies", name, "lng", huizhou / lng_mwth)

    cand = pd.DataFrame(rows)
    cand.attrs["pipeline_block_mwth"] = pipe["block_bcm_yr"] * MWTH_PER_BCM_YR
    return {"candidates": cand, "batteries": batteries, "links": link}
