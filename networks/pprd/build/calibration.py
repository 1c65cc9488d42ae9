"""The published figures a PPRD year is compared with (`calibration_reference.csv`).

Called by `build_pprd.py` (which owns the shared-data ledger and the writing). Every figure goes
through `Shared.row`, so it is listed with its source and status in SOURCES.md, and is written
into `calibration_reference.csv` with that source and status, converted to the unit the model
reports (MWh, MWh_th, per unit). `gridopt calibrate` reads the table and sets each figure
beside the model's value; what a row measures in the model is given by its columns:

- `quantity`: `generation_mwh` (energy of the listed components, or of a region's generators
  and hydro stations of a carrier), `delivered_mwh` (energy delivered by the listed corridors or
  links), `consumption_mwh` (demand served in a region), `import_mwh` (the region's demand
  served less its own generation and storage output), `import_share_pu` (that over the demand
  served), `supply_share_pu` (a carrier's generation in the region over its demand served),
  `generation_share_pu` (over the region's generation), `gas_burn_mwh_th` (gas burnt by the
  region's gas-fired plants), `gas_use_mwh_th` (that plus the non-power gas demand served at
  the region's gas nodes);
- `components`: `name` or `name*share` separated by `;` (a share of a station counted in the
  region's statistics, e.g. half of a border station);
- `caveat`: what differs between the figure and what the model measures (another year, a figure
  the network carries as a contract, a policy the calibration case imposes), so a deviation
  beyond the target is explained in the report;
- `headline`: the aggregates a test keeps within their targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

COLUMNS = {
    "calibration_reference": ["name", "group", "quantity", "region", "carrier", "components",
                              "value", "published", "year", "status", "source", "basis",
                              "caveat", "headline"],
}

# value, unit, why (merged into build_pprd.ASSUMPTIONS as Assumption(value, unit, why))
ASSUMPTIONS: dict[str, tuple[Any, str, str]] = {
    "calibration_station_figure": (
        "design mean, and observed 2015 as a second row", "-",
        "a station is compared with its design mean annual generation (the long-run mean a"
        " normal inflow year stands for) and, where the data has it, with its observed 2015"
        " generation (one year, so a deviation beyond the target is expected and explained)"),
    "calibration_statistical_split": (
        "as `border_station_split`", "-",
        "provincial hydro generation is compared with the stations counted the way the"
        " provincial statistics count them: Jinsha stations on the Sichuan/Yunnan border half in"
        " each province, whatever bus the model connects them to"),
    "calibration_yalong_lower_reach": (
        "Jinping I, Jinping II, Guandi, Ertan, Tongzilin", "-",
        "the five stations of the 'Yalong lower reach (5 stations)' row, as its note names them"),
    "calibration_excluded": (
        "Tibet-Guangdong; CSG 2011-2015 cumulative energy", "-",
        "Tibet-Guangdong is not in the network (not yet built); the CSG West-to-East energy of"
        " 2011-2015 is a five-year sum of a system that has since gained Dianxibei and"
        " Kunliulong, and no model aggregate matches its scope"),
}

# published corridor figure -> (its corridors.csv entity, the corridors or links carrying it)
CORRIDOR_FIGURES = {
    "Nuozhadu-Guangdong": ("Nuozhadu-Guangdong UHVDC (Pu-Qiao)", ["Nuozhadu-Guangdong"]),
    "Dianxibei-Guangdong": ("Dianxibei (NW Yunnan)-Guangdong UHVDC (Xin-Dong)",
                            ["Dianxibei-Guangdong"]),
    "Kunliulong": ("Kunliulong (Wudongde-Guangdong/Guangxi) UHVDC multi-terminal",
                   ["Kunliulong Kunbei-Liubei", "Kunliulong Kunbei-Longmen"]),
    "Jinzhong": ("Jinzhong DC (Jinsha middle-reach stations -> Guangxi)", ["Jinzhong"]),
    "Yazhong-Jiangxi": ("Yazhong-Jiangxi UHVDC", ["Yazhong-Jiangxi"]),
    "Ningxia-Hunan": ("Ningxia-Hunan UHVDC", ["Ningxia-Hunan"]),
    "Baihetan-Jiangsu": ("Baihetan-Jiangsu UHVDC", ["Baihetan-Jiangsu"]),
}
PROVINCE_BUS = {"Guangdong": "GD", "Guangxi": "GX", "Yunnan": "YN", "Guizhou": "GZ",
                "Sichuan": "SC", "Hainan": "HI", "Hunan": "HN", "Jiangxi": "JX",
                "Fujian": "FJ"}
TO_MWH = {"TWh": 1e6, "TWh/yr": 1e6, "GWh": 1e3}


def _note_percent(row: pd.Series, pattern: str) -> float:
    """A percentage quoted in a row's note (the build stops if the note no longer says it)."""
    m = re.search(pattern, row["note"])
    if m is None:
        raise ValueError(f"the note of {row['parameter']!r} no longer matches {pattern!r}")
    return float(m.group(1))


def build_reference(shared: Any, stations: pd.DataFrame, corridors: pd.DataFrame,
                    links: pd.DataFrame, twh_th_per_bcm: float, gas_vs_coal: tuple[float, float],
                    a: Callable[[str], Any],
                    md_table: Callable[[pd.DataFrame], str]) -> tuple[pd.DataFrame, str]:
    """The reference table and its markdown for SOURCES.md.

    `shared` is the build's ledger, `stations` its cascade table (with `sc_share` and
    `service_year`), `gas_vs_coal` the marginal costs (CNY/MWh) of a Guangdong gas plant on LNG
    and of a coal plant, quoted in the caveat of the gas rows.
    """
    rows: list[dict] = []

    def add(name: str, group: str, quantity: str, r: pd.Series, value: float, *,
            region: str | None = None, carrier: str | None = None,
            components: list[str] | None = None, basis: str = "", caveat: str = "",
            headline: bool = False, published: str | None = None) -> None:
        if r["status"] == "estimate":
            caveat = "the published figure is an estimate. " + caveat
        rows.append({
            "name": name, "group": group, "quantity": quantity, "region": region,
            "carrier": carrier, "components": ";".join(components) if components else None,
            "value": value, "published": published or f"{r['value']} {r['unit']}",
            "year": r["year"],
            "status": r["status"], "source": r["source"], "basis": basis,
            "caveat": caveat.strip(), "headline": headline})

    def energy(r: pd.Series) -> float:
        return float(r["value"]) * TO_MWH[r["unit"]]

    # --- hydro stations: design mean, and observed 2015 where the data has both
    for s in stations.index:
        for parameter, label in (("mean_annual_generation_design", "design mean"),
                                 ("annual_generation_observed", "observed")):
            if shared.rows("hydro_stations", station=s, parameter=parameter).empty:
                continue
            r = shared.row("hydro_stations", f"calibration: {s} ({label})", station=s,
                           parameter=parameter)
            observed = parameter == "annual_generation_observed"
            add(f"{s} ({label}{' ' + r['year'] if observed else ''})", "station",
                "generation_mwh", r, energy(r), components=[s],
                caveat=(f"a single year ({r['year']}), not the long-run mean a normal inflow year"
                        " stands for; the network's station energy is the design mean where"
                        " one is published" if observed else ""),
                headline=not observed and r["status"] != "estimate")
    yalong = [s.strip() for s in a("calibration_yalong_lower_reach").split(",")]
    r = shared.row("hydro_stations", "calibration: Yalong lower reach",
                   station="Yalong lower reach (5 stations)", parameter="annual_generation")
    add("Yalong lower reach (5 stations)", "river", "generation_mwh", r, energy(r),
        components=yalong, basis="'>700亿kWh/yr': a lower bound",
        caveat="the figure is a lower bound ('more than')", headline=True)

    # --- West-to-East corridors with a published annual energy
    contracted = set(corridors["name"])
    by_name = {**{n: "corridor" for n in corridors["name"]}, **{n: "link" for n in links["name"]}}
    for label, (entity, carried_on) in CORRIDOR_FIGURES.items():
        r = shared.row("corridors", f"calibration: {label} energy", corridor=entity,
                       parameter="annual_energy")
        missing = [c for c in carried_on if c not in by_name]
        if missing:
            raise ValueError(f"calibration: {missing} not in the network")
        if set(carried_on) <= contracted:
            caveat = ("the network carries this figure as an annual delivery contract"
                      " (contracts.csv, a minimum at the receiving end): the row checks that it"
                      " is delivered; it cannot fall below it without a shortfall")
        elif label == "Ningxia-Hunan":
            caveat = ("the network takes this figure as the Ningxia import's must-take at the"
                      " sending end; delivered after the line's losses")
        else:
            caveat = ("the network's export load of this outlet is this figure (East-China"
                      " exports are fixed schedules): the row checks that it is carried")
        add(f"{label} energy", "corridor", "delivered_mwh", r, energy(r),
            components=carried_on, caveat=caveat, headline=True)

    # --- provinces: consumption served, hydro generation, Guangdong's gas share
    for prov, code in PROVINCE_BUS.items():
        r = shared.row("provinces", f"calibration: {code} consumption", province=prov,
                       parameter="electricity_consumption", year=2024)
        add(f"{prov} consumption", "province", "consumption_mwh", r, energy(r), region=prov,
            caveat="the network's demand is this figure: the row checks that it is served",
            headline=True)
    for prov, code, share in (("Sichuan", "SC", stations["sc_share"]),
                              ("Yunnan", "YN", 1.0 - stations["sc_share"]),
                              ("Guizhou", "GZ", None)):
        r = shared.row("provinces", f"calibration: {code} hydro generation", province=prov,
                       parameter="hydro_generation", year=2023)
        parts = [f"{code} hydro"]
        caveat = ""
        if share is not None:
            counted = share[share > 0]
            parts += [s if w == 1.0 else f"{s}*{w:g}" for s, w in counted.items()]
            later = [s for s in counted.index if stations.at[s, "service_year"] > 2023]
            caveat = ("the network's other hydro of the province is this figure less the"
                      " modelled stations in service by 2023, so a normal year reproduces it"
                      + (f" plus the stations commissioned since ({', '.join(later)})"
                         if later else ""))
        if code == "GZ":
            drop = _note_percent(r, r"(-?\d+(?:\.\d+)?)% y/y")
            caveat = (f"2023 was a drought year in Guizhou ({drop:g} % y/y, NBS): the network's"
                      " normal year restores the figure by that change, so the model is above"
                      " it by design")
        add(f"{prov} hydro generation", "province", "generation_mwh", r, energy(r),
            components=parts, basis="border stations counted half in each province",
            caveat=caveat, headline=code != "GZ")
    r = shared.row("provinces", "calibration: Guangdong gas share of generation",
                   province="Guangdong", parameter="gas_capacity", year=2023)
    share = _note_percent(r, r"gas ~(\d+(?:\.\d+)?)% of Guangdong generation")
    gas_cost, coal_cost = gas_vs_coal
    tariff = [shared.row("costs", "calibration: caveat of the Guangdong gas rows",
                         item="gas-fired on-grid tariff, Guangdong", parameter=p)
              for p in ("price_range_low", "price_range_high")]
    dispatch = ("Guangdong's gas plants are paid a regulated on-grid tariff"
                f" ({tariff[0]['value']}-{tariff[1]['value']} CNY/kWh, {tariff[1]['year']}) that"
                " covers their fuel: they are not dispatched on fuel cost. The model dispatches"
                f" on cost, a gas plant on LNG at {gas_cost:.0f} CNY/MWh against coal at"
                f" {coal_cost:.0f}, so it burns gas only where coal and imports cannot meet the"
                " load, which daily snapshots never show. The data has no figure for the hours"
                " the plants are given to set a must-run from; one set from the figure compared"
                " here would be a fudge factor")
    add("Guangdong gas share of generation", "province", "generation_share_pu", r,
        share / 100.0, region="Guangdong", carrier="gas", published=f"~{share:g} %",
        basis=f"'gas ~{share:g}% of Guangdong generation 2023' (note of the 2023 gas capacity"
              " row)", caveat=dispatch)
    r = shared.row("provinces", "calibration: Yunnan generation 2014", province="Yunnan",
                   parameter="generation", year=2014)
    then = {c: shared.value("provinces", "calibration: caveat of Yunnan 2014", province="Yunnan",
                            parameter=f"{c}_capacity", year=2014) for c in ("hydro", "wind")}
    add("Yunnan generation (2014)", "province", "generation_mwh", r, energy(r),
        region="Yunnan", caveat="2014: Yunnan's hydro, wind and solar fleets have grown since"
        f" (2014: hydro {then['hydro'] / 1e3:g} GW, wind {then['wind'] / 1e3:g} GW)")

    # --- Hong Kong and Macao
    hk = "Hong Kong"
    r = shared.row("hk_macao", "calibration: HK import share", region=hk,
                   entity="Imports from Mainland (nuclear + CSG)",
                   parameter="share_of_HK_fuel_mix", year=2024)
    add("Hong Kong import share", "hk_macao", "import_share_pu", r, float(r["value"]) / 100,
        region=hk, basis="Daya Bay's contracted output and CSG supply over Hong Kong's supply",
        headline=True)
    policy = ("a policy target that the calibration case imposes as Hong Kong's fuel mix, so"
              " the model meets it by construction")
    for parameter, carrier in (("gas_share_target", "gas"), ("coal_share_target", "coal")):
        r = shared.row("hk_macao", f"calibration: HK {carrier} share",
                       region=hk, entity="Fuel mix target (Climate Action Plan 2030+)",
                       parameter=parameter)
        add(f"Hong Kong {carrier} share of supply", "hk_macao", "supply_share_pu", r,
            float(r["value"]) / 100, region=hk, carrier=carrier, caveat=policy)
    r = shared.row("hk_macao", "calibration: HK consumption", region=hk, entity="HK total",
                   parameter="electricity_consumption", year=2021)
    add("Hong Kong consumption", "hk_macao", "consumption_mwh", r, energy(r), region=hk,
        caveat="the network's demand is this figure: the row checks that it is served",
        headline=True)
    r = shared.row("hk_macao", "calibration: HK imports 2017", region=hk, entity="HK total",
                   parameter="electricity_imports_from_mainland", year=2017)
    add("Hong Kong imports from the Mainland (2017)", "hk_macao", "import_mwh", r, energy(r),
        region=hk, caveat="2017, when Hong Kong's metered consumption was 43.8 TWh")
    mo = "Macao"
    r = shared.row("hk_macao", "calibration: Macao import share", region=mo, entity="Imports",
                   parameter="import_dependence", year=2023)
    add("Macao import share", "hk_macao", "import_share_pu", r, float(r["value"]) / 100,
        region=mo, headline=True)
    r = shared.row("hk_macao", "calibration: Macao consumption", region=mo,
                   entity="Macao total", parameter="gross_energy_consumption", year=2023)
    add("Macao consumption", "hk_macao", "consumption_mwh", r, energy(r), region=mo,
        caveat="the network's demand is this figure: the row checks that it is served",
        headline=True)
    r = shared.row("hk_macao", "calibration: Macao local generation", region=mo,
                   entity="CEM local generation", parameter="generation", year=2023)
    add("Macao local generation", "hk_macao", "generation_mwh", r, energy(r), region=mo,
        caveat="Coloane's units run when demand exceeds the 700 MW interconnection, in the"
               " hours of the evening peak: snapshots that average a day or more flatten those"
               " peaks, so the model's local generation falls with coarser resolution")

    # --- gas burnt for power
    r = shared.row("gas", "calibration: Guangdong gas for power", asset="Guangdong gas demand",
                   parameter="natural_gas_consumption")
    power = _note_percent(r, r"~(\d+(?:\.\d+)?)% used for power")
    add("Guangdong gas burnt for power", "gas", "gas_burn_mwh_th", r,
        float(r["value"]) * power / 100 * twh_th_per_bcm * 1e6, region="Guangdong",
        published=f"{r['value']} {r['unit']} x ~{power:g} %",
        basis=f"{r['value']} bcm x {power:g} % for power (note) x {twh_th_per_bcm:.2f} TWh_th/bcm",
        caveat=dispatch)
    r = shared.row("gas", "calibration: Hong Kong gas use", asset="Hong Kong gas demand",
                   parameter="natural_gas_consumption")
    add("Hong Kong gas use", "gas", "gas_use_mwh_th", r,
        float(r["value"]) * twh_th_per_bcm * 1e6, region=hk,
        basis=f"{r['value']} bcm x {twh_th_per_bcm:.2f} TWh_th/bcm",
        caveat="every gas plant burns at the CCGT efficiency of 0.57, where Black Point's"
               " unit D1 (2020) reaches 'up to 60%' and its eight original units less, and the"
               " non-power share of the figure (10 %) is an estimate")
    table = pd.DataFrame(rows, columns=COLUMNS["calibration_reference"])
    return table, _markdown(table, md_table)


def _markdown(table: pd.DataFrame, md_table: Callable[[pd.DataFrame], str]) -> str:
    shown = table[["name", "group", "quantity", "value", "published", "year", "status",
                   "headline"]].copy()
    shown["value"] = shown["value"].map(lambda v: f"{v:,.4g}")
    return md_table(shown)
