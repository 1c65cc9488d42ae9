"""Unit-commitment columns of the PPRD generator table (used only by `model: uc` cases).

Every number here is an assumption (no unit-level operating data are in the shared dataset):
it is listed in SOURCES.md through `ASSUMPTIONS`, merged into build_pprd.ASSUMPTIONS.
Provincial coal and gas fleets are clusters of identical units (one integer per province and
fuel); Hong Kong's and Macao's units are rows of their own (one unit each, sizes from the
operators' pages via hk_macao.csv, see build_pprd.HK_MACAO_UNITS), each with the operating
data of its technology.
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
        "coal steam units: a provincial coal fleet is committed as identical 600 MW units (the"
        " typical size of the Chinese fleet); every coal unit (fleet or Hong Kong) is stable at"
        " 40 %, 8 h minimum up and down, a warm start costing 400 CNY per MW of unit, starting"
        " and stopping at the stable minimum"),
    "uc_gas": (
        {"unit_mw": 400, "stable_pu": 0.5, "min_up_h": 4, "min_down_h": 4,
         "start_cny_per_mw": 200, "start_shut_pu": 0.5}, "-",
        "combined-cycle units: a provincial gas fleet is committed as identical 400 MW units;"
        " every CCGT unit (fleet, Hong Kong, Macao) is stable at 50 %, 4 h minimum up and down,"
        " 200 CNY per MW of unit per start. Coloane B's gas turbines and steam turbine are"
        " committed as three units, although its steam turbine runs only on their exhaust"),
    "uc_peaker": (
        {"stable_pu": 0.2, "min_up_h": 1, "min_down_h": 1, "start_cny_per_mw": 50}, "-",
        "oil-fired gas turbines (Penny's Bay, Lamma) and Coloane A's diesels are fast peakers:"
        " stable at 20 %, 1 h minimum up and down, 50 CNY per MW per start, no start-up limit"),
    "uc_oil_steam": (
        {"stable_pu": 0.4, "min_up_h": 4, "min_down_h": 4, "start_cny_per_mw": 100,
         "start_shut_pu": 0.4}, "-",
        "Coloane A's two 20 MW oil-fired steam units (1978): a small boiler, stable at 40 %,"
        " 4 h minimum up and down, 100 CNY per MW per start, starting and stopping at the"
        " stable minimum"),
}
# the operating data of each technology of the generator table's `technology` column
TECHNOLOGY = {"coal steam": "uc_coal", "CCGT": "uc_gas", "gas turbine": "uc_peaker",
              "diesel": "uc_peaker", "oil steam": "uc_oil_steam"}


def add_commitment(generators: pd.DataFrame, a) -> pd.DataFrame:
    """The generator table with commitment columns: every row with a thermal `technology` is
    committable; a provincial `fleet` row is a cluster of the technology's `unit_mw` units,
    any other committable row one unit."""
    g = generators.copy()
    specs = {tech: a(key) for tech, key in TECHNOLOGY.items()}
    g["committable"] = g["technology"].isin(list(TECHNOLOGY))

    def spec(key: str) -> pd.Series:
        values = g["technology"].map({t: s.get(key, np.nan) for t, s in specs.items()})
        return values.where(g["committable"]).astype(float)

    fleet = g["fleet"].fillna(False).astype(bool) & g["committable"]
    units = np.maximum(np.round(g["p_max_mw"] / spec("unit_mw")), 1).fillna(1).astype(int)
    g["units"] = np.where(fleet, units, 1)
    g["p_min_stable_pu"] = spec("stable_pu")
    g["min_up_h"] = spec("min_up_h")
    g["min_down_h"] = spec("min_down_h")
    g["start_cost_cny"] = (spec("start_cny_per_mw") * g["p_max_mw"] / g["units"]).round()
    g["startup_ramp_pu"] = spec("start_shut_pu")
    g["shutdown_ramp_pu"] = g["startup_ramp_pu"]
    return g
