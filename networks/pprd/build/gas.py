"""The PPRD gas network: gas nodes, supplies, pipelines, storage and non-power gas demand.

Called by `build_pprd.py` (which owns the shared-data ledger and the writing). Every figure from
`gas.csv`, `costs.csv` or `hk_macao.csv` goes through `Shared.value`, so it is listed with its
source and status in SOURCES.md; every other number is an entry of `ASSUMPTIONS` below, merged
into the build's assumption registry.

Unit: all gas is energy (lower heating value): flows in MWth, volumes in MWh_th, prices in
CNY/MWh_th. The conversions are the shared data README's: LNG 13.9 MWh_th/t and 1 Mt LNG =
1.36 bcm, so 1 bcm = 13.9 / 1.36 = 10.22 TWh_th, 1 bcm/yr = 1,166.7 MWth and 1 million m3/day
= 425.9 MWth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

LNG_MWH_TH_PER_T = 13.9
TWH_TH_PER_BCM = LNG_MWH_TH_PER_T / 1.36
MWTH_PER_BCM_YR = TWH_TH_PER_BCM * 1e6 / 8760.0
MWTH_PER_MM3_DAY = TWH_TH_PER_BCM * 1e3 / 24.0

COLUMNS = {
    "gas_nodes": ["name", "region", "x_lon", "y_lat"],
    "gas_supplies": ["name", "gas_node", "kind", "p_max_mwth", "p_min_mwth",
                     "price_cny_per_mwh_th", "profile"],
    "pipelines": ["name", "node0", "node1", "p_max_mwth", "p_max_reverse_mwth", "efficiency",
                  "tariff_cny_per_mwh_th", "length_km"],
    "gas_storage": ["name", "gas_node", "injection_max_mwth", "withdrawal_max_mwth",
                    "volume_max_mwh_th", "volume_initial_mwh_th", "efficiency"],
    "gas_demands": ["name", "gas_node", "profile", "scale"],
}

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "gas_unit": (
        "MWth (LHV)", "-", "one unit for every gas flow: 1 bcm = 13.9 / 1.36 = 10.22 TWh_th from"
        " the README conversions (LNG 13.9 MWh_th/t, 1 Mtpa = 1.36 bcm/yr); 1 bcm/yr = 1,166.7"
        " MWth; 1 million m3/day = 425.9 MWth"),
    "gas_nodes": (
        "one per province and SAR + HK LNG", "-", "gas nodes sit on the power buses' coordinates"
        " (provincial capitals); `HK LNG` is the offshore terminal east of the Soko Islands"
        " (position approximate). Pipelines within a province are not modelled"),
    "lng_price": (
        "4,167 CNY/t / 13.9 MWh_th/t", "CNY/MWh_th", "every LNG terminal is priced at the June 2021"
        " Pearl River Delta trucked-LNG price (the figure that priced gas plants before the gas"
        " network: 299.8 CNY/MWh_th / 0.57 = 526 CNY/MWh_e); no terminal-specific prices exist"),
    "pipeline_gas_price": (
        "20.1 EUR/MWh_th x 7.8 CNY/EUR", "CNY/MWh_th", "pipeline imports, domestic fields and"
        " coal-to-gas are priced at the PyPSA-China-PIK natural gas price (BP 2019): 156.8"
        " CNY/MWh_th; no border or city-gate prices exist in the shared data"),
    "gas_plant_efficiency": (
        0.57, "MWh_e/MWh_th", "every gas-fired plant (provincial fleets, the CCGT units of Black"
        " Point, Lamma and Coloane B) at the CCGT efficiency of costs.csv; the fleets mix older"
        " and newer units"),
    "gas_plant_cost": (
        "15 CNY/MWh (VOM only)", "CNY/MWh", "a plant on a gas node keeps only its variable O&M in"
        " marginal_cost_cny_per_mwh: the former 541 = 526 fuel + 15 VOM; the fuel is now bought"
        " in the gas balance at the node's price"),
    "west_east_share": (
        Fraction(1, 3), "share of capacity", "ESTIMATE: share of WEPP II's 30 bcm/yr trunk and"
        " of WEPP III's 15 bcm/yr eastern segment available at the PPRD border (Jiangxi). The"
        " trunks feed eight to ten provinces upstream; a third leaves Fujian LNG its confirmed"
        " >70 % share of Fujian's gas. Gives WEPP II 10 and WEPP III 5 bcm/yr"),
    "myanmar_offtake": (
        2.0, "bcm/yr", "Myanmar's offtake (note of the capacity row: up to 2 bcm/yr) is taken"
        " off the 12 bcm/yr capacity: 10 bcm/yr reach Yunnan, the expected delivery in the note"),
    "myanmar_segments": (
        "trunk capacity", "-", "the Yunnan-Guizhou and Guizhou-Guangxi sections of the"
        " Myanmar-China pipeline are rated at the trunk's 12 bcm/yr (no section ratings in the"
        " data)"),
    "wepp2_sections": (
        {"JX-GD": 10.0, "JX-HN": 5.0, "GD-GX": 3.0}, "bcm/yr", "ESTIMATE: WEPP II's Jiangxi ->"
        " Guangdong trunk section, Hunan branch and Guangzhou-Nanning (Guangxi) branch; the data"
        " gives only the 30 bcm/yr trunk and '1 trunk + 8 branch lines'"),
    "dapeng_lamma": (
        "Lamma gas units at full load", "MWth", "ESTIMATE: the Dapeng-Lamma pipeline (93 km,"
        " secondary) has no capacity in the data; it is rated at the burn of Lamma's gas units at"
        " full output (1,820 MW / 0.57)"),
    "xinjiang_coal_gas": (
        0.0, "MWth", "the Xinjiang coal-to-gas line is listed as a supply into Guangdong with"
        " zero capacity: gas.csv says it is largely unbuilt ('treat as not available');"
        " a scenario sets p_max_mwth by override"),
    "lng_terminals_left_out": (
        "Fuqing, Hanas Putian", "-", "Fujian Fuqing LNG was under construction in 2024 and Hanas"
        " Putian has no in-service date in the data; the WEPP III Guangdong branch has no"
        " capacity (estimate row without value). All three are left out"),
    "lng_send_out": (
        "annual capacity", "-", "a terminal's supply rating is its annual capacity as an hourly"
        " rate; peak send-out is higher (HK: 6.2 nominal, 8.2 bcm/yr maximum), which only the HK"
        " terminal models, with its tank"),
    "hk_lng_tank": (
        0.45, "t LNG per m3", "density of LNG, to turn the HK FSRU's 263,000 m3 of storage into"
        " MWh_th (x 13.9 MWh_th/t); cargo deliveries enter the tank at up to the nominal rate and"
        " the send-out line to Hong Kong is rated at the maximum regasification rate; the tank"
        " is cyclic over the horizon"),
    "domestic_production": (
        {"Sichuan basin": 50.0, "South China Sea (Guangdong)": 5.0, "Hainan offshore": 4.0,
         "Yacheng 13-1 (to Hong Kong)": 1.0}, "bcm/yr",
        "ESTIMATE: no production rows in the data; recalled orders of magnitude. Sichuan's"
        " exports to other provinces are not modelled (it is a gas island here), Yacheng 13-1"
        " is a declining field delivering through the 800 km line to Black Point"),
    "gas_consumption": (
        {"GX": 3.0, "YN": 1.5, "GZ": 2.5, "SC": 28.0, "HN": 4.0, "JX": 3.0, "FJ": 7.0, "HI": 5.5},
        "bcm/yr", "ESTIMATE: annual natural gas consumption of the provinces without a row in"
        " gas.csv (recalled orders of magnitude, early 2020s); Guangdong (33.6) and Hong Kong"
        " (5.7) are data"),
    "gas_power_share": (
        {"GD": 0.49, "HK": 0.9, "FJ": 0.25, "HI": 0.2, "SC": 0.02}, "share of consumption",
        "share of gas burnt for power, removed to get the non-power demand: Guangdong's 49 % is"
        " data; the rest are ESTIMATES (HK: Towngas' natural gas is the remainder; provinces"
        " with gas plants by their fleet's rough output); provinces without gas plants 0"),
    "macao_non_power_gas": (
        0.02, "bcm/yr", "ESTIMATE: Macao's city gas from the Zhuhai link (completed 2022, no"
        " volume in the data); the pipeline row's supply is for CEM's Coloane B"),
    "non_power_gas_shape": (
        "1 + 0.10 cos(2 pi (day - 15) / 365) + 0.05 cos(2 pi (hour - 14) / 24)", "p.u. of mean",
        "non-power demand peaks in mid-January (heating, +10 %) and in the early afternoon"
        " (commerce and industry, +5 %); deterministic, no noise, mean 1 over the year"),
    "pipeline_efficiency_tariff": (
        "1, 0", "-", "no compressor fuel or transport tariffs in the data: pipelines are lossless"
        " and free, so prices differ between nodes only where a pipeline is full"),
}


@dataclass
class GasBuild:
    tables: dict[str, pd.DataFrame]
    series: dict[str, pd.DataFrame]
    generators: pd.DataFrame
    markdown: str


NODES = {  # name: region (coordinates from the power bus of the same name)
    "GD": "Guangdong", "GX": "Guangxi", "YN": "Yunnan", "GZ": "Guizhou", "SC": "Sichuan",
    "HI": "Hainan", "HN": "Hunan", "JX": "Jiangxi", "FJ": "Fujian", "HK": "Hong Kong",
    "MO": "Macao",
}
HK_LNG_XY = (113.97, 22.17)  # east of the Soko Islands (approximate)

# LNG terminals in service by 2025: supply name, gas node, gas.csv asset
LNG_TERMINALS = [
    ("Dapeng LNG", "GD", "Guangdong Dapeng LNG (Shenzhen)"),
    ("Diefu LNG", "GD", "Shenzhen Diefu LNG (CNOOC)"),
    ("Shenzhen Gas LNG", "GD", "Shenzhen Gas LNG terminal (Shenzhen Gas Corp.)"),
    ("Zhuhai LNG", "GD", "Guangdong Zhuhai Jinwan LNG (CNOOC)"),
    ("Huizhou LNG", "GD", "Huizhou LNG (Guangdong Energy)"),
    ("Yuedong LNG", "GD", "Guangdong Yuedong LNG (Jieyang, CNOOC)"),
    ("Beihai LNG", "GX", "Guangxi Beihai LNG (Sinopec)"),
    ("Fangchenggang LNG", "GX", "Guangxi Fangchenggang LNG (PipeChina)"),
    ("Putian LNG", "FJ", "Fujian LNG (Putian Xiuyu, CNOOC)"),
    ("Zhangzhou LNG", "FJ", "Fujian Zhangzhou LNG (CNOOC)"),
    ("Yangpu LNG", "HI", "Hainan LNG (Yangpu, CNOOC)"),
]
WEPP2 = "WEPP II (Second West-East Gas Pipeline)"
WEPP3 = "WEPP III (Third West-East Gas Pipeline)"
MYANMAR = "Myanmar-China gas pipeline"
HK_FSRU = "Hong Kong Offshore LNG Terminal (FSRU Bauhinia Spirit)"
MACAO = "Macao natural gas supply (Sinosky / Nam Kwong)"
DOMESTIC_NODE = {"Sichuan basin": "SC", "South China Sea (Guangdong)": "GD",
                 "Hainan offshore": "HI", "Yacheng 13-1 (to Hong Kong)": "HK"}
# gas-fired plants: provincial fleets by name, Hong Kong's and Macao's units by station
GAS_PLANTS = {"GD gas": "GD", "FJ gas": "FJ", "HI gas": "HI", "SC gas": "SC",
              "Black Point": "HK", "Lamma": "HK", "Coloane B": "MO"}


def plant_of(generators: pd.DataFrame) -> pd.Series:
    """The fleet or station of each generator row (a unit's station, else its name)."""
    return generators["station"].fillna(generators["name"])


def non_power_shape(hours: pd.DatetimeIndex) -> np.ndarray:
    """Hourly shape of non-power gas demand, mean 1 (see assumption `non_power_gas_shape`)."""
    day = hours.dayofyear.to_numpy() - 1
    hour = hours.hour.to_numpy()
    shape = (1.0 + 0.10 * np.cos(2 * np.pi * (day - 14) / 365.0)
             + 0.05 * np.cos(2 * np.pi * (hour - 14) / 24.0))
    return shape / shape.mean()


def build_gas(shared: Any, buses: pd.DataFrame, generators: pd.DataFrame,
              hours: pd.DatetimeIndex, asm: Callable[[str], Any],
              md_table: Callable[[pd.DataFrame], str]) -> GasBuild:
    """Gas tables, the non-power demand series, and the generators with their gas nodes set.

    `shared` is build_pprd's ledger of shared-data rows, `asm` its assumption lookup (after
    `ASSUMPTIONS` above is merged), `md_table` its markdown renderer.
    """
    def gas(used: str, asset: str, parameter: str) -> float:
        return shared.value("gas", used, asset=asset, parameter=parameter)

    xy = buses.set_index("name")[["x_lon", "y_lat"]]
    nodes = pd.DataFrame({"name": list(NODES), "region": list(NODES.values()),
                          "x_lon": xy.loc[list(NODES), "x_lon"].to_numpy(),
                          "y_lat": xy.loc[list(NODES), "y_lat"].to_numpy()})
    nodes = pd.concat([nodes, pd.DataFrame([{"name": "HK LNG", "region": "Hong Kong",
                                             "x_lon": HK_LNG_XY[0], "y_lat": HK_LNG_XY[1]}])],
                      ignore_index=True)

    # prices
    lng_t = shared.value("costs", "LNG price of every terminal", item="trucked LNG, Pearl River"
                         " Delta", parameter="price", value="4167")
    lng_price = lng_t / 13.9
    eur = shared.value("costs", "pipeline gas price (EUR -> CNY)", item="exchange rate",
                       parameter="EUR_to_CNY")
    pipe_price = shared.value("costs", "pipeline, domestic and coal-to-gas price",
                              item="natural gas (model input)", parameter="fuel") * eur

    # supplies (bcm/yr, then MWth)
    share = asm("west_east_share")
    rows: list[dict] = []

    def supply(name: str, node: str, kind: str, bcm: float, price: float, basis: str) -> None:
        rows.append({"name": name, "gas_node": node, "kind": kind,
                     "p_max_mwth": round(bcm * MWTH_PER_BCM_YR, 3), "p_min_mwth": 0.0,
                     "price_cny_per_mwh_th": round(price, 3), "profile": None,
                     "bcm_per_yr": bcm, "basis": basis})

    wepp2 = gas("WEPP II supply into JX (x west_east_share)", WEPP2, "capacity")
    wepp3 = gas("WEPP III supply into JX (x west_east_share)", "WEPP III eastern segment",
                "capacity")
    gas("context: WEPP III trunk (its eastern segment bounds the PPRD share)", WEPP3, "capacity")
    supply("WEPP II", "JX", "pipeline_import", wepp2 * share, pipe_price,
           f"{wepp2:g} bcm/yr trunk (confirmed) x {share} (**estimate**)")
    supply("WEPP III", "JX", "pipeline_import", wepp3 * share, pipe_price,
           f"{wepp3:g} bcm/yr eastern segment (confirmed) x {share} (**estimate**)")
    myanmar = gas("Myanmar-China supply into YN (less Myanmar offtake)", MYANMAR, "capacity")
    supply("Myanmar-China", "YN", "pipeline_import", myanmar - asm("myanmar_offtake"),
           pipe_price, f"{myanmar:g} bcm/yr (confirmed) - {asm('myanmar_offtake'):g} offtake"
           " (note of the row)")
    coal_gas = "Xinjiang coal-to-gas pipeline (Xinjiang-Guangdong-Zhejiang, Sinopec 'Xin-Yue-Zhe')"
    gas("context: Xinjiang coal-to-gas planned capacity", coal_gas, "capacity")
    shared.row("gas", "Xinjiang coal-to-gas: listed at zero capacity", asset=coal_gas,
               parameter="status")
    supply("Xinjiang coal-to-gas", "GD", "coal_to_gas", asm("xinjiang_coal_gas"), pipe_price,
           "30 bcm/yr planned, 'largely unbuilt; treat as not available' (**estimate**): 0")
    for name, node, asset in LNG_TERMINALS:
        bcm = gas(f"{name} supply", asset, "capacity_gas_equivalent")
        status = shared.rows("gas", asset=asset, parameter="capacity_gas_equivalent")[
            "status"].iloc[0]
        supply(name, node, "lng", bcm, lng_price, f"{bcm:g} bcm/yr ({status})")
    hk_nominal = gas("HK offshore LNG supply (nominal regasification)", HK_FSRU,
                     "regas_capacity_nominal")
    supply("HK offshore LNG", "HK LNG", "lng", hk_nominal, lng_price,
           f"{hk_nominal:g} bcm/yr nominal (confirmed)")
    for name, bcm in asm("domestic_production").items():
        supply(name, DOMESTIC_NODE[name], "domestic", bcm, pipe_price,
               f"{bcm:g} bcm/yr (**estimate**)")
    gas("context: Yacheng 13-1 line to Black Point", "Yacheng 13-1 - Black Point pipeline",
        "length")
    supplies = pd.DataFrame(rows)

    # pipelines
    pipes: list[dict] = []

    def pipeline(name: str, node0: str, node1: str, mwth: float, basis: str,
                 length: float | None = None) -> None:
        pipes.append({"name": name, "node0": node0, "node1": node1,
                      "p_max_mwth": round(mwth, 3), "p_max_reverse_mwth": 0.0,
                      "efficiency": 1.0, "tariff_cny_per_mwh_th": 0.0, "length_km": length,
                      "bcm_per_yr": round(mwth / MWTH_PER_BCM_YR, 3), "basis": basis})

    sections = asm("wepp2_sections")
    pipeline("WEPP II Jiangxi-Guangdong", "JX", "GD", sections["JX-GD"] * MWTH_PER_BCM_YR,
             "**estimate**")
    pipeline("WEPP II Hunan branch", "JX", "HN", sections["JX-HN"] * MWTH_PER_BCM_YR,
             "**estimate**")
    pipeline("WEPP II Guangxi branch", "GD", "GX", sections["GD-GX"] * MWTH_PER_BCM_YR,
             "**estimate**")
    east = gas("pipeline JX -> FJ rating", "WEPP III eastern segment", "capacity")
    pipeline("WEPP III eastern segment", "JX", "FJ", east * MWTH_PER_BCM_YR,
             f"{east:g} bcm/yr (confirmed)",
             gas("pipeline JX -> FJ length", "WEPP III eastern segment", "length"))
    subsea = "WEPP II Shenzhen-Hong Kong subsea branch"
    hk_sub = gas("pipeline GD -> HK rating", subsea, "capacity")
    pipeline("WEPP II Shenzhen-Hong Kong", "GD", "HK", hk_sub * MWTH_PER_BCM_YR,
             f"{hk_sub:g} bcm/yr (confirmed)", gas("pipeline GD -> HK length", subsea, "length"))
    lamma_gas = float(generators.loc[(plant_of(generators) == "Lamma")
                                     & (generators["carrier"] == "gas"), "p_max_mw"].sum())
    eff = asm("gas_plant_efficiency")
    pipeline("Dapeng-Lamma", "GD", "HK", lamma_gas / eff,
             f"{lamma_gas:,.0f} MW / {eff} (**estimate**)",
             gas("pipeline Dapeng-Lamma length", "Dapeng LNG - Lamma submarine pipeline",
                 "length"))
    hk_max = gas("HK offshore LNG send-out and tank rates (maximum regasification)", HK_FSRU,
                 "regas_capacity_max")
    pipeline("HK LNG send-out", "HK LNG", "HK", hk_max * MWTH_PER_BCM_YR,
             f"{hk_max:g} bcm/yr maximum (confirmed)")
    macao = gas("pipeline GD -> MO rating", MACAO, "max_daily_supply")
    pipeline("Zhuhai-Macao", "GD", "MO", macao * MWTH_PER_MM3_DAY,
             f"{macao:g} million m3/day (confirmed)")
    gas("context: Macao pipeline phase 1 (0.2 bcm/yr)", MACAO, "capacity_phase1")
    for name, node0, node1 in (("Myanmar-China Yunnan-Guizhou", "YN", "GZ"),
                               ("Myanmar-China Guizhou-Guangxi", "GZ", "GX")):
        pipeline(name, node0, node1, myanmar * MWTH_PER_BCM_YR,
                 f"{myanmar:g} bcm/yr trunk (confirmed; assumption `myanmar_segments`)")
    pipelines = pd.DataFrame(pipes)

    # storage: the HK FSRU's tank
    tank_m3 = gas("HK offshore LNG tank volume", HK_FSRU, "storage")
    volume = tank_m3 * asm("hk_lng_tank") * 13.9
    storage = pd.DataFrame([{
        "name": "HK offshore LNG tank", "gas_node": "HK LNG",
        "injection_max_mwth": round(hk_max * MWTH_PER_BCM_YR, 3),
        "withdrawal_max_mwth": round(hk_max * MWTH_PER_BCM_YR, 3),
        "volume_max_mwh_th": round(volume, 3), "volume_initial_mwh_th": None, "efficiency": 1.0,
    }])

    # non-power demand: consumption x (1 - power share), shaped
    consumption = dict(asm("gas_consumption"))
    consumption["GD"] = shared.value("gas", "GD non-power gas demand", asset="Guangdong gas"
                                     " demand", parameter="natural_gas_consumption")
    consumption["HK"] = shared.value("gas", "HK non-power gas demand", asset="Hong Kong gas"
                                     " demand", parameter="natural_gas_consumption")
    power_share = asm("gas_power_share")
    demand_rows = []
    for node in NODES:
        if node == "MO":
            bcm, basis = asm("macao_non_power_gas"), "**estimate**"
        else:
            total = consumption[node]
            bcm = total * (1.0 - power_share.get(node, 0.0))
            src = "data" if node in ("GD", "HK") else "**estimate**"
            basis = f"{total:g} bcm/yr ({src}) x (1 - {power_share.get(node, 0.0):g})"
        demand_rows.append({"name": f"{node} non-power", "gas_node": node, "profile": None,
                            "scale": 1.0, "bcm_per_yr": round(bcm, 3), "basis": basis})
    demands = pd.DataFrame(demand_rows)
    shape = non_power_shape(hours)
    series = pd.DataFrame({r["name"]: r["bcm_per_yr"] * MWTH_PER_BCM_YR * shape
                           for r in demand_rows}, index=hours)

    # gas-fired generators: on their gas node, fuel out of the marginal cost
    gens = generators.copy()
    on_gas = plant_of(gens).isin(list(GAS_PLANTS)) & (gens["carrier"] == "gas")
    gens["gas_node"] = plant_of(gens).map(GAS_PLANTS).where(on_gas)
    gens["efficiency"] = np.where(on_gas, eff, np.nan)
    gens.loc[on_gas, "marginal_cost_cny_per_mwh"] = asm("vom_cny_per_mwh")["gas"]
    shared.value("costs", "efficiency of every gas plant", item="CCGT", parameter="efficiency")

    tables = {"gas_nodes": nodes, "gas_supplies": supplies.drop(columns=["bcm_per_yr", "basis"]),
              "pipelines": pipelines.drop(columns=["bcm_per_yr", "basis"]),
              "gas_storage": storage, "gas_demands": demands.drop(columns=["bcm_per_yr", "basis"])}
    markdown = _markdown(supplies, pipelines, storage, demands, series, lng_price, pipe_price,
                         tank_m3, md_table)
    return GasBuild(tables, {"gas_demand_mwth": series}, gens, markdown)


def _markdown(supplies: pd.DataFrame, pipelines: pd.DataFrame, storage: pd.DataFrame,
              demands: pd.DataFrame, series: pd.DataFrame, lng_price: float, pipe_price: float,
              tank_m3: float, md_table: Callable[[pd.DataFrame], str]) -> str:
    sup = pd.DataFrame({
        "supply": supplies["name"], "gas node": supplies["gas_node"], "kind": supplies["kind"],
        "bcm/yr": supplies["bcm_per_yr"].round(3), "p_max MWth": supplies["p_max_mwth"].round(0),
        "CNY/MWh_th": supplies["price_cny_per_mwh_th"].round(1), "basis": supplies["basis"]})
    pipe = pd.DataFrame({
        "pipeline": pipelines["name"], "from": pipelines["node0"], "to": pipelines["node1"],
        "bcm/yr": pipelines["bcm_per_yr"], "p_max MWth": pipelines["p_max_mwth"].round(0),
        "length km": pipelines["length_km"], "basis": pipelines["basis"]})
    sto = storage[["name", "gas_node", "injection_max_mwth", "withdrawal_max_mwth",
                   "volume_max_mwh_th"]].round(0)
    dem = pd.DataFrame({
        "demand": demands["name"], "gas node": demands["gas_node"],
        "bcm/yr": demands["bcm_per_yr"],
        "mean MWth": series.mean().round(0).to_numpy(),
        "peak MWth": series.max().round(0).to_numpy(), "basis": demands["basis"]})
    return "\n\n".join([
        f"Prices: LNG {lng_price:.1f} CNY/MWh_th, pipeline imports, domestic fields and"
        f" coal-to-gas {pipe_price:.1f} CNY/MWh_th.",
        "Supplies:", md_table(sup),
        "Pipelines (one-way, lossless, no tariff):", md_table(pipe),
        f"Storage (the HK FSRU's {tank_m3:,.0f} m3 of LNG):", md_table(sto),
        "Non-power demand (column of `timeseries/gas_demand_mwth.csv`):", md_table(dem),
    ])
