"""Unit-commitment columns of the PPRD generator table (used only by `model: uc` cases).

Every number here is an assumption (no unit-level operating data are in the shared dataset):
it is listed in SOURCES.md through `ASSUMPTIONS`, merged into build_pprd.ASSUMPTIONS.
Provincial coal and gas fleets are clusters of identical units (one integer per province and
fuel); each Hong Kong and Macao station is a cluster of its units at their mean size (the
stations' unit counts are from the operators' pages via hk_macao.csv; mixing unit sizes inside
a station is the approximation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["committable", "units", "p_min_stable_pu", "min_up_h", "min_down_h",
           "start_cost_cny", "startup_ramp_pu", "shutdown_ramp_pu"]

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "uc_coal": (
        {"unit_mw": 600, "stable_pu": 0.4, "min_up_h": 8, "min_down_h": 8,
         "start_cny_per_mw": 400, "start_shut_pu": 0.4}, "-",
        "a provincial coal fleet is committed as identical 600 MW units (the typical size of"
        " the Chinese fleet), stable at 40 %, 8 h minimum up and down, a warm start costing"
        " 400 CNY per MW of unit, starting and stopping at the stable minimum"),
    "uc_gas": (
        {"unit_mw": 400, "stable_pu": 0.5, "min_up_h": 4, "min_down_h": 4,
         "start_cny_per_mw": 200, "start_shut_pu": 0.5}, "-",
        "a provincial gas fleet is committed as identical 400 MW combined-cycle units, stable at"
        " 50 %, 4 h minimum up and down, 200 CNY per MW of unit per start"),
    "uc_peaker": (
        {"stable_pu": 0.2, "min_up_h": 1, "min_down_h": 1, "start_cny_per_mw": 50}, "-",
        "oil-fired turbines and diesels (Hong Kong, Macao) are fast peakers: stable at 20 %,"
        " 1 h minimum up and down, 50 CNY per MW per start, no start-up limit"),
    "uc_station_units": (
        {"Castle Peak": 5, "Black Point": 10, "Penny's Bay": 3, "Lamma coal": 4,
         "Lamma gas": 5, "Lamma GT": 5, "Coloane A": 8, "Coloane B": 3}, "units",
        "units per Hong Kong and Macao station (Castle Peak 350 + 4 x 677 MW, Black Point 8 x"
        " 337.5 + 550 + 600, Lamma CCGTs 335 + 345 + 3 x 380, Lamma GTs 55 + 4 x 125, Penny's"
        " Bay 3 x 100, Coloane A 2 x 20 + 6 diesels, Coloane B 45.1 + 45.1 + 46.2; Lamma's coal"
        " split into 4 units is an assumption); each station is one cluster at its mean unit"
        " size"),
}


def add_commitment(generators: pd.DataFrame, a) -> pd.DataFrame:
    """The generator table with commitment columns: coal, gas and oil thermal rows committable."""
    g = generators.copy()
    stations = a("uc_station_units")
    is_station = g["name"].isin(stations)
    fleets = {"coal": a("uc_coal"), "gas": a("uc_gas")}
    g["committable"] = g["carrier"].isin(["coal", "gas", "oil"])
    units = np.ones(len(g), dtype=int)
    for carrier, spec in fleets.items():
        rows = (g["carrier"] == carrier) & ~is_station
        units[rows] = np.maximum(np.round(g.loc[rows, "p_max_mw"] / spec["unit_mw"]), 1)
    units[is_station] = g.loc[is_station, "name"].map(stations).astype(int)
    g["units"] = np.where(g["committable"], units, 1)
    peaker = a("uc_peaker")

    def per_carrier(key: str, peak_value: float | None) -> pd.Series:
        values = g["carrier"].map({c: spec[key] for c, spec in fleets.items()})
        values = values.where(g["carrier"] != "oil", peak_value)
        return values.where(g["committable"])

    g["p_min_stable_pu"] = per_carrier("stable_pu", peaker["stable_pu"])
    g["min_up_h"] = per_carrier("min_up_h", peaker["min_up_h"])
    g["min_down_h"] = per_carrier("min_down_h", peaker["min_down_h"])
    unit_mw = g["p_max_mw"] / g["units"]
    g["start_cost_cny"] = (per_carrier("start_cny_per_mw", peaker["start_cny_per_mw"])
                           * unit_mw).round()
    g["startup_ramp_pu"] = per_carrier("start_shut_pu", None)
    g["shutdown_ramp_pu"] = g["startup_ramp_pu"]
    return g
