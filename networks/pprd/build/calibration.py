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
        "Tibet-Guangdong; CSG 2011-2015 cumulative energy; Yunnan generation 2014; Guizhou"
        " hydro generation 2023", "-",
        "Tibet-Guangdong is not in the network (not yet built); the CSG West-to-East energy of"
        " 2011-2015 is a five-year sum of a system that has since gained Dianxibei and"
        " Kunliulong, and no model aggregate matches its scope; Yunnan's 2014 generation is that"
        " of a fleet of 68 GW (hydro 50.7 GW, wind 2.8 GW) that has since more than doubled, so"
        " it tests nothing of the 2025 network; Guizhou's 2023 hydro generation is a drought"
        " year's (-36.7 % y/y) and is the figure the network sizes Guizhou's aggregate hydro on"
        " (restored to a normal year by that change): compared with a normal year it can only"
        " differ by that change, by design"),
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
                              ("Yunnan", "YN", 1.0 - stations["sc_share"])):
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
        add(f"{prov} hydro generation", "province", "generation_mwh", r, energy(r),
            components=parts, basis="border stations counted half in each province",
            caveat=caveat, headline=True)
    r = shared.row("operations", "calibration: Guangdong gas share of supply",
                   region="Guangdong", entity="gas-fired fleet",
                   parameter="gas_share_of_actual_supply", year=2023)
    gas_cost, coal_cost = gas_vs_coal
    contract = ("Guangdong's gas plants run their annual contract volumes (energy_obligations.csv):"
                f" on cost alone, a gas plant on LNG at {gas_cost:.0f} CNY/MWh against coal at"
                f" {coal_cost:.0f} would burn nothing. The contracts are not published; their"
                " minimum is the fleet's 2023 utilisation, an estimate derived from this 13 %,"
                " so this row holds largely by construction")
    add("Guangdong gas share of supply", "province", "supply_share_pu", r,
        float(r["value"]) / 100.0, region="Guangdong", carrier="gas",
        published=f"~{r['value']} %",
        basis="gas-fired generation over total supply (consumption, imports included: the"
              " source ranks gas 'behind coal, imported electricity')", caveat=contract)

    # --- Hong Kong and Macao
    hk = "Hong Kong"
    r = shared.row("hk_macao", "calibration: HK import share", region=hk,
                   entity="Imports from Mainland (nuclear + CSG)",
                   parameter="share_of_HK_fuel_mix", year=2024)
    add("Hong Kong import share", "hk_macao", "import_share_pu", r, float(r["value"]) / 100,
        region=hk, basis="Daya Bay's contracted output and CSG supply over Hong Kong's supply",
        headline=True)
    policy = ("a policy target in force in every PPRD case (Hong Kong's fuel mix in"
              " security.yaml), so the model meets it by construction")
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
        caveat="Macao's import-share ceiling (security.yaml, 93 % a month, in force in every"
               " case) keeps at least 7 % of its supply local: the row follows from it and the"
               " consumption")

    # --- gas burnt for power
    r = shared.row("gas", "calibration: Guangdong gas for power", asset="Guangdong gas demand",
                   parameter="natural_gas_consumption")
    power = _note_percent(r, r"~(\d+(?:\.\d+)?)% used for power")
    add("Guangdong gas burnt for power", "gas", "gas_burn_mwh_th", r,
        float(r["value"]) * power / 100 * twh_th_per_bcm * 1e6, region="Guangdong",
        published=f"{r['value']} {r['unit']} x ~{power:g} %",
        basis=f"{r['value']} bcm x {power:g} % for power (note) x {twh_th_per_bcm:.2f} TWh_th/bcm",
        caveat=f"{r['year']}, the year of record LNG prices, when Guangdong's gas plants ran"
               " less: at the fleet's efficiency of 0.57 this is about 96 TWh, where 2023's 13"
               " % of supply (the year the network's contract minimum comes from) is about 110"
               " TWh")
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
