"""PyPSA networks in: import a PyPSA network as a gridopt case folder.

Import (`import_pypsa`, `from_pypsa`) maps the attributes of the export back. It does not map
capacity expansion (gridopt's `candidates`), unit commitment, Stores, multi-port links or emission
constraints yet, so the importer refuses (an `InputError` naming the component and attribute)
extendable capacities, committable or maintainable units, Stores, Processes, GlobalConstraints,
quadratic or time-varying costs, links with more than two buses or a delay, transformers with an
off-nominal tap or a phase shift, angle-difference limits and multi-period or stochastic
networks. Other input attributes that have no effect on a single-period dispatch (capital costs
of fixed assets, reactive power, power-flow settings) are ignored; any other attribute set away
from PyPSA's default, any extra column and any inactive component is named in a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pypsa

from gridopt.errors import InputError, Problem
from gridopt.interop import (
    DEFAULT_START,
    ImportedCase,
    hourly_series,
    names_preview,
    write_case,
)
from gridopt.interop.pypsa.common import _RTOL, HINT, LOAD_SHEDDING, _quiet
from gridopt.model.hydro import HM3_PER_M3S_H
from gridopt.schema import TABLES

# ------------------------------------------------------------------------------------------
# import
# ------------------------------------------------------------------------------------------

# attributes the importer maps, per component
_MAPPED: dict[str, set[str]] = {
    "Bus": {"name", "v_nom", "x", "y", "carrier"},
    "Carrier": {"name", "co2_emissions", "color", "nice_name"},
    "Generator": {"name", "bus", "carrier", "p_nom", "p_min_pu", "p_max_pu", "marginal_cost",
                  "ramp_limit_up", "ramp_limit_down", "efficiency", "active", "p_init"},
    "Load": {"name", "bus", "p_set", "active", "carrier"},
    "Line": {"name", "bus0", "bus1", "x", "r", "s_nom", "s_max_pu", "type", "num_parallel",
             "carrier", "length", "active"},
    "Transformer": {"name", "bus0", "bus1", "x", "r", "s_nom", "s_max_pu", "type",
                    "num_parallel", "active", "tap_ratio", "phase_shift"},
    "Link": {"name", "bus0", "bus1", "carrier", "efficiency", "active", "p_nom", "p_min_pu",
             "p_max_pu", "marginal_cost", "length"},
    "StorageUnit": {"name", "bus", "carrier", "p_nom", "p_min_pu", "p_max_pu", "marginal_cost",
                    "state_of_charge_initial", "state_of_charge_set", "cyclic_state_of_charge",
                    "max_hours", "efficiency_store", "efficiency_dispatch", "standing_loss",
                    "inflow", "active"},
}
_FIXED_ASSET = {"capital_cost", "overnight_cost", "discount_rate", "fom_cost", "build_year",
                "lifetime"}
_EXPANSION_BOUNDS = {"p_nom_min", "p_nom_max", "p_nom_set", "s_nom_min", "s_nom_max",
                     "s_nom_set"}
_COMMITMENT = {"min_up_time", "min_down_time", "up_time_before", "down_time_before",
               "start_up_cost", "shut_down_cost", "ramp_limit_start_up", "ramp_limit_shut_down",
               "maintenance_duration", "maintenance_pu", "maintenance_events"}
# input attributes without effect on a single-period dispatch with fixed capacities
_IRRELEVANT: dict[str, set[str]] = {
    "Bus": {"type", "unit", "location", "v_mag_pu_set", "v_mag_pu_min", "v_mag_pu_max"},
    "Carrier": {"max_growth", "max_relative_growth"},
    "Generator": {"control", "type", "q_set", "weight"} | _FIXED_ASSET | _EXPANSION_BOUNDS
    | _COMMITMENT,
    "Load": {"type", "q_set"},
    "Line": {"g", "b", "terrain_factor", "v_nom"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
    "Transformer": {"g", "b", "tap_side", "tap_position", "model"} | _FIXED_ASSET
    | _EXPANSION_BOUNDS,
    "Link": {"type", "terrain_factor", "p_init", "cyclic_delay"} | _FIXED_ASSET
    | _EXPANSION_BOUNDS | _COMMITMENT,
    "StorageUnit": {"control", "type", "q_set", "state_of_charge_initial_per_period",
                    "cyclic_state_of_charge_per_period"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
}
# attributes whose use gridopt refuses, with the feature they belong to
_REFUSED: dict[str, dict[str, str]] = {
    "Generator": {"p_nom_extendable": "capacity expansion", "committable": "unit commitment",
                  "maintainable": "maintenance scheduling",
                  "p_nom_mod": "modular (integer) capacity",
                  "marginal_cost_quadratic": "quadratic costs",
                  "p_set": "fixed dispatch set points",
                  "e_sum_min": "energy limits over the horizon",
                  "e_sum_max": "energy limits over the horizon",
                  "sign": "generators that consume", "stand_by_cost": "stand-by costs"},
    "Load": {"sign": "loads that produce"},
    "Line": {"s_nom_extendable": "transmission expansion", "s_nom_mod": "modular capacity",
             "v_ang_min": "angle-difference limits", "v_ang_max": "angle-difference limits"},
    "Transformer": {"s_nom_extendable": "transmission expansion",
                    "s_nom_mod": "modular capacity",
                    "tap_ratio": "off-nominal tap ratios",
                    "phase_shift": "phase-shifting transformers",
                    "phase_shift_min": "phase-shifting transformers",
                    "phase_shift_max": "phase-shifting transformers",
                    "v_ang_min": "angle-difference limits", "v_ang_max": "angle-difference limits"},
    "Link": {"p_nom_extendable": "capacity expansion", "committable": "unit commitment",
             "maintainable": "maintenance scheduling", "p_nom_mod": "modular capacity",
             "p_set": "fixed dispatch set points",
             "marginal_cost_quadratic": "quadratic costs", "stand_by_cost": "stand-by costs",
             "ramp_limit_up": "ramp limits on links", "ramp_limit_down": "ramp limits on links",
             "delay": "delayed delivery"},
    "StorageUnit": {"p_nom_extendable": "capacity expansion", "p_nom_mod": "modular capacity",
                    "p_set": "fixed dispatch set points",
                    "p_dispatch_set": "fixed dispatch set points",
                    "p_store_set": "fixed dispatch set points", "sign": "reversed sign",
                    "spill_cost": "spill costs", "marginal_cost_quadratic": "quadratic costs",
                    "marginal_cost_storage": "costs of holding energy"},
}
_SUPPORTED = set(_MAPPED) | {"LineType", "TransformerType", "SubNetwork", "Shape"}
_REFUSED_COMPONENTS = {
    "Store": "Stores are not supported yet (gridopt's storage is a StorageUnit with power and"
             " energy rated together; a Store with its charging links is not an exact match)",
    "GlobalConstraint": "global constraints (emission limits, primary-energy or transmission"
                        " caps) are not supported yet",
    "Process": "processes (multi-carrier conversion) are not supported",
}
_MULTIPORT = re.compile(r"^(bus|efficiency|delay|cyclic_delay)([2-9]|[1-9]\d+)$")


@dataclass
class _Import:
    """State shared by the component mappers: the network, problems and warnings."""

    n: pypsa.Network
    source: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    active: dict[str, pd.Index] = field(default_factory=dict)
    hours: float = 1.0  # snapshot length

    def refuse(self, rule: str) -> None:
        self.problems.append(Problem(self.source, rule))

    def dense(self, component: str, attr: str, names: pd.Index) -> pd.DataFrame:
        """(snapshot x component) values, static values broadcast over the snapshots."""
        return self.n.get_switchable_as_dense(component, attr, inds=names)

    def static(self, component: str, attr: str, names: pd.Index, what: str = "") -> pd.Series:
        """One value per component; a value that varies over the snapshots is refused."""
        values = self.dense(component, attr, names)
        spread = (values.max() - values.min()).abs()
        varies = spread > _RTOL * values.abs().max().clip(lower=1.0)
        if varies.any():
            self.refuse(f"{component} {names_preview(names[varies.to_numpy()])}: time-varying"
                        f" {attr} is not supported{what}")
        return values.iloc[0] if len(values) else pd.Series(dtype=float, index=names)


def read_pypsa(src: Path | str) -> pypsa.Network:
    """Read a PyPSA netCDF file (`.nc`) or CSV folder."""
    src = Path(src)
    if not src.exists():
        raise InputError([Problem(str(src), "no such file or folder")])
    try:
        with _quiet():
            if src.is_dir():
                n = pypsa.Network()
                n.import_from_csv_folder(src)
            else:
                n = pypsa.Network(src)
    except Exception as exc:  # any reader failure is a bad input file
        raise InputError([Problem(str(src), f"cannot be read as a PyPSA network ({exc})")]
                         ) from None
    return n


def import_pypsa(src: Path | str, out_dir: Path | str, overwrite: bool = False) -> list[str]:
    """Read a PyPSA network (netCDF file or CSV folder), write a gridopt case folder.

    Returns the warnings (each names the components concerned); raises `InputError` naming
    every component and attribute that gridopt cannot represent.
    """
    n = read_pypsa(src)
    imported = from_pypsa(n, source=str(src), name=Path(src).stem)
    write_case(imported, out_dir, overwrite=overwrite)
    return imported.warnings


def from_pypsa(n: pypsa.Network, source: str = "PyPSA network", name: str = "imported"
               ) -> ImportedCase:
    """Map a PyPSA network to gridopt tables, series and case settings (see module docstring)."""
    with _quiet():
        n = n.copy()
        n.calculate_dependent_values()
        ctx = _Import(n, source)
        _check_structure(ctx)
        resolution_h, start = _snapshots(ctx)
        ctx.hours = float(resolution_h)
        for component in _MAPPED:
            _check_attributes(ctx, component)
        tables: dict[str, pd.DataFrame] = {}
        tables["buses"] = _import_buses(ctx)
        tables["carriers"] = _import_carriers(ctx)
        tables["loads"], load_mw = _import_loads(ctx)
        tables["generators"], avail = _import_generators(ctx, resolution_h)
        tables["storage_units"], tables["hydro"], inflow = _import_storage(ctx)
        tables["lines"] = _import_passive(ctx)
        tables["links"] = _import_links(ctx)
    if ctx.problems:
        raise InputError(ctx.problems)
    shedding = _detect_load_shedding(ctx, tables, avail, load_mw)
    _complete_carriers(tables)
    series = {key: hourly_series(df, start, resolution_h)
              for key, df in (("load_mw", load_mw), ("availability_pu", avail),
                              ("inflow_m3s", inflow)) if df.shape[1]}
    case = {
        "name": n.name or name,
        "description": f"imported from the PyPSA network {Path(source).name}",
        "network": ".",
        "horizon": {"start": start.strftime("%Y-%m-%d %H:%M"), "snapshots": len(n.snapshots),
                    "resolution_h": resolution_h},
        "model": "dispatch",
        "load_shedding": shedding,
    }
    return ImportedCase(tables=tables, series=series, case=case, warnings=ctx.notes)


def _check_structure(ctx: _Import) -> None:
    n = ctx.n
    if isinstance(n.snapshots, pd.MultiIndex):
        ctx.refuse("networks with investment periods (multi-period snapshots) are not supported")
    if getattr(n, "has_scenarios", False):
        ctx.refuse("stochastic networks (scenarios) are not supported")
    if ctx.problems:  # the tables cannot even be read one value per component
        raise InputError(ctx.problems)
    for c in n.components:
        if c.static.empty:
            continue
        if c.name in _REFUSED_COMPONENTS:
            detail = ""
            if c.name == "GlobalConstraint":
                detail = " (" + "; ".join(f"'{i}': {r['type']} on {r['carrier_attribute']}"
                                          f" {r['sense']} {r['constant']:g}"
                                          for i, r in c.static.iterrows()) + ")"
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}:"
                       f" {_REFUSED_COMPONENTS[c.name]}{detail}")
        elif c.name == "ShuntImpedance":
            ctx.notes.append(f"ShuntImpedance {names_preview(c.static.index)}: ignored (no"
                             " effect on a linear power flow dispatch)")
        elif c.name not in _SUPPORTED:
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}: this component is not"
                       " supported")


def _snapshots(ctx: _Import) -> tuple[int, pd.Timestamp]:
    """Hours per snapshot (from the weightings) and the first timestamp of the case."""
    n = ctx.n
    weights = n.snapshot_weightings
    first = float(weights.iloc[0, 0])
    if not np.allclose(weights.to_numpy(), first, rtol=0, atol=1e-9):
        ctx.refuse("snapshot weightings must be equal for all snapshots and for objective,"
                   " stores and generators (gridopt snapshots all have the same length);"
                   f" found {sorted(set(np.round(weights.to_numpy().ravel(), 6)))[:6]}")
        raise InputError(ctx.problems)
    resolution = round(first)
    if abs(first - resolution) > 1e-9 or not 1 <= resolution <= 168:
        ctx.refuse(f"snapshot weighting {first:g} h is not a whole number of hours between 1"
                   " and 168")
        raise InputError(ctx.problems)
    sns = n.snapshots
    if isinstance(sns, pd.DatetimeIndex):
        if sns.tz is not None:
            ctx.notes.append(f"snapshots are in time zone {sns.tz}; written as local times"
                             " without the zone")
            sns = sns.tz_localize(None)
        steps = np.diff(sns.to_numpy()).astype("timedelta64[s]").astype(float) / 3600.0
        if np.allclose(steps, resolution) and sns[0] == sns[0].floor("h"):
            return resolution, sns[0]
        ctx.notes.append(f"snapshots are not spaced {resolution} h apart on whole hours as"
                         f" their weighting says; the case numbers them as consecutive"
                         f" {resolution} h steps from {sns[0].floor('h')}")
        return resolution, sns[0].floor("h")
    ctx.notes.append(f"snapshots are not dates and times; the case numbers them as consecutive"
                     f" {resolution} h steps from {DEFAULT_START:%Y-%m-%d %H:%M}")
    return resolution, DEFAULT_START


def _differs(values: pd.Series, default: object) -> pd.Series:
    """True where a value is set away from PyPSA's default."""
    if isinstance(default, bool | np.bool_):
        return values.fillna(default).astype(bool) != bool(default)
    if isinstance(default, int | float | np.number):
        num = pd.to_numeric(values, errors="coerce").astype(float)
        d = float(default)
        if np.isnan(d):
            return num.notna()
        return ~np.isclose(num.fillna(d), d, rtol=0, atol=1e-12)
    text = values.fillna("").astype(str)
    return (text != str(default if default is not None else "")) & (text != "")


def _check_attributes(ctx: _Import, component: str) -> None:
    """Refuse unsupported attributes; warn about set attributes that are not used."""
    c = ctx.n.components[component]
    static = c.static
    if static.empty:
        ctx.active[component] = pd.Index([])
        return
    dyn_active = c.dynamic.get("active")
    if dyn_active is not None and not dyn_active.empty:
        ctx.refuse(f"{component}: time-varying 'active' is not supported")
    active = static["active"].astype(bool) if "active" in static else pd.Series(True,
                                                                                 static.index)
    off = static.index[~active.to_numpy()]
    if len(off):
        ctx.notes.append(f"{component} {names_preview(off)}: inactive, left out")
    names = static.index[active.to_numpy()]
    ctx.active[component] = names
    static = static.loc[names]
    defaults = c.defaults
    inputs = defaults.index[defaults["status"].astype(str).str.startswith("Input")]
    refused = _REFUSED.get(component, {})
    known = _MAPPED[component] | _IRRELEVANT.get(component, set())
    for attr in static.columns:
        if attr.startswith(HINT):
            continue
        if _MULTIPORT.match(attr):
            if attr.startswith("bus"):
                used = static[attr].fillna("").astype(str) != ""
                if used.any():
                    ctx.refuse(f"{component} {names_preview(names[used.to_numpy()])}: {attr}"
                               " is set, but links with more than two buses are not supported")
            continue
        if attr not in defaults.index and attr not in known:
            set_ = static[attr].notna() & (static[attr].astype(str) != "")
            if set_.any():
                ctx.notes.append(f"{component} {names_preview(names[set_.to_numpy()])}: extra"
                                 f" column '{attr}' is not a PyPSA attribute; ignored")
            continue
        if attr not in inputs or (attr in known and attr not in refused):
            continue
        differs = _differs(static[attr], defaults.at[attr, "default"])
        if not differs.any():
            continue
        hit = names[np.asarray(differs, dtype=bool)]
        value = static.loc[hit[0], attr]
        value = value.item() if isinstance(value, np.generic) else value
        if attr in refused:
            ctx.refuse(f"{component} {names_preview(hit)}: {attr}={value!r} is not supported"
                       f" yet ({refused[attr]})")
        else:
            ctx.notes.append(f"{component} {names_preview(hit)}: {attr}={value!r} is not used"
                             " by gridopt; ignored")
    for attr, df in c.dynamic.items():
        if df.empty or attr not in inputs or (attr in known and attr not in refused):
            continue
        cols = df.columns.intersection(names)
        if not len(cols) or df[cols].isna().all().all():
            continue
        hit = pd.Index(cols)
        if attr in refused:
            ctx.refuse(f"{component} {names_preview(hit)}: time-varying {attr} is not supported"
                       f" yet ({refused[attr]})")
        else:
            ctx.notes.append(f"{component} {names_preview(hit)}: time-varying {attr} is not"
                             " used by gridopt; ignored")
    for attr, df in getattr(c, "piecewise", {}).items():
        if df is not None and not df.empty:
            ctx.refuse(f"{component}: piecewise {attr} is not supported")


def _hint(static: pd.DataFrame, column: str) -> pd.Series:
    key = f"{HINT}{column}"
    if key in static:
        return static[key]
    return pd.Series(np.nan, index=static.index, dtype=object)


def _import_buses(ctx: _Import) -> pd.DataFrame:
    names = ctx.active["Bus"]
    b = ctx.n.buses.loc[names]
    carrier = b["carrier"].replace("", "AC").fillna("AC")
    bad = ~carrier.isin(["AC", "DC"])
    if bad.any():
        for car, group in carrier[bad].groupby(carrier[bad]):
            ctx.refuse(f"Bus {names_preview(group.index)}: carrier '{car}' is not supported"
                       " (gridopt networks are electrical: AC or DC buses)")
    if (b["v_nom"] <= 0).any():
        ctx.refuse(f"Bus {names_preview(names[(b['v_nom'] <= 0).to_numpy()])}: v_nom must be"
                   " positive")
    region = _hint(b, "region")
    if region.isna().any() and "country" in b:
        region = region.fillna(b["country"].replace("", np.nan))
    if region.isna().any():
        ctx.notes.append(f"Bus {names_preview(names[region.isna().to_numpy()])}: no region"
                         " (gridopt_region or country column); set to 'all'")
        region = region.fillna("all")
    x, y = b["x"].astype(float), b["y"].astype(float)
    unknown = (x == 0) & (y == 0)
    outside = (x.abs() > 180) | (y.abs() > 90)
    if outside.any():
        ctx.notes.append(f"Bus {names_preview(names[outside.to_numpy()])}: x, y are not"
                         " longitude and latitude; left blank")
    keep = ~(unknown | outside)
    return pd.DataFrame({"region": region.astype(str), "carrier": carrier,
                         "v_nom_kv": b["v_nom"].astype(float),
                         "x_lon": x.where(keep), "y_lat": y.where(keep)}, index=names)


def _import_carriers(ctx: _Import) -> pd.DataFrame:
    car = ctx.n.carriers
    car = car.loc[ctx.active.get("Carrier", car.index)] if len(car) else car
    cols = TABLES["carriers"].column_names[1:]
    if car.empty:
        return pd.DataFrame(columns=cols)
    co2 = car["co2_emissions"].astype(float)
    fossil = _hint(car, "fossil")
    renewable = _hint(car, "renewable")
    return pd.DataFrame({
        "renewable": renewable.where(renewable.notna(), False).astype(bool),
        "fossil": fossil.where(fossil.notna(), co2 > 0).astype(bool),
        "color": car["color"].replace("", np.nan).fillna("#999999"),
        "nice_name": car["nice_name"].replace("", np.nan),
    }, index=car.index)


def _import_loads(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Load"]
    loads = ctx.n.loads.loc[names]
    table = pd.DataFrame({"bus": loads["bus"], "scale": 1.0}, index=names)
    return table, ctx.dense("Load", "p_set", names)


def _import_generators(ctx: _Import, hours: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Generator"]
    g = ctx.n.generators.loc[names]
    p_nom = g["p_nom"].astype(float)
    p_max_pu = ctx.dense("Generator", "p_max_pu", names)
    p_min_pu = ctx.dense("Generator", "p_min_pu", names)
    if (p_max_pu < 0).any().any() or (p_min_pu < 0).any().any():
        bad = names[((p_max_pu < 0).any() | (p_min_pu < 0).any()).to_numpy()]
        ctx.refuse(f"Generator {names_preview(bad)}: negative p_min_pu or p_max_pu (a generator"
                   " that consumes) is not supported")
    # gridopt's floor is min(p_min_mw, p_max_mw * availability): a constant floor, lowered
    # where the availability is lower
    floor_pu = p_min_pu.max()
    expected = np.minimum(floor_pu.to_numpy()[None, :], p_max_pu.to_numpy())
    mismatch = ~np.isclose(p_min_pu.to_numpy(), expected, rtol=1e-9, atol=1e-12).all(axis=0)
    infeasible = (p_min_pu.to_numpy() > p_max_pu.to_numpy() + 1e-12).any(axis=0)
    if mismatch.any():
        ctx.refuse(f"Generator {names_preview(names[mismatch])}: a time-varying p_min_pu is"
                   " supported only where it equals min(a constant, p_max_pu)")
    if infeasible.any():
        ctx.notes.append(f"Generator {names_preview(names[infeasible])}: p_min_pu exceeds"
                         " p_max_pu in some snapshots (PyPSA would find no solution); gridopt"
                         " lowers the floor to the availability there")
    cost = ctx.static("Generator", "marginal_cost", names)
    efficiency = ctx.dense("Generator", "efficiency", names).mean()
    ramps = {}
    for attr, column in (("ramp_limit_up", "ramp_up_mw_per_h"),
                         ("ramp_limit_down", "ramp_down_mw_per_h")):
        limit = ctx.static("Generator", attr, names)
        ramps[column] = limit * p_nom / hours
    # the ramp into the first snapshot starts from p_init (blank: not limited), as in gridopt
    p_init = (pd.to_numeric(g["p_init"], errors="coerce").astype(float) if "p_init" in g
              else pd.Series(np.nan, index=names))
    carrier = g["carrier"].replace("", np.nan).fillna("unspecified")
    co2 = _hint(g, "co2_t_per_mwh").astype(float)
    if co2.isna().any() and len(ctx.n.carriers):
        factor = carrier.map(ctx.n.carriers["co2_emissions"]).astype(float).fillna(0.0)
        co2 = co2.fillna(factor / efficiency.where(efficiency > 0, 1.0))
    variable = ~np.isclose(p_max_pu.to_numpy(), 1.0, rtol=0, atol=1e-12).all(axis=0)
    table = pd.DataFrame({
        "bus": g["bus"], "carrier": carrier, "p_max_mw": p_nom,
        "p_min_mw": floor_pu * p_nom, "marginal_cost_cny_per_mwh": cost,
        "ramp_up_mw_per_h": ramps["ramp_up_mw_per_h"],
        "ramp_down_mw_per_h": ramps["ramp_down_mw_per_h"],
        "p_initial_mw": p_init,
        "co2_t_per_mwh": co2.fillna(0.0),
        "availability_profile": pd.Series(np.where(variable, names, None), index=names,
                                          dtype=object),
        # output per fuel burnt; PyPSA's default 1 means none given
        "efficiency": efficiency.where((efficiency > 0) & (efficiency < 1)),
    }, index=names)
    return table, p_max_pu.loc[:, variable]


def _import_storage(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """StorageUnits that can charge -> storage_units; those that cannot -> hydro stations."""
    names = ctx.active["StorageUnit"]
    s = ctx.n.storage_units.loc[names]
    p_nom = s["p_nom"].astype(float)
    p_min_pu = ctx.static("StorageUnit", "p_min_pu", names)
    p_max_pu = ctx.static("StorageUnit", "p_max_pu", names)
    eff_store = ctx.static("StorageUnit", "efficiency_store", names)
    eff_dispatch = ctx.static("StorageUnit", "efficiency_dispatch", names)
    loss = ctx.static("StorageUnit", "standing_loss", names)
    cost = ctx.static("StorageUnit", "marginal_cost", names)
    inflow = ctx.dense("StorageUnit", "inflow", names)
    soc_set = ctx.dense("StorageUnit", "state_of_charge_set", names)
    energy = s["max_hours"].astype(float) * p_nom
    carrier = s["carrier"].replace("", np.nan)
    hint_hydro = _hint(s, "mw_per_m3s").notna()
    is_hydro = (p_min_pu >= 0) | hint_hydro
    sto, hy = names[~is_hydro.to_numpy()], names[is_hydro.to_numpy()]

    charge = s.loc[sto]
    bad = ~np.isclose(p_min_pu[sto], -p_max_pu[sto]) | (p_max_pu[sto] <= 0)
    if bad.any():
        ctx.refuse(f"StorageUnit {names_preview(sto[bad.to_numpy()])}: charging and discharging"
                   " limits must be equal (p_min_pu = -p_max_pu)")
    if (inflow[sto].abs() > 0).any().any():
        ctx.refuse(f"StorageUnit {names_preview(sto[(inflow[sto].abs() > 0).any().to_numpy()])}"
                   ": natural inflow into a unit that also charges from the grid (pumped"
                   " storage with inflow) is not supported")
    if soc_set[sto].notna().any().any():
        ctx.refuse(f"StorageUnit {names_preview(sto[soc_set[sto].notna().any().to_numpy()])}:"
                   " state_of_charge_set is not supported for storage units")
    cyclic = charge["cyclic_state_of_charge"].astype(bool)
    storage = pd.DataFrame({
        "bus": charge["bus"], "carrier": carrier[sto].fillna("storage"),
        "p_max_mw": p_nom[sto] * p_max_pu[sto], "energy_max_mwh": energy[sto],
        "efficiency_charge": eff_store[sto], "efficiency_discharge": eff_dispatch[sto],
        "standing_loss_per_h": loss[sto],
        # PyPSA starts from its initial level as it is; gridopt applies the standing loss of
        # the first snapshot to the level before it
        "soc_initial_mwh": (charge["state_of_charge_initial"].astype(float)
                            / (1.0 - loss[sto]) ** ctx.hours).where(~cyclic),
        "marginal_cost_cny_per_mwh": cost[sto],
    }, index=sto)

    hydro, inflow_m3s = _import_hydro(ctx, s.loc[hy], p_nom[hy], p_min_pu[hy], p_max_pu[hy],
                                      eff_dispatch[hy], loss[hy], cost[hy], inflow[hy],
                                      soc_set[hy], carrier[hy])
    return storage, hydro, inflow_m3s


def _import_hydro(ctx: _Import, s: pd.DataFrame, p_nom: pd.Series, p_min_pu: pd.Series,
                  p_max_pu: pd.Series, eff_dispatch: pd.Series, loss: pd.Series,
                  cost: pd.Series, inflow_mw: pd.DataFrame, soc_set: pd.DataFrame,
                  carrier: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units that cannot charge: reservoirs. Water is counted so that power = mw_per_m3s * q.

    With k = mw_per_m3s (the `gridopt_mw_per_m3s` column, else efficiency_dispatch), one MWh of
    state of charge is 0.0036 * efficiency_dispatch / k hm3 and one MW of inflow is
    efficiency_dispatch / k m3/s.
    """
    names = s.index
    if names.empty:
        return pd.DataFrame(columns=TABLES["hydro"].column_names[1:]), pd.DataFrame(
            index=ctx.n.snapshots)
    if (p_min_pu > 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(p_min_pu > 0).to_numpy()])}: a minimum"
                   " dispatch (p_min_pu > 0) is not supported")
    if (loss > 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(loss > 0).to_numpy()])}: standing_loss"
                   " on a unit that cannot charge (a reservoir) is not supported")
    if (eff_dispatch <= 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(eff_dispatch <= 0).to_numpy()])}:"
                   " efficiency_dispatch must be positive")
    k = _hint(s, "mw_per_m3s").astype(float)
    k = k.where(k > 0, eff_dispatch)
    hm3_per_mwh = HM3_PER_M3S_H * eff_dispatch / k
    v_min = _hint(s, "storage_min_hm3").astype(float).fillna(0.0)
    v_max = s["max_hours"].astype(float) * p_nom * hm3_per_mwh + v_min
    soc0 = s["state_of_charge_initial"].astype(float)
    cyclic = s["cyclic_state_of_charge"].astype(bool)
    # end rule: a set point at the last snapshot equal to the start is gridopt's "fixed"
    set_points = soc_set.notna()
    last_only = ~set_points.iloc[:-1].any() & set_points.iloc[-1]
    ends_at_start = np.isclose(soc_set.iloc[-1].fillna(-1.0), soc0, rtol=1e-9, atol=1e-6)
    fixed = last_only & ends_at_start & ~cyclic
    bad = set_points.any() & ~fixed
    if bad.any():
        ctx.refuse(f"StorageUnit {names_preview(names[bad.to_numpy()])}: state_of_charge_set is"
                   " supported only at the last snapshot and equal to state_of_charge_initial"
                   " (a reservoir that ends where it starts)")
    rule = pd.Series(np.where(cyclic, "cyclic", np.where(fixed, "fixed", "free")), index=names)
    initial = soc0 * hm3_per_mwh + v_min
    given = _hint(s, "storage_initial_hm3").astype(float)
    half = 0.5 * (v_min + v_max)
    from_hint = f"{HINT}storage_initial_hm3" in s
    initial = initial.where(~(from_hint & given.isna() & np.isclose(initial, half)))
    initial = initial.where(~cyclic, given)
    withdrawal = _hint(s, "withdrawal_m3s").astype(float).fillna(0.0)
    inflow_m3s = inflow_mw * (eff_dispatch / k).to_numpy()[None, :] + withdrawal.to_numpy()
    flows = (inflow_m3s != 0).any().to_numpy()
    table = pd.DataFrame({
        "bus": s["bus"], "carrier": carrier.fillna("hydro"), "river": _hint(s, "river"),
        "p_max_mw": p_nom * p_max_pu, "mw_per_m3s": k, "storage_max_hm3": v_max,
        "storage_min_hm3": v_min, "storage_initial_hm3": initial, "end_rule": rule,
        "q_env_min_m3s": _hint(s, "q_env_min_m3s").astype(float).fillna(0.0),
        "withdrawal_m3s": withdrawal,
        "inflow_profile": pd.Series(np.where(flows, names, None), index=names, dtype=object),
        "downstream": _hint(s, "downstream"),
        "travel_time_h": _hint(s, "travel_time_h").astype(float).fillna(0.0),
        "release_initial_m3s": _hint(s, "release_initial_m3s").astype(float),
        "marginal_cost_cny_per_mwh": cost,
    }, index=names)
    behaviour = table["downstream"].notna() | (table["q_env_min_m3s"] > 0)
    if behaviour.any():
        ctx.notes.append(f"StorageUnit {names_preview(names[behaviour.to_numpy()])}: river"
                         " routing or minimum releases restored from the gridopt_* columns;"
                         " PyPSA did not model them, so gridopt's optimum can differ")
    return table, inflow_m3s.loc[:, flows]


def _import_passive(ctx: _Import) -> pd.DataFrame:
    """Lines and simple transformers -> lines with x_ohm = x_pu_eff * v_nom(bus0)^2."""
    n = ctx.n
    v_nom = n.buses["v_nom"].astype(float)
    bus_carrier = n.buses["carrier"].replace("", "AC")
    parts = []
    for component, table in (("Line", n.lines), ("Transformer", n.transformers)):
        names = ctx.active[component]
        if names.empty:
            continue
        br = table.loc[names]
        dc = (bus_carrier.reindex(br["bus0"]).to_numpy() == "DC")
        x_pu = np.where(dc, br["r_pu_eff"].astype(float), br["x_pu_eff"].astype(float))
        bad = ~(x_pu > 0)
        if bad.any():
            ctx.refuse(f"{component} {names_preview(names[bad])}: the series reactance"
                       " (resistance on DC buses) must be positive")
        s_max_pu = ctx.static(component, "s_max_pu", names)
        carrier = (br["carrier"].replace("", np.nan) if "carrier" in br
                   else pd.Series(np.nan, index=names)).fillna("AC")
        length = (_length_km(br) if "length" in br else pd.Series(np.nan, index=names))
        parts.append(pd.DataFrame({
            "bus0": br["bus0"], "bus1": br["bus1"],
            "x_ohm": x_pu * v_nom.reindex(br["bus0"]).to_numpy() ** 2,
            "s_max_mw": br["s_nom"].astype(float) * s_max_pu, "carrier": carrier,
            "length_km": length,
        }, index=names))
    if not parts:
        return pd.DataFrame(columns=TABLES["lines"].column_names[1:])
    if len(parts) == 2:
        clash = parts[0].index.intersection(parts[1].index)
        if len(clash):
            ctx.notes.append(f"Transformer {names_preview(clash)}: a line has the same name;"
                             " the transformer is named 'transformer <name>'")
            parts[1] = parts[1].rename(index={c: f"transformer {c}" for c in clash})
    return pd.concat(parts)


def _length_km(branches: pd.DataFrame) -> pd.Series:
    """Route length: the gridopt_length_km column where present, else PyPSA's length (0 is
    PyPSA's default and means unknown)."""
    length = branches["length"].astype(float)
    length = length.where(length > 0)
    if f"{HINT}length_km" in branches:
        return branches[f"{HINT}length_km"].astype(float)
    return length


def _import_links(ctx: _Import) -> pd.DataFrame:
    names = ctx.active["Link"]
    if names.empty:
        return pd.DataFrame(columns=TABLES["links"].column_names[1:])
    k = ctx.n.links.loc[names]
    p_max_pu = ctx.static("Link", "p_max_pu", names)
    p_min_pu = ctx.static("Link", "p_min_pu", names)
    efficiency = ctx.static("Link", "efficiency", names)
    cost = ctx.static("Link", "marginal_cost", names)
    p_nom = k["p_nom"].astype(float)
    scaled_min = p_min_pu / p_max_pu.where(p_max_pu > 0)
    bad = (p_max_pu <= 0) & ~((p_max_pu == 0) & (p_min_pu == 0))
    bad |= (scaled_min < -1 - 1e-12) | (scaled_min > 1 + 1e-12)
    if bad.any():
        ctx.refuse(f"Link {names_preview(names[bad.to_numpy()])}: p_min_pu / p_max_pu must lie"
                   " in [-1, 1] with p_max_pu > 0 (gridopt links carry p_min_pu * p_max_mw ..."
                   " p_max_mw)")
    if ((efficiency > 1) | (efficiency <= 0)).any():
        ctx.refuse(f"Link {names_preview(names[((efficiency > 1) | (efficiency <= 0)).to_numpy()])}"
                   ": efficiency must lie in (0, 1]")
    length = _length_km(k)
    links = pd.DataFrame({
        "bus0": k["bus0"], "bus1": k["bus1"],
        "carrier": k["carrier"].replace("", np.nan).fillna("DC"),
        "p_max_mw": p_nom * p_max_pu, "p_min_pu": scaled_min.fillna(0.0).clip(-1, 1),
        "efficiency": efficiency, "marginal_cost_cny_per_mwh": cost,
        "length_km": length,
    }, index=names)
    # PyPSA runs a lossy link backwards at a gain (bus1 gives efficiency * |p|, bus0 gets |p|);
    # gridopt takes a lossy two-way transfer as two one-way links, each losing energy
    lossy = (links["p_min_pu"] < 0) & (links["efficiency"] < 1)
    if lossy.any():
        back = links[lossy].rename(index=lambda name: f"{name} reverse")
        taken = back.index.intersection(links.index)
        if len(taken):
            ctx.refuse(f"Link {names_preview(taken)}: name needed for the reverse direction of"
                       " a lossy reversible link")
        back = back.assign(bus0=links.loc[lossy, "bus1"].to_numpy(),
                           bus1=links.loc[lossy, "bus0"].to_numpy(),
                           p_max_mw=-links.loc[lossy, "p_min_pu"].to_numpy()
                           * links.loc[lossy, "p_max_mw"].to_numpy(), p_min_pu=0.0)
        links.loc[lossy, "p_min_pu"] = 0.0
        links = pd.concat([links, back])
        ctx.notes.append(f"Link {names_preview(names[lossy.to_numpy()])}: reversible with"
                         " losses, which PyPSA runs backwards at a gain; imported as two one-way"
                         " links ('<name>' and '<name> reverse') that both lose energy, so the"
                         " optimum can differ")
    return links


def _detect_load_shedding(ctx: _Import, tables: dict[str, pd.DataFrame], avail: pd.DataFrame,
                          load_mw: pd.DataFrame) -> dict[str, object]:
    """Generators of carrier "load shedding" that can shed exactly each bus's demand at one
    price become the case's load shedding; otherwise they stay ordinary generators."""
    gens = tables["generators"]
    shed = gens.index[gens["carrier"] == LOAD_SHEDDING]
    off = {"enabled": False}
    if shed.empty:
        return off
    g = gens.loc[shed]
    cost = g["marginal_cost_cny_per_mwh"]
    if g["bus"].duplicated().any() or cost.nunique() != 1 or cost.iloc[0] <= 0 or \
            (g["p_min_mw"] > 0).any() or g[["ramp_up_mw_per_h", "ramp_down_mw_per_h"]
                                           ].notna().any().any():
        return off
    loads = tables["loads"]
    demand = load_mw.T.groupby(loads["bus"]).sum().T.clip(lower=0)
    demand = demand.reindex(columns=tables["buses"].index, fill_value=0.0)
    pu = avail.reindex(columns=shed).fillna(1.0)
    capacity = pu * g["p_max_mw"].to_numpy()[None, :]
    capacity.columns = g["bus"].to_numpy()
    full = capacity.reindex(columns=demand.columns, fill_value=0.0)
    if not np.allclose(full.to_numpy(), demand.to_numpy(), rtol=1e-9, atol=1e-6):
        return off
    tables["generators"] = gens.drop(index=shed)
    for name in avail.columns.intersection(shed):
        del avail[name]
    if LOAD_SHEDDING in tables["carriers"].index and \
            not (tables["generators"]["carrier"] == LOAD_SHEDDING).any():
        tables["carriers"] = tables["carriers"].drop(index=LOAD_SHEDDING)
    ctx.notes.append(f"{len(shed)} generators of carrier '{LOAD_SHEDDING}' that can shed each"
                     " bus's demand became the case's load shedding at"
                     f" {cost.iloc[0]:g} per MWh")
    return {"enabled": True, "voll_cny_per_mwh": float(cost.iloc[0])}


def _complete_carriers(tables: dict[str, pd.DataFrame]) -> None:
    """When carriers are declared, every carrier a component names must be declared too."""
    car = tables["carriers"]
    if car.empty:
        return
    used = pd.Index(pd.concat([tables[t]["carrier"] for t in ("generators", "storage_units",
                                                               "hydro")]).dropna().unique())
    missing = used.difference(car.index)
    if len(missing):
        extra = pd.DataFrame({"renewable": False, "fossil": False, "color": "#999999",
                              "nice_name": np.nan}, index=missing)
        tables["carriers"] = pd.concat([car, extra])
