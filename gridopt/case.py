"""Case files: what to solve (network, horizon, model, scaling, overrides) and the prepared inputs.

A case is a YAML file:

```yaml
name: PPRD summer week
network: ../networks/pprd        # folder, relative to this file
horizon: {start: "2025-07-14 00:00", snapshots: 168, resolution_h: 1}
model: dispatch                  # or uc: unit commitment of committable generators (a MIP)
load_shedding: {enabled: true, voll_cny_per_mwh: 50000}
reserve: {enabled: false, requirement_pu_of_load: 0.05, regions: all}   # uc only
scale: {demand: 1.0, inflow: 1.0, fuel_price: {gas: 1.2}, capacity: {wind: 1.5},
        gas_price: {lng: 1.3}}
overrides:
  - {table: links, name: Nuozhadu-Guangdong, column: p_max_mw, value: 0}
solver: {time_limit_s: 600, method: choose, mip_gap: 0.0001, relax: false}
```

`prepare_case` turns it into `CaseData`: the network's tables after scaling and overrides, and the
time series cut to the horizon, aggregated to its resolution and laid out as (snapshot x
component) matrices that the formulation reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridopt.errors import InputError, Problem
from gridopt.network import Network, check_islands, load_network
from gridopt.schema import TABLES
from gridopt.zones import SecurityZone, resolve_zones


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Horizon(_Strict):
    start: datetime | None = Field(None, description="first snapshot; blank: series start")
    snapshots: int = Field(..., gt=0, description="number of snapshots")
    resolution_h: int = Field(1, gt=0, le=24 * 7, description="hours per snapshot")


class SolverOptions(_Strict):
    time_limit_s: float | None = Field(None, gt=0)
    mip_gap: float = Field(1e-4, ge=0)
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "choose"
    threads: int | None = Field(None, gt=0)
    options: dict[str, Any] = Field(default_factory=dict, description="raw HiGHS options")
    relax: bool = Field(False, description="solve the LP relaxation (integrality dropped)")


class LoadShedding(_Strict):
    enabled: bool = False
    voll_cny_per_mwh: float = Field(50_000.0, gt=0)


class GasShedding(_Strict):
    """Non-power gas demand left unserved at a cost (opt-in), so that a gas supply outage shows
    where it bites instead of making the case infeasible."""

    enabled: bool = False
    voll_cny_per_mwh_th: float = Field(3_000.0, gt=0,
                                       description="cost of unserved non-power gas demand")


class Scale(_Strict):
    demand: float = Field(1.0, ge=0)
    inflow: float = Field(1.0, ge=0)
    fuel_price: dict[str, float] = Field(default_factory=dict,
                                         description="carrier -> factor on marginal cost")
    capacity: dict[str, float] = Field(default_factory=dict,
                                       description="carrier -> factor on p_max_mw")
    gas_price: dict[str, float] = Field(
        default_factory=dict, description="gas supply kind (lng, pipeline_import, domestic,"
        " coal_to_gas) or supply name -> factor on price_cny_per_mwh_th; a supply matched by"
        " both takes both factors. fuel_price scales only the non-fuel cost of generators on a"
        " gas node")

    @field_validator("fuel_price", "capacity", "gas_price")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for k, f in v.items():
            if f < 0:
                raise ValueError(f"factor for '{k}' must be >= 0")
        return v


class Override(_Strict):
    table: str
    name: str
    column: str
    value: Any


class Reserve(_Strict):
    """Spinning reserve held by committed units (uc cases): per region and snapshot, the
    headroom of committable units that are on must cover a share of the region's demand."""

    enabled: bool = False
    requirement_pu_of_load: float = Field(0.05, ge=0, le=1,
                                          description="reserve as a share of regional demand")
    regions: list[str] | Literal["all"] = Field(
        "all", description="regions that must hold reserve; all: every region with"
        " committable generators")


class Case(_Strict):
    name: str
    description: str = ""
    network: str
    horizon: Horizon
    # dispatch: an LP; uc: unit commitment (a MIP) of the generators marked committable
    model: Literal["dispatch", "uc"] = "dispatch"
    reserve: Reserve = Field(default_factory=Reserve)
    inflow_year: Literal["normal", "dry", "wet"] = "normal"
    load_shedding: LoadShedding = Field(default_factory=LoadShedding)
    gas_shedding: GasShedding = Field(default_factory=GasShedding)
    curtailment_penalty_cny_per_mwh: float = Field(0.0, ge=0)
    scale: Scale = Field(default_factory=Scale)
    overrides: list[Override] = Field(default_factory=list)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    # supply-security zones and targets (gridopt.zones, gridopt.model.security): a file of
    # zones shipped with the network (relative to the case file) and/or zones given inline
    security_file: str | None = None
    security: list[SecurityZone] = Field(default_factory=list)


@dataclass
class CaseData:
    """Everything the formulation reads: tables after overrides, and series on the snapshots."""

    case: Case
    path: Path
    network: Network
    tables: dict[str, pd.DataFrame]
    snapshots: pd.DatetimeIndex
    weights_h: np.ndarray
    load_mw: pd.DataFrame  # snapshot x load
    availability_pu: pd.DataFrame  # snapshot x generator
    inflow_m3s: pd.DataFrame  # snapshot x hydro station
    gas_demand_mwth: pd.DataFrame = field(default_factory=pd.DataFrame)  # snapshot x gas demand
    gas_supply_pu: pd.DataFrame = field(default_factory=pd.DataFrame)  # snapshot x gas supply
    security_zones: list[SecurityZone] = field(default_factory=list)  # file's, then inline

    @property
    def n_snapshots(self) -> int:
        return len(self.snapshots)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def read_case(path: Path | str, changes: dict[str, Any] | None = None) -> Case:
    """Parse and check a case YAML (safe loader); `changes` are dotted-key settings on top."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(file, f"cannot be read ({exc})")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(file, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                                  row=mark.line + 1 if mark else None)]) from None
    if not isinstance(raw, dict):
        raise InputError([Problem(file, "a case must be a YAML mapping of settings")])
    for key, value in (changes or {}).items():
        if not _set_dotted(raw, key, value):
            raise InputError([Problem(file, "this setting cannot be changed: a part of its path"
                                      " is not a group of settings", column=key, value=value)])
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        raise InputError([
            Problem(file, err["msg"], row=_yaml_line(text, err["loc"]),
                    column=".".join(str(p) for p in err["loc"]),
                    value=err.get("input") if not isinstance(err.get("input"), dict) else None)
            for err in exc.errors()
        ]) from None


def _with_lines(problems: list[Problem], path: Path) -> list[Problem]:
    """Give case-file problems the line of the setting they name (e.g. `overrides[0].name`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return problems
    out = []
    for p in problems:
        if p.file == str(path) and p.row is None and p.column:
            loc = tuple(int(part) if part.isdigit() else part
                        for part in re.split(r"[.\[\]]+", p.column) if part)
            p = replace(p, row=_yaml_line(text, loc))
        out.append(p)
    return out


def _yaml_line(text: str, loc: tuple) -> int | None:
    """Line number (1-based) of the setting at `loc` in the YAML text, or of its nearest parent."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(key)]
            if not match:
                break
            line = match[0][0].start_mark.line + 1
            node = match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(
                node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _set_dotted(raw: dict, key: str, value: Any) -> bool:
    """Set `a.b.c` in nested settings; False when a part of the path is not a mapping."""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            return False
    node[parts[-1]] = value
    return True


def load_case(path: Path | str, changes: dict[str, Any] | None = None) -> CaseData:
    """Read a case file and its network, and prepare the inputs on the case's snapshots."""
    path = Path(path)
    case = read_case(path, changes)
    return prepare_case(case, path)


def confined_path(case_file: Path, given: str) -> tuple[Path | None, str | None]:
    """A path named in a case file, resolved; or the rule it breaks.

    It must be relative to the case file and stay inside the project holding the case (the
    case file's folder or the folder above it, as in `cases/x.yaml` -> `../networks/x`), so
    a case cannot make gridopt read files elsewhere.
    """
    if Path(given).is_absolute():
        return None, "must be a path relative to the case file, not an absolute path"
    target = (case_file.parent / given).resolve()
    project = case_file.resolve().parent.parent
    if not target.is_relative_to(project):
        return None, f"leaves the project folder {project}"
    return target, None


def network_folder(case: Case, path: Path) -> Path:
    """The case's network folder (see `confined_path` for where it may be)."""
    folder, rule = confined_path(path, case.network)
    if folder is None:
        raise InputError([Problem(str(path), f"network {rule}", column="network",
                                  value=case.network)])
    return folder


def prepare_case(case: Case, path: Path) -> CaseData:
    net = load_network(network_folder(case, path), inflow_year=case.inflow_year)
    file = str(path)
    tables = {name: df.copy() for name, df in net.tables.items()}
    for name, df in net.tables.items():
        tables[name].attrs = dict(df.attrs)
    problems = _apply_overrides(case, tables, file)
    problems += _apply_scaling(case, tables, file)
    problems += _check_commitment(case, tables, net, file)
    problems += _check_gas_plants(tables, file)
    zones, zone_problems = resolve_zones(case, path, tables)
    problems += zone_problems
    snapshots, weights, problems_h = _snapshots(case, net, file)
    problems += problems_h
    if not case.load_shedding.enabled:
        problems += check_islands(net)
    if problems:
        raise InputError(_with_lines(problems, path))
    load = _layout(net, "load_mw", tables["loads"], "profile", snapshots, case.horizon,
                   default_name=True) * tables["loads"]["scale"].to_numpy() * case.scale.demand
    avail = _layout(net, "availability_pu", tables["generators"], "availability_profile",
                    snapshots, case.horizon, fill=1.0)
    inflow = _layout(net, "inflow_m3s", tables["hydro"], "inflow_profile", snapshots,
                     case.horizon, fill=0.0) * case.scale.inflow
    gas_demand = _layout(net, "gas_demand_mwth", tables["gas_demands"], "profile", snapshots,
                         case.horizon, default_name=True)
    gas_demand = gas_demand * tables["gas_demands"]["scale"].to_numpy()
    gas_supply = _layout(net, "gas_supply_pu", tables["gas_supplies"], "profile", snapshots,
                         case.horizon, fill=1.0)
    return CaseData(case=case, path=path, network=net, tables=tables, snapshots=snapshots,
                    weights_h=weights, load_mw=load, availability_pu=avail, inflow_m3s=inflow,
                    gas_demand_mwth=gas_demand, gas_supply_pu=gas_supply,
                    security_zones=zones)


def _check_gas_plants(tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    """After overrides, a generator on a gas node needs that node and an efficiency above 0."""
    gens = tables["generators"]
    on_gas = gens["gas_node"].notna()
    unknown = on_gas & ~gens["gas_node"].isin(tables["gas_nodes"].index)
    bad = on_gas & ~unknown & ~(pd.to_numeric(gens["efficiency"]) > 0)
    return [Problem(file, f"generator '{n}' is, after the overrides, on a gas node that does"
                    " not exist in gas_nodes", column="overrides", value=gens.at[n, "gas_node"])
            for n in gens.index[unknown.to_numpy()]] + [
        Problem(file, f"generator '{n}' is on a gas node but, after the overrides, has no"
                " efficiency above 0", column="overrides", value=gens.at[n, "gas_node"])
        for n in gens.index[bad.to_numpy()]]


def _check_commitment(case: Case, tables: dict[str, pd.DataFrame], net: Network, file: str
                      ) -> list[Problem]:
    """Unit commitment settings that cannot work, each named (uc cases only)."""
    problems: list[Problem] = []
    if case.model != "uc":
        if case.reserve.enabled:
            problems.append(Problem(file, "reserve is held by committed units: it needs"
                                    " model: uc", column="reserve.enabled", value=True))
        return problems
    gens = tables["generators"]
    workbook = net.folder / "network.xlsx"
    where = (f"{workbook} [sheet generators]" if workbook.exists()
             else str(net.folder / "generators.csv"))
    rows = gens.attrs.get("rownum", {})
    com = gens[gens["committable"].astype(bool)]
    if com.empty:
        problems.append(Problem(where, "a uc case needs committable generators: mark them"
                                " with committable = true and give their units, stable"
                                " minimum, minimum up/down times and start costs",
                                column="committable"))
    stable = com["p_min_stable_pu"].astype(float)
    units = pd.to_numeric(com["units"]).astype(float)
    checks = [
        ("startup_ramp_pu", com["startup_ramp_pu"].astype(float) < stable,
         "is below p_min_stable_pu: a unit could never start"),
        ("shutdown_ramp_pu", com["shutdown_ramp_pu"].astype(float) < stable,
         "is below p_min_stable_pu: a unit could never stop"),
        ("units_on_initial", pd.to_numeric(com["units_on_initial"]).astype(float) > units,
         "exceeds units"),
    ]
    for column, bad, rule in checks:
        problems += [Problem(where, f"{column} {rule}", row=int(rows.get(n, 0)) or None,
                             column=column, value=com.at[n, column])
                     for n in com.index[bad.to_numpy()]]
    if case.reserve.enabled:
        regions = tables["buses"]["region"]
        holding = set(regions.reindex(com["bus"]).dropna())
        if case.reserve.regions != "all":
            for region in case.reserve.regions:
                if region not in set(regions):
                    problems.append(Problem(file, "unknown region", column="reserve.regions",
                                            value=region))
                elif region not in holding:
                    problems.append(Problem(file, "region has no committable generator to"
                                            " hold reserve", column="reserve.regions",
                                            value=region))
        elif not holding:
            problems.append(Problem(file, "no committable generator can hold reserve",
                                    column="reserve.enabled", value=True))
    return problems


def _apply_overrides(case: Case, tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    problems = []
    for i, ov in enumerate(case.overrides):
        where = f"overrides[{i}]"
        if ov.table not in TABLES:
            problems.append(Problem(file, f"unknown table (one of {', '.join(TABLES)})",
                                    column=f"{where}.table", value=ov.table))
            continue
        df = tables[ov.table]
        if ov.name not in df.index:
            problems.append(Problem(file, f"no component of that name in {ov.table}",
                                    column=f"{where}.name", value=ov.name))
            continue
        if ov.column not in df.columns:
            problems.append(Problem(file, f"{ov.table} has no such column",
                                    column=f"{where}.column", value=ov.column))
            continue
        col = TABLES[ov.table].column(ov.column)
        value = ov.value
        if col.kind in ("float", "int"):
            try:
                value = float(value)
            except (TypeError, ValueError):
                problems.append(Problem(file, "expected a number", column=f"{where}.value",
                                        value=ov.value))
                continue
            if (col.min is not None and value < col.min) or (
                    col.max is not None and value > col.max):
                problems.append(Problem(file, f"{ov.column} must lie in [{col.min}, {col.max}]",
                                        column=f"{where}.value", value=ov.value))
                continue
        df.loc[ov.name, ov.column] = value
    return problems


def _apply_scaling(case: Case, tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    problems = []
    carriers = set(tables["carriers"].index) | set(tables["generators"]["carrier"])
    for setting, column in (("fuel_price", "marginal_cost_cny_per_mwh"),
                            ("capacity", "p_max_mw")):
        for carrier, factor in getattr(case.scale, setting).items():
            if carrier not in carriers:
                problems.append(Problem(file, "unknown carrier", column=f"scale.{setting}",
                                        value=carrier))
                continue
            gens = tables["generators"]
            mask = gens["carrier"] == carrier
            gens.loc[mask, column] = gens.loc[mask, column] * factor
            if setting == "capacity":
                gens.loc[mask, "p_min_mw"] = gens.loc[mask, "p_min_mw"] * factor
    supplies = tables["gas_supplies"]
    for key, factor in case.scale.gas_price.items():
        mask = (supplies["kind"] == key) | (supplies.index == key)
        if not mask.any():
            problems.append(Problem(file, "no gas supply of that kind or name",
                                    column="scale.gas_price", value=key))
            continue
        supplies.loc[mask, "price_cny_per_mwh_th"] = (
            supplies.loc[mask, "price_cny_per_mwh_th"] * factor)
    return problems


def _snapshots(case: Case, net: Network, file: str
               ) -> tuple[pd.DatetimeIndex, np.ndarray, list[Problem]]:
    """The case's snapshots: the first hour of each block of `resolution_h` hours."""
    h = case.horizon
    hours_needed = h.snapshots * h.resolution_h
    if net.series:
        span = min((s.index for s in net.series.values()), key=len)
        start = pd.Timestamp(h.start) if h.start is not None else span[0]
        hours = pd.date_range(start, periods=hours_needed, freq="h")
        missing = [name for name, s in net.series.items() if not hours.isin(s.index).all()]
        if missing:
            series = net.series[missing[0]]
            return hours, np.array([]), [Problem(
                file, f"horizon {hours[0]} .. {hours[-1]} is not covered by"
                f" {series.attrs.get('file', missing[0])} ({series.index[0]} .. "
                f"{series.index[-1]})", column="horizon")]
    else:
        start = pd.Timestamp(h.start) if h.start is not None else pd.Timestamp("2025-01-01")
        hours = pd.date_range(start, periods=hours_needed, freq="h")
    snapshots = pd.DatetimeIndex(hours[:: h.resolution_h], name="snapshot")
    return snapshots, np.full(len(snapshots), float(h.resolution_h)), []


def _layout(net: Network, series_name: str, table: pd.DataFrame, column: str,
            snapshots: pd.DatetimeIndex, horizon: Horizon, fill: float = 0.0,
            default_name: bool = False) -> pd.DataFrame:
    """(snapshot x component) matrix of each component's profile, block-averaged."""
    profiles = table[column]
    if default_name:
        profiles = profiles.fillna(pd.Series(table.index, index=table.index))
    out = pd.DataFrame(fill, index=snapshots, columns=table.index, dtype=float)
    used = profiles.dropna()
    if used.empty:
        return out
    series = net.series[series_name]
    hours = pd.date_range(snapshots[0], periods=len(snapshots) * horizon.resolution_h, freq="h")
    block = series.loc[hours, used.unique()]
    if horizon.resolution_h > 1:
        block = block.groupby(np.arange(len(hours)) // horizon.resolution_h).mean()
    values = block.to_numpy()[:, block.columns.get_indexer(used.to_numpy())]
    out.loc[:, used.index] = values
    return out
