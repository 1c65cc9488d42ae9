"""The Dongjiang (East River): its reservoirs and hydropower, and the water it supplies.

Called by `build_pprd.py` (which owns the shared-data ledger and the writing). Every figure
comes from `dongjiang.csv` or `hk_macao.csv` through `Shared.value`, so it is listed with its
source and status in SOURCES.md; every other number is an entry of `ASSUMPTIONS` below.

The river as the network models it (gridopt/model/hydro.py states the water balance):

    Fengshuba (upper main stem) ----\\
    Xinfengjiang (Xinfeng river) ----+--> Dongjiang at Taiyuan: Hong Kong intake
    Baipenzhu (Xizhijiang) ---------/        |  (+ the uncontrolled flow below the dams)
                                             v
                               Dongjiang at Taiyuan: Shenzhen-Dongguan intake
                                             |  (environmental minimum below)

The three reservoirs turbine on the Guangdong bus. The two intake nodes hold no water and make
no power: each must pass on what reaches it less what it withdraws, so their withdrawals,
Hong Kong's under the Dongjiang-Hong Kong agreement (820 Mm3/yr, guaranteed in a 1-in-100-year
drought) and Shenzhen's and Dongguan's through the same Dongshen aqueduct, are met only when
the reservoirs release enough. Their cost in power terms is the hydropower given up for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

S_PER_YEAR = 8760 * 3600.0
HM3 = 1e6  # m3

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "dongjiang_runoff_depth": (
        "Dongjiang mean annual runoff / catchment", "m/yr",
        "the flow of a sub-catchment without its own figure (Fengshuba, Baipenzhu, the river"
        " between the dams and the intakes) is its area times the basin's mean runoff depth"
        " (25,700 Mm3 over 35,340 km2, secondary: 0.727 m); Xinfengjiang keeps its own figure"),
    "dongjiang_monthly_shape": (
        [0.30, 0.35, 0.50, 1.15, 1.85, 2.25, 1.75, 1.60, 1.00, 0.55, 0.40, 0.30],
        "x annual mean, Jan..Dec",
        "the network's 'south' shape of rain-fed rivers steepened so that April-September"
        " carries 80 % of the runoff, as the data states for the Dongjiang (~80 %)"),
    "dongjiang_drought_factor": (
        0.30, "x normal",
        "ESTIMATE: the 1-in-100-year drought year of the Dongjiang is taken as 30 % of the"
        " normal inflow, the 2021 event ('inflows to the Dongjiang/Hanjiang -70 % vs normal',"
        " secondary; the 2020-21 drought 'worst since 1963', secondary) held for a whole year;"
        " no frequency analysis of Dongjiang flows is in the data. The drought is regional: the"
        " other rivers keep their normal year (a dry year of the whole network is"
        " `inflow_year: dry`)"),
    "dongjiang_active_share": (
        "Xinfengjiang's active / total storage", "-",
        "ESTIMATE: Fengshuba's active storage is its total storage (itself an estimate) times"
        " Xinfengjiang's ratio of active to total storage (6,489 / 13,896)"),
    "dongjiang_fengshuba_energy": (
        "Xinfengjiang's full-load hours", "h/yr",
        "ESTIMATE: Fengshuba has no published generation; it makes its capacity (an estimate)"
        " times Xinfengjiang's full-load hours (990 GWh / 292.5 MW), which sets its MW per"
        " m3/s at its mean flow"),
    "dongjiang_rule_level": (
        0.60, "of active storage",
        "each reservoir starts (and, under the `fixed` end rule, ends) the horizon at 60 % of"
        " its active storage: Xinfengjiang's dry-season rule (keep more than 60 % of its"
        " conservation storage at the start of the dry season, secondary, academic), applied"
        " to Fengshuba and Baipenzhu too (assumption)"),
    "dongjiang_travel_h": (
        {"Xinfengjiang": 24.0, "Fengshuba": 48.0, "Baipenzhu": 24.0}, "h",
        "ESTIMATE: the dams lie some 120-300 km of river above the Taiyuan intake (no distances"
        " in the data): about a day, two for Fengshuba, at the network's 1.5 m/s. The water in"
        " transit when the horizon starts is each reservoir's mean release (its mean inflow)"),
    "dongjiang_hk_monthly": (
        "HK fresh-water use less local yield, by month", "-",
        "ESTIMATE: Hong Kong draws the agreement's 820 Mm3/yr by month as its fresh-water"
        " consumption (1,055 Mm3 in 2021, confirmed, spread evenly) less its local yield"
        " (258 Mm3/yr on average, confirmed, spread by the Dongjiang's monthly shape): more in"
        " the dry season, when its own reservoirs catch little. No monthly import schedule is"
        " in the data"),
    "dongjiang_dongshen_mainland": (
        "Dongshen total 2023 - Hong Kong 2022", "Mm3/yr",
        "Shenzhen's and Dongguan's withdrawal through the Dongshen aqueduct: its 2023 supply"
        " to Hong Kong, Shenzhen and Dongguan (2,209 Mm3, confirmed) less Hong Kong's latest"
        " import (803 Mm3 in 2022, derived), flat over the year; other Dongjiang users upstream"
        " are not modelled (their allocations were not found)"),
    "dongjiang_env_flow": (
        "q_env_share x mean flow", "m3/s",
        "the Boluo control section's minimum flow is not in the data ('do not use a number"
        " without a source'): the network's environmental rule (10 % of mean flow, an"
        " assumption for every station) applies to the reservoirs and below the intakes"),
}

RESERVOIRS = {  # station -> (entity of dongjiang.csv, river)
    "Xinfengjiang": ("Xinfengjiang Reservoir (Wanlu Lake)", "Dongjiang (Xinfeng river)"),
    "Fengshuba": ("Fengshuba Reservoir (Longchuan)", "Dongjiang (upper main stem)"),
    "Baipenzhu": ("Baipenzhu Reservoir (Huidong, Xizhijiang)", "Dongjiang (Xizhijiang)"),
}
HK_INTAKE = "Dongjiang at Taiyuan (Hong Kong intake)"
MAINLAND_INTAKE = "Dongjiang at Taiyuan (Shenzhen-Dongguan intake)"
RIVER = "Dongjiang"
AGREEMENT = "Dongjiang-HK water supply agreement"
DONGSHEN = "Dongshen (Dongjiang-Shenzhen) water supply project"
HK_WATER = "Hong Kong fresh water supply"


@dataclass
class DongjiangBuild:
    hydro: pd.DataFrame  # rows of the hydro table
    inflow: pd.DataFrame  # normal-year natural inflow, m3/s (hour x station)
    drought_factor: float
    withdrawal_pu: pd.DataFrame  # monthly withdrawal profiles (hour x profile)
    capacity_mw: float  # hydropower capacity modelled here, out of Guangdong's aggregate
    energy_gwh: float  # its mean-year energy
    markdown: str


def build_dongjiang(shared: Any, hours: pd.DatetimeIndex, monthly_to_hourly: Callable,
                    a: Callable[[str], Any], md_table: Callable[[pd.DataFrame], str]
                    ) -> DongjiangBuild:
    """The Dongjiang's hydro rows, inflows and withdrawal profiles (see the module doc)."""
    def dj(used: str, entity: str, parameter: str) -> float:
        return shared.value("dongjiang", used, entity=entity, parameter=parameter)

    runoff = dj("Dongjiang runoff depth", "Dongjiang (East River)", "mean_annual_runoff")
    basin = dj("Dongjiang runoff depth", "Dongjiang (East River)", "catchment_area")
    depth_m = runoff * HM3 / (basin * 1e6)
    q_env = a("q_env_share")
    rule = a("dongjiang_rule_level")
    travel = a("dongjiang_travel_h")

    xf_entity = RESERVOIRS["Xinfengjiang"][0]
    xf_p = dj("Xinfengjiang p_max_mw", xf_entity, "installed_capacity")
    xf_in = dj("Xinfengjiang inflow", xf_entity, "mean_annual_inflow")
    xf_e = dj("Xinfengjiang MW per m3/s (energy / inflow)", xf_entity,
              "mean_annual_generation")
    xf_active = dj("Xinfengjiang storage_max_hm3", xf_entity, "active_storage")
    xf_total = dj("Fengshuba active storage (ratio)", xf_entity, "total_storage")
    shared.row("dongjiang", "Xinfengjiang: the 335 MW infobox figure, not used",
               entity=xf_entity, parameter="installed_capacity_alt")
    shared.row("dongjiang", "rule level (dongjiang_rule_level)", entity=xf_entity,
               parameter="dry_season_storage_rule")

    fs_entity = RESERVOIRS["Fengshuba"][0]
    fs_p = dj("Fengshuba p_max_mw", fs_entity, "installed_capacity")
    fs_total = dj("Fengshuba storage_max_hm3 (x active share)", fs_entity, "total_storage")
    fs_area = dj("Fengshuba inflow (area x runoff depth)", fs_entity, "catchment_area")
    fs_in = fs_area * 1e6 * depth_m / HM3

    bp_entity = RESERVOIRS["Baipenzhu"][0]
    bp_p = dj("Baipenzhu p_max_mw", bp_entity, "installed_capacity")
    bp_active = dj("Baipenzhu storage_max_hm3", bp_entity, "active_storage")
    bp_area = dj("Baipenzhu inflow (area x runoff depth)", bp_entity, "catchment_area")
    bp_in = bp_area * 1e6 * depth_m / HM3
    note = shared.row("dongjiang", "Baipenzhu MW per m3/s (~86 GWh/yr in the note)",
                      entity=bp_entity, parameter="installed_capacity")["note"]
    m = re.search(r"~(\d+(?:\.\d+)?) GWh/yr", note)
    if m is None:
        raise ValueError("the note of Baipenzhu's capacity no longer gives its energy")
    bp_e = float(m.group(1))

    boluo = dj("intake inflow (area x runoff depth, less the dams above)",
               "Dongjiang (East River)", "Boluo_station_catchment")
    between = boluo * 1e6 * depth_m / HM3 - xf_in - fs_in

    fs_e = fs_p * xf_e / xf_p  # Xinfengjiang's full-load hours (assumption)
    stations = {  # name -> p_max, storage, mean inflow Mm3/yr, energy GWh/yr
        "Xinfengjiang": (xf_p, xf_active, xf_in, xf_e),
        "Fengshuba": (fs_p, fs_total * xf_active / xf_total, fs_in, fs_e),
        "Baipenzhu": (bp_p, bp_active, bp_in, bp_e),
    }

    hk_ceiling = dj("Hong Kong intake withdrawal_m3s", AGREEMENT, "annual_supply_ceiling")
    dj("1-in-100-year drought guarantee (the drought case)", AGREEMENT,
       "drought_criterion_return_period")
    dongshen = dj("Shenzhen-Dongguan intake withdrawal", DONGSHEN, "total_supply_HK_SZ_DG")
    hk_2022 = float(shared.row("dongjiang", "Shenzhen-Dongguan intake withdrawal (less HK)",
                               entity=HK_WATER, parameter="dongjiang_import", year=2022)["value"])
    dj("context: Dongshen design capacity", DONGSHEN, "design_annual_capacity")
    use = dj("Hong Kong monthly profile", HK_WATER, "fresh_water_consumption")
    local = dj("Hong Kong monthly profile", HK_WATER, "local_yield_average")

    month_shape = np.asarray(a("dongjiang_monthly_shape"), dtype=float)
    shape = monthly_to_hourly(list(month_shape))
    rows, inflow = [], {}
    for name, (p_max, storage, mm3, gwh) in stations.items():
        q_mean = mm3 * HM3 / S_PER_YEAR
        rows.append({
            "name": name, "bus": "GD", "carrier": "hydro", "river": RESERVOIRS[name][1],
            "p_max_mw": p_max, "mw_per_m3s": round(gwh * 1e3 / 8760 / q_mean, 6),
            "storage_max_hm3": round(storage, 1), "storage_min_hm3": 0.0,
            "storage_initial_hm3": round(rule * storage, 1), "end_rule": "fixed",
            "q_env_min_m3s": round(q_env * q_mean, 2), "withdrawal_m3s": 0.0,
            "withdrawal_profile": None, "inflow_profile": name, "downstream": HK_INTAKE,
            "travel_time_h": travel[name], "release_initial_m3s": round(q_mean, 2),
            "marginal_cost_cny_per_mwh": 0.0})
        inflow[name] = q_mean * shape
    q_between = between * HM3 / S_PER_YEAR
    q_river = q_between + sum(v[2] for v in stations.values()) * HM3 / S_PER_YEAR
    intake = {"bus": "GD", "carrier": "hydro", "river": RIVER, "p_max_mw": 0.0,
              "mw_per_m3s": 1.0, "storage_max_hm3": 0.0, "storage_min_hm3": 0.0,
              "storage_initial_hm3": None, "end_rule": "fixed", "travel_time_h": 0.0,
              "release_initial_m3s": None, "marginal_cost_cny_per_mwh": 0.0}
    # Hong Kong's monthly draw: consumption less local yield (assumption dongjiang_hk_monthly),
    # per unit of its mean, rounded as the series file keeps it; the mean withdrawal is set on
    # the rounded profile so that the year adds up to the ceiling exactly
    month = hours.month.to_numpy() - 1
    need = use / 12.0 - local / 12.0 * month_shape
    days = pd.Series(hours.normalize()).drop_duplicates().dt.month.value_counts().sort_index()
    per_hour = need / (days.to_numpy() * 24.0)  # Mm3 per hour of each month
    pu = np.round(per_hour[month] / per_hour[month].mean(), 3)
    hk_m3s = hk_ceiling * HM3 / (3600.0 * pu.sum())
    rows.append({**intake, "name": HK_INTAKE, "q_env_min_m3s": 0.0,
                 "withdrawal_m3s": hk_m3s,
                 "withdrawal_profile": HK_INTAKE, "inflow_profile": HK_INTAKE,
                 "downstream": MAINLAND_INTAKE})
    inflow[HK_INTAKE] = q_between * shape
    rows.append({**intake, "name": MAINLAND_INTAKE,
                 "q_env_min_m3s": round(q_env * q_river, 2),
                 "withdrawal_m3s": round((dongshen - hk_2022) * HM3 / S_PER_YEAR, 4),
                 "withdrawal_profile": None, "inflow_profile": None, "downstream": None})

    withdrawal = pd.DataFrame({HK_INTAKE: pu})

    hydro = pd.DataFrame(rows)
    frame = pd.DataFrame(inflow)
    monthly = pd.DataFrame({
        "month": range(1, 13),
        "Hong Kong draw Mm3": [round(float(pu[month == i].sum() * hk_ceiling / pu.sum()), 1)
                               for i in range(12)],
        "inflow shape": month_shape})
    summary = pd.DataFrame([{
        "node": r["name"], "p_max MW": r["p_max_mw"], "k MW/(m3/s)": r["mw_per_m3s"],
        "active storage hm3": r["storage_max_hm3"], "start hm3": r["storage_initial_hm3"],
        "mean inflow m3/s": round(float(frame[r["inflow_profile"]].mean()), 1)
        if r["inflow_profile"] else 0.0,
        "env. minimum m3/s": r["q_env_min_m3s"], "withdrawal m3/s": r["withdrawal_m3s"],
        "downstream": r["downstream"] or ""} for r in rows])
    energy = sum(v[3] for v in stations.values())
    return DongjiangBuild(hydro, frame, float(a("dongjiang_drought_factor")), withdrawal,
                          float(sum(v[0] for v in stations.values())), energy,
                          md_table(summary) + "\n\n" + md_table(monthly))
