"""PyPSA networks in: import a PyPSA network as a gridopt case folder.

`import_pypsa` / `from_pypsa` map the attributes of the export (`exporter`) back, and what PyPSA
users write beyond it, into gridopt's families (README "PyPSA support" has the full table):

- Bus: any carrier; AC and DC buses carry lines, other carriers (H2, heat, ...) are balance
  nodes joined by links. Carrier: colours, CO2, and renewable / fossil flags (gridopt's own
  `gridopt_*` columns, else by name: wind, solar, hydro, ... renewable; coal, gas, oil, ...
  or any emitting carrier fossil).
- Generator: p_nom, p_min_pu / p_max_pu (availability), marginal_cost and
  marginal_cost_quadratic (a QP), ramps, p_init; committable units -> a `uc` case (single
  units: stable minimum = p_min_pu, minimum up / down times, start-up, shut-down and stand-by
  costs, the status before the horizon from up_time_before / down_time_before).
- Line and Transformer -> lines: x_pu_eff (with a transformer's tap ratio) as ohm, negative
  reactances kept, phase_shift, and v_ang_max as symmetric angle-difference limits.
- Link -> links; a reversible lossy link -> a two-way corridor that loses either way (PyPSA's
  own runs backwards at a gain, so the import says where it can differ).
- Buses of carrier "gas" and what sits on them -> gridopt's gas network (`gas_import`).
- StorageUnit -> storage units (with natural inflow and spill, e.g. pumped hydro on a river)
  or, when it cannot charge, hydro reservoirs. Store -> a storage unit of efficiency 1 whose
  power cannot bind.
- p_nom_extendable / s_nom_extendable / e_nom_extendable on generators, lines, transformers,
  links, storage units and stores -> candidates of a single-period expansion case
  (`_import_candidates`: the annuity is capital_cost; p_nom is existing capacity, as PyPSA's
  objective constant has it).
- GlobalConstraint: primary_energy CO2 limits -> `expansion.policy.co2_cap_t_per_yr`;
  transmission_volume_expansion_limit -> `expansion.policy.transmission_volume`.
- meta "currency" -> the case's currency (else EUR, or what the caller says).

Refused, each by name (an `InputError` naming the component and attribute): multi-port links,
delays, link ramps and commitment, modular capacities, maintenance, fixed set points, energy
sums, time-varying costs, optimised phase shifts, zero reactances, stores with flow costs or a
floor, extendable generators with a p.u. floor or ramps, extendable and committable at once,
other GlobalConstraint types or senses, investment periods and scenarios. Attributes without
effect on the case as imported (reactive power, power-flow settings, capital costs of fixed
assets) are ignored; any other attribute set away from PyPSA's default, any extra column and
any inactive component is named in a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pypsa

from gridopt.errors import InputError, Problem
from gridopt.inputs.schema import TABLES
from gridopt.interop import (
    DEFAULT_START,
    ImportedCase,
    carrier_flags,
    hourly_series,
    names_preview,
    write_case,
)
from gridopt.interop.pypsa.common import _RTOL, HINT, LOAD_SHEDDING, _quiet
from gridopt.interop.pypsa.gas_import import read_gas
from gridopt.model.hydro import HM3_PER_M3S_H

# ------------------------------------------------------------------------------------------
# import
# ------------------------------------------------------------------------------------------

# attributes the importer maps, per component
_EXPANSION = {"p_nom_extendable", "p_nom_min", "p_nom_max", "capital_cost"}
_COMMITMENT = {
    "committable",
    "min_up_time",
    "min_down_time",
    "up_time_before",
    "down_time_before",
    "start_up_cost",
    "shut_down_cost",
    "stand_by_cost",
    "ramp_limit_start_up",
    "ramp_limit_shut_down",
}
_MAPPED: dict[str, set[str]] = {
    "Bus": {"name", "v_nom", "x", "y", "carrier"},
    "Carrier": {"name", "co2_emissions", "color", "nice_name"},
    "Generator": {
        "name",
        "bus",
        "carrier",
        "p_nom",
        "p_min_pu",
        "p_max_pu",
        "marginal_cost",
        "marginal_cost_quadratic",
        "ramp_limit_up",
        "ramp_limit_down",
        "efficiency",
        "active",
        "p_init",
    }
    | _EXPANSION
    | _COMMITMENT,
    "Load": {"name", "bus", "p_set", "active", "carrier"},
    "Line": {
        "name",
        "bus0",
        "bus1",
        "x",
        "r",
        "s_nom",
        "s_max_pu",
        "type",
        "num_parallel",
        "carrier",
        "length",
        "active",
        "s_nom_extendable",
        "s_nom_min",
        "s_nom_max",
        "capital_cost",
        "v_ang_max",
        "v_ang_min",
    },
    "Transformer": {
        "name",
        "bus0",
        "bus1",
        "x",
        "r",
        "s_nom",
        "s_max_pu",
        "type",
        "num_parallel",
        "active",
        "tap_ratio",
        "phase_shift",
        "s_nom_extendable",
        "s_nom_min",
        "s_nom_max",
        "capital_cost",
        "v_ang_max",
        "v_ang_min",
        "tap_position",
        "tap_side",
    },
    "Link": {
        "name",
        "bus0",
        "bus1",
        "carrier",
        "efficiency",
        "active",
        "p_nom",
        "p_min_pu",
        "p_max_pu",
        "marginal_cost",
        "length",
    }
    | _EXPANSION,
    "StorageUnit": {
        "name",
        "bus",
        "carrier",
        "p_nom",
        "p_min_pu",
        "p_max_pu",
        "marginal_cost",
        "state_of_charge_initial",
        "state_of_charge_set",
        "cyclic_state_of_charge",
        "max_hours",
        "efficiency_store",
        "efficiency_dispatch",
        "standing_loss",
        "inflow",
        "active",
    }
    | _EXPANSION,
    "Store": {
        "name",
        "bus",
        "carrier",
        "e_nom",
        "e_nom_extendable",
        "e_nom_min",
        "e_nom_max",
        "capital_cost",
        "e_min_pu",
        "e_max_pu",
        "e_initial",
        "e_cyclic",
        "standing_loss",
        "active",
    },
    "GlobalConstraint": {
        "name",
        "type",
        "carrier_attribute",
        "sense",
        "constant",
        "investment_period",
    },
}
_FIXED_ASSET = {
    "capital_cost",
    "overnight_cost",
    "discount_rate",
    "fom_cost",
    "build_year",
    "lifetime",
}
_EXPANSION_BOUNDS = {
    "p_nom_min",
    "p_nom_max",
    "p_nom_set",
    "s_nom_min",
    "s_nom_max",
    "s_nom_set",
    "e_nom_set",
}
_UNIT_DATA = {
    "min_up_time",
    "min_down_time",
    "up_time_before",
    "down_time_before",
    "start_up_cost",
    "shut_down_cost",
    "ramp_limit_start_up",
    "ramp_limit_shut_down",
    "maintenance_duration",
    "maintenance_pu",
    "maintenance_events",
}
# input attributes without effect on what gridopt solves (with the component as imported)
_IRRELEVANT: dict[str, set[str]] = {
    "Bus": {"type", "unit", "location", "v_mag_pu_set", "v_mag_pu_min", "v_mag_pu_max"},
    "Carrier": {"max_growth", "max_relative_growth"},
    "Generator": {"control", "type", "q_set", "weight"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
    "Load": {"type", "q_set"},
    "Line": {"g", "b", "terrain_factor", "v_nom"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
    "Transformer": {"g", "b", "model"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
    "Link": {"type", "terrain_factor", "p_init", "cyclic_delay"}
    | _FIXED_ASSET
    | _EXPANSION_BOUNDS
    | _UNIT_DATA,
    "StorageUnit": {
        "control",
        "type",
        "q_set",
        "state_of_charge_initial_per_period",
        "cyclic_state_of_charge_per_period",
    }
    | _FIXED_ASSET
    | _EXPANSION_BOUNDS,
    "Store": {"type", "q_set", "e_initial_per_period", "e_cyclic_per_period"}
    | _FIXED_ASSET
    | _EXPANSION_BOUNDS,
    "GlobalConstraint": {"mu"},
}
# attributes whose use gridopt refuses, with the feature they belong to
_REFUSED: dict[str, dict[str, str]] = {
    "Generator": {
        "maintainable": "maintenance scheduling",
        "p_nom_mod": "modular (integer) capacity",
        "p_set": "fixed dispatch set points",
        "e_sum_min": "energy limits over the horizon",
        "e_sum_max": "energy limits over the horizon",
        "sign": "generators that consume",
    },
    "Load": {"sign": "loads that produce"},
    "Line": {"s_nom_mod": "modular capacity"},
    "Transformer": {
        "s_nom_mod": "modular capacity",
        "phase_shift_min": "optimised phase shifts",
        "phase_shift_max": "optimised phase shifts",
    },
    "Link": {
        "committable": "unit commitment of links",
        "maintainable": "maintenance scheduling",
        "p_nom_mod": "modular capacity",
        "p_set": "fixed dispatch set points",
        "marginal_cost_quadratic": "quadratic costs of links",
        "stand_by_cost": "stand-by costs of links",
        "ramp_limit_up": "ramp limits on links",
        "ramp_limit_down": "ramp limits on links",
        "delay": "delayed delivery",
    },
    "StorageUnit": {
        "p_nom_mod": "modular capacity",
        "p_set": "fixed dispatch set points",
        "p_dispatch_set": "fixed dispatch set points",
        "p_store_set": "fixed dispatch set points",
        "sign": "reversed sign",
        "spill_cost": "spill costs",
        "marginal_cost_quadratic": "quadratic costs of storage",
        "marginal_cost_storage": "costs of holding energy",
    },
    "Store": {
        "e_nom_mod": "modular capacity",
        "p_set": "fixed dispatch set points",
        "sign": "reversed sign",
        "marginal_cost": "costs of a Store's flow (it earns them when charging)",
        "marginal_cost_quadratic": "quadratic costs of storage",
        "marginal_cost_storage": "costs of holding energy",
    },
}
_SUPPORTED = set(_MAPPED) | {"LineType", "TransformerType", "SubNetwork", "Shape"}
_REFUSED_COMPONENTS = {
    "Process": "processes (multi-carrier conversion) are not supported",
}
# GlobalConstraint types gridopt maps (into its expansion policy)
CO2_CAP = "primary_energy"
VOLUME_CAP = "transmission_volume_expansion_limit"
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
    start: pd.Timestamp = DEFAULT_START  # the case's first snapshot
    # attributes refused on a component but allowed on some (gas-fired plants' ramps)
    exempt: dict[str, pd.Index] = field(default_factory=dict)

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
            self.refuse(
                f"{component} {names_preview(names[varies.to_numpy()])}: time-varying"
                f" {attr} is not supported{what}"
            )
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
        raise InputError(
            [Problem(str(src), f"cannot be read as a PyPSA network ({exc})")]
        ) from None
    return n


def import_pypsa(
    src: Path | str, out_dir: Path | str, overwrite: bool = False, currency: str | None = None
) -> list[str]:
    """Read a PyPSA network (netCDF file or CSV folder), write a gridopt case folder.

    Returns the warnings (each names the components concerned); raises `InputError` naming
    every component and attribute that gridopt cannot represent.
    """
    n = read_pypsa(src)
    imported = from_pypsa(n, source=str(src), name=Path(src).stem, currency=currency)
    write_case(imported, out_dir, overwrite=overwrite, inputs=(src,))
    return imported.warnings


def from_pypsa(
    n: pypsa.Network,
    source: str = "PyPSA network",
    name: str = "imported",
    currency: str | None = None,
) -> ImportedCase:
    """Map a PyPSA network to gridopt tables, series and case settings (see module docstring).

    `currency` is the ISO code of the network's costs (blank: the network's `meta`
    "currency", which gridopt's export writes, else EUR, with a warning).
    """
    with _quiet():
        n = n.copy()
        n.calculate_dependent_values()
        ctx = _Import(n, source)
        _check_structure(ctx)
        resolution_h, start = _snapshots(ctx)
        ctx.hours, ctx.start = float(resolution_h), start
        ctx.exempt = _gas_plant_links(n)
        for component in _MAPPED:
            _check_attributes(ctx, component)
        gas = read_gas(ctx)
        for component, used in gas.used.items():
            ctx.active[component] = ctx.active[component].difference(used, sort=False)
        tables: dict[str, pd.DataFrame] = dict(gas.tables)
        tables["buses"] = _import_buses(ctx)
        tables["carriers"] = _import_carriers(ctx)
        tables["loads"], load_mw = _import_loads(ctx)
        tables["generators"], avail = _import_generators(ctx, resolution_h)
        if gas.plants is not None:
            tables["generators"] = pd.concat([tables["generators"], gas.plants])
            avail = pd.concat([avail, gas.plant_availability], axis=1)
        tables["storage_units"], tables["hydro"], inflow, storage_inflow = _import_storage(ctx)
        stores = _import_stores(ctx)
        tables["storage_units"] = pd.concat([tables["storage_units"], stores])
        tables["lines"] = _import_passive(ctx)
        tables["links"], tables["corridors"] = _import_links(ctx)
        tables["candidates"] = _import_candidates(ctx, tables)
        policy = _import_global_constraints(ctx, tables)
    if ctx.problems:
        raise InputError(ctx.problems)
    shedding = _detect_load_shedding(ctx, tables, avail, load_mw)
    _complete_carriers(tables)
    series = {
        key: hourly_series(df, start, resolution_h)
        for key, df in (
            ("load_mw", load_mw),
            ("availability_pu", avail),
            ("inflow_m3s", inflow),
            ("storage_inflow_mw", storage_inflow),
            *gas.series.items(),
        )
        if df.shape[1]
    }
    currency = currency or (n.meta or {}).get("currency")
    if not currency:
        currency = "EUR"
        ctx.notes.append(
            "the network does not state its currency (meta 'currency'); its costs"
            " are taken as EUR (give the currency to import it as another)"
        )
    case = {
        "name": n.name or name,
        "description": f"imported from the PyPSA network {Path(source).name}",
        "network": ".",
        "currency": str(currency).upper(),
        "horizon": {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "snapshots": len(n.snapshots),
            "resolution_h": resolution_h,
        },
        "model": "uc" if tables["generators"]["committable"].any() else "dispatch",
        "load_shedding": shedding,
    }
    if len(tables["candidates"]) or policy:
        # one investment period on the horizon: a year's annuities against its operation,
        # as PyPSA weighs capital_cost against the snapshots' operating costs
        case["expansion"] = {"discount_rate": 0.0, "policy": policy}
    return ImportedCase(tables=tables, series=series, case=case, warnings=ctx.notes)


def _gas_plant_links(n: pypsa.Network) -> dict[str, pd.Index]:
    """Links from a gas bus to an electric one are gas-fired plants (`gas_import`), whose
    ramp limits gridopt maps: the attribute check lets them through."""
    carrier = n.buses["carrier"].replace("", "AC").fillna("AC")
    plants = n.links.index[
        (n.links["bus0"].map(carrier) == "gas").to_numpy()
        & n.links["bus1"].map(carrier).isin(["AC", "DC"]).to_numpy()
    ]
    return {"Link.ramp_limit_up": plants, "Link.ramp_limit_down": plants}


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
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}: {_REFUSED_COMPONENTS[c.name]}")
        elif c.name == "ShuntImpedance":
            ctx.notes.append(
                f"ShuntImpedance {names_preview(c.static.index)}: ignored (no"
                " effect on a linear power flow dispatch)"
            )
        elif c.name not in _SUPPORTED:
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}: this component is not supported")


def _snapshots(ctx: _Import) -> tuple[int, pd.Timestamp]:
    """Hours per snapshot (from the weightings) and the first timestamp of the case."""
    n = ctx.n
    weights = n.snapshot_weightings
    first = float(weights.iloc[0, 0])
    if not np.allclose(weights.to_numpy(), first, rtol=0, atol=1e-9):
        ctx.refuse(
            "snapshot weightings must be equal for all snapshots and for objective,"
            " stores and generators (gridopt snapshots all have the same length);"
            f" found {sorted(set(np.round(weights.to_numpy().ravel(), 6)))[:6]}"
        )
        raise InputError(ctx.problems)
    resolution = round(first)
    if abs(first - resolution) > 1e-9 or not 1 <= resolution <= 168:
        ctx.refuse(
            f"snapshot weighting {first:g} h is not a whole number of hours between 1 and 168"
        )
        raise InputError(ctx.problems)
    sns = n.snapshots
    if isinstance(sns, pd.DatetimeIndex):
        if sns.tz is not None:
            ctx.notes.append(
                f"snapshots are in time zone {sns.tz}; written as local times without the zone"
            )
            sns = sns.tz_localize(None)
        steps = np.diff(sns.to_numpy()).astype("timedelta64[s]").astype(float) / 3600.0
        if np.allclose(steps, resolution) and sns[0] == sns[0].floor("h"):
            return resolution, sns[0]
        ctx.notes.append(
            f"snapshots are not spaced {resolution} h apart on whole hours as"
            f" their weighting says; the case numbers them as consecutive"
            f" {resolution} h steps from {sns[0].floor('h')}"
        )
        return resolution, sns[0].floor("h")
    ctx.notes.append(
        f"snapshots are not dates and times; the case numbers them as consecutive"
        f" {resolution} h steps from {DEFAULT_START:%Y-%m-%d %H:%M}"
    )
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
    active = static["active"].astype(bool) if "active" in static else pd.Series(True, static.index)
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
                    ctx.refuse(
                        f"{component} {names_preview(names[used.to_numpy()])}: {attr}"
                        " is set, but links with more than two buses are not supported"
                    )
            continue
        if attr not in defaults.index and attr not in known:
            set_ = static[attr].notna() & (static[attr].astype(str) != "")
            if set_.any():
                ctx.notes.append(
                    f"{component} {names_preview(names[set_.to_numpy()])}: extra"
                    f" column '{attr}' is not a PyPSA attribute; ignored"
                )
            continue
        if attr not in inputs or (attr in known and attr not in refused):
            continue
        differs = _differs(static[attr], defaults.at[attr, "default"])
        if not differs.any():
            continue
        hit = names[np.asarray(differs, dtype=bool)]
        hit = hit.difference(ctx.exempt.get(f"{component}.{attr}", pd.Index([])), sort=False)
        if hit.empty:
            continue
        value = static.loc[hit[0], attr]
        value = value.item() if isinstance(value, np.generic) else value
        if attr in refused:
            ctx.refuse(
                f"{component} {names_preview(hit)}: {attr}={value!r} is not supported"
                f" yet ({refused[attr]})"
            )
        else:
            ctx.notes.append(
                f"{component} {names_preview(hit)}: {attr}={value!r} is not used"
                " by gridopt; ignored"
            )
    for attr, df in c.dynamic.items():
        if df.empty or attr not in inputs or (attr in known and attr not in refused):
            continue
        cols = df.columns.intersection(names)
        if not len(cols) or df[cols].isna().all().all():
            continue
        hit = pd.Index(cols).difference(
            ctx.exempt.get(f"{component}.{attr}", pd.Index([])), sort=False
        )
        if hit.empty:
            continue
        if attr in refused:
            ctx.refuse(
                f"{component} {names_preview(hit)}: time-varying {attr} is not supported"
                f" yet ({refused[attr]})"
            )
        else:
            ctx.notes.append(
                f"{component} {names_preview(hit)}: time-varying {attr} is not"
                " used by gridopt; ignored"
            )
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
    other = ~carrier.isin(["AC", "DC"])
    if other.any():
        ctx.notes.append(
            f"Bus {names_preview(names[other.to_numpy()])}: carriers"
            f" {names_preview(sorted(set(carrier[other])))} are balance nodes of"
            " their carrier (energy in MW and MWh, prices per MWh of it)"
        )
    if (b["v_nom"] <= 0).any():
        ctx.refuse(
            f"Bus {names_preview(names[(b['v_nom'] <= 0).to_numpy()])}: v_nom must be positive"
        )
    region = _hint(b, "region")
    if region.isna().any() and "country" in b:
        region = region.fillna(b["country"].replace("", np.nan))
    if region.isna().any():
        ctx.notes.append(
            f"Bus {names_preview(names[region.isna().to_numpy()])}: no region"
            " (gridopt_region or country column); set to 'all'"
        )
        region = region.fillna("all")
    x, y = b["x"].astype(float), b["y"].astype(float)
    unknown = (x == 0) & (y == 0)
    outside = (x.abs() > 180) | (y.abs() > 90)
    if outside.any():
        ctx.notes.append(
            f"Bus {names_preview(names[outside.to_numpy()])}: x, y are not"
            " longitude and latitude; left blank"
        )
    keep = ~(unknown | outside)
    return pd.DataFrame(
        {
            "region": region.astype(str),
            "carrier": carrier,
            "v_nom_kv": b["v_nom"].astype(float),
            "x_lon": x.where(keep),
            "y_lat": y.where(keep),
        },
        index=names,
    )


def _import_carriers(ctx: _Import) -> pd.DataFrame:
    car = ctx.n.carriers
    car = car.loc[ctx.active.get("Carrier", car.index)] if len(car) else car
    cols = TABLES["carriers"].column_names[1:]
    if car.empty:
        return pd.DataFrame(columns=cols)
    co2 = car["co2_emissions"].astype(float)
    fossil = _hint(car, "fossil")
    renewable = _hint(car, "renewable")
    # without gridopt's own flags, carriers known by name (wind, solar, hydro, ...) are
    # renewable and fossil ones (or any that emits) fossil
    named = carrier_flags(car.index)
    return pd.DataFrame(
        {
            "renewable": renewable.where(renewable.notna(), named["renewable"]).astype(bool),
            "fossil": fossil.where(fossil.notna(), (co2 > 0) | named["fossil"]).astype(bool),
            "color": car["color"].replace("", np.nan).fillna("#999999"),
            "nice_name": car["nice_name"].replace("", np.nan),
        },
        index=car.index,
    )


def _import_loads(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Load"]
    loads = ctx.n.loads.loc[names]
    p_set = ctx.dense("Load", "p_set", names)
    # a load with a negative p_set injects power: gridopt asks for that to be said
    table = pd.DataFrame(
        {
            "bus": loads["bus"],
            "scale": 1.0,
            "negative_allowed": (p_set < 0).any(axis=0).reindex(names, fill_value=False),
        },
        index=names,
    )
    return table, p_set


def _import_generators(ctx: _Import, hours: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Generator"]
    g = ctx.n.generators.loc[names]
    p_nom = g["p_nom"].astype(float)
    p_max_pu = ctx.dense("Generator", "p_max_pu", names)
    p_min_pu = ctx.dense("Generator", "p_min_pu", names)
    committable = (
        g["committable"].astype(bool) if "committable" in g else pd.Series(False, index=names)
    )
    extendable = g["p_nom_extendable"].astype(bool)
    if (p_max_pu < 0).any().any() or (p_min_pu < 0).any().any():
        bad = names[((p_max_pu < 0).any() | (p_min_pu < 0).any()).to_numpy()]
        ctx.refuse(
            f"Generator {names_preview(bad)}: negative p_min_pu or p_max_pu (a generator"
            " that consumes) is not supported"
        )
    # gridopt's floor is min(p_min_mw, p_max_mw * availability): a constant floor, lowered
    # where the availability is lower (a committable unit's is its stable minimum when on)
    floor_pu = p_min_pu.max()
    expected = np.minimum(floor_pu.to_numpy()[None, :], p_max_pu.to_numpy())
    mismatch = ~np.isclose(p_min_pu.to_numpy(), expected, rtol=1e-9, atol=1e-12).all(axis=0)
    infeasible = (p_min_pu.to_numpy() > p_max_pu.to_numpy() + 1e-12).any(axis=0)
    if mismatch.any():
        ctx.refuse(
            f"Generator {names_preview(names[mismatch])}: a time-varying p_min_pu is"
            " supported only where it equals min(a constant, p_max_pu)"
        )
    if infeasible.any():
        ctx.notes.append(
            f"Generator {names_preview(names[infeasible])}: p_min_pu exceeds"
            " p_max_pu in some snapshots (PyPSA would find no solution); gridopt"
            " lowers the floor to the availability there"
        )
    cost = ctx.static("Generator", "marginal_cost", names)
    quadratic = ctx.static("Generator", "marginal_cost_quadratic", names)
    if (quadratic < 0).any():
        ctx.refuse(
            f"Generator {names_preview(names[(quadratic < 0).to_numpy()])}: a negative"
            " marginal_cost_quadratic (a concave cost) is not supported"
        )
    efficiency = ctx.dense("Generator", "efficiency", names).mean()
    ramps = {}
    for attr, column in (
        ("ramp_limit_up", "ramp_up_mw_per_h"),
        ("ramp_limit_down", "ramp_down_mw_per_h"),
    ):
        limit = ctx.static("Generator", attr, names)
        ramps[column] = limit * p_nom / hours
    # extendable: PyPSA scales a p.u. floor and ramps with the capacity built, gridopt's are MW
    fixed_mw = extendable & (
        (floor_pu > 0) | ramps["ramp_up_mw_per_h"].notna() | ramps["ramp_down_mw_per_h"].notna()
    )
    if fixed_mw.any():
        ctx.refuse(
            f"Generator {names_preview(names[fixed_mw.to_numpy()])}: an extendable"
            " generator with p_min_pu or ramp limits (PyPSA scales them with the"
            " capacity built; gridopt's are in MW) is not supported"
        )
    both = extendable & committable
    if both.any():
        ctx.refuse(
            f"Generator {names_preview(names[both.to_numpy()])}: a generator both"
            " extendable and committable is not supported (a uc case commits fixed"
            " units)"
        )
    # the ramp into the first snapshot starts from p_init (blank: not limited), as in gridopt
    p_init = (
        pd.to_numeric(g["p_init"], errors="coerce").astype(float)
        if "p_init" in g
        else pd.Series(np.nan, index=names)
    )
    carrier = g["carrier"].replace("", np.nan).fillna("unspecified")
    co2 = _hint(g, "co2_t_per_mwh").astype(float)
    if co2.isna().any() and len(ctx.n.carriers):
        factor = carrier.map(ctx.n.carriers["co2_emissions"]).astype(float).fillna(0.0)
        co2 = co2.fillna(factor / efficiency.where(efficiency > 0, 1.0))
    variable = ~np.isclose(p_max_pu.to_numpy(), 1.0, rtol=0, atol=1e-12).all(axis=0)
    table = pd.DataFrame(
        {
            "bus": g["bus"],
            "carrier": carrier,
            "p_max_mw": p_nom,
            "p_min_mw": (floor_pu * p_nom).where(~committable, 0.0),
            "marginal_cost_cny_per_mwh": cost,
            "quadratic_cost_cny_per_mw2h": quadratic,
            "ramp_up_mw_per_h": ramps["ramp_up_mw_per_h"],
            "ramp_down_mw_per_h": ramps["ramp_down_mw_per_h"],
            "p_initial_mw": p_init,
            "co2_t_per_mwh": co2.fillna(0.0),
            "availability_profile": pd.Series(
                np.where(variable, names, None), index=names, dtype=object
            ),
            # output per fuel burnt; PyPSA's default 1 means none given
            "efficiency": efficiency.where((efficiency > 0) & (efficiency < 1)),
            "committable": committable,
        },
        index=names,
    )
    if committable.any():
        _import_commitment(ctx, g[committable], floor_pu[committable], table)
    return table, p_max_pu.loc[:, variable]


def _import_commitment(
    ctx: _Import, g: pd.DataFrame, stable_pu: pd.Series, table: pd.DataFrame
) -> None:
    """Committable generators -> single units of a uc case (`gridopt.model.commitment`).

    PyPSA's status before the horizon: off for the last down_time_before snapshots (on
    before them) when that is positive, else on for the last up_time_before snapshots (off
    before them): units_on_initial and hours_in_state_initial say the same.
    """
    h = ctx.hours
    names = g.index
    up = g["up_time_before"].astype(float)
    down = g["down_time_before"].astype(float)
    on = (down <= 0) & (up > 0)
    held = np.where(down > 0, down, np.where(up > 0, up, np.nan)) * h
    for column, value in (
        ("units", 1),
        ("p_min_stable_pu", stable_pu.clip(0.0, 1.0)),
        ("min_up_h", g["min_up_time"].astype(float) * h),
        ("min_down_h", g["min_down_time"].astype(float) * h),
        ("start_cost_cny", g["start_up_cost"].astype(float)),
        ("stop_cost_cny", g["shut_down_cost"].astype(float)),
        ("no_load_cost_cny_per_h", ctx.static("Generator", "stand_by_cost", names)),
        ("startup_ramp_pu", g["ramp_limit_start_up"].astype(float).clip(upper=1.0)),
        ("shutdown_ramp_pu", g["ramp_limit_shut_down"].astype(float).clip(upper=1.0)),
        ("units_on_initial", on.astype(int)),
        ("hours_in_state_initial", pd.Series(held, index=names)),
    ):
        table.loc[names, column] = value
    below = (table.loc[names, "startup_ramp_pu"] < stable_pu) | (
        table.loc[names, "shutdown_ramp_pu"] < stable_pu
    )
    if below.any():
        ctx.refuse(
            f"Generator {names_preview(names[below.to_numpy()])}: ramp_limit_start_up"
            " or ramp_limit_shut_down below p_min_pu (the unit could never start or"
            " stop)"
        )


def _import_storage(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """StorageUnits that can charge -> storage_units (with their natural inflow, if any:
    pumped hydro on a river); those that cannot -> hydro stations. Returns both tables, the
    hydro inflow (m3/s) and the storage units' inflow (MW)."""
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
        ctx.refuse(
            f"StorageUnit {names_preview(sto[bad.to_numpy()])}: charging and discharging"
            " limits must be equal (p_min_pu = -p_max_pu)"
        )
    if (inflow[sto] < 0).any().any():
        ctx.refuse(
            f"StorageUnit {names_preview(sto[(inflow[sto] < 0).any().to_numpy()])}:"
            " a negative inflow is not supported"
        )
    pumped = sto[(inflow[sto] > 0).any().to_numpy()]
    if soc_set[sto].notna().any().any():
        ctx.refuse(
            f"StorageUnit {names_preview(sto[soc_set[sto].notna().any().to_numpy()])}:"
            " state_of_charge_set is not supported for storage units"
        )
    cyclic = charge["cyclic_state_of_charge"].astype(bool)
    storage = pd.DataFrame(
        {
            "bus": charge["bus"],
            "carrier": carrier[sto].fillna("storage"),
            "p_max_mw": p_nom[sto] * p_max_pu[sto],
            "energy_max_mwh": energy[sto],
            "efficiency_charge": eff_store[sto],
            "efficiency_discharge": eff_dispatch[sto],
            "standing_loss_per_h": loss[sto],
            # PyPSA starts from its initial level as it is; gridopt applies the standing loss of
            # the first snapshot to the level before it
            "soc_initial_mwh": (
                charge["state_of_charge_initial"].astype(float) / (1.0 - loss[sto]) ** ctx.hours
            ).where(~cyclic),
            "marginal_cost_cny_per_mwh": cost[sto],
            "inflow_profile": pd.Series(
                np.where(sto.isin(pumped), sto, None), index=sto, dtype=object
            ),
        },
        index=sto,
    )

    hydro, inflow_m3s = _import_hydro(
        ctx,
        s.loc[hy],
        p_nom[hy],
        p_min_pu[hy],
        p_max_pu[hy],
        eff_dispatch[hy],
        loss[hy],
        cost[hy],
        inflow[hy],
        soc_set[hy],
        carrier[hy],
    )
    return storage, hydro, inflow_m3s, inflow.loc[:, pumped]


def _import_hydro(
    ctx: _Import,
    s: pd.DataFrame,
    p_nom: pd.Series,
    p_min_pu: pd.Series,
    p_max_pu: pd.Series,
    eff_dispatch: pd.Series,
    loss: pd.Series,
    cost: pd.Series,
    inflow_mw: pd.DataFrame,
    soc_set: pd.DataFrame,
    carrier: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units that cannot charge: reservoirs. Water is counted so that power = mw_per_m3s * q.

    With k = mw_per_m3s (the `gridopt_mw_per_m3s` column, else efficiency_dispatch), one MWh of
    state of charge is 0.0036 * efficiency_dispatch / k hm3 and one MW of inflow is
    efficiency_dispatch / k m3/s.
    """
    names = s.index
    if names.empty:
        return pd.DataFrame(columns=TABLES["hydro"].column_names[1:]), pd.DataFrame(
            index=ctx.n.snapshots
        )
    if (p_min_pu > 0).any():
        ctx.refuse(
            f"StorageUnit {names_preview(names[(p_min_pu > 0).to_numpy()])}: a minimum"
            " dispatch (p_min_pu > 0) is not supported"
        )
    if (loss > 0).any():
        ctx.refuse(
            f"StorageUnit {names_preview(names[(loss > 0).to_numpy()])}: standing_loss"
            " on a unit that cannot charge (a reservoir) is not supported"
        )
    if (eff_dispatch <= 0).any():
        ctx.refuse(
            f"StorageUnit {names_preview(names[(eff_dispatch <= 0).to_numpy()])}:"
            " efficiency_dispatch must be positive"
        )
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
        ctx.refuse(
            f"StorageUnit {names_preview(names[bad.to_numpy()])}: state_of_charge_set is"
            " supported only at the last snapshot and equal to state_of_charge_initial"
            " (a reservoir that ends where it starts)"
        )
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
    table = pd.DataFrame(
        {
            "bus": s["bus"],
            "carrier": carrier.fillna("hydro"),
            "river": _hint(s, "river"),
            "p_max_mw": p_nom * p_max_pu,
            "mw_per_m3s": k,
            "storage_max_hm3": v_max,
            "storage_min_hm3": v_min,
            "storage_initial_hm3": initial,
            "end_rule": rule,
            "q_env_min_m3s": _hint(s, "q_env_min_m3s").astype(float).fillna(0.0),
            "withdrawal_m3s": withdrawal,
            "inflow_profile": pd.Series(np.where(flows, names, None), index=names, dtype=object),
            "downstream": _hint(s, "downstream"),
            "travel_time_h": _hint(s, "travel_time_h").astype(float).fillna(0.0),
            "release_initial_m3s": _hint(s, "release_initial_m3s").astype(float),
            "marginal_cost_cny_per_mwh": cost,
        },
        index=names,
    )
    behaviour = table["downstream"].notna() | (table["q_env_min_m3s"] > 0)
    if behaviour.any():
        ctx.notes.append(
            f"StorageUnit {names_preview(names[behaviour.to_numpy()])}: river"
            " routing or minimum releases restored from the gridopt_* columns;"
            " PyPSA did not model them, so gridopt's optimum can differ"
        )
    return table, inflow_m3s.loc[:, flows]


def _import_passive(ctx: _Import) -> pd.DataFrame:
    """Lines and transformers -> lines with x_ohm = x_pu_eff * v_nom(bus0)^2 (x_pu_eff holds a
    transformer's tap ratio), phase_shift_deg = a transformer's phase_shift, and
    angle_min_deg / angle_max_deg = -/+ v_ang_max (PyPSA's limit is symmetric)."""
    n = ctx.n
    v_nom = n.buses["v_nom"].astype(float)
    bus_carrier = n.buses["carrier"].replace("", "AC")
    parts = []
    for component, table in (("Line", n.lines), ("Transformer", n.transformers)):
        names = ctx.active[component]
        if names.empty:
            continue
        br = table.loc[names]
        dc = bus_carrier.reindex(br["bus0"]).to_numpy() == "DC"
        x_pu = np.where(dc, br["r_pu_eff"].astype(float), br["x_pu_eff"].astype(float))
        bad = ~(x_pu != 0) | np.isnan(x_pu)
        if bad.any():
            ctx.refuse(
                f"{component} {names_preview(names[bad])}: the series reactance"
                " (resistance on DC buses) must not be 0"
            )
        s_max_pu = ctx.static(component, "s_max_pu", names)
        carrier = (
            br["carrier"].replace("", np.nan) if "carrier" in br else pd.Series(np.nan, index=names)
        ).fillna("AC")
        length = _length_km(br) if "length" in br else pd.Series(np.nan, index=names)
        shift = (
            br["phase_shift"].astype(float).fillna(0.0)
            if "phase_shift" in br
            else pd.Series(0.0, index=names)
        )
        angle = (
            br["v_ang_max"].astype(float) if "v_ang_max" in br else pd.Series(np.nan, index=names)
        )
        angle = angle.where(np.isfinite(angle) & (carrier == "AC").to_numpy())
        parts.append(
            pd.DataFrame(
                {
                    "bus0": br["bus0"],
                    "bus1": br["bus1"],
                    "x_ohm": x_pu * v_nom.reindex(br["bus0"]).to_numpy() ** 2,
                    "s_max_mw": br["s_nom"].astype(float) * s_max_pu,
                    "carrier": carrier,
                    "length_km": length,
                    "phase_shift_deg": shift,
                    "angle_min_deg": -angle,
                    "angle_max_deg": angle,
                },
                index=names,
            )
        )
    if not parts:
        return pd.DataFrame(columns=TABLES["lines"].column_names[1:])
    if len(parts) == 2:
        clash = parts[0].index.intersection(parts[1].index)
        if len(clash):
            ctx.notes.append(
                f"Transformer {names_preview(clash)}: a line has the same name;"
                " the transformer is named 'transformer <name>'"
            )
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


def _import_links(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links -> links; a reversible lossy link -> a two-way corridor (see below)."""
    names = ctx.active["Link"]
    corridors = pd.DataFrame(columns=TABLES["corridors"].column_names[1:])
    if names.empty:
        return pd.DataFrame(columns=TABLES["links"].column_names[1:]), corridors
    k = ctx.n.links.loc[names]
    p_max_pu = ctx.static("Link", "p_max_pu", names)
    p_min_pu = ctx.static("Link", "p_min_pu", names)
    efficiency = ctx.static("Link", "efficiency", names)
    cost = ctx.static("Link", "marginal_cost", names)
    extendable = k["p_nom_extendable"].astype(bool)
    p_nom = k["p_nom"].astype(float)
    scaled_min = p_min_pu / p_max_pu.where(p_max_pu > 0)
    bad = (p_max_pu <= 0) & ~((p_max_pu == 0) & (p_min_pu == 0))
    bad |= (scaled_min < -1 - 1e-12) | (scaled_min > 1 + 1e-12)
    if bad.any():
        ctx.refuse(
            f"Link {names_preview(names[bad.to_numpy()])}: p_min_pu / p_max_pu must lie"
            " in [-1, 1] with p_max_pu > 0 (gridopt links carry p_min_pu * p_max_mw ..."
            " p_max_mw)"
        )
    if ((efficiency > 1) | (efficiency <= 0)).any():
        ctx.refuse(
            f"Link {names_preview(names[((efficiency > 1) | (efficiency <= 0)).to_numpy()])}"
            ": efficiency must lie in (0, 1]"
        )
    length = _length_km(k)
    links = pd.DataFrame(
        {
            "bus0": k["bus0"],
            "bus1": k["bus1"],
            "carrier": k["carrier"].replace("", np.nan).fillna("DC"),
            "p_max_mw": p_nom * p_max_pu,
            "p_min_pu": scaled_min.fillna(0.0).clip(-1, 1),
            "efficiency": efficiency,
            "marginal_cost_cny_per_mwh": cost,
            "length_km": length,
        },
        index=names,
    )
    # A reversible lossy link: PyPSA runs it backwards at a gain (bus1 gives efficiency x |p|,
    # bus0 gets |p|), which gridopt's links refuse. It becomes one two-way corridor
    # (gridopt.model.corridors) that loses 1 - efficiency either way, where that model fits:
    # a fixed rating, a wheeling cost >= 0 (charged both ways) and no delay. Its directions
    # are binary, so a dispatch with one is a MIP.
    lossy = (links["p_min_pu"] < 0) & (links["efficiency"] < 1)
    if lossy.any():
        misfit = lossy & (extendable | (cost < 0))
        if misfit.any():
            ctx.refuse(
                f"Link {names_preview(names[misfit.to_numpy()])}: a reversible lossy"
                " link is a gridopt corridor, which cannot be extendable or have a"
                " negative marginal cost"
            )
        two_way = links[lossy]
        carrier = two_way["carrier"].where(
            two_way["carrier"].isin(TABLES["corridors"].column("carrier").choices), "HVDC"
        )
        corridors = pd.DataFrame(
            {
                "bus0": two_way["bus0"],
                "bus1": two_way["bus1"],
                "carrier": carrier,
                "p_max_mw": two_way["p_max_mw"],
                "p_max_reverse_mw": -two_way["p_min_pu"] * two_way["p_max_mw"],
                "poles": 1,
                "loss_pu": 1.0 - two_way["efficiency"],
                "marginal_cost_cny_per_mwh": two_way["marginal_cost_cny_per_mwh"],
                "length_km": two_way["length_km"],
            },
            index=two_way.index,
        )
        links = links[~lossy]
        ctx.notes.append(
            f"Link {names_preview(names[lossy.to_numpy()])}: reversible with"
            " losses, which PyPSA runs backwards at a gain; imported as two-way"
            " corridors that lose energy both ways (their directions binary), so"
            " where PyPSA runs them backwards its optimum is lower"
        )
    return links, corridors


def _import_stores(ctx: _Import) -> pd.DataFrame:
    """Stores -> storage units of efficiency 1 whose power cannot bind: a Store moves energy
    only through the components at its bus, so charge and discharge are each bounded by the
    most its level can change in a snapshot, e_nom / snapshot hours (e_nom_max for an
    extendable one, whose energy is a candidate)."""
    names = ctx.active["Store"]
    cols = TABLES["storage_units"].column_names[1:]
    if names.empty:
        return pd.DataFrame(columns=cols)
    s = ctx.n.stores.loc[names]
    e_min = ctx.static("Store", "e_min_pu", names)
    e_max = ctx.static("Store", "e_max_pu", names)
    loss = ctx.static("Store", "standing_loss", names)
    extendable = s["e_nom_extendable"].astype(bool)
    if (e_min != 0).any():
        ctx.refuse(
            f"Store {names_preview(names[(e_min != 0).to_numpy()])}: e_min_pu other than"
            " 0 is not supported"
        )
    if ((e_max <= 0) | (e_max > 1)).any():
        ctx.refuse(
            f"Store {names_preview(names[((e_max <= 0) | (e_max > 1)).to_numpy()])}:"
            " e_max_pu must lie in (0, 1]"
        )
    most = s["e_nom"].astype(float).where(~extendable, s["e_nom_max"].astype(float))
    unbounded = extendable & ~np.isfinite(most)
    if unbounded.any():
        ctx.refuse(
            f"Store {names_preview(names[unbounded.to_numpy()])}: an extendable Store"
            " needs a finite e_nom_max (it bounds its charging power in gridopt)"
        )
    energy = s["e_nom"].astype(float) * e_max
    cyclic = s["e_cyclic"].astype(bool)
    over = ~cyclic & (s["e_initial"].astype(float) > energy + 1e-9)
    if over.any():
        ctx.refuse(
            f"Store {names_preview(names[over.to_numpy()])}: e_initial above e_nom x"
            " e_max_pu (of an extendable Store: above what it has before expansion)"
        )
    carrier = s["carrier"].replace("", np.nan).fillna("store")
    return pd.DataFrame(
        {
            "bus": s["bus"],
            "carrier": carrier,
            "p_max_mw": (most * e_max / ctx.hours).where(np.isfinite(most), 0.0),
            "energy_max_mwh": energy,
            "efficiency_charge": 1.0,
            "efficiency_discharge": 1.0,
            "standing_loss_per_h": loss,
            "soc_initial_mwh": (s["e_initial"].astype(float) / (1.0 - loss) ** ctx.hours).where(
                ~cyclic
            ),
            "marginal_cost_cny_per_mwh": 0.0,
        },
        index=names,
    )


# PyPSA component -> gridopt table, rating, and the p.u. attribute that scales the rating
_CANDIDATE_OF = {
    "Generator": ("generators", "p_max_mw", "p_nom", None),
    "Line": ("lines", "s_max_mw", "s_nom", "s_max_pu"),
    "Transformer": ("lines", "s_max_mw", "s_nom", "s_max_pu"),
    "Link": ("links", "p_max_mw", "p_nom", "p_max_pu"),
    "StorageUnit": ("storage_units", "p_max_mw", "p_nom", "p_max_pu"),
    "Store": ("storage_units", "energy_max_mwh", "e_nom", "e_max_pu"),
}


def _import_candidates(ctx: _Import, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Extendable capacities -> candidates of a single-period expansion case.

    gridopt extends the usable rating K = r x nominal (r: s_max_pu, p_max_pu or e_max_pu,
    static). PyPSA's objective (with its default objective constant) charges capital_cost x
    (p_nom_opt - p_nom): p_nom is there already. So the component's own rating is its existing
    capacity r x p_nom, build_min = r x (p_nom_min - p_nom), build_max = r x (p_nom_max -
    p_nom), at an annuity of capital_cost / r per unit of K (fixed O&M, no overnight cost).
    Where p_nom_min < p_nom (PyPSA may then build less than p_nom, at a credit), the existing
    rating is 0 and all of K is charged: gridopt's objective is then PyPSA's plus capital_cost
    x p_nom, which the import reports. A storage unit's energy follows its power at
    max_hours / r.
    """
    rows = []
    for component, (table, rating, nominal, pu_attr) in _CANDIDATE_OF.items():
        names = ctx.active.get(component, pd.Index([]))
        if names.empty:
            continue
        static = ctx.n.c[component].static.loc[names]
        ext = names[static[f"{nominal}_extendable"].astype(bool).to_numpy()]
        if ext.empty:
            continue
        target = tables[table]
        if component == "Transformer":
            # named "transformer <name>" where a line has the name (`_import_passive`)
            rename = {n: f"transformer {n}" for n in ext if f"transformer {n}" in target.index}
        else:
            rename = {}
        missing = [n for n in ext if rename.get(n, n) not in target.index]
        if missing:
            ctx.refuse(
                f"{component} {names_preview(missing)}: extendable, but imported as"
                " something gridopt cannot extend (a reservoir or a corridor)"
            )
            ext = ext.difference(missing)
        r = ctx.static(component, pu_attr, ext) if pu_attr else pd.Series(1.0, index=ext)
        r = r.where(r > 0)
        if r.isna().any():
            ctx.refuse(
                f"{component} {names_preview(ext[r.isna().to_numpy()])}: extendable with"
                f" {pu_attr} <= 0"
            )
            r = r.fillna(1.0)
        s = static.loc[ext]
        comps = [rename.get(n, n) for n in ext]
        nom = s[nominal].astype(float)
        below = s[f"{nominal}_min"].astype(float) < nom
        if below.any():
            ctx.notes.append(
                f"{component} {names_preview(ext[below.to_numpy()])}: extendable"
                f" below {nominal} ({nominal}_min < {nominal}), so their whole"
                " capacity is charged: gridopt's objective is PyPSA's plus"
                f" {float((s['capital_cost'] * nom)[below].sum()):.12g}"
            )
        existing = nom.where(~below, 0.0)
        target.loc[comps, rating] = (existing * r).to_numpy()
        cand = pd.DataFrame(
            {
                "table": table,
                "component": comps,
                "rating": rating,
                "build_min": ((s[f"{nominal}_min"].astype(float) - existing) * r)
                .clip(lower=0.0)
                .to_numpy(),
                "build_max": ((s[f"{nominal}_max"].astype(float) - existing) * r)
                .replace(np.inf, np.nan)
                .to_numpy(),
                "overnight_cost_cny_per_unit": 0.0,
                "lifetime_yr": 1.0,
                "discount_rate": 0.0,
                "fixed_om_cny_per_unit_yr": (s["capital_cost"].astype(float) / r).to_numpy(),
                "max_hours": (s["max_hours"].astype(float) / r).to_numpy()
                if component == "StorageUnit"
                else np.nan,
            },
            index=pd.Index([f"{c} {rating}" for c in comps]),
        )
        if component == "StorageUnit":
            target.loc[comps, "energy_max_mwh"] = (
                existing * s["max_hours"].astype(float)
            ).to_numpy()
        rows.append(cand)
    if not rows:
        return pd.DataFrame(columns=TABLES["candidates"].column_names[1:])
    out = pd.concat(rows)
    if out.index.has_duplicates:
        out.index = pd.Index([f"{n} {k}" for k, n in enumerate(out.index)])
    return out


def _import_global_constraints(ctx: _Import, tables: dict[str, pd.DataFrame]) -> dict[str, object]:
    """GlobalConstraints -> the expansion policy of the case (one period, on the horizon).

    primary_energy on co2_emissions, "<=": a CO2 cap on the horizon; its left side, PyPSA's
    sum over generators of p / efficiency x the carrier's emissions x the snapshot weight,
    is gridopt's co2_t_per_mwh x energy. transmission_volume_expansion_limit, "<=": the sum of
    length x s_nom (p_nom) of the extendable lines and links of the listed carriers.
    """
    gc = ctx.n.global_constraints.loc[ctx.active.get("GlobalConstraint", pd.Index([]))]
    policy: dict[str, object] = {}
    if gc.empty:
        return policy
    year = int(pd.Timestamp(ctx.start).year)
    for name, row in gc.iterrows():
        kind, sense = str(row["type"]), str(row["sense"]).strip()
        if sense not in ("<=", "<"):
            ctx.refuse(
                f"GlobalConstraint '{name}': sense '{sense}' is not supported (gridopt's"
                " caps are upper limits)"
            )
            continue
        if np.isfinite(float(row.get("investment_period", np.nan))):
            ctx.refuse(f"GlobalConstraint '{name}': an investment period is not supported")
            continue
        if kind == CO2_CAP:
            if row["carrier_attribute"] != "co2_emissions":
                ctx.refuse(
                    f"GlobalConstraint '{name}': primary_energy on"
                    f" '{row['carrier_attribute']}' is not supported (gridopt carries"
                    " co2_emissions)"
                )
                continue
            if "co2_cap_t_per_yr" in policy:
                ctx.refuse(f"GlobalConstraint '{name}': a second CO2 limit is not supported")
                continue
            emitting = ctx.n.carriers.index[ctx.n.carriers["co2_emissions"].astype(float) != 0]
            stores = [
                n
                for c, cyc in (("StorageUnit", "cyclic_state_of_charge"), ("Store", "e_cyclic"))
                for n, r in ctx.n.c[c].static.loc[ctx.active.get(c, [])].iterrows()
                if r["carrier"] in emitting and not r[cyc]
            ]
            if stores:
                ctx.refuse(
                    f"GlobalConstraint '{name}': stores of emitting carriers that are"
                    f" not cyclic count in PyPSA's CO2 limit: {names_preview(stores)}"
                )
                continue
            policy["co2_cap_t_per_yr"] = {year: float(row["constant"])}
        elif kind == VOLUME_CAP:
            carriers = [
                c.strip() for c in re.sub(r"[\[\]()]", "", str(row["carrier_attribute"])).split(",")
            ]
            lines = ctx.n.lines.loc[ctx.active.get("Line", [])]
            pu = lines["s_max_pu"].astype(float)
            off = lines.index[
                (
                    lines["s_nom_extendable"].astype(bool)
                    & (pu != 1)
                    & lines["carrier"].isin(carriers)
                ).to_numpy()
            ]
            if len(off):
                ctx.refuse(
                    f"GlobalConstraint '{name}': its lines {names_preview(off)} have"
                    " s_max_pu other than 1 (gridopt's capacities are the usable"
                    " ratings)"
                )
                continue
            volumes: list[dict[str, object]] = policy.setdefault("transmission_volume", [])  # type: ignore[assignment]
            volumes.append(
                {"name": str(name), "carriers": carriers, "max_mwkm": float(row["constant"])}
            )
        else:
            ctx.refuse(
                f"GlobalConstraint '{name}': type '{kind}' is not supported (gridopt"
                f" maps {CO2_CAP} CO2 limits and {VOLUME_CAP})"
            )
    return policy


def _detect_load_shedding(
    ctx: _Import, tables: dict[str, pd.DataFrame], avail: pd.DataFrame, load_mw: pd.DataFrame
) -> dict[str, object]:
    """Generators of carrier "load shedding" that can shed exactly each bus's demand at one
    price become the case's load shedding; otherwise they stay ordinary generators."""
    gens = tables["generators"]
    shed = gens.index[gens["carrier"] == LOAD_SHEDDING]
    off: dict[str, object] = {"enabled": False}
    if shed.empty:
        return off
    g = gens.loc[shed]
    cost = g["marginal_cost_cny_per_mwh"]
    if (
        g["bus"].duplicated().any()
        or cost.nunique() != 1
        or cost.iloc[0] <= 0
        or (g["p_min_mw"] > 0).any()
        or g[["ramp_up_mw_per_h", "ramp_down_mw_per_h"]].notna().any().any()
    ):
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
    if (
        LOAD_SHEDDING in tables["carriers"].index
        and not (tables["generators"]["carrier"] == LOAD_SHEDDING).any()
    ):
        tables["carriers"] = tables["carriers"].drop(index=LOAD_SHEDDING)
    ctx.notes.append(
        f"{len(shed)} generators of carrier '{LOAD_SHEDDING}' that can shed each"
        " bus's demand became the case's load shedding at"
        f" {cost.iloc[0]:g} per MWh"
    )
    return {"enabled": True, "voll_cny_per_mwh": float(cost.iloc[0])}


def _complete_carriers(tables: dict[str, pd.DataFrame]) -> None:
    """When carriers are declared, every carrier a component names must be declared too."""
    car = tables["carriers"]
    if car.empty:
        return
    used = pd.Index(
        pd.concat([tables[t]["carrier"] for t in ("generators", "storage_units", "hydro")])
        .dropna()
        .unique()
    )
    missing = used.difference(car.index)
    if len(missing):
        extra = carrier_flags(missing).assign(color="#999999", nice_name=np.nan)
        tables["carriers"] = pd.concat([car, extra])
