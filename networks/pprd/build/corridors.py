"""The PPRD West-to-East corridors as gridopt corridors, their contracts and delivery shapes.

Called by `build_pprd.py` (which owns the shared-data ledger and the writing) after the links
are built: the West-to-East HVDC/UHVDC links leave the link table and become rows of
`corridors.csv` with the same ratings, lengths, carriers and total loss at rated power, plus
poles, a no-load loss, operating rules and commissioning years; `contracts.csv` holds the annual
energies the shared data publishes for them. Every figure from `corridors.csv` goes through
`Shared.row`/`Shared.value`, so it is listed with its source and status in SOURCES.md; every
other number is an entry of `ASSUMPTIONS` below, merged into the build's assumption registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = {
    "corridors": ["name", "bus0", "bus1", "carrier", "p_max_mw", "p_max_reverse_mw", "poles",
                  "poles_available", "loss_noload_mw", "loss_pu", "min_transfer_pu",
                  "switchable", "ramp_mw_per_h", "daily_profile", "shape_tolerance_pu",
                  "peak_valley_ratio_max", "marginal_cost_cny_per_mwh", "length_km",
                  "commissioning_year"],
    "contracts": ["name", "corridors", "from_region", "to_region", "period", "month", "min_mwh",
                  "max_mwh", "shortfall_penalty_cny_per_mwh", "metered_at"],
}

# link name -> (corridor row of corridors.csv, poles)
CORRIDORS = {
    "Tian-Guang": ("Tian-Guang HVDC", 2),
    "Gui-Guang I": ("Gui-Guang I HVDC", 2),
    "Gui-Guang II": ("Gui-Guang II HVDC", 2),
    "Chu-Sui": ("Yunnan-Guangdong UHVDC (Chuxiong-Suidong)", 2),
    "Nuozhadu-Guangdong": ("Nuozhadu-Guangdong UHVDC (Pu-Qiao)", 2),
    "Xiluodu-Guangdong": ("Xiluodu right bank-Guangdong HVDC (double circuit, same tower)", 4),
    "Dianxibei-Guangdong": ("Dianxibei (NW Yunnan)-Guangdong UHVDC (Xin-Dong)", 2),
    "Kunliulong Kunbei-Liubei": ("Kunliulong (Wudongde-Guangdong/Guangxi) UHVDC multi-terminal",
                                 2),
    "Kunliulong Kunbei-Longmen": ("Kunliulong (Wudongde-Guangdong/Guangxi) UHVDC"
                                  " multi-terminal", 2),
    "Jinzhong": ("Jinzhong DC (Jinsha middle-reach stations -> Guangxi)", 2),
    "Yazhong-Jiangxi": ("Yazhong-Jiangxi UHVDC", 2),
}
# commissioning parameters, most complete first
COMMISSIONING = ("commissioning_full", "commissioning_bipole", "commissioning")
# contract name -> corridors carrying it (the annual_energy row is that of their corridor)
CONTRACTS = {
    "Nuozhadu-Guangdong annual": ["Nuozhadu-Guangdong"],
    "Dianxibei-Guangdong annual": ["Dianxibei-Guangdong"],
    "Kunliulong annual": ["Kunliulong Kunbei-Liubei", "Kunliulong Kunbei-Longmen"],
    "Jinzhong annual": ["Jinzhong"],
    "Yazhong-Jiangxi annual": ["Yazhong-Jiangxi"],
}

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "corridor_scope": (
        "West-to-East DC corridors inside PPRD", "-",
        "the DC lines from Yunnan, Guizhou and Sichuan to Guangdong, Guangxi and Jiangxi are"
        " corridors; the out-of-region interfaces (Three Gorges-Guangdong, Ningxia-Hunan,"
        " Gansu-Hunan, the Hubei AC interfaces, the East-China outlets) and the Min-Yue"
        " back-to-back stay links (a two-way corridor would make every dispatch case a MIP)"),
    "corridor_poles": (
        {"bipole": 2, "Xiluodu-Guangdong": 4}, "poles",
        "every corridor is one bipole; Xiluodu right bank-Guangdong is two +-500 kV bipoles on one"
        " tower (corridors.csv technology row), so 4 poles of 1,600 MW. The Kunliulong legs are"
        " bipoles with their own terminal ratings (their sum is the Kunbei rating)"),
    "hvdc_noload_loss_pu": (
        0.002, "p.u. of rating",
        "converter no-load loss (transformer core, filters) of both stations while energised,"
        " about 0.1 % of rating per LCC station; no shared-data row. It is taken out of the loss"
        " at rated power, so loss_pu = (1 - efficiency of the former link) - 0.002 and the total"
        " at rated power is unchanged (Dianxibei: the confirmed 4.5 %)"),
    "corridor_min_transfer_pu": (
        0.1, "p.u. of usable rating",
        "an LCC converter does not run below about 10 % of its rated DC current. Corridors are"
        " not switchable (they stay energised in uc cases too), so they carry at least this much"
        " every hour"),
    "corridor_ramp_pu_per_h": (
        0.2, "p.u. of usable rating per hour",
        "day-ahead schedules move between their valley and peak levels over a few hours; 20 % of"
        " the rating per hour lets a corridor go from minimum to full in under five hours"),
    "corridor_delivery_shape": (
        "receiving province's mean daily load shape at half amplitude", "-",
        "schedules follow the receiving grid's load (more at peak, less at night): per receiving"
        " province (GD, GX, JX) the hour-of-day mean of its 2025 load profile over the year,"
        " s_h = 1 + 0.5 x (load_h / mean - 1), repeated every day (column '<bus> delivery' of"
        " timeseries/corridor_shape_pu.csv)"),
    "corridor_shape_tolerance_pu": (
        0.15, "p.u.",
        "the schedule stays within +-15 % of shape x the day's mean schedule; a flat schedule at"
        " full rating is still allowed, a schedule against the receiving load's shape is not"),
    "contract_energy": (
        "annual_energy rows = annual minimum at the receiving end", "-",
        "the published annual energies of Nuozhadu, Dianxibei, Kunliulong (both legs), Jinzhong"
        " and Yazhong-Jiangxi are taken as annual delivery obligations, metered at the receiving"
        " converter; no maximum. gridopt prorates them by hours for a horizon shorter than the"
        " year (a one-week case carries 168/8760 of the annual figure). The other corridors"
        " have no public figure and no contract"),
    "contract_shortfall_penalty": (
        "national coal benchmark 0.3736 CNY/kWh", "CNY/MWh",
        "a shortfall is paid at the national coal-fired benchmark on-grid price (the same row"
        " as the import price): the receiving province buys the missing energy at the"
        " benchmark. Contract penalty terms are not public"),
}


@dataclass
class CorridorBuild:
    links: pd.DataFrame  # the links that remain links
    tables: dict[str, pd.DataFrame]  # corridors, contracts
    series: dict[str, pd.DataFrame]  # corridor_shape_pu
    markdown: str


def _year(text: str) -> int | None:
    m = re.search(r"(\d{4})", text or "")
    return int(m.group(1)) if m else None


def delivery_shapes(load_ts: pd.DataFrame, snapshots: pd.DatetimeIndex,
                    damping: float) -> pd.DataFrame:
    """Per receiving province, its mean daily load shape at `damping` x amplitude, every day."""
    hour = snapshots.hour.to_numpy()
    out = {}
    for bus in ("GD", "GX", "JX"):
        load = load_ts[f"{bus} load"].to_numpy()
        by_hour = np.bincount(hour, weights=load, minlength=24) / np.bincount(hour, minlength=24)
        shape = 1 + damping * (by_hour / by_hour.mean() - 1)
        out[f"{bus} delivery"] = (shape / shape.mean())[hour]
    return pd.DataFrame(out)


def build_corridors(shared: Any, links: pd.DataFrame, load_ts: pd.DataFrame,
                    snapshots: pd.DatetimeIndex, a: Callable[[str], Any],
                    md_table: Callable[[pd.DataFrame], str]) -> CorridorBuild:
    """Move the West-to-East links to the corridor table; contracts and delivery shapes.

    `shared` is the build's `Shared` ledger, `a` its assumption lookup (after `ASSUMPTIONS`
    above is merged), `md_table` its markdown renderer.
    """
    moved = links["name"].isin(list(CORRIDORS))
    src = links[moved].set_index("name").loc[list(CORRIDORS)]
    noload_pu = a("hvdc_noload_loss_pu")
    rows = []
    for name, (corridor, poles) in CORRIDORS.items():
        link = src.loc[name]
        years = [_year(shared.row("corridors", f"{name} commissioning year", corridor=corridor,
                                  parameter=p)["value"])
                 for p in COMMISSIONING
                 if not shared.rows("corridors", corridor=corridor, parameter=p).empty]
        p_max = float(link["p_max_mw"])
        rows.append({
            "name": name, "bus0": link["bus0"], "bus1": link["bus1"],
            "carrier": link["carrier"], "p_max_mw": p_max, "p_max_reverse_mw": 0.0,
            "poles": poles if name == "Xiluodu-Guangdong" else a("corridor_poles")["bipole"],
            "poles_available": None, "loss_noload_mw": round(noload_pu * p_max, 3),
            "loss_pu": round(1 - float(link["efficiency"]) - noload_pu, 6),
            "min_transfer_pu": a("corridor_min_transfer_pu"), "switchable": False,
            "ramp_mw_per_h": round(a("corridor_ramp_pu_per_h") * p_max, 3),
            "daily_profile": f"{link['bus1']} delivery",
            "shape_tolerance_pu": a("corridor_shape_tolerance_pu"),
            "peak_valley_ratio_max": None,
            "marginal_cost_cny_per_mwh": float(link["marginal_cost_cny_per_mwh"]),
            "length_km": link["length_km"], "commissioning_year": years[0] if years else None,
        })
    corridors = pd.DataFrame(rows)
    penalty = shared.value("costs", "contract shortfall penalty",
                           item="coal-fired benchmark on-grid price (national average)",
                           parameter="price") * 1000
    contracts = []
    for name, carried_on in CONTRACTS.items():
        corridor = CORRIDORS[carried_on[0]][0]
        twh = shared.value("corridors", f"{name} contract", corridor=corridor,
                           parameter="annual_energy")
        contracts.append({
            "name": name, "corridors": ";".join(carried_on), "from_region": None,
            "to_region": None, "period": "year", "month": None, "min_mwh": twh * 1e6,
            "max_mwh": None, "shortfall_penalty_cny_per_mwh": penalty,
            "metered_at": "receiving"})
    contracts = pd.DataFrame(contracts)
    shapes = delivery_shapes(load_ts, snapshots, 0.5)
    return CorridorBuild(links[~moved].reset_index(drop=True),
                         {"corridors": corridors, "contracts": contracts},
                         {"corridor_shape_pu": shapes},
                         _markdown(corridors, contracts, shapes, md_table))


def _markdown(corridors: pd.DataFrame, contracts: pd.DataFrame, shapes: pd.DataFrame,
              md_table: Callable[[pd.DataFrame], str]) -> str:
    tab = corridors[["name", "bus0", "bus1", "carrier", "p_max_mw", "poles", "loss_noload_mw",
                     "loss_pu", "min_transfer_pu", "ramp_mw_per_h", "daily_profile",
                     "marginal_cost_cny_per_mwh", "length_km", "commissioning_year"]]
    con = contracts[["name", "corridors", "period", "min_mwh", "shortfall_penalty_cny_per_mwh",
                     "metered_at"]].assign(
        week_min_mwh=(contracts["min_mwh"] * 168 / 8760).round(0))
    first_day = shapes.iloc[:24].round(3)
    shape_tab = pd.DataFrame({"hour": np.arange(24), **{c: first_day[c].to_numpy()
                                                       for c in shapes.columns}})
    return "\n\n".join([
        md_table(tab),
        "Contracts (`contracts.csv`; `week_min_mwh` is what a one-week case carries, 168/8760 of"
        " the annual minimum):",
        md_table(con),
        "Daily delivery shapes (`timeseries/corridor_shape_pu.csv`, the same every day):",
        md_table(shape_tab),
    ])
