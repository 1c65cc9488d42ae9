"""Build the default Pan-Pearl-River-Delta (PPRD) network of gridopt from the shared dataset.

Usage (from anywhere)::

    python networks/pprd/build/build_pprd.py [--shared DIR] [--out DIR]

``--shared`` defaults to ``<repo root>/../shared/data``; ``--out`` defaults to ``networks/pprd``.
The script reads the long-format reference tables (one fact a row, with unit, year, source and
status) and writes the component tables, the hourly series under ``timeseries/``,
``network.yaml`` and ``SOURCES.md`` (prose from ``SOURCES.template.md`` plus generated tables of
every figure and assumption used and the sanity-check summary).

Design rules:
* Every number taken from the shared data goes through `Shared.row`, which records the row it
  used; every number that is *not* data is an entry of `ASSUMPTIONS`. SOURCES.md is generated
  from both, so it cannot drift from the tables.
* Deterministic: fixed seeds (per profile, derived with ``zlib.crc32`` of its name, never
  ``hash()``), sorted output, fixed number formats; no network access. Two runs give
  byte-identical files.
* No optimisation is run: the sanity check is plain numpy arithmetic.
"""

from __future__ import annotations

import argparse
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from calibration import ASSUMPTIONS as CALIBRATION_ASSUMPTIONS
from calibration import COLUMNS as CALIBRATION_COLUMNS
from calibration import build_reference
from commitment import ASSUMPTIONS as COMMITMENT_ASSUMPTIONS
from commitment import COLUMNS as COMMITMENT_COLUMNS
from commitment import add_commitment
from corridors import ASSUMPTIONS as CORRIDOR_ASSUMPTIONS
from corridors import COLUMNS as CORRIDOR_COLUMNS
from corridors import build_corridors
from dongjiang import ASSUMPTIONS as DONGJIANG_ASSUMPTIONS
from dongjiang import build_dongjiang
from expansion import ASSUMPTIONS as EXPANSION_ASSUMPTIONS
from expansion import COLUMNS as EXPANSION_COLUMNS
from expansion import build_candidates
from gas import ASSUMPTIONS as GAS_ASSUMPTIONS
from gas import COLUMNS as GAS_COLUMNS
from gas import LNG_MWH_TH_PER_T, TWH_TH_PER_BCM, build_gas
from operations import ASSUMPTIONS as OPERATIONS_ASSUMPTIONS
from operations import COLUMNS as OPERATIONS_COLUMNS
from operations import build_operations
from scipy.interpolate import CubicSpline
from scipy.signal import lfilter

BUILD_DIR = Path(__file__).resolve().parent
NETWORK_DIR = BUILD_DIR.parent
REPO_ROOT = NETWORK_DIR.parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"

YEAR = 2025
HOURS = 8760
SNAPSHOTS = pd.date_range(f"{YEAR}-01-01 00:00", periods=HOURS, freq="h")
MONTH = SNAPSHOTS.month.to_numpy() - 1  # 0..11 per hour
DAY = np.arange(HOURS) // 24  # 0..364 per hour
BASE_SEED = 20250101

RHO_G = 1000.0 * 9.81  # water density x gravity, N/m3
H_PER_YEAR = float(HOURS)

# Column order of each table, as declared in gridopt/schema.py (kept literal so that the build
# does not depend on the package being importable while it is being written).
COLUMNS = {
    "buses": ["name", "region", "carrier", "v_nom_kv", "x_lon", "y_lat"],
    "carriers": ["name", "renewable", "fossil", "color", "nice_name"],
    "loads": ["name", "bus", "profile", "scale"],
    "generators": ["name", "bus", "carrier", "p_max_mw", "p_min_mw", "marginal_cost_cny_per_mwh",
                   "ramp_up_mw_per_h", "ramp_down_mw_per_h", "co2_t_per_mwh",
                   "availability_profile", "gas_node", "efficiency", *COMMITMENT_COLUMNS],
    "storage_units": ["name", "bus", "carrier", "p_max_mw", "energy_max_mwh",
                      "efficiency_charge", "efficiency_discharge", "standing_loss_per_h",
                      "soc_initial_mwh", "marginal_cost_cny_per_mwh"],
    "lines": ["name", "bus0", "bus1", "x_ohm", "s_max_mw", "carrier", "length_km"],
    "links": ["name", "bus0", "bus1", "carrier", "p_max_mw", "p_min_pu", "efficiency",
              "marginal_cost_cny_per_mwh", "length_km"],
    "hydro": ["name", "bus", "carrier", "river", "p_max_mw", "mw_per_m3s", "storage_max_hm3",
              "storage_min_hm3", "storage_initial_hm3", "end_rule", "q_env_min_m3s",
              "withdrawal_m3s", "withdrawal_profile", "inflow_profile", "downstream",
              "travel_time_h", "release_initial_m3s", "marginal_cost_cny_per_mwh"],
    **GAS_COLUMNS,
    **CORRIDOR_COLUMNS,
    **CALIBRATION_COLUMNS,
    **EXPANSION_COLUMNS,
    **OPERATIONS_COLUMNS,
}

# The nine provinces by the two-letter code of the hourly load profile (also the bus name).
PROVINCES = {
    "GD": "Guangdong", "GX": "Guangxi", "YN": "Yunnan", "GZ": "Guizhou", "SC": "Sichuan",
    "HI": "Hainan", "HN": "Hunan", "JX": "Jiangxi", "FJ": "Fujian",
}


# ----------------------------------------------------------------------------------------------
# Assumptions: every number below is a modelling choice, not data. SOURCES.md lists them all.
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Assumption:
    value: Any
    unit: str
    why: str


ASSUMPTIONS: dict[str, Assumption] = {
    # --- thermal and nuclear operation
    # --- demand and capacities
    "load_calendar": Assumption(
        "by position", "-", "the 2018 hourly shape is laid onto 2025 hour by hour (weekdays and"
        " the Spring Festival are not re-aligned)"),
    "load_scaling": Assumption(
        "annual energy only", "-", "each shape is scaled to 2024 consumption; no 2024 peaks exist"
        " for most provinces, so peaks follow the 2018 load factor"),
    "hk_macao_load_shape": Assumption(
        "Guangdong", "-", "Hong Kong and Macao have no hourly profile; they take Guangdong's"
        " (adjacent, same climate)"),
    "capacity_years": Assumption(
        "most recent row", "-", "coal, gas, nuclear, wind 2020; solar 2025; Guangdong coal and"
        " gas 2023. Rows of different years are mixed because no consistent 2024/25 table exists"),
    "daya_bay": Assumption(
        "own generator", "-", "Daya Bay (1,888 MW net) is taken out of Guangdong's nuclear total"
        " and modelled on its own, since 80 % of its output is contracted to Hong Kong"),
    "nuclear_p_min_pu": Assumption(
        0.75, "p.u. of p_max",
        "nuclear is run as must-run baseload in China; 75 % keeps refuelling outages implicit"),
    "coal_p_min_pu": Assumption(
        0.30, "p.u. of p_max",
        "minimum stable output of the committed aggregated fleet (units ~30-40 % of rating)."
        " Low end of the range because the whole fleet is treated as always committed: together"
        " with nuclear it then exceeds Guangdong's and Fujian's Spring-Festival load valley for"
        " a few hours, more at a higher value"),
    "hk_macao_unit_p_min": Assumption(
        0.0, "MW",
        "Hong Kong's and Macao's units are rows of their own, each of which may be off: no"
        " must-run floor in a dispatch case (the 30 % of `coal_p_min_pu` is for provincial"
        " fleets treated as always committed). With it, Hong Kong's coal units alone made"
        " more than 25 % of its winter supply, against its fuel-mix policy; in a uc case a unit"
        " that is on keeps its stable minimum"),
    "coal_ramp_pu_per_h": Assumption(
        0.25, "p.u. of p_max per hour",
        "aggregated committed fleet; single units ramp ~1-2 %/min but only part of the fleet"
        " follows load"),
    "vom_cny_per_mwh": Assumption(
        {"coal": 20.0, "gas": 15.0}, "CNY/MWh",
        "variable O&M added to the fuel cost; the shared data has no O&M rows"),
    "coal_fuel_cost_rule": Assumption(
        "midpoint", "-",
        "coal fuel cost = midpoint of the two costs.csv rows derived from the NDRC 570-770 CNY/t"
        " range (198 and 268 CNY/MWh_e)"),
    "nuclear_cost_cny_per_mwh": Assumption(
        70.0, "CNY/MWh", "fuel + variable O&M of nuclear; no shared-data row"),
    "oil_cost_cny_per_mwh": Assumption(
        1800.0, "CNY/MWh", "distillate/HFO peakers (~8,000 CNY/t diesel, 35 % efficiency);"
        " no shared-data row"),
    "oil_co2_t_per_mwh": Assumption(
        0.76, "t/MWh_e", "0.267 t/MWh_th (diesel) / 0.35 efficiency; no shared-data row"),
    "gas_fuel_cost_row": Assumption(
        "CCGT on trucked LNG at 4,167 CNY/t", "-",
        "the Guangdong 2021 LNG-based figure (526 CNY/MWh_e) is what the gas plants' fuel costs"
        " at the LNG price of the gas network (assumption `lng_price`): the region's gas is"
        " LNG-priced, and it matches the confirmed 0.605-0.69 CNY/kWh Guangdong gas tariffs better"
        " than the 275 CNY/MWh_e BP-2019 model price"),
    "hk_macao_costs": Assumption(
        "mainland", "-", "HK and Macao plants use the mainland fuel-cost and CO2 rows of their"
        " fuel (no comparable HK/Macao rows)"),
    # --- imports and exports
    "import_price_row": Assumption(
        "national coal benchmark 0.3736 CNY/kWh", "-",
        "imports from outside PPRD (Hubei, Ningxia, Gansu) are priced at the national coal-fired"
        " benchmark on-grid price: a contract price at the sending end"),
    "central_china_import": Assumption(
        "Hubei-Hunan 2,600 + Hubei-Jiangxi 3,000 MW", "-",
        "Hunan's and Jiangxi's AC interfaces to Hubei (model aggregates) are pairs of one-way"
        " links to and from HB_ext, which also holds a 'Central China import' generator of"
        " their combined rating"
        " (price and CO2 as the other imports)"),
    "ac_interface_efficiency": Assumption(
        0.99, "-", "1 % loss on the Hubei AC interfaces (as links)"),
    "gansu_hunan": Assumption(
        "as Ningxia-Hunan", "-",
        "the Gansu-Hunan interface (model-aggregate edge, 8,000 MW) is an import without"
        " must-take; its length is not in the data, so it takes Ningxia-Hunan's efficiency and"
        " CO2 factor. Included because Hunan's winter peak cannot be met from local plant and"
        " Ningxia-Hunan alone"),
    "import_3gg_p_min_pu": Assumption(
        0.5, "p.u. of rating",
        "Three Gorges-Guangdong is a contracted hydro delivery; no annual energy in the data, so"
        " half the rating is taken as must-take (about 13 TWh/yr)"),
    "import_3gg_co2": Assumption(
        0.0, "t/MWh", "Three Gorges-Guangdong carries Three Gorges hydro"),
    "import_nx_co2_row": Assumption(
        "MEE 2022 national grid average 0.5366 kgCO2/kWh", "-",
        "Ningxia-Hunan carries a coal + new-energy bundle: the national average factor is used"),
    "export_damping": Assumption(
        0.6, "-",
        "East-China exports follow the Jinsha inflow shape at 60 % of its seasonal amplitude"
        " (export_t = mean x (1 + 0.6 x (shape_t - 1))): contracted hydro deliveries are large in"
        " the wet season, but the hub reservoirs (Wudongde, Baihetan, Xiluodu: 19,460 hm3"
        " active) shift part of the wet-season water into the dry season. 60 % is the largest"
        " amplitude at which Xiangjiaba-Shanghai stays within its 6,400 MW rating"),
    "export_bhtzj_energy": Assumption(
        "Baihetan design energy - Baihetan-Jiangsu energy", "GWh/yr",
        "Baihetan's second outlet (Baihetan-Zhejiang) is not in the shared data; the part of"
        " Baihetan's design energy not sent to Jiangsu is assumed to leave on it"),
    "export_xldzj_share": Assumption(
        0.5, "share of Xiluodu design energy",
        "Xiluodu left bank = 9 of 18 units (hydro_stations.csv note) feeds Xiluodu-Zhejiang"),
    "export_xjbsh_share": Assumption(
        1.0, "share of Xiangjiaba design energy",
        "Xiangjiaba's whole output is sent on Xiangjiaba-Shanghai"),
    "export_jpsn_hours": Assumption(
        3750.0, "full-load hours",
        "Jinping-Sunan carries Jinping I/II power to Jiangsu (rating derived from the PIK edge"
        " file); its energy is not in the data, so the Baihetan-Jiangsu utilisation (30 TWh on"
        " 8,000 MW = 3,750 h) is used"),
    "export_per_outlet": Assumption(
        "one external bus and export load per outlet", "-",
        "each East-China outlet (Baihetan-Jiangsu, Jinping-Sunan, Baihetan-Zhejiang,"
        " Xiluodu-Zhejiang, Xiangjiaba-Shanghai) ends at its own external bus with its own export"
        " load; with two lossless outlets into one bus and one load, the split of the energy"
        " between them was arbitrary (a calibration year sent 38 TWh on Baihetan-Jiangsu against"
        " its published 30)"),
    "export_link_efficiency": Assumption(
        1.0, "-", "export loads are metered at the sending converter; losses beyond the region"
        " are outside the model"),
    # --- transmission
    "hvdc_converter_loss": Assumption(
        0.0156, "fraction (both stations)",
        "calibrated so that loss(1,959 km) = 4.5 %, the confirmed Dianxibei line-loss rate, with"
        " the line term below"),
    "hvdc_line_loss_per_1000km": Assumption(
        0.015, "fraction per 1,000 km", "typical +-800 kV line loss at rated power; applied to"
        " +-500 kV lines too (their higher per-km loss is ignored)"),
    "ac_x_ohm_per_km": Assumption(0.28, "ohm/km", "one 500 kV circuit (4-bundle conductor)"),
    "ac_mw_per_circuit": Assumption(
        1000.0, "MW", "a corridor of rating S is S/1000 parallel 500 kV circuits when computing"
        " its reactance (x = 0.28 x length / circuits)"),
    "route_factor": Assumption(
        1.2, "-", "route length = 1.2 x great-circle distance between bus coordinates where the"
        " data gives no length"),
    "line_ratings_mw": Assumption(
        {"GX-GZ": 4000.0, "YN-YN_hub": 8000.0, "SC-SC_hub": 6000.0, "HN-JX": 4000.0},
        "MW",
        "no data: GX-GZ closes the CSG AC loop with the GD-GZ and GD-GX corridors; YN-YN_hub ="
        " Kunbei converter rating so Yunnan can fill Kunliulong; SC-SC_hub lets Sichuan firm the"
        " East-China exports in the dry season; HN-JX represents the 500 kV ties plus the"
        " Nanchang-Changsha 1000 kV UHV AC line (in service Dec 2021, china.org.cn page)"),
    "gd_hk_rating_rule": Assumption(
        "35 % x HK published peak", "MW",
        "CLP-Guangdong MW rating is not in the data: sized so that the 2025 target import share"
        " (35 %) of the published HK peak can be imported at peak"),
    "power_factor": Assumption(1.0, "-", "MVA ratings used as MW (the Guangdong-Macao 700 MVA of"
                               " 2008, the rating before the third channel of 2022)"),
    "pik_edge_ratings": Assumption(
        "PyPSA-China-PIK edges_current.csv", "MW",
        "East-China outlets that are not rows of corridors.csv: Xiangjiaba-Shanghai = the"
        " Shanghai-Sichuan edge (6,400); Xiluodu-Zhejiang and Baihetan-Zhejiang = half the"
        " Sichuan-Zhejiang edge (16,000) each; Jinping-Sunan = Jiangsu-Sichuan (15,200) -"
        " Baihetan-Jiangsu (8,000). Model input read directly from the repository"),
    "minyue_link": Assumption(
        2000.0, "MW",
        "Fujian-Guangdong (Min-Yue) back-to-back DC, a pair of one-way links; not in the shared"
        " data. A 2021"
        " page (byqsc.net) says it raises SGCC-CSG exchange capability to 5 GW; 5,000 - 3,000"
        " (Three Gorges-Guangdong) = 2,000 MW"),
    "sc_hn_proxy": Assumption(
        "Chongqing-Sichuan aggregate", "-",
        "Sichuan's AC tie to the Central China grid (model-aggregate Chongqing-Sichuan 6,000 MW)"
        " is landed on Hunan, the nearest PPRD member of that synchronous area"),
    "hainan_ii_length": Assumption(
        "as interconnection I", "km", "no length in the data for interconnection II"),
    "tian_guang_sending_bus": Assumption(
        "GZ", "-", "Mabo converter is on the Guizhou/Guangxi border; placed on Guizhou"),
    "kunliulong_liubei_length": Assumption(
        "1,452 km x d(YN_hub,GX)/d(YN_hub,GD)", "km",
        "only the whole Kunbei-Longmen length is in the data"),
    # --- storage
    "pumped_hydro_hours": Assumption(6.0, "h", "typical Chinese pumped-storage design (5-7 h)"),
    # --- hydro
    "flow_ratio_per_stage_upstream": Assumption(
        0.85, "-",
        "a top-of-river station without a flow-based conversion factor gets 85 % of the mean flow"
        " of the next station downstream per modelled stage (catchment shrinks upstream)"),
    "min_local_inflow_share": Assumption(
        0.02, "-", "each modelled stage adds at least 2 % local inflow to the upstream total flow"),
    "q_env_share": Assumption(
        0.10, "of mean total flow",
        "environmental minimum release (10 % of mean flow, Tennant-type rule)"),
    "dry_year_factor": Assumption(
        0.80, "x normal", "dry year = normal inflow x 0.8 (context: Guizhou hydro -36.7 %,"
        " Yunnan -5.2 %, Sichuan -3.1 % in 2023, NBS)"),
    "wet_year_factor": Assumption(1.20, "x normal", "wet year = normal inflow x 1.2"),
    "other_hydro_storage_hours": Assumption(
        168.0, "h at p_max",
        "aggregate provincial hydro outside the modelled cascades: weekly regulation on average"
        " (most stations are daily/weekly; a few seasonal reservoirs such as Xiaowan, Nuozhadu and"
        " Longtan are not resolved)"),
    "other_hydro_mw_per_m3s": Assumption(
        1.0, "MW/(m3/s)", "aggregate hydro uses a notional energy-equivalent flow (1 m3/s = 1 MW)"),
    "other_hydro_flh": Assumption(
        3300.0, "h/yr", "full-load hours of aggregate hydro where no provincial generation row"
        " exists (GD, GX, HI, HN, JX, FJ)"),
    "hydro_includes_pumped_storage": Assumption(
        True, "-", "the 2020 provincial hydro estimates are taken to include pumped storage (CEC"
        " statistics count it as hydro), so pumped storage is subtracted"),
    "border_station_split": Assumption(
        0.5, "Sichuan share",
        "Jinsha stations on the Sichuan/Yunnan border are counted half in each province's hydro"
        " statistics (units are split by bank) when subtracting them from provincial totals"),
    "service_year": Assumption(
        {"Yangfanggou": 2021, "Shaping II": 2017}, "year",
        "in-service year not in the data (needed only to decide which stations the 2020 and 2023"
        " provincial totals include)"),
    "travel_time_h": Assumption(
        {"Shuangjiangkou": 36.0, "Tongjiezi": 6.0}, "h",
        "no distance in the data: ~200 km (Shuangjiangkou-Houziyan) and ~30 km (Tongjiezi-Anggu)"
        " river reaches at the dataset's 1.5 m/s; a travel time given to a station further down"
        " (Houziyan -> Dagangshan) is split evenly over the modelled reaches"),
    "station_energy_rule": Assumption(
        "design, else observed 2015", "-", "a station's mean annual energy is its design mean"
        " generation where given (long-run), else its observed 2015 generation"),
    "missing_active_storage": Assumption(
        0.0, "hm3", "a station without an active-storage figure is run-of-river (conservative;"
        " Houziyan and Changheba are 'seasonal' by an estimate row but have no active storage)"),
    "cf_fallback": Assumption(
        "median of the river", "-",
        "stations with no generation figure (Yangfanggou, Zhentouba I, Shaping II) get the median"
        " capacity factor of the stations of their river that have one"),
    "monthly_inflow_shape": Assumption(
        {
            "Jinsha": [0.36, 0.31, 0.30, 0.33, 0.47, 0.98, 1.90, 2.20, 2.15, 1.45, 0.78, 0.48],
            "Yalong": [0.32, 0.28, 0.29, 0.37, 0.62, 1.38, 2.05, 1.95, 2.05, 1.30, 0.63, 0.40],
            "Dadu": [0.37, 0.33, 0.37, 0.55, 1.00, 1.65, 1.95, 1.80, 1.65, 1.05, 0.62, 0.43],
            "southwest": [0.45, 0.40, 0.40, 0.48, 0.70, 1.20, 1.75, 1.85, 1.70, 1.25, 0.80, 0.55],
            "south": [0.45, 0.55, 0.80, 1.20, 1.60, 1.80, 1.45, 1.30, 1.00, 0.70, 0.55, 0.45],
        },
        "x annual mean, Jan..Dec",
        "monsoon hydrology: Jinsha/Yalong wet season June-October (Jul-Sep peak), Dadu earlier"
        " (snow-melt + monsoon, May-Oct); 'southwest' = other hydro of YN/SC/GZ, 'south' = rain-fed"
        " rivers of GD/GX/HI/FJ/JX/HN with the April-June pre-flood season. Shapes are typical,"
        " not from the shared data; normalised to an annual mean of 1"),
    # --- wind and solar
    "solar_cf": Assumption(
        {"GD": 0.13, "GX": 0.13, "YN": 0.16, "GZ": 0.12, "SC": 0.14, "HI": 0.15, "HN": 0.12,
         "JX": 0.12, "FJ": 0.13},
        "annual capacity factor",
        "no shared-data row; Yunnan plateau and Hainan sunniest, Guizhou/Hunan/Jiangxi cloudiest,"
        " Sichuan PV sits mostly on the western plateau"),
    "wind_cf": Assumption(
        {"GD": 0.25, "GX": 0.24, "YN": 0.28, "GZ": 0.22, "SC": 0.23, "HI": 0.22, "HN": 0.21,
         "JX": 0.21, "FJ": 0.28},
        "annual capacity factor",
        "no shared-data row; Yunnan dry-season winds and the Taiwan Strait (Fujian) highest,"
        " GD includes offshore"),
    "solar_climate": Assumption(
        {"south": [0.85, 0.75, 0.75, 0.80, 0.90, 0.95, 1.15, 1.15, 1.10, 1.10, 1.00, 0.95],
         "plateau": [1.15, 1.20, 1.20, 1.15, 1.05, 0.85, 0.80, 0.85, 0.85, 0.90, 1.05, 1.10],
         "cloudy": [0.65, 0.70, 0.85, 0.95, 1.00, 1.00, 1.20, 1.20, 1.05, 0.85, 0.80, 0.65]},
        "relative, Jan..Dec",
        "seasonal cloudiness factor: 'plateau' (YN, SC) dry sunny winter and cloudy monsoon;"
        " 'cloudy' (GZ) very cloudy winter; 'south' (others) rainy spring, sunny autumn"),
    "solar_daily_clearness_beta": Assumption(
        (3.0, 1.5), "Beta(a, b)", "seeded daily clearness index (mean 0.67), one draw per day"),
    "wind_climate": Assumption(
        {"inland": [1.15, 1.15, 1.15, 1.05, 0.95, 0.85, 0.85, 0.80, 0.90, 1.00, 1.10, 1.15],
         "coastal": [1.20, 1.10, 1.00, 0.90, 0.85, 0.85, 0.85, 0.80, 0.95, 1.15, 1.25, 1.25],
         "yunnan": [1.35, 1.45, 1.45, 1.25, 1.00, 0.75, 0.65, 0.60, 0.65, 0.80, 1.00, 1.20]},
        "relative wind speed, Jan..Dec",
        "coastal (GD, FJ, HI): NE-monsoon winter maximum; inland (GX, GZ, SC, HN, JX):"
        " winter-spring maximum; Yunnan: strong dry-season (Dec-May) winds"),
    "wind_diurnal": Assumption(
        {"inland": (0.10, 2.0), "coastal": (0.10, 15.0), "yunnan": (0.20, 16.0)},
        "(amplitude, peak hour)",
        "ridge-top inland farms peak at night, coastal sea breeze and Yunnan valley winds in the"
        " afternoon"),
    "wind_ar1": Assumption(
        (0.96, 0.45), "(phi per hour, sigma)",
        "synoptic variability: log wind speed gets a seeded AR(1) term (persistence ~1 day)"),
    "wind_cut_in": Assumption(
        0.3, "x mean speed", "below 30 % of the mean speed the turbines produce nothing (calm"
        " hours)"),
    "bus_coordinates": Assumption(
        "provincial capitals; hubs at the Wudongde and Xiluodu dams (pik_dams_large.csv)",
        "deg", "approximate load centres / converter sites"),
    "hk_single_bus": Assumption(
        True, "-", "CLP and HK Electric are one bus; the 720 MVA CLP-HEC interconnector is"
        " internal and not modelled"),
    "lamma_coal_units": Assumption(
        "250 + 3 x 350", "MW",
        "Lamma's coal units today: of the pre-L10 1 x 250 + 5 x 350 MW (confirmed composition),"
        " the only set whose station total (with the CCGTs 335 + 345 + 3 x 380 MW and the gas"
        " turbines 55 + 4 x 125 MW) Enerdata's 3.6 GW of 2023 describes: 1,300 MW of coal, 3,675"
        " MW in all (Enerdata cuts to 0.1 GW: Black Point's 3,250 MW of 2023 is its 3.2 GW)."
        " Two 350 MW units retired as L10-L12 came in; which two is not published"),
    "penny_bay_units": Assumption(
        "3 x 100", "MW", "Penny's Bay (300 MW, derived) as three 100 MW oil-fired gas turbines;"
        " the unit count is not in the data"),
    "coloane_a_diesels": Assumption(
        "2 x 24 + 2 x 38.6 + 2 x 53.1", "MW",
        "Coloane A's six diesels G03-G08 are published only as 24-53.1 MW; taken as pairs of the"
        " smallest, a middle size and the largest size, the middle size closing the station's"
        " 271.4 MW (confirmed) after the 2 x 20 MW steam units"),
}


ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in GAS_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in CORRIDOR_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in CALIBRATION_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in COMMITMENT_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in EXPANSION_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in OPERATIONS_ASSUMPTIONS.items()})
ASSUMPTIONS.update({key: Assumption(*spec) for key, spec in DONGJIANG_ASSUMPTIONS.items()})


def a(key: str) -> Any:
    """The value of a named assumption."""
    return ASSUMPTIONS[key].value


# ----------------------------------------------------------------------------------------------
# Shared data access with a ledger of every row used
# ----------------------------------------------------------------------------------------------
STATUS_RANK = {"confirmed": 0, "derived": 1, "secondary": 2, "estimate": 3}
ENTITY_COLUMNS = {
    "provinces": ["province"],
    "corridors": ["corridor"],
    "hk_macao": ["region", "entity"],
    "costs": ["category", "item", "region"],
    "hydro_stations": ["station"],
    "gas": ["asset"],
    "operations": ["region", "entity"],
    "dongjiang": ["entity"],
}


PROFILE_SOURCES = {
    "pik_dams_large.csv": ("github:pik-piam/PyPSA-China-PIK resources/data/hydro/dams_large.csv",
                           "2009-2015"),
    "provincial_hourly_load_2018_mw.csv": (
        "github:pik-piam/PyPSA-China-PIK resources/data/load/"
        "Hourly_demand_of_31_province_China_modified_V2.1.csv (docs/model.md: NDRC data for"
        " 2018, doi:10.5281/zenodo.8322210)", "2018"),
}


class Shared:
    """The shared long-format tables, plus a record of which rows the build used and for what."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tables = {
            stem: pd.read_csv(folder / f"{stem}.csv", dtype=str, keep_default_na=False)
            for stem in ENTITY_COLUMNS
        }
        self._used: dict[tuple[str, int], dict] = {}
        self.profile_rows: list[dict] = []

    def rows(self, file: str, **match: Any) -> pd.DataFrame:
        """All rows of `file` whose columns equal the given values (`year` compared as number)."""
        df = self.tables[file]
        mask = pd.Series(True, index=df.index)
        for col, want in match.items():
            if col == "year":
                mask &= pd.to_numeric(df["year"], errors="coerce") == float(want)
            else:
                mask &= df[col] == want
        return df[mask]

    def row(self, file: str, used_for: str, **match: Any) -> pd.Series:
        """The best-status row matching `match` (first in file order among equals), recorded."""
        hits = self.rows(file, **match)
        if hits.empty:
            raise KeyError(f"{file}.csv has no row with {match}")
        best = hits.index[int(np.argmin(hits["status"].map(STATUS_RANK).to_numpy()))]
        self.record(file, best, used_for)
        return self.tables[file].loc[best]

    def value(self, file: str, used_for: str, **match: Any) -> float:
        return float(self.row(file, used_for, **match)["value"])

    def record(self, file: str, index: int, used_for: str) -> None:
        entry = self._used.setdefault((file, int(index)), {"used_for": []})
        if used_for not in entry["used_for"]:
            entry["used_for"].append(used_for)

    def record_profile(self, file: str, entity: str, parameter: str, value: str, unit: str,
                       used_for: str, year: str | None = None) -> None:
        """Ledger entry for a value of a profiles/ file (the README gives source, no status)."""
        source, default_year = PROFILE_SOURCES[file]
        year = default_year if year is None else year
        self.profile_rows.append({
            "file": f"profiles/{file}", "entity": entity, "parameter": parameter,
            "value": value, "unit": unit, "year": year,
            "status": "model input (no status column; README: modelled / model input)",
            "source": source, "used_for": used_for})

    def record_direct(self, entity: str, parameter: str, value: str, unit: str, year: str,
                      source: str, status: str, used_for: str) -> None:
        """Ledger entry for a figure read directly from a public page (not in the shared
        data), with the status the page itself earns."""
        self.profile_rows.append({
            "file": "(read directly)", "entity": entity, "parameter": parameter,
            "value": value, "unit": unit, "year": year, "status": status, "source": source,
            "used_for": used_for})

    def ledger(self) -> pd.DataFrame:
        """Every row used, in file then row order, with its source and status verbatim."""
        out = []
        for (file, index), entry in sorted(self._used.items()):
            r = self.tables[file].loc[index]
            out.append({
                "file": f"{file}.csv",
                "entity": " / ".join(r[c] for c in ENTITY_COLUMNS[file] if r[c]),
                "parameter": r["parameter"],
                "value": r["value"],
                "unit": r["unit"],
                "year": r["year"],
                "status": r["status"],
                "source": r["source"],
                "used_for": "; ".join(entry["used_for"]),
            })
        return pd.DataFrame(out)


# ----------------------------------------------------------------------------------------------
# Small numeric helpers
# ----------------------------------------------------------------------------------------------
def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the base seed and the profile name (stable across runs)."""
    return np.random.default_rng([BASE_SEED, zlib.crc32(name.encode())])


def haversine_km(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dlat, dlon = p1 - p0, np.radians(lon1 - lon0)
    h = np.sin(dlat / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dlon / 2) ** 2
    return float(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def monthly_to_hourly(monthly: list[float]) -> np.ndarray:
    """A smooth hourly curve whose calendar-month means equal `monthly`, normalised to mean 1.

    A periodic cubic spline through mid-month knots is iterated (knot values rescaled by the
    ratio of target to achieved month means) until the month means match; this keeps the
    seasonal shape without steps at month boundaries.
    """
    target = np.asarray(monthly, float)
    month_hours = np.bincount(MONTH, minlength=12).astype(float)
    starts = np.r_[0.0, np.cumsum(month_hours)[:-1]]
    mids = starts + month_hours / 2
    knots_x = np.r_[mids, mids[0] + HOURS]
    t = np.arange(HOURS) + 0.5
    knots = target.copy()
    for _ in range(60):
        curve = CubicSpline(knots_x, np.r_[knots, knots[0]], bc_type="periodic")(t)
        achieved = np.bincount(MONTH, weights=curve, minlength=12) / month_hours
        knots *= target / achieved
    curve = np.maximum(CubicSpline(knots_x, np.r_[knots, knots[0]], bc_type="periodic")(t), 0.05)
    return curve / curve.mean()


def scale_to_cf(raw: np.ndarray, cf: float) -> np.ndarray:
    """c * raw clipped to [0, 1], with c found by bisection so that the mean equals `cf`."""
    lo, hi = 0.0, 1.0
    while np.clip(hi * raw, 0, 1).mean() < cf:
        hi *= 2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.clip(mid * raw, 0, 1).mean() < cf else (lo, mid)
    return np.clip((lo + hi) / 2 * raw, 0, 1)


def isotonic_growth(values: list[float], growth: float) -> list[float]:
    """Least-squares fit with v[i] >= (1 + growth) v[i-1] (pool-adjacent-violators on the
    values divided by (1 + growth)^i)."""
    factor = (1 + growth) ** np.arange(len(values))
    blocks: list[list[float]] = []  # [sum, count]
    for v in np.asarray(values, float) / factor:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted = np.concatenate([np.full(int(c), t / c) for t, c in blocks])
    return list(fitted * factor)


def first_year(text: str) -> int | None:
    m = re.search(r"(\d{4})", text or "")
    return int(m.group(1)) if m else None


# ----------------------------------------------------------------------------------------------
# Buses and carriers
# ----------------------------------------------------------------------------------------------
# name: (region, lon, lat, description). Region bus names follow the load-profile codes.
BUS_SPEC = {
    "GD": ("Guangdong", 113.26, 23.13, "Guangzhou"),
    "GX": ("Guangxi", 108.37, 22.82, "Nanning"),
    "YN": ("Yunnan", 102.83, 24.88, "Kunming"),
    "YN_hub": ("Yunnan", None, None, "Wudongde / Kunbei converter (Kunliulong sending end)"),
    "GZ": ("Guizhou", 106.63, 26.65, "Guiyang"),
    "SC": ("Sichuan", 104.07, 30.67, "Chengdu"),
    "SC_hub": ("Sichuan", None, None,
               "Baihetan / Xiluodu / Xiangjiaba switchyards and their DC converters"),
    "HI": ("Hainan", 110.35, 20.02, "Haikou"),
    "HN": ("Hunan", 112.94, 28.23, "Changsha"),
    "JX": ("Jiangxi", 115.86, 28.68, "Nanchang"),
    "FJ": ("Fujian", 119.30, 26.08, "Fuzhou"),
    "HK": ("Hong Kong", 114.17, 22.32, "Kowloon"),
    "MO": ("Macao", 113.54, 22.19, "Macao"),
    # outside PPRD: one bus per out-of-region interface
    "JS_ext": ("Jiangsu", 120.75, 31.65, "Changshu converter (Baihetan-Jiangsu)"),
    "ZJ_ext": ("Zhejiang", 119.65, 29.08, "Jinhua converter (Xiluodu-Zhejiang)"),
    # one external bus per East-China outlet, so each carries its own export schedule
    "JSN_ext": ("Jiangsu", 120.62, 31.30, "Sunan converter, Suzhou (Jinping-Sunan)"),
    "ZJB_ext": ("Zhejiang", 120.16, 30.27, "Zhejiang converter of Baihetan-Zhejiang (Hangzhou)"),
    "SH_ext": ("Shanghai", 121.47, 31.23, "Shanghai"),
    "HB_ext": ("Hubei", 112.24, 30.33, "Jingzhou converter (Three Gorges-Guangdong)"),
    "NX_ext": ("Ningxia", 106.23, 38.49, "Yinchuan"),
    "GS_ext": ("Gansu", 103.83, 36.06, "Lanzhou"),
}
HUB_DAMS = {"YN_hub": "Wudongde", "SC_hub": "Xiluodu"}

CARRIERS = [
    # name, renewable, fossil, colour, nice name
    ("coal", False, True, "#4d4d4d", "Coal"),
    ("gas", False, True, "#e07b39", "Natural gas"),
    ("oil", False, True, "#8c564b", "Oil"),
    ("nuclear", False, False, "#9b59b6", "Nuclear"),
    ("hydro", True, False, "#1f78b4", "Hydro"),
    ("wind", True, False, "#2ca02c", "Wind"),
    ("solar", True, False, "#f1c40f", "Solar PV"),
    ("pumped_hydro", False, False, "#17becf", "Pumped hydro storage"),
    ("battery", False, False, "#e377c2", "Battery storage"),
    ("import", False, False, "#7f7f7f", "Import from outside PPRD"),
]


def build_buses(shared: Shared, dams: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name, (region, lon, lat, _) in BUS_SPEC.items():
        if name in HUB_DAMS:
            dam = dams.loc[HUB_DAMS[name]]
            lon, lat = round(float(dam["Lon"]), 2), round(float(dam["Lat"]), 2)
            shared.record_profile("pik_dams_large.csv", HUB_DAMS[name], "Lon, Lat",
                                  f"{dam['Lon']}, {dam['Lat']}", "deg", f"{name} coordinates",
                                  year="")
        rows.append({"name": name, "region": region, "carrier": "AC", "v_nom_kv": 500.0,
                     "x_lon": lon, "y_lat": lat})
    return pd.DataFrame(rows)


def build_carriers() -> pd.DataFrame:
    return pd.DataFrame(CARRIERS, columns=COLUMNS["carriers"])


# ----------------------------------------------------------------------------------------------
# Demand
# ----------------------------------------------------------------------------------------------
def build_loads(shared: Shared, profiles: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Provincial loads: the 2018 hourly shape (by position) scaled to 2024 consumption.

    Hong Kong and Macao have no hourly profile: they take Guangdong's shape, the nearest and
    climatically most similar system. The 2018 calendar (Monday start, Spring Festival on
    16 Feb) is laid onto 2025 hour by hour, so weekdays and the holiday are not re-aligned.
    """
    hourly = pd.read_csv(profiles / "provincial_hourly_load_2018_mw.csv")
    assert len(hourly) == HOURS
    energy_gwh: dict[str, float] = {}
    series: dict[str, np.ndarray] = {}
    for code, prov in PROVINCES.items():
        e = shared.value("provinces", f"{code} annual demand", province=prov,
                         parameter="electricity_consumption", year=2024)
        shape = hourly[code].to_numpy(float)
        series[code] = shape / shape.sum() * e * 1e3
        shared.record_profile("provincial_hourly_load_2018_mw.csv", code, "hourly load",
                              "8,760 values", "MW", f"{code} load shape"
                              + ("; HK and MO load shape" if code == "GD" else ""))
        energy_gwh[code] = e
    gd_shape = hourly["GD"].to_numpy(float) / hourly["GD"].sum()
    energy_gwh["HK"] = shared.value("hk_macao", "HK annual demand", region="Hong Kong",
                                    entity="HK total", parameter="electricity_consumption",
                                    year=2021)
    energy_gwh["MO"] = shared.value("hk_macao", "Macao annual demand", region="Macao",
                                    entity="Macao total", parameter="gross_energy_consumption",
                                    year=2023)
    for code in ("HK", "MO"):
        series[code] = gd_shape * energy_gwh[code] * 1e3
    loads = pd.DataFrame([{"name": f"{c} load", "bus": c, "profile": f"{c} load", "scale": 1.0}
                          for c in series])
    ts = pd.DataFrame({f"{c} load": v for c, v in series.items()})
    return loads, ts


def published_peaks(shared: Shared) -> dict[str, tuple[float, str]]:
    """Published peak loads to compare with the modelled ones (value, label)."""
    out = {
        "GD": (shared.value("provinces", "peak comparison", province="Guangdong",
                            parameter="peak_load_record", year=2022), "2022 record (confirmed)"),
        "GX": (shared.value("provinces", "peak comparison", province="Guangxi",
                            parameter="peak_load_record_winter", year=2021),
               "winter 2020/21 record (confirmed)"),
        "YN": (shared.value("provinces", "peak comparison", province="Yunnan",
                            parameter="peak_load_record_winter", year=2021),
               "winter 2020/21 record (confirmed)"),
        "GZ": (shared.value("provinces", "peak comparison", province="Guizhou",
                            parameter="peak_load_record_winter", year=2021),
               "winter 2020/21 record (confirmed)"),
        "HK": (shared.value("hk_macao", "peak comparison", region="Hong Kong", entity="HK total",
                            parameter="peak_demand", year=2021), "2021 (secondary)"),
        "MO": (shared.value("hk_macao", "peak comparison", region="Macao", entity="Macao total",
                            parameter="peak_demand", year=2023), "2023 (confirmed)"),
    }
    return out


def record_cross_checks(shared: Shared) -> None:
    """Rows quoted in SOURCES.md as cross-checks or context (not written into the tables)."""
    use = "cross-check quoted in SOURCES.md"
    shared.row("provinces", use, province="Guangdong", parameter="peak_load", year=2025)
    for prov in ("Guangdong", "Guangxi", "Yunnan", "Guizhou", "Hainan"):
        shared.row("provinces", use, province=prov, parameter="wind_plus_solar_capacity",
                   year=2023)
    for prov in ("Guangxi", "Yunnan", "Guizhou"):
        shared.row("provinces", use, province=prov, parameter="electricity_consumption",
                   year=2020)
    shared.row("provinces", use, province="Yunnan", parameter="hydro_generation", year=2023)
    shared.row("hk_macao", use, region="Hong Kong", entity="Daya Bay NPS (Guangdong)",
               parameter="share_of_output_to_HK_from_2014")
    shared.row("costs", use, item="CCGT (model fuel price)", parameter="fuel_cost_per_MWh_e")
    for parameter in ("price_range_low", "price_range_high"):
        shared.row("costs", use, item="gas-fired on-grid tariff, Guangdong", parameter=parameter)
    shared.row("corridors", use, corridor="model aggregate Guangdong-Guangxi",
               parameter="aggregate_transfer_capacity")
    shared.row("corridors", use, corridor="model aggregate Guangdong-Yunnan",
               parameter="aggregate_transfer_capacity")
    shared.row("corridors", use, corridor="Ningxia-Hunan UHVDC", parameter="commissioning_partial")
    shared.row("corridors", use, corridor="CLP-Guangdong interconnection",
               parameter="rated_capacity")


# ----------------------------------------------------------------------------------------------
# Wind and solar availability
# ----------------------------------------------------------------------------------------------
SOLAR_CLIMATE = {"YN": "plateau", "SC": "plateau", "GZ": "cloudy"}  # others: south
WIND_CLIMATE = {"GD": "coastal", "FJ": "coastal", "HI": "coastal", "YN": "yunnan"}  # others inland


def smooth_monthly(factors: list[float]) -> np.ndarray:
    """Periodic linear interpolation of 12 mid-month factors to hours (no mean correction)."""
    month_hours = np.bincount(MONTH, minlength=12).astype(float)
    mids = np.r_[0.0, np.cumsum(month_hours)[:-1]] + month_hours / 2
    return np.interp(np.arange(HOURS) + 0.5, mids, np.asarray(factors, float), period=HOURS)


def solar_profile(name: str, lon: float, lat: float, climate: str, cf: float) -> np.ndarray:
    """Clear-sky daylight curve x seasonal factor x seeded daily clearness, scaled to `cf`.

    Solar time = clock time (UTC+8) + (lon - 120)/15 h + equation of time; the zenith angle
    follows from latitude, declination and hour angle, so sunrise and sunset move with the
    season and latitude. Evaluated at mid-hour.
    """
    n = DAY + 1.0
    clock = np.arange(HOURS) % 24 + 0.5
    b = 2 * np.pi * (n - 81) / 364
    eot_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    solar_time = clock + (lon - 120.0) / 15.0 + eot_min / 60.0
    omega = np.radians(15.0 * (solar_time - 12.0))
    decl = np.radians(23.45) * np.sin(2 * np.pi * (284 + n) / 365)
    phi = np.radians(lat)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(omega)
    # air-mass attenuation: low sun gives less than cos(zenith)
    clear = np.clip(cosz, 0, None) ** 1.15
    seasonal = smooth_monthly(a("solar_climate")[climate])
    alpha, beta = a("solar_daily_clearness_beta")
    clearness = rng_for(name).beta(alpha, beta, size=365)[DAY]
    return scale_to_cf(clear * seasonal * clearness, cf)


def wind_profile(name: str, climate: str, cf: float) -> np.ndarray:
    """Seasonal x diurnal x exp(seeded AR(1)) speed proxy (mean ~1); power ~ (speed - cut-in)^2,
    scaled and clipped to [0, 1] so that the annual mean equals `cf`."""
    seasonal = smooth_monthly(a("wind_climate")[climate])
    amp, peak = a("wind_diurnal")[climate]
    hour = np.arange(HOURS) % 24 + 0.5
    diurnal = 1 + amp * np.cos(2 * np.pi * (hour - peak) / 24)
    phi, sigma = a("wind_ar1")
    eps = rng_for(name).standard_normal(HOURS)
    z = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], eps)
    speed = seasonal * diurnal * np.exp(sigma * z - sigma**2 / 2)
    cut_in = a("wind_cut_in")
    return scale_to_cf(np.clip(speed - cut_in, 0, None) ** 2, cf)


def build_availability(buses: pd.DataFrame) -> pd.DataFrame:
    coords = buses.set_index("name")
    cols = {}
    for code in PROVINCES:
        lon, lat = coords.at[code, "x_lon"], coords.at[code, "y_lat"]
        cols[f"{code} wind"] = wind_profile(f"{code} wind", WIND_CLIMATE.get(code, "inland"),
                                            a("wind_cf")[code])
        cols[f"{code} solar"] = solar_profile(f"{code} solar", lon, lat,
                                              SOLAR_CLIMATE.get(code, "south"), a("solar_cf")[code])
    return pd.DataFrame(cols)


# ----------------------------------------------------------------------------------------------
# Costs
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Costs:
    coal: float
    gas: float
    nuclear: float
    oil: float
    imports: float
    co2_coal: float
    co2_gas: float
    co2_oil: float
    co2_national: float


def build_costs(shared: Shared) -> Costs:
    lo = shared.value("costs", "coal marginal cost", item="coal generation (5,500 kcal coal at"
                      " 570 CNY/t)", parameter="fuel_cost_per_MWh_e")
    hi = shared.value("costs", "coal marginal cost", item="coal generation (5,500 kcal coal at"
                      " 770 CNY/t)", parameter="fuel_cost_per_MWh_e")
    gas = shared.value("costs", "gas marginal cost", item="CCGT on trucked LNG at 4,167 CNY/t",
                       parameter="fuel_cost_per_MWh_e")
    benchmark = shared.value("costs", "import price", item="coal-fired benchmark on-grid price"
                             " (national average)", parameter="price")
    vom = a("vom_cny_per_mwh")
    return Costs(
        coal=(lo + hi) / 2 + vom["coal"],
        gas=gas + vom["gas"],
        nuclear=a("nuclear_cost_cny_per_mwh"),
        oil=a("oil_cost_cny_per_mwh"),
        imports=benchmark * 1000.0,
        co2_coal=shared.value("costs", "coal CO2 factor", item="coal power plant",
                              parameter="CO2_intensity"),
        co2_gas=shared.value("costs", "gas CO2 factor", item="CCGT", parameter="CO2_intensity"),
        co2_oil=a("oil_co2_t_per_mwh"),
        co2_national=shared.value("costs", "Ningxia import CO2 factor",
                                  item="national grid average emission factor",
                                  parameter="emission_factor"),
    )


# ----------------------------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------------------------
def _gen(name: str, bus: str, carrier: str, p_max: float, costs: Costs, *,
         profile: str | None = None) -> dict:
    """A generator row with the carrier's cost, CO2, must-run and ramp rules."""
    cost = {"coal": costs.coal, "gas": costs.gas, "nuclear": costs.nuclear, "oil": costs.oil}
    co2 = {"coal": costs.co2_coal, "gas": costs.co2_gas, "oil": costs.co2_oil}
    p_min = {"nuclear": a("nuclear_p_min_pu"), "coal": a("coal_p_min_pu")}.get(carrier, 0.0)
    ramp = a("coal_ramp_pu_per_h") * p_max if carrier == "coal" else None
    return {"name": name, "bus": bus, "carrier": carrier, "p_max_mw": p_max,
            "p_min_mw": round(p_min * p_max, 3),
            "marginal_cost_cny_per_mwh": cost.get(carrier, 0.0),
            "ramp_up_mw_per_h": ramp, "ramp_down_mw_per_h": ramp,
            "co2_t_per_mwh": co2.get(carrier, 0.0), "availability_profile": profile}


# Hong Kong and Macao generating units, one generator row each: station -> (bus, entity of its
# capacity row in hk_macao.csv, units as (name, carrier, technology, MW)). Unit sizes are those
# of the note of the station's row (or of the rows of single units), or of an assumption where
# the note gives none (`penny_bay_units`, `lamma_coal_units`, `coloane_a_diesels`);
# `hk_macao_units` checks that they add up to the station's published capacity.
HK_MACAO_UNITS: dict[str, tuple[str, str | None, list[tuple[str, str, str, float]]]] = {
    # "1 x 350 MW (A) + 4 x 677 MW (B)" (CLP, confirmed)
    "Castle Peak": ("HK", "Castle Peak PS (CAPCO; coal, gas/oil backup)", [
        ("Castle Peak A", "coal", "coal steam", 350.0),
        *[(f"Castle Peak B{i}", "coal", "coal steam", 677.0) for i in range(1, 5)]]),
    # "8 x 337.5 MW + 1 x 550 MW (2020) + 1 x 600 MW (2024)" (CLP, confirmed); D1 its own row
    "Black Point": ("HK", "Black Point PS (CAPCO; gas CCGT)", [
        *[(f"Black Point {i}", "gas", "CCGT", 337.5) for i in range(1, 9)],
        ("Black Point D1", "gas", "CCGT", 550.0), ("Black Point D2", "gas", "CCGT", 600.0)]),
    # 300 MW derived; three 100 MW oil-fired gas turbines (assumption `penny_bay_units`)
    "Penny's Bay": ("HK", "Penny's Bay PS (CAPCO; oil GT peaking)", [
        (f"Penny's Bay {i}", "oil", "gas turbine", 100.0) for i in range(1, 4)]),
    # Lamma (HK Electric): no row gives today's split; its parts come from the note of the
    # pre-L10 row ("1x250 + 5x350 coal, 1x55 + 4x125 GT, 335 + 345 MW CCGT") and the rows of
    # L10-L12 (380 MW each); the coal units kept: assumption `lamma_coal_units`
    "Lamma": ("HK", None, [
        ("Lamma coal 1", "coal", "coal steam", 250.0),
        *[(f"Lamma coal {i}", "coal", "coal steam", 350.0) for i in range(2, 5)],
        ("Lamma CCGT 1", "gas", "CCGT", 335.0), ("Lamma CCGT 2", "gas", "CCGT", 345.0),
        *[(f"Lamma L{u}", "gas", "CCGT", 380.0) for u in (10, 11, 12)],
        ("Lamma GT1", "oil", "gas turbine", 55.0),
        *[(f"Lamma GT{i}", "oil", "gas turbine", 125.0) for i in range(2, 6)]]),
    # "G01-G02 steam 2x20 MW (1978), G03-G08 diesel 24-53.1 MW (1987-1996)" (CEM, confirmed);
    # the diesels' sizes between 24 and 53.1 MW: assumption `coloane_a_diesels`
    "Coloane A": ("MO", "Coloane A PS (CCA; HFO/diesel low-speed + steam)", [
        ("Coloane A G01", "oil", "oil steam", 20.0), ("Coloane A G02", "oil", "oil steam", 20.0),
        ("Coloane A G03", "oil", "diesel", 24.0), ("Coloane A G04", "oil", "diesel", 24.0),
        ("Coloane A G05", "oil", "diesel", 38.6), ("Coloane A G06", "oil", "diesel", 38.6),
        ("Coloane A G07", "oil", "diesel", 53.1), ("Coloane A G08", "oil", "diesel", 53.1)]),
    # "GT1/GT2 45.1 MW each (2002-03) + ST1 46.2 MW (2003)" (CEM, confirmed)
    "Coloane B": ("MO", "Coloane B PS (CCB; gas CCGT)", [
        ("Coloane B GT1", "gas", "CCGT", 45.1), ("Coloane B GT2", "gas", "CCGT", 45.1),
        ("Coloane B ST1", "gas", "CCGT", 46.2)]),
}
# technology of a provincial fleet (a cluster of identical units in a uc case)
FLEET_TECHNOLOGY = {"coal": "coal steam", "gas": "CCGT"}


def hk_macao_units(shared: Shared, costs: Costs) -> list[dict]:
    """Hong Kong's and Macao's units as generator rows, checked against station capacities.

    A station with a capacity row must add up to it (to 0.1 MW); Lamma, whose only recent total
    is Enerdata's "3.6 GW" (2023), must fall in 3,600-3,699 MW: Enerdata gives Black Point 3.2
    GW where its units made 3,250 MW before the 600 MW unit of 2024, so its figures are cut to
    0.1 GW, not rounded.
    """
    rows = []
    for station, (bus, entity, units) in HK_MACAO_UNITS.items():
        total = sum(mw for *_, mw in units)
        if entity is not None:
            region = "Hong Kong" if bus == "HK" else "Macao"
            published = shared.value("hk_macao", f"{station}: its units add up to it",
                                     region=region, entity=entity,
                                     parameter="installed_capacity")
            if abs(total - published) > 0.05:
                raise ValueError(f"{station}: units add up to {total} MW, not {published}")
        # a unit of its own may be off: no must-run floor (its stable minimum applies once it
        # is committed, in a uc case); assumption `hk_macao_unit_p_min`
        rows += [{**_gen(name, bus, carrier, mw, costs), "technology": tech,
                  "station": station, "p_min_mw": 0.0} for name, carrier, tech, mw in units]
    # Lamma: the pre-L10 composition, L10-L12 and the reported 2023 total
    shared.value("hk_macao", "Lamma units (pre-L10 composition in note)", region="Hong Kong",
                 entity="Lamma PS (HK Electric)", parameter="installed_capacity")
    sizes = {name: mw for _bus, _entity, units in HK_MACAO_UNITS.values()
             for name, *_, mw in units}
    own_rows = {"Black Point D1": "Black Point PS new unit D1",
                **{f"Lamma L{u}": f"Lamma PS unit L{u} (gas CCGT)" for u in (10, 11, 12)}}
    for name, entity in own_rows.items():
        mw = shared.value("hk_macao", f"{name} unit", region="Hong Kong", entity=entity,
                          parameter="installed_capacity")
        if mw != sizes[name]:
            raise ValueError(f"{name}: {sizes[name]} MW, the data says {mw}")
    reported = shared.value("hk_macao", "Lamma total (check of the units kept)",
                            region="Hong Kong", entity="Lamma PS",
                            parameter="installed_capacity_reported")
    lamma = sum(mw for *_, mw in HK_MACAO_UNITS["Lamma"][2])
    if not reported <= lamma < reported + 100.0:
        raise ValueError(f"Lamma's units add up to {lamma} MW, not Enerdata's {reported:g} MW"
                         " cut to 0.1 GW")
    return rows


def build_generators(shared: Shared, costs: Costs) -> pd.DataFrame:
    """Aggregated provincial fleets, Hong Kong's and Macao's units and the import generators.

    Capacity years: coal and nuclear 2020 (CEC via repo), gas 2020, wind 2020 (confirmed),
    solar 2025 (secondary, most recent); Guangdong coal and gas 2023 (the most recent rows).
    Daya Bay is taken out of Guangdong's nuclear total and modelled on its own because 80 % of
    its output is contracted to Hong Kong.
    """
    rows = []
    for code, prov in PROVINCES.items():
        year = 2023 if code == "GD" else 2020
        coal = shared.value("provinces", f"{code} coal", province=prov,
                            parameter="coal_capacity", year=year)
        gas = shared.value("provinces", f"{code} gas", province=prov,
                           parameter="gas_capacity", year=year)
        nuclear = shared.value("provinces", f"{code} nuclear", province=prov,
                               parameter="nuclear_capacity", year=2020)
        wind = shared.value("provinces", f"{code} wind", province=prov,
                            parameter="wind_capacity", year=2020)
        solar = shared.value("provinces", f"{code} solar", province=prov,
                             parameter="solar_capacity", year=2025)
        if code == "GD":
            daya = shared.value("hk_macao", "Daya Bay generator; GD nuclear net of Daya Bay",
                                region="Hong Kong", entity="Daya Bay NPS (Guangdong)",
                                parameter="net_capacity")
            nuclear -= daya
            rows.append(_gen("Daya Bay", "GD", "nuclear", daya, costs))
        for carrier, cap in (("coal", coal), ("gas", gas), ("nuclear", nuclear)):
            if cap > 0:
                rows.append({**_gen(f"{code} {carrier}", code, carrier, cap, costs),
                             "technology": FLEET_TECHNOLOGY.get(carrier), "fleet": True})
        rows.append(_gen(f"{code} wind", code, "wind", wind, costs, profile=f"{code} wind"))
        rows.append(_gen(f"{code} solar", code, "solar", solar, costs, profile=f"{code} solar"))

    rows += hk_macao_units(shared, costs)

    # imports: priced generators on the external buses, capped at the corridor rating
    r3gg = shared.value("corridors", "Three Gorges import", corridor="Three Gorges-Guangdong"
                        " (3GG) HVDC", parameter="rated_capacity")
    rnx = shared.value("corridors", "Ningxia import", corridor="Ningxia-Hunan UHVDC",
                       parameter="rated_capacity")
    enx = shared.value("corridors", "Ningxia import must-take", corridor="Ningxia-Hunan UHVDC",
                       parameter="annual_energy")
    rows.append({**_gen("Three Gorges import", "HB_ext", "import", r3gg, costs),
                 "p_min_mw": a("import_3gg_p_min_pu") * r3gg,
                 "marginal_cost_cny_per_mwh": costs.imports,
                 "co2_t_per_mwh": a("import_3gg_co2")})
    rows.append({**_gen("Ningxia import", "NX_ext", "import", rnx, costs),
                 # the contracted annual energy as a flat must-take baseline
                 "p_min_mw": round(enx * 1e6 / H_PER_YEAR, 3),
                 "marginal_cost_cny_per_mwh": costs.imports,
                 "co2_t_per_mwh": costs.co2_national})
    hb = sum(shared.value("corridors", "Central China import", corridor=f"model aggregate {pair}",
                          parameter="aggregate_transfer_capacity")
             for pair in ("Hubei-Hunan", "Hubei-Jiangxi"))
    rows.append({**_gen("Central China import", "HB_ext", "import", hb, costs),
                 "marginal_cost_cny_per_mwh": costs.imports,
                 "co2_t_per_mwh": costs.co2_national})
    rgs = shared.value("corridors", "Gansu import", corridor="model aggregate Gansu-Hunan",
                       parameter="aggregate_transfer_capacity")
    rows.append({**_gen("Gansu import", "GS_ext", "import", rgs, costs),
                 "marginal_cost_cny_per_mwh": costs.imports,
                 "co2_t_per_mwh": costs.co2_national})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Hydro
# ----------------------------------------------------------------------------------------------
# Modelled cascade stations in topological order (every upstream station before its downstream
# one): name, river, bus, Sichuan share of the station in provincial statistics, downstream.
# Bus choice: middle-Jinsha stations feed the Yunnan grid (and the Jinzhong / Yunnan DCs);
# Wudongde feeds Kunliulong at Kunbei (YN_hub); Baihetan, Xiluodu and Xiangjiaba feed their
# dedicated DC outlets (SC_hub: East China and Xiluodu right bank -> Guangdong); the Yalong and
# Dadu stations feed the Sichuan grid (and the Yazhong converter).
CASCADE = [
    ("Liyuan", "Jinsha", "YN", 0.0, "Ahai"),
    ("Ahai", "Jinsha", "YN", 0.0, "Jinanqiao"),
    ("Jinanqiao", "Jinsha", "YN", 0.0, "Longkaikou"),
    ("Longkaikou", "Jinsha", "YN", 0.0, "Ludila"),
    ("Ludila", "Jinsha", "YN", 0.0, "Guanyinyan"),
    ("Guanyinyan", "Jinsha", "YN", 0.5, "Wudongde"),
    ("Lianghekou", "Yalong", "SC", 1.0, "Yangfanggou"),
    ("Yangfanggou", "Yalong", "SC", 1.0, "Jinping I"),
    ("Jinping I", "Yalong", "SC", 1.0, "Jinping II"),
    ("Jinping II", "Yalong", "SC", 1.0, "Guandi"),
    ("Guandi", "Yalong", "SC", 1.0, "Ertan"),
    ("Ertan", "Yalong", "SC", 1.0, "Tongzilin"),
    # the Yalong joins the Jinsha 15 km below Tongzilin, above Wudongde
    ("Tongzilin", "Yalong", "SC", 1.0, "Wudongde"),
    ("Wudongde", "Jinsha", "YN_hub", 0.5, "Baihetan"),
    ("Baihetan", "Jinsha", "SC_hub", 0.5, "Xiluodu"),
    ("Xiluodu", "Jinsha", "SC_hub", 0.5, "Xiangjiaba"),
    ("Xiangjiaba", "Jinsha", "SC_hub", 0.5, None),
    ("Shuangjiangkou", "Dadu", "SC", 1.0, "Houziyan"),
    ("Houziyan", "Dadu", "SC", 1.0, "Changheba"),
    ("Changheba", "Dadu", "SC", 1.0, "Luding"),
    ("Luding", "Dadu", "SC", 1.0, "Dagangshan"),
    ("Dagangshan", "Dadu", "SC", 1.0, "Pubugou"),
    ("Pubugou", "Dadu", "SC", 1.0, "Shenxigou"),
    ("Shenxigou", "Dadu", "SC", 1.0, "Zhentouba I"),
    ("Zhentouba I", "Dadu", "SC", 1.0, "Shaping II"),
    ("Shaping II", "Dadu", "SC", 1.0, "Gongzui"),
    ("Gongzui", "Dadu", "SC", 1.0, "Tongjiezi"),
    ("Tongjiezi", "Dadu", "SC", 1.0, "Anggu"),
    ("Anggu", "Dadu", "SC", 1.0, None),
]
PIK_NAMES = {"Jinping1": "Jinping I", "Jinping2": "Jinping II"}


def _station_value(shared: Shared, station: str, parameter: str, used: str) -> float | None:
    if shared.rows("hydro_stations", station=station, parameter=parameter).empty:
        return None
    return shared.value("hydro_stations", used, station=station, parameter=parameter)


def _service_year(shared: Shared, station: str) -> int:
    """Year from which the station counts in provincial statistics."""
    for parameter in ("commissioning_full", "commissioning_first_units"):
        hits = shared.rows("hydro_stations", station=station, parameter=parameter)
        if not hits.empty:
            row = shared.row("hydro_stations", "in-service year (provincial subtraction)",
                             station=station, parameter=parameter)
            year = first_year(row["value"])
            if year is not None:
                return year
    if not shared.rows("hydro_stations", station=station,
                       parameter="annual_generation_observed").empty:
        return 2015  # observed generation in 2015 => in service by then
    cap_year = first_year(shared.row("hydro_stations", "in-service year (provincial subtraction)",
                                     station=station, parameter="installed_capacity")["year"])
    return cap_year if cap_year is not None else int(a("service_year")[station])


def build_station_table(shared: Shared, dams: pd.DataFrame) -> pd.DataFrame:
    """Station parameters from the data, the mean total flows and the conversion factors.

    The data has neither design heads nor turbine flows, so every station's mw_per_m3s is
    k = E / (8760 h x Q): its mean annual energy E (design, else observed 2015, else the river's
    median capacity factor) over its mean total flow Q, so that E is produced at mean inflow.
    Q is first estimated, in order of preference, from
      1. the observed water-consumption factor f (m3/kWh) of pik_dams_large.csv
         (generation / turbined flow, 2009-2015 average): Q = E f / 3.6 / 8760;
      2. the gross head H = normal pool level minus that of the next stage, where the data names
         the modelled neighbour as the next stage: Q = E / (8760 rho g H eta / 1e6), eta = 0.9
         (costs.csv), rejected if below the inflow from upstream;
      3. the cascade: a top station 0.85^n x the rule-1 flow n stages below; a station between
         two known flows geometric interpolation; otherwise upstream total x (1 + 2 %).
    The estimates are then reconciled so that flow grows by at least 2 % per stage
    (least-squares isotonic fit per river segment, then confluences).
    """
    df = pd.DataFrame(CASCADE, columns=["name", "river", "bus", "sc_share", "downstream"])
    df = df.set_index("name", drop=False)
    eta = shared.value("costs", "hydro head rule (eta)", item="hydro turbine",
                       parameter="efficiency")
    p_max, energy, energy_kind, active, npl, tt, year = {}, {}, {}, {}, {}, {}, {}
    for s in df.index:
        p_max[s] = _station_value(shared, s, "installed_capacity", "p_max_mw")
        design = _station_value(shared, s, "mean_annual_generation_design", "mean annual energy")
        observed = None
        if design is None:
            observed = _station_value(shared, s, "annual_generation_observed",
                                      "mean annual energy")
        energy[s] = design if design is not None else observed
        energy_kind[s] = ("design" if design is not None
                          else "observed 2015" if observed is not None else "fallback CF")
        act = _station_value(shared, s, "active_storage", "storage_max_hm3")
        active[s] = act if act is not None else a("missing_active_storage")
        hits = shared.rows("hydro_stations", station=s, parameter="normal_pool_level")
        npl[s] = float(hits["value"].iloc[0]) if len(hits) else None  # recorded only if used
        year[s] = _service_year(shared, s)
    df["p_max_mw"] = pd.Series(p_max)
    df["energy_gwh"] = pd.Series(energy, dtype=float)
    df["energy_kind"] = pd.Series(energy_kind)
    df["storage_max_hm3"] = pd.Series(active)
    df["npl_m"] = pd.Series(npl, dtype=float)
    df["service_year"] = pd.Series(year)

    # energy fallback: median capacity factor of the river
    cf = df["energy_gwh"] * 1e3 / (df["p_max_mw"] * H_PER_YEAR)
    river_cf = cf.groupby(df["river"]).median()
    missing = df["energy_gwh"].isna()
    df.loc[missing, "energy_gwh"] = (df.loc[missing, "p_max_mw"] * H_PER_YEAR / 1e3
                                     * df.loc[missing, "river"].map(river_cf))

    # travel times: a data row names its target; spread evenly if the target is further down
    chain = {s: d for s, d in df["downstream"].items() if isinstance(d, str)}
    for s in df.index:
        hits = shared.rows("hydro_stations", station=s, parameter="travel_time_to_downstream")
        if hits.empty:
            continue
        row = shared.row("hydro_stations", "travel_time_h", station=s,
                         parameter="travel_time_to_downstream")
        target, path = row["downstream_station"], [s]
        while chain.get(path[-1]) and path[-1] != target:
            path.append(chain[path[-1]])
        if path[-1] == target and len(path) > 1:
            for u in path[:-1]:
                tt[u] = float(row["value"]) / (len(path) - 1)
    for s, hours in a("travel_time_h").items():
        tt.setdefault(s, hours)
    df["travel_time_h"] = pd.Series(tt, dtype=float)
    df.loc[df["downstream"].isna(), "travel_time_h"] = 0.0

    # conversion factors
    factor = dams["Water_consumption_factor_avg"].astype(float).rename(index=PIK_NAMES)
    k_pik = (3.6 / factor).reindex(df.index)
    for s in k_pik.dropna().index:
        shared.record_profile("pik_dams_large.csv", s, "Water_consumption_factor_avg",
                              f"{factor[s]:g}", "m3/kWh", "first flow estimate (rule 1)")
    ups = {s: list(df.index[df["downstream"] == s]) for s in df.index}
    q_own = df["energy_gwh"] * 1e3 / (H_PER_YEAR * k_pik)

    def first_known_below(s: str) -> tuple[str | None, int]:
        """The first rule-1 station below `s` on the same branch (no confluence), and steps."""
        n, cur = 0, s
        while chain.get(cur):
            cur, n = chain[cur], n + 1
            if len(ups[cur]) > 1:
                return None, 0
            if not np.isnan(k_pik[cur]):
                return cur, n
        return None, 0

    delta, ratio = a("min_local_inflow_share"), a("flow_ratio_per_stage_upstream")
    q_first: dict[str, float] = {}
    basis: dict[str, str] = {}
    for s in df.index:
        base = sum(q_first[u] for u in ups[s])
        below = chain.get(s)
        if not np.isnan(q_own[s]):
            q_first[s], basis[s] = float(q_own[s]), "1 observed energy/flow (PIK)"
            continue
        if below and not np.isnan(df.at[s, "npl_m"]) and not np.isnan(df.at[below, "npl_m"]):
            # rule 2: the data must name the modelled neighbour as the next stage
            named = shared.rows("hydro_stations", station=s,
                                parameter="normal_pool_level")["downstream_station"].iloc[0]
            head = df.at[s, "npl_m"] - df.at[below, "npl_m"]
            q_head = df.at[s, "energy_gwh"] * 1e3 / (H_PER_YEAR * RHO_G * head * eta / 1e6)
            if named == below and q_head >= base:
                q_first[s], basis[s] = q_head, f"2 gross head {head:.0f} m"
                for station in (s, below):
                    shared.row("hydro_stations", f"gross head of {s} (flow rule 2)",
                               station=station, parameter="normal_pool_level")
                continue
        target, n = first_known_below(s)
        if not ups[s] and target:
            q_first[s], basis[s] = float(q_own[target]) * ratio**n, f"3 {ratio}^{n} x {target}"
        elif len(ups[s]) == 1 and target:
            q_up = q_first[ups[s][0]]
            q_first[s] = q_up * (float(q_own[target]) / q_up) ** (1.0 / (n + 1))
            basis[s] = f"3 between {ups[s][0]} and {target}"
        else:
            q_first[s], basis[s] = base * (1 + delta), "3 continuity"

    # Reconcile: along each river segment the flow must grow by >= delta per stage. Where the
    # first estimates (from different years and sources) fall downstream, they are replaced by
    # their least-squares non-decreasing fit (pool-adjacent-violators); then confluences.
    segments: list[list[str]] = []
    for s in df.index:
        if len(ups[s]) == 1:
            next(seg for seg in segments if seg[-1] == ups[s][0]).append(s)
        else:
            segments.append([s])
    q_tot = {}
    for seg in segments:
        q_tot.update(zip(seg, isotonic_growth([q_first[s] for s in seg], delta), strict=True))
    for s in df.index:
        if len(ups[s]) > 1:
            q_tot[s] = max(q_tot[s], (1 + delta) * sum(q_tot[u] for u in ups[s]))
        elif ups[s]:
            q_tot[s] = max(q_tot[s], (1 + delta) * q_tot[ups[s][0]])
    for s in df.index:
        if abs(q_tot[s] / q_first[s] - 1) > 0.005:
            basis[s] += f"; reconciled from {q_first[s]:,.0f}"
    df["k_rule"] = pd.Series(basis)
    # k follows from energy and flow, so the data energy is produced at mean inflow
    k = df["energy_gwh"] * 1e3 / (H_PER_YEAR * pd.Series(q_tot))
    df["mw_per_m3s"] = k
    df["q_mean_m3s"] = pd.Series(q_tot)
    df["q_upstream_m3s"] = pd.Series({s: sum(q_tot[u] for u in ups[s]) for s in df.index})
    df["q_incremental_m3s"] = df["q_mean_m3s"] - df["q_upstream_m3s"]
    df["energy_model_gwh"] = df["mw_per_m3s"] * df["q_mean_m3s"] * H_PER_YEAR / 1e3
    df["q_turbine_max_m3s"] = df["p_max_mw"] / df["mw_per_m3s"]
    assert (df["q_mean_m3s"] < df["q_turbine_max_m3s"]).all(), "mean flow above turbine capacity"
    return df


def build_other_hydro(shared: Shared, stations: pd.DataFrame,
                      elsewhere_mw: dict[str, float] | None = None) -> pd.DataFrame:
    """Provincial hydro outside the modelled cascades, one aggregate reservoir per province.

    Capacity: 2020 provincial hydro (estimate) - pumped storage - modelled stations in service
    by 2020 (border stations half per province) - stations modelled elsewhere (`elsewhere_mw`
    by bus: the Dongjiang reservoirs in Guangdong). Energy: for Sichuan and Yunnan the 2023 NBS
    hydro generation minus the modelled stations' mean-inflow energy; for Guizhou the 2023
    figure restored to a normal year with its -36.7 % drought change; elsewhere 3,300 h.
    """
    shares = pd.DataFrame({"Sichuan": stations["sc_share"], "Yunnan": 1 - stations["sc_share"]})
    in_2020 = stations["service_year"] <= 2020
    in_2023 = stations["service_year"] <= 2023
    rows = []
    for code, prov in PROVINCES.items():
        cap = shared.value("provinces", f"{code} other hydro (capacity)", province=prov,
                           parameter="hydro_capacity", year=2020)
        ps = shared.value("provinces", f"{code} pumped storage; other hydro net of it",
                          province=prov, parameter="pumped_storage_capacity")
        mod = 0.0
        if prov in shares:
            mod = float((stations["p_max_mw"] * shares[prov])[in_2020].sum())
        mod += (elsewhere_mw or {}).get(code, 0.0)
        p = cap - ps - mod
        if code in ("SC", "YN"):
            gen = shared.value("provinces", f"{code} other hydro (energy)", province=prov,
                               parameter="hydro_generation", year=2023)
            e = gen - float((stations["energy_model_gwh"] * shares[prov])[in_2023].sum())
            basis = "NBS 2023 generation - modelled stations"
        elif code == "GZ":
            gen = shared.value("provinces", "GZ other hydro (energy)", province=prov,
                               parameter="hydro_generation", year=2023)
            e = gen / (1 - 0.367)  # -36.7 % y/y in 2023 (row note): back to the 2022 level
            basis = "NBS 2023 generation / (1 - 0.367)"
        else:
            e = p * a("other_hydro_flh") / 1e3
            basis = f"{a('other_hydro_flh'):.0f} full-load hours (assumption)"
        rows.append({"province": code, "p_max_mw": p, "energy_gwh": e, "basis": basis,
                     "modelled_2020_mw": mod, "pumped_storage_mw": ps, "estimate_mw": cap})
    out = pd.DataFrame(rows).set_index("province")
    assert (out["p_max_mw"] > 0).all() and (out["energy_gwh"] > 0).all()
    return out


def build_hydro(stations: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The hydro table and the normal/dry/wet inflow series (incremental natural inflow)."""
    shapes = {river: monthly_to_hourly(v) for river, v in a("monthly_inflow_shape").items()}
    q_env = a("q_env_share")
    rows, inflow = [], {}
    for s, r in stations.iterrows():
        rows.append({
            "name": s, "bus": r["bus"], "carrier": "hydro", "river": r["river"],
            "p_max_mw": r["p_max_mw"], "mw_per_m3s": round(r["mw_per_m3s"], 6),
            "storage_max_hm3": r["storage_max_hm3"], "storage_min_hm3": 0.0,
            "storage_initial_hm3": None, "end_rule": "fixed",
            "q_env_min_m3s": round(q_env * r["q_mean_m3s"], 1), "inflow_profile": s,
            "downstream": r["downstream"], "travel_time_h": round(r["travel_time_h"], 2),
            "release_initial_m3s": None, "marginal_cost_cny_per_mwh": 0.0,
        })
        inflow[s] = r["q_incremental_m3s"] * shapes[r["river"]]
    k_other = a("other_hydro_mw_per_m3s")
    for code, r in other.iterrows():
        name = f"{code} hydro"
        q_mean = r["energy_gwh"] * 1e3 / H_PER_YEAR / k_other
        shape = "southwest" if code in ("SC", "YN", "GZ") else "south"
        rows.append({
            "name": name, "bus": code, "carrier": "hydro", "river": "other (aggregate)",
            "p_max_mw": r["p_max_mw"], "mw_per_m3s": k_other,
            "storage_max_hm3": round(r["p_max_mw"] * a("other_hydro_storage_hours") * 3600
                                     / 1e6 / k_other, 1),
            "storage_min_hm3": 0.0, "storage_initial_hm3": None, "end_rule": "fixed",
            "q_env_min_m3s": round(q_env * q_mean, 1), "inflow_profile": name,
            "downstream": None, "travel_time_h": 0.0, "release_initial_m3s": None,
            "marginal_cost_cny_per_mwh": 0.0,
        })
        inflow[name] = q_mean * shapes[shape]
    normal = pd.DataFrame(inflow)
    series = {"inflow_m3s": normal, "inflow_m3s_dry": normal * a("dry_year_factor"),
              "inflow_m3s_wet": normal * a("wet_year_factor")}
    return pd.DataFrame(rows), series


# ----------------------------------------------------------------------------------------------
# Storage
# ----------------------------------------------------------------------------------------------
def build_storage(shared: Shared) -> pd.DataFrame:
    rte = shared.value("costs", "pumped hydro efficiency", item="pumped hydro storage",
                       parameter="round_trip_efficiency")
    eff = round(float(np.sqrt(rte)), 6)
    rows = []
    for code, prov in PROVINCES.items():
        p = shared.value("provinces", f"{code} pumped storage", province=prov,
                         parameter="pumped_storage_capacity")
        if p > 0:
            rows.append({"name": f"{code} pumped hydro", "bus": code, "carrier": "pumped_hydro",
                         "p_max_mw": p, "energy_max_mwh": p * a("pumped_hydro_hours"),
                         "efficiency_charge": eff, "efficiency_discharge": eff,
                         "standing_loss_per_h": 0.0, "soc_initial_mwh": None,
                         "marginal_cost_cny_per_mwh": 0.0})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Transmission
# ----------------------------------------------------------------------------------------------
def hvdc_efficiency(length_km: float) -> float:
    loss = a("hvdc_converter_loss") + a("hvdc_line_loss_per_1000km") * length_km / 1000
    return round(1 - loss, 4)


def build_links(shared: Shared, buses: pd.DataFrame) -> pd.DataFrame:
    """HVDC/UHVDC corridors, the Min-Yue back-to-back and the out-of-region interfaces."""
    coords = buses.set_index("name")[["x_lon", "y_lat"]]

    def dist(b0: str, b1: str) -> float:
        return haversine_km(*coords.loc[b0], *coords.loc[b1])

    def cor(corridor: str, parameter: str, used: str) -> float:
        return shared.value("corridors", used, corridor=corridor, parameter=parameter)

    def tech(corridor: str) -> str:
        kv = cor(corridor, "voltage", "carrier (voltage)")
        return "UHVDC" if kv >= 800 else "HVDC"

    spec = [
        # name, corridor, bus0, bus1, rating parameter
        ("Tian-Guang", "Tian-Guang HVDC", "GZ", "GD", "rated_capacity"),
        ("Gui-Guang I", "Gui-Guang I HVDC", "GZ", "GD", "rated_capacity"),
        ("Gui-Guang II", "Gui-Guang II HVDC", "GZ", "GD", "rated_capacity"),
        ("Chu-Sui", "Yunnan-Guangdong UHVDC (Chuxiong-Suidong)", "YN", "GD", "rated_capacity"),
        ("Nuozhadu-Guangdong", "Nuozhadu-Guangdong UHVDC (Pu-Qiao)", "YN", "GD",
         "rated_capacity"),
        ("Xiluodu-Guangdong", "Xiluodu right bank-Guangdong HVDC (double circuit, same tower)",
         "SC_hub", "GD", "rated_capacity"),
        ("Dianxibei-Guangdong", "Dianxibei (NW Yunnan)-Guangdong UHVDC (Xin-Dong)", "YN", "GD",
         "rated_capacity"),
        ("Kunliulong Kunbei-Liubei", "Kunliulong (Wudongde-Guangdong/Guangxi) UHVDC"
         " multi-terminal", "YN_hub", "GX", "rated_capacity_Liubei"),
        ("Kunliulong Kunbei-Longmen", "Kunliulong (Wudongde-Guangdong/Guangxi) UHVDC"
         " multi-terminal", "YN_hub", "GD", "rated_capacity_Longmen"),
        ("Jinzhong", "Jinzhong DC (Jinsha middle-reach stations -> Guangxi)", "YN", "GX",
         "rated_capacity"),
        ("Yazhong-Jiangxi", "Yazhong-Jiangxi UHVDC", "SC", "JX", "rated_capacity"),
        ("Three Gorges-Guangdong", "Three Gorges-Guangdong (3GG) HVDC", "HB_ext", "GD",
         "rated_capacity"),
        ("Ningxia-Hunan", "Ningxia-Hunan UHVDC", "NX_ext", "HN", "rated_capacity"),
        ("Baihetan-Jiangsu", "Baihetan-Jiangsu UHVDC", "SC_hub", "JS_ext", "rated_capacity"),
    ]
    rows = []
    for name, corridor, b0, b1, rating in spec:
        p = cor(corridor, rating, f"{name} rating")
        has_len = not shared.rows("corridors", corridor=corridor, parameter="length").empty
        length = cor(corridor, "length", f"{name} length/efficiency") if has_len else None
        if name == "Kunliulong Kunbei-Liubei":
            length = round(length * dist("YN_hub", "GX") / dist("YN_hub", "GD"))
        if b1.endswith("_ext"):
            eff = a("export_link_efficiency")
        elif name == "Dianxibei-Guangdong":
            eff = 1 - cor(corridor, "line_loss_rate", "Dianxibei efficiency") / 100
        else:
            eff = hvdc_efficiency(length)
        cost = 0.0
        if name == "Dianxibei-Guangdong":
            cost = cor(corridor, "transmission_tariff_DC", "Dianxibei wheeling cost") * 1000
        rows.append({"name": name, "bus0": b0, "bus1": b1, "carrier": tech(corridor),
                     "p_max_mw": p, "p_min_pu": 0.0, "efficiency": eff,
                     "marginal_cost_cny_per_mwh": cost, "length_km": length})

    # East-China outlets that are not rows of corridors.csv: ratings from the PIK edge file
    edges = PIK_EDGES
    xldzj = "Xiluodu left bank-Zhejiang (Jinhua) UHVDC"
    rows += [
        {"name": "Baihetan-Zhejiang", "bus0": "SC_hub", "bus1": "ZJB_ext", "carrier": "UHVDC",
         "p_max_mw": edges[("Sichuan", "Zhejiang")] / 2, "p_min_pu": 0.0,
         "efficiency": a("export_link_efficiency"), "marginal_cost_cny_per_mwh": 0.0,
         "length_km": None},
        {"name": "Xiluodu-Zhejiang", "bus0": "SC_hub", "bus1": "ZJ_ext", "carrier": "UHVDC",
         "p_max_mw": edges[("Sichuan", "Zhejiang")] / 2, "p_min_pu": 0.0,
         "efficiency": a("export_link_efficiency"), "marginal_cost_cny_per_mwh": 0.0,
         "length_km": cor(xldzj, "length", "Xiluodu-Zhejiang length")},
        {"name": "Xiangjiaba-Shanghai", "bus0": "SC_hub", "bus1": "SH_ext", "carrier": "UHVDC",
         "p_max_mw": edges[("Shanghai", "Sichuan")], "p_min_pu": 0.0,
         "efficiency": a("export_link_efficiency"), "marginal_cost_cny_per_mwh": 0.0,
         "length_km": None},
    ]
    bhtjs = next(r for r in rows if r["name"] == "Baihetan-Jiangsu")["p_max_mw"]
    rows.append({"name": "Jinping-Sunan", "bus0": "SC", "bus1": "JSN_ext", "carrier": "UHVDC",
                 "p_max_mw": edges[("Jiangsu", "Sichuan")] - bhtjs, "p_min_pu": 0.0,
                 "efficiency": a("export_link_efficiency"), "marginal_cost_cny_per_mwh": 0.0,
                 "length_km": None})
    # Gansu-Hunan (model aggregate edge = the Gansu-Hunan UHVDC); length not in the data
    nxhn = next(r for r in rows if r["name"] == "Ningxia-Hunan")
    rows.append({"name": "Gansu-Hunan", "bus0": "GS_ext", "bus1": "HN", "carrier": "UHVDC",
                 "p_max_mw": shared.value("corridors", "Gansu-Hunan rating",
                                          corridor="model aggregate Gansu-Hunan",
                                          parameter="aggregate_transfer_capacity"),
                 "p_min_pu": 0.0, "efficiency": nxhn["efficiency"],
                 "marginal_cost_cny_per_mwh": 0.0, "length_km": None})
    # Two-way transfers are pairs of one-way lossy links (a reversible link must be lossless).
    # Central China AC interfaces of Hunan and Jiangxi (model aggregates): with Three
    # Gorges-Guangdong they also let SGCC and CSG exchange power through Hubei.
    for pair, bus, back in (("Hubei-Hunan", "HN", "Hunan-Hubei"),
                            ("Hubei-Jiangxi", "JX", "Jiangxi-Hubei")):
        p = shared.value("corridors", f"{pair} rating", corridor=f"model aggregate {pair}",
                         parameter="aggregate_transfer_capacity")
        for name, b0, b1 in ((pair, "HB_ext", bus), (back, bus, "HB_ext")):
            rows.append({"name": name, "bus0": b0, "bus1": b1, "carrier": "AC interface",
                         "p_max_mw": p, "p_min_pu": 0.0,
                         "efficiency": a("ac_interface_efficiency"),
                         "marginal_cost_cny_per_mwh": 0.0, "length_km": None})
    # Fujian-Guangdong (Min-Yue) back-to-back: converter losses only
    for name, b0, b1 in (("Guangdong-Fujian", "GD", "FJ"), ("Fujian-Guangdong", "FJ", "GD")):
        rows.append({"name": name, "bus0": b0, "bus1": b1, "carrier": "HVDC",
                     "p_max_mw": a("minyue_link"), "p_min_pu": 0.0,
                     "efficiency": hvdc_efficiency(0.0), "marginal_cost_cny_per_mwh": 0.0,
                     "length_km": 0.0})
    return pd.DataFrame(rows)


# Edges of github:pik-piam/PyPSA-China-PIK resources/data/grids/edges_current.csv (commit
# 23db46de) that the shared data does not carry but the East-China outlets need (read directly;
# model input, secondary). Jiangsu-Sichuan = Baihetan-Jiangsu + Jinping-Sunan; Sichuan-Zhejiang =
# Xiluodu-Zhejiang + Baihetan-Zhejiang; Shanghai-Sichuan = Xiangjiaba-Shanghai.
PIK_EDGES = {("Jiangsu", "Sichuan"): 15200.0, ("Sichuan", "Zhejiang"): 16000.0,
             ("Shanghai", "Sichuan"): 6400.0}
PIK_EDGES_SOURCE = ("github:pik-piam/PyPSA-China-PIK resources/data/grids/edges_current.csv"
                    " (23db46de)")


# read directly, not in the shared data: Xinhua, 25 Nov 2022, 保障澳門用電 粵澳輸電聯網第三通道投產
# (MACAO_TRANSFER_SOURCE): after the third 220 kV channel CSG's transfer capability to Macao
# rose 30 % to 1.7 GW (南方電網對澳門輸電能力將提升三成，達到170萬千瓦); 8 main 220 kV circuits in
# three channels plus 4 x 110 kV standby circuits
MACAO_TRANSFER_MW = 1700.0
MACAO_TRANSFER_SOURCE = ("http://snel.com.cn/gangao/2022-11/25/c_1129160795.htm (Xinhua, 25 Nov"
                         " 2022, mirror)")


def build_lines(shared: Shared, buses: pd.DataFrame, links: pd.DataFrame,
                hk_peak: float) -> pd.DataFrame:
    """AC lines; ratings from model aggregates net of the DC links modelled on the same pair."""
    coords = buses.set_index("name")[["x_lon", "y_lat"]]
    dc = links.set_index("name")["p_max_mw"]

    def agg(pair: str) -> float:
        return shared.value("corridors", f"line {pair} rating", corridor=f"model aggregate {pair}",
                            parameter="aggregate_transfer_capacity")

    def csg(year: int) -> float:
        return shared.value("corridors", "line GD-GX rating", corridor="CSG West-to-East system"
                            " (aggregate)", parameter="total_transfer_capability", year=year)

    # The 2016 '8 AC + 9 DC' CSG West-to-East capability minus the DC circuits in service then
    # leaves the AC channels, all of which land in Guangdong through Guangxi.
    dc_2016 = dc[["Tian-Guang", "Gui-Guang I", "Gui-Guang II", "Chu-Sui", "Nuozhadu-Guangdong",
                  "Xiluodu-Guangdong", "Jinzhong"]].sum()
    ratings = {
        ("GD", "GX"): (csg(2016) - dc_2016, "CSG 2016 West-to-East capability - 2016 DC circuits"),
        ("GD", "GZ"): (agg("Guangdong-Guizhou") - dc[["Tian-Guang", "Gui-Guang I",
                                                        "Gui-Guang II"]].sum(),
                       "model aggregate - Tian-Guang - Gui-Guang I/II"),
        ("GX", "YN"): (agg("Guangxi-Yunnan") - dc[["Jinzhong", "Kunliulong Kunbei-Liubei"]].sum(),
                       "model aggregate - Jinzhong - Kunliulong Liubei leg"),
        ("SC", "HN"): (agg("Chongqing-Sichuan"), "model aggregate Chongqing-Sichuan (proxy)"),
        ("GD", "HK"): (round(0.35 * hk_peak), "35 % x published HK peak (assumption)"),
        ("GD", "MO"): (MACAO_TRANSFER_MW, "CSG transfer capability to Macao since the third"
                                          " 220 kV channel (Xinhua, 25 Nov 2022)"),
    }
    shared.record_direct("Guangdong-Macao interconnection (CSG)", "transfer_capability",
                         f"{MACAO_TRANSFER_MW:.0f}", "MW", "2022", MACAO_TRANSFER_SOURCE,
                         "secondary (Xinhua text on a mirror)", "line GD-MO rating")
    # the 700 MVA of 2008 (confirmed) is what the third channel raised by 30 % to 1,700 MW
    shared.value("corridors", "line GD-MO: rating before the third channel (2008-2022)",
                 corridor="Guangdong-Macao interconnection", parameter="import_capacity")
    shared.value("hk_macao", "line GD-HK rating (35 % target)", region="Hong Kong",
                 entity="Imports from Mainland (nuclear + CSG)",
                 parameter="share_of_HK_fuel_mix_target", year=2025)
    for pair, value in a("line_ratings_mw").items():
        b0, b1 = pair.split("-", 1)
        ratings[(b0, b1)] = (value, "assumption")
    rows = []
    for (b0, b1), (s_max, _) in ratings.items():
        length = round(a("route_factor") * haversine_km(*coords.loc[b0], *coords.loc[b1]))
        rows.append({"name": f"{b0}-{b1}", "bus0": b0, "bus1": b1, "s_max_mw": s_max,
                     "length_km": float(length)})
    # Hainan interconnections I and II (500 kV AC submarine, 600 MW each)
    hai1 = "Hainan-Guangdong interconnection I"
    length_i = (shared.value("corridors", "Hainan I length", corridor=hai1,
                             parameter="length_submarine")
                + shared.value("corridors", "Hainan I length", corridor=hai1,
                               parameter="length_overhead"))
    for tag in ("I", "II"):
        corridor = f"Hainan-Guangdong interconnection {tag}"
        rows.append({"name": f"GD-HI {tag}", "bus0": "GD", "bus1": "HI",
                     "s_max_mw": shared.value("corridors", f"line GD-HI {tag}", corridor=corridor,
                                              parameter="rated_capacity"),
                     "length_km": length_i})
    lines = pd.DataFrame(rows)
    circuits = np.maximum(1.0, lines["s_max_mw"] / a("ac_mw_per_circuit"))
    lines["x_ohm"] = (a("ac_x_ohm_per_km") * lines["length_km"] / circuits).round(3)
    lines["carrier"] = "AC"
    return lines


def build_exports(shared: Shared, stations: pd.DataFrame, links: pd.DataFrame) -> tuple[
        pd.DataFrame, pd.DataFrame, dict]:
    """East-China exports as loads on the external buses, shaped by the Jinsha inflow.

    Each outlet ends at an external bus of its own with its own export load (assumption
    `export_per_outlet`), so the energy it carries is its export schedule.
    """
    e_bht = stations.at["Baihetan", "energy_gwh"]
    e_bhtjs = shared.value("corridors", "JS export energy", corridor="Baihetan-Jiangsu UHVDC",
                           parameter="annual_energy") * 1e3
    jpsn = float(links.set_index("name").at["Jinping-Sunan", "p_max_mw"])
    energy = {
        "Baihetan-Jiangsu": e_bhtjs,
        "Jinping-Sunan": jpsn * a("export_jpsn_hours") / 1e3,
        "Baihetan-Zhejiang": e_bht - e_bhtjs,
        "Xiluodu-Zhejiang": a("export_xldzj_share") * stations.at["Xiluodu", "energy_gwh"],
        "Xiangjiaba-Shanghai": a("export_xjbsh_share") * stations.at["Xiangjiaba", "energy_gwh"],
    }
    outlets = links.set_index("name").loc[list(energy)]
    if outlets["bus1"].duplicated().any():
        raise ValueError("two East-China outlets share an external bus")
    shape = 1 + a("export_damping") * (monthly_to_hourly(a("monthly_inflow_shape")["Jinsha"]) - 1)
    shape /= shape.mean()
    loads = pd.DataFrame([{"name": f"{o} export", "bus": outlets.at[o, "bus1"],
                           "profile": f"{o} export", "scale": 1.0} for o in energy])
    ts = pd.DataFrame({f"{o} export": e * 1e3 / H_PER_YEAR * shape for o, e in energy.items()})
    for o in energy:
        peak = ts[f"{o} export"].max()
        assert peak <= outlets.at[o, "p_max_mw"], f"{o} export peak {peak:.0f} MW exceeds it"
    return loads, ts, energy


# ----------------------------------------------------------------------------------------------
# Sanity check (numpy only)
# ----------------------------------------------------------------------------------------------
IMPORTING_REGIONS = ("GD", "HK", "MO", "HI")
MIN_SYSTEM_MARGIN = 0.10  # the build fails below this hourly supply margin


def available_mw(gen: pd.DataFrame, avail: pd.DataFrame) -> np.ndarray:
    """Hourly available output of generators: p_max, times availability where profiled."""
    factor = np.ones((HOURS, len(gen)))
    profiled = gen["availability_profile"].notna().to_numpy()
    factor[:, profiled] = avail[gen.loc[profiled, "availability_profile"]].to_numpy()
    return factor @ gen["p_max_mw"].to_numpy()


def check_system(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame]) -> str:
    """Every hour: thermal/nuclear/import p_max + wind/solar x availability + hydro p_max +
    storage p_max must exceed all loads (PPRD demand and East-China exports) by a margin."""
    supply = (available_mw(tables["generators"], series["availability_pu"])
              + tables["hydro"]["p_max_mw"].sum() + tables["storage_units"]["p_max_mw"].sum())
    margin = supply / series["load_mw"].sum(axis=1).to_numpy() - 1
    worst = int(margin.argmin())
    if margin[worst] < MIN_SYSTEM_MARGIN:
        raise ValueError(f"supply margin {margin[worst]:.1%} at {SNAPSHOTS[worst]} is below"
                         f" {MIN_SYSTEM_MARGIN:.0%}")
    return (f"System, every hour (PPRD demand + East-China exports against thermal, nuclear and"
            f" import p_max, wind/solar p_max x availability, hydro and storage p_max): margin"
            f" min {margin[worst]:.1%} ({SNAPSHOTS[worst]:%Y-%m-%d %H:%M}), mean"
            f" {margin.mean():.1%}.")


def check_importing_regions(tables: dict[str, pd.DataFrame],
                            series: dict[str, pd.DataFrame]) -> str:
    """Local capacity + import ratings against the peak of each importing region.

    Imports are the DC links into the region (times efficiency) and its AC lines, except the
    lines from Guangdong to the regions it supplies (HK, Macao, Hainan)."""
    gen, hyd, sto = tables["generators"], tables["hydro"], tables["storage_units"]
    links, lines, load = tables["links"], tables["lines"], series["load_mw"]
    rows = ["| region | model peak MW | local capacity MW | import ratings MW | (local +"
            " imports) / peak | min over hours of (local available + imports) / load |",
            "|---|---:|---:|---:|---:|---:|"]
    for code in IMPORTING_REGIONS:
        local_gen = gen[gen["bus"] == code]
        firm = (hyd.loc[hyd["bus"] == code, "p_max_mw"].sum()
                + sto.loc[sto["bus"] == code, "p_max_mw"].sum())
        into = links[links["bus1"] == code]
        touching = lines[(lines["bus0"] == code) | (lines["bus1"] == code)]
        other = np.where(touching["bus0"] == code, touching["bus1"], touching["bus0"])
        dependants = [r for r in IMPORTING_REGIONS if r != "GD"] if code == "GD" else []
        imports = ((into["p_max_mw"] * into["efficiency"]).sum()
                   + touching.loc[~np.isin(other, dependants), "s_max_mw"].sum())
        local = local_gen["p_max_mw"].sum() + firm
        peak = load[f"{code} load"].max()
        hourly = available_mw(local_gen, series["availability_pu"]) + firm + imports
        hourly_min = (hourly / load[f"{code} load"].to_numpy()).min()
        if (local + imports) / peak < 1 or hourly_min < 1:
            raise ValueError(f"{code}: local capacity + imports do not cover the load")
        rows.append(f"| {code} | {peak:,.0f} | {local:,.0f} | {imports:,.0f} |"
                    f" {(local + imports) / peak:.2f} | {hourly_min:.2f} |")
    return "\n".join(rows)


def check_must_run(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame]) -> str:
    """Hours in which a bus's must-run output (p_min) exceeds its own load."""
    mustrun = tables["generators"].groupby("bus")["p_min_mw"].sum()
    load = series["load_mw"]
    over = {b: int((mustrun[b] > load[f"{b} load"].to_numpy()).sum())
            for b in mustrun.index if f"{b} load" in load.columns}
    text = ", ".join(f"{b} {n} h" for b, n in sorted(over.items()) if n) or "none"
    return (f"Hours in which a bus's must-run output (nuclear, coal, import p_min) exceeds its"
            f" own load: {text} (the surplus has to be exported or stored).")


def demand_table(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame],
                 peaks: dict, exports: dict) -> str:
    region = tables["buses"].set_index("name")["region"]
    load = series["load_mw"]
    rows = ["| region | bus | annual demand TWh | model peak MW | published peak MW |"
            " model / published |", "|---|---|---:|---:|---:|---:|"]
    codes = [*PROVINCES, "HK", "MO"]
    for code in codes:
        peak = load[f"{code} load"].max()
        pub = peaks.get(code)
        pub_txt = f"{pub[0]:,.0f} ({pub[1]})" if pub else "-"
        ratio = f"{peak / pub[0]:.2f}" if pub else "-"
        rows.append(f"| {region[code]} | {code} | {load[f'{code} load'].sum() / 1e6:.1f} |"
                    f" {peak:,.0f} | {pub_txt} | {ratio} |")
    total = load[[f"{c} load" for c in codes]]
    rows.append(f"| PPRD total | | {total.sum().sum() / 1e6:.1f} |"
                f" {total.sum(axis=1).max():,.0f} (coincident) | | |")
    rows.append("")
    rows.append(f"East-China exports (loads on JS_ext, JSN_ext, ZJ_ext, ZJB_ext, SH_ext):"
                f" {sum(exports.values()) / 1e3:.1f} TWh/yr ("
                + ", ".join(f"{k} {v / 1e3:.1f}" for k, v in exports.items()) + " TWh).")
    return "\n".join(rows)


def capacity_tables(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame],
                    stations: pd.DataFrame, other: pd.DataFrame, yibin_m3s: float) -> str:
    gen, hyd, sto = tables["generators"], tables["hydro"], tables["storage_units"]
    avail = series["availability_pu"]
    cap = pd.concat([gen[["carrier", "p_max_mw"]], hyd[["carrier", "p_max_mw"]],
                     sto[["carrier", "p_max_mw"]]]).groupby("carrier")["p_max_mw"].sum()
    rows = ["| carrier | capacity GW |", "|---|---:|"]
    rows += [f"| {c} | {v / 1e3:,.1f} |" for c, v in cap.items()]
    rows += ["", "| province | wind CF | solar CF |", "|---|---:|---:|"]
    rows += [f"| {c} | {avail[f'{c} wind'].mean():.3f} | {avail[f'{c} solar'].mean():.3f} |"
             for c in PROVINCES]
    e_cascade, p_cascade = stations["energy_model_gwh"].sum(), stations["p_max_mw"].sum()
    e_other, p_other = other["energy_gwh"].sum(), other["p_max_mw"].sum()
    xjb = stations.at["Xiangjiaba", "q_mean_m3s"]
    rows += ["", f"Hydro at mean (normal-year) inflow: modelled cascades {e_cascade / 1e3:.0f} TWh"
             f" ({p_cascade / 1e3:.1f} GW, CF {e_cascade * 1e3 / (p_cascade * HOURS):.2f}), other"
             f" hydro {e_other / 1e3:.0f} TWh ({p_other / 1e3:.1f} GW, CF"
             f" {e_other * 1e3 / (p_other * HOURS):.2f}). Dry year x"
             f" {a('dry_year_factor')}, wet year x {a('wet_year_factor')}.",
             f"Mean total flow at Xiangjiaba {xjb:,.0f} m3/s; Jinsha runoff at Yibin 145.6 bcm/yr"
             f" = {yibin_m3s:,.0f} m3/s (secondary) ({xjb / yibin_m3s - 1:+.0%})."]
    return "\n".join(rows)


def sanity(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame],
           stations: pd.DataFrame, other: pd.DataFrame, peaks: dict, exports: dict,
           yibin_m3s: float) -> str:
    """The sanity-check summary printed by the build and pasted into SOURCES.md."""
    return "\n\n".join([
        check_system(tables, series),
        check_importing_regions(tables, series),
        check_must_run(tables, series),
        demand_table(tables, series, peaks, exports),
        capacity_tables(tables, series, stations, other, yibin_m3s),
        monthly_island_check(tables, series),
    ])


def islands(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Bus -> {AC island: share}. AC islands are the components of the line graph; an external
    bus is shared among the islands its links reach, in proportion to the link ratings."""
    parent = {b: b for b in tables["buses"]["name"]}

    def find(b: str) -> str:
        while parent[b] != b:
            b = parent[b]
        return b

    for b0, b1 in zip(tables["lines"]["bus0"], tables["lines"]["bus1"], strict=True):
        parent[find(b0)] = find(b1)
    groups: dict[str, list[str]] = {}
    for b in parent:
        groups.setdefault(find(b), []).append(b)
    label = {}
    for members in groups.values():
        name = "+".join(sorted(m for m in members if not m.endswith(("_ext", "_hub"))))
        label.update(dict.fromkeys(members, name))
    out = {b: {label[b]: 1.0} for b in parent if not b.endswith("_ext")}
    links = tables["links"]
    for b in (b for b in parent if b.endswith("_ext")):
        touching = links[(links["bus0"] == b) | (links["bus1"] == b)]
        other = np.where(touching["bus0"] == b, touching["bus1"], touching["bus0"])
        weights = touching["p_max_mw"].groupby([label[o] for o in other]).sum()
        out[b] = (weights / weights.sum()).to_dict()
    return out


def monthly_island_check(tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame]) -> str:
    """Monthly thermal capacity factor each AC island would need with natural (unregulated)
    hydro inflow, no reservoir shifting and no DC exchange between islands: a conservative
    energy check for the dry season, set against the energy its reservoirs hold."""
    gen, hyd = tables["generators"], tables["hydro"].set_index("name")
    island = islands(tables)
    names = sorted({i for shares in island.values() for i in shares})
    load, avail = series["load_mw"], series["availability_pu"]
    bus_of_load = tables["loads"].set_index("profile")["bus"]
    demand = pd.DataFrame(0.0, index=load.index, columns=names)
    vre = demand.copy()
    firm = pd.Series(0.0, index=names)
    for col in load.columns:
        for isl, share in island[bus_of_load[col]].items():
            demand[isl] += share * load[col]
    for _, r in gen.iterrows():
        for isl, share in island[r["bus"]].items():
            if isinstance(r["availability_profile"], str):
                vre[isl] += share * r["p_max_mw"] * avail[r["availability_profile"]]
            else:
                firm[isl] += share * r["p_max_mw"]
    # MW per m3/s of every turbine a station's water passes (per island)
    k_down = pd.DataFrame(0.0, index=hyd.index, columns=names)
    for station in hyd.index:
        cur = station
        while isinstance(cur, str):
            (isl,) = island[hyd.at[cur, "bus"]]
            k_down.at[station, isl] += hyd.at[cur, "mw_per_m3s"]
            nxt = hyd.at[cur, "downstream"]
            cur = nxt if isinstance(nxt, str) else None
    reservoir_twh = (hyd["storage_max_hm3"].to_numpy()[:, None] * k_down).sum() / 3600
    month_hours = pd.Series(MONTH).value_counts().sort_index().to_numpy()
    labels = [f"{m:%b}" for m in pd.date_range(f"{YEAR}-01-01", periods=12, freq="MS")]
    rows = ["| island | inflow | " + " | ".join(labels) + " | shortfall TWh | reservoirs TWh |",
            "|---|---|" + "---:|" * 14]
    for year, key in (("normal", "inflow_m3s"), ("dry", "inflow_m3s_dry")):
        water = series[key].to_numpy() @ k_down.loc[series[key].columns].to_numpy()
        water = pd.DataFrame(water, index=load.index, columns=names)
        need = ((demand - vre - water).groupby(MONTH).mean() / firm).clip(lower=0)
        for isl in names:
            short = float(((need[isl] - 1).clip(lower=0) * firm[isl] * month_hours).sum() / 1e6)
            rows.append(f"| {isl} | {year} | " + " | ".join(f"{v:.2f}" for v in need[isl])
                        + f" | {short:.1f} | {reservoir_twh[isl]:.0f} |")
    return ("Thermal + import capacity factor each AC island needs per month with natural"
            " hydro inflow (no reservoir shifting; no DC exchange between islands other than the"
            " import generators, shared by link rating). Above 1 the island draws on its"
            " reservoirs: 'shortfall' is that energy, 'reservoirs' the energy of the full"
            " regulating storage through all turbines downstream (the fixed end rule starts and"
            " ends the year at half):\n\n" + "\n".join(rows))


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    """Plain-decimal text for a CSV cell (no exponent, no trailing zeros, blank for missing)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        text = f"{float(v):.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    return str(v)


def write_table(df: pd.DataFrame, name: str, out: Path) -> None:
    cols = COLUMNS[name]
    frame = df.reindex(columns=cols).astype(object)
    frame = frame.sort_values("name", kind="stable") if name in ("carriers",) else frame
    text = frame.map(_fmt)
    text.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")


def write_series(df: pd.DataFrame, name: str, out: Path) -> None:
    frame = df.round(3)
    frame.insert(0, "timestamp", SNAPSHOTS.strftime("%Y-%m-%d %H:%M"))
    frame.to_csv(out / "timeseries" / f"{name}.csv", index=False, float_format="%.3f",
                 lineterminator="\n")


def md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        out.append("| " + " | ".join(_fmt(r[c]).replace("|", "\\|").replace("\n", " ")
                                      for c in cols) + " |")
    return "\n".join(out)


def assumptions_md() -> str:
    rows = []
    for key, asm in ASSUMPTIONS.items():
        value = asm.value
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        rows.append({"assumption": f"**assumption** `{key}`", "value": str(value),
                     "unit": asm.unit, "why": asm.why})
    return md_table(pd.DataFrame(rows))


def figures_md(shared: Shared) -> str:
    led = shared.ledger()
    led["status"] = np.where(led["status"] == "estimate", "**estimate**", led["status"])
    extra = pd.DataFrame(shared.profile_rows)
    return md_table(pd.concat([led, extra], ignore_index=True))


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
def build(shared_dir: Path, out: Path) -> str:
    shared = Shared(shared_dir)
    profiles = shared_dir / "profiles"
    dams = pd.read_csv(profiles / "pik_dams_large.csv").set_index("Dam_names")

    buses = build_buses(shared, dams)
    carriers = build_carriers()
    loads, load_ts = build_loads(shared, profiles)
    peaks = published_peaks(shared)
    record_cross_checks(shared)
    avail = build_availability(buses)
    costs = build_costs(shared)
    generators = build_generators(shared, costs)
    generators = add_commitment(generators, a)
    gas = build_gas(shared, buses, generators, SNAPSHOTS, a, md_table)
    generators = gas.generators
    ops = build_operations(shared, generators, gas.tables["gas_supplies"], LNG_MWH_TH_PER_T, a,
                           md_table)
    storage = build_storage(shared)
    stations = build_station_table(shared, dams)
    dongjiang = build_dongjiang(shared, SNAPSHOTS, monthly_to_hourly, a, md_table)
    other = build_other_hydro(shared, stations, {"GD": dongjiang.capacity_mw})
    hydro, inflows = build_hydro(stations, other)
    # the Dongjiang's reservoirs and intakes; the drought year is its design drought (1-in-100),
    # a regional one: the other rivers keep their normal year
    hydro = pd.concat([hydro, dongjiang.hydro], ignore_index=True)
    normal_elsewhere = inflows["inflow_m3s"]
    for key, factor in (("inflow_m3s", 1.0), ("inflow_m3s_dry", a("dry_year_factor")),
                        ("inflow_m3s_wet", a("wet_year_factor"))):
        inflows[key] = pd.concat([inflows[key], dongjiang.inflow * factor], axis=1)
    inflows["inflow_m3s_drought"] = pd.concat(
        [normal_elsewhere, dongjiang.inflow * dongjiang.drought_factor], axis=1)
    links = build_links(shared, buses)
    lines = build_lines(shared, buses, links, peaks["HK"][0])
    exp_loads, exp_ts, exports = build_exports(shared, stations, links)
    loads = pd.concat([loads, exp_loads], ignore_index=True)
    load_ts = pd.concat([load_ts, exp_ts], axis=1)

    tables = {"buses": buses, "carriers": carriers, "loads": loads, "generators": generators,
              "storage_units": storage, "lines": lines, "links": links, "hydro": hydro,
              **gas.tables, **ops.tables}
    series = {"load_mw": load_ts, "availability_pu": avail, **inflows, **gas.series,
              "withdrawal_pu": dongjiang.withdrawal_pu}
    yibin = shared.value("hydro_stations", "Yibin flow cross-check",
                         station="Jinsha at Yibin (basin)", parameter="mean_annual_runoff")
    summary = sanity(tables, series, stations, other, peaks, exports,
                     yibin * 1e6 / (HOURS * 3600))
    # the checks above see the West-to-East corridors as links; they are written as corridors
    corr = build_corridors(shared, links, load_ts, SNAPSHOTS, a, md_table)
    tables.update(links=corr.links, **corr.tables)
    # what an expansion case may build: candidates, and the 0 MW batteries and link they extend
    coords = buses.set_index("name")[["x_lon", "y_lat"]]
    exp = build_candidates(
        shared, a, tables,
        lambda b0, b1: a("route_factor") * haversine_km(*coords.loc[b0], *coords.loc[b1]),
        hvdc_efficiency)
    tables["storage_units"] = pd.concat([tables["storage_units"], exp["batteries"]],
                                        ignore_index=True)
    tables["links"] = pd.concat([tables["links"], exp["links"]], ignore_index=True)
    tables["candidates"] = exp["candidates"]
    series.update(corr.series)

    (out / "timeseries").mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_table(df, name, out)
    for name, df in series.items():
        write_series(df, name, out)
    (out / "network.yaml").write_text(NETWORK_YAML)
    # the published figures `gridopt calibrate` compares a year with (read last: its rows
    # join the ledger of figures used)
    gd_gas = generators.set_index("name").loc["GD gas"]
    supplies = gas.tables["gas_supplies"]
    lng_price = supplies.loc[supplies["kind"] == "lng", "price_cny_per_mwh_th"].max()
    reference, reference_md = build_reference(
        shared, stations, corr.tables["corridors"], tables["links"], TWH_TH_PER_BCM,
        (lng_price / gd_gas["efficiency"] + gd_gas["marginal_cost_cny_per_mwh"], costs.coal),
        a, md_table)
    write_table(reference, "calibration_reference", out)
    write_sources(out, shared, stations, other, corr.links, lines, summary, exports,
                  {"@@GAS_TABLES@@": gas.markdown, "@@CORRIDOR_TABLES@@": corr.markdown,
                   "@@OPERATIONS_TABLES@@": ops.markdown,
                   "@@DONGJIANG_TABLES@@": dongjiang.markdown,
                   "@@CALIBRATION_TABLE@@": reference_md})
    return summary


NETWORK_YAML = """\
name: pprd
description: >-
  Pan-Pearl-River-Delta (9+2) power system for 2025: nine provinces, Hong Kong and Macao, the
  West-to-East HVDC/UHVDC corridors, the Jinsha, Yalong and Dadu hydro cascades station by
  station, aggregated provincial fleets and the out-of-region interfaces (East-China exports;
  Hubei, Ningxia and Gansu imports). Built by build/build_pprd.py from the shared reference
  dataset; sources and assumptions in SOURCES.md.
year: 2025
timezone: Asia/Shanghai (naive local time)
demand_basis: 2024 consumption (NBS)
# policies in force: Hong Kong's and Macao's supply-security zones and Hong Kong's fuel mix
# apply to every case on this network (a case switches them off by name: security_off)
security_file: security.yaml
"""


def write_sources(out: Path, shared: Shared, stations: pd.DataFrame, other: pd.DataFrame,
                  links: pd.DataFrame, lines: pd.DataFrame, summary: str, exports: dict,
                  sections: dict[str, str] | None = None) -> None:
    template = (BUILD_DIR / "SOURCES.template.md").read_text()
    st = stations.reset_index(drop=True)
    hydro_tab = pd.DataFrame({
        "station": st["name"], "river": st["river"], "bus": st["bus"],
        "p_max MW": st["p_max_mw"], "energy GWh (kind)": [
            f"{e:,.0f} ({kind})" for e, kind in zip(st["energy_gwh"], st["energy_kind"],
                                                    strict=True)],
        "k MW/(m3/s)": st["mw_per_m3s"].round(4), "k rule": st["k_rule"],
        "implied head m": (st["mw_per_m3s"] * 1e6 / (RHO_G * 0.9)).round(0),
        "mean flow m3/s": st["q_mean_m3s"].round(0),
        "incremental m3/s": st["q_incremental_m3s"].round(0),
        "turbine max m3/s": st["q_turbine_max_m3s"].round(0),
        "energy at mean flow GWh": st["energy_model_gwh"].round(0),
        "storage hm3": st["storage_max_hm3"], "travel h": st["travel_time_h"].round(2),
        "downstream": st["downstream"],
    })
    other_tab = other.reset_index().rename(columns={"province": "bus"})
    other_tab["CF"] = (other_tab["energy_gwh"] * 1e3 / (other_tab["p_max_mw"] * HOURS)).round(3)
    other_tab["energy_gwh"] = other_tab["energy_gwh"].round(0)
    link_tab = links[["name", "bus0", "bus1", "carrier", "p_max_mw", "p_min_pu", "efficiency",
                      "marginal_cost_cny_per_mwh", "length_km"]]
    line_tab = lines[["name", "bus0", "bus1", "s_max_mw", "length_km", "x_ohm"]]
    exp_tab = pd.DataFrame({"export": list(exports), "GWh/yr": [round(v) for v in
                                                                exports.values()]})
    pik = pd.DataFrame([{"edge": f"{k[0]}-{k[1]}", "MW": v, "source": PIK_EDGES_SOURCE,
                         "status": "model input, read directly (not in shared data): secondary"}
                        for k, v in PIK_EDGES.items()])
    text = (template.replace("@@HYDRO_TABLE@@", md_table(hydro_tab))
            .replace("@@OTHER_HYDRO_TABLE@@", md_table(other_tab))
            .replace("@@LINKS_TABLE@@", md_table(link_tab))
            .replace("@@LINES_TABLE@@", md_table(line_tab))
            .replace("@@EXPORTS_TABLE@@", md_table(exp_tab))
            .replace("@@PIK_EDGES_TABLE@@", md_table(pik))
            .replace("@@ASSUMPTIONS_TABLE@@", assumptions_md())
            .replace("@@FIGURES_TABLE@@", figures_md(shared))
            .replace("@@SUMMARY@@", summary))
    for marker, section in (sections or {}).items():
        text = text.replace(marker, section)
    (out / "SOURCES.md").write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="folder of the shared reference data (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=NETWORK_DIR,
                        help="network folder to write (default: %(default)s)")
    args = parser.parse_args(argv)
    print(build(args.shared.resolve(), args.out.resolve()))


if __name__ == "__main__":
    main()
