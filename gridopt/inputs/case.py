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
rolling: {window_h: 168, overlap_h: 24, seasonal: targets}   # optional: gridopt.studies.rolling
```

`prepare_case` turns it into `CaseData`: the network's tables after scaling and overrides, and the
time series cut to the horizon, aggregated to its resolution and laid out as (snapshot x
component) matrices that the formulation reads.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from gridopt.errors import InputError, Problem
from gridopt.inputs.case_file import _with_lines, read_case
from gridopt.inputs.data import CaseData, InvestmentPeriods
from gridopt.inputs.investment import (
    check_expansion,
    discounted_years,
    period_hours,
    period_spans,
    single_period,
)
from gridopt.inputs.network import (
    _PROFILE_DEFAULTS_TO_NAME,
    BOOL_FALSE,
    BOOL_TRUE,
    Network,
    check_islands,
    load_network,
)
from gridopt.inputs.paths import case_project, network_folder
from gridopt.inputs.schema import TABLES, Column
from gridopt.inputs.settings import Case, Horizon
from gridopt.inputs.zones import resolve_zones

if TYPE_CHECKING:
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def load_case(path: Path | str, changes: dict[str, Any] | None = None) -> CaseData:
    """Read a case file and its network, and prepare the inputs on the case's snapshots."""
    path = Path(path)
    case = read_case(path, changes)
    return prepare_case(case, path)


def prepare_case(case: Case, path: Path) -> CaseData:
    net = load_network(
        network_folder(case, path), inflow_year=case.inflow_year, project=case_project(case, path)
    )
    file = str(path)
    tables = {name: df.copy() for name, df in net.tables.items()}
    for name, df in net.tables.items():
        tables[name].attrs = dict(df.attrs)
    problems = _apply_overrides(case, tables, file, net.series)
    problems += _apply_scaling(case, tables, file)
    problems += _check_commitment(case, tables, net, file)
    problems += _check_gas_plants(tables, file)
    zones, zone_problems = resolve_zones(case, path, tables, net)
    problems += zone_problems
    expansion = case.expansion
    expanding = expansion is not None and expansion.enabled
    investment: InvestmentPeriods | None
    if expansion is not None and expanding and expansion.periods:
        snapshots, weights, hours, investment, problems_h = _period_snapshots(case, net, file)
    else:
        snapshots, weights, problems_h = _snapshots(case, net, file)
        hours = None
        investment = single_period(snapshots) if expanding and len(weights) else None
    problems += problems_h
    if expanding:
        problems += check_expansion(case, tables, file)
    if not case.load_shedding.enabled:
        problems += check_islands(net)
    if problems:
        raise InputError(_with_lines(problems, path))
    demand_factor = gas_factor = 1.0
    if investment is not None and expansion is not None and expansion.periods:
        # each period's own growth of demand, snapshot by snapshot
        demand_factor = _period_demand(case, tables)[investment.of_snapshot]
        gas_factor = np.array([p.gas_demand for p in expansion.periods])[investment.of_snapshot][
            :, None
        ]
    load = (
        _layout(
            net,
            "load_mw",
            tables["loads"],
            "profile",
            snapshots,
            case.horizon,
            default_name=True,
            hours=hours,
        )
        * tables["loads"]["scale"].to_numpy()
        * case.scale.demand
        * demand_factor
    )
    avail = _layout(
        net,
        "availability_pu",
        tables["generators"],
        "availability_profile",
        snapshots,
        case.horizon,
        fill=1.0,
        hours=hours,
    )
    inflow = (
        _layout(
            net,
            "inflow_m3s",
            tables["hydro"],
            "inflow_profile",
            snapshots,
            case.horizon,
            fill=0.0,
            hours=hours,
        )
        * case.scale.inflow
    )
    gas_demand = _layout(
        net,
        "gas_demand_mwth",
        tables["gas_demands"],
        "profile",
        snapshots,
        case.horizon,
        default_name=True,
        hours=hours,
    )
    gas_demand = gas_demand * tables["gas_demands"]["scale"].to_numpy() * gas_factor
    gas_supply = _layout(
        net,
        "gas_supply_pu",
        tables["gas_supplies"],
        "profile",
        snapshots,
        case.horizon,
        fill=1.0,
        hours=hours,
    )
    storage_inflow = _layout(
        net,
        "storage_inflow_mw",
        tables["storage_units"],
        "inflow_profile",
        snapshots,
        case.horizon,
        fill=0.0,
        hours=hours,
    )
    data = CaseData(
        case=case,
        path=path,
        network=net,
        tables=tables,
        snapshots=snapshots,
        weights_h=weights,
        load_mw=load,
        availability_pu=avail,
        inflow_m3s=inflow,
        gas_demand_mwth=gas_demand,
        gas_supply_pu=gas_supply,
        storage_inflow_mw=storage_inflow,
        security_zones=zones,
        investment=investment,
    )
    if case.horizon.aggregation is not None:
        from gridopt.inputs.aggregation import aggregate

        data = aggregate(data)
        if data.investment is not None:
            # a single-period expansion case solves on the typical periods
            data = replace(data, investment=single_period(data.snapshots))
    return data


def _check_gas_plants(tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    """After overrides, a generator on a gas node needs that node and an efficiency above 0."""
    gens = tables["generators"]
    on_gas = gens["gas_node"].notna()
    unknown = on_gas & ~gens["gas_node"].isin(tables["gas_nodes"].index)
    bad = on_gas & ~unknown & ~(pd.to_numeric(gens["efficiency"]) > 0)
    return [
        Problem(
            file,
            f"generator '{n}' is, after the overrides, on a gas node that does"
            " not exist in gas_nodes",
            column="overrides",
            value=gens.at[n, "gas_node"],
        )
        for n in gens.index[unknown.to_numpy()]
    ] + [
        Problem(
            file,
            f"generator '{n}' is on a gas node but, after the overrides, has no efficiency above 0",
            column="overrides",
            value=gens.at[n, "gas_node"],
        )
        for n in gens.index[bad.to_numpy()]
    ]


def _check_commitment(
    case: Case, tables: dict[str, pd.DataFrame], net: Network, file: str
) -> list[Problem]:
    """Unit commitment settings that cannot work, each named (uc cases only)."""
    problems: list[Problem] = []
    if case.model != "uc":
        if case.reserve.enabled:
            problems.append(
                Problem(
                    file,
                    "reserve is held by committed units: it needs model: uc",
                    column="reserve.enabled",
                    value=True,
                )
            )
        return problems
    gens = tables["generators"]
    workbook = net.folder / "network.xlsx"
    where = (
        f"{workbook} [sheet generators]"
        if workbook.exists()
        else str(net.folder / "generators.csv")
    )
    rows = gens.attrs.get("rownum", {})
    com = gens[gens["committable"].astype(bool)]
    if com.empty:
        problems.append(
            Problem(
                where,
                "a uc case needs committable generators: mark them"
                " with committable = true and give their units, stable"
                " minimum, minimum up/down times and start costs",
                column="committable",
            )
        )
    stable = com["p_min_stable_pu"].astype(float)
    units = pd.to_numeric(com["units"]).astype(float)
    checks = [
        (
            "startup_ramp_pu",
            com["startup_ramp_pu"].astype(float) < stable,
            "is below p_min_stable_pu: a unit could never start",
        ),
        (
            "shutdown_ramp_pu",
            com["shutdown_ramp_pu"].astype(float) < stable,
            "is below p_min_stable_pu: a unit could never stop",
        ),
        (
            "units_on_initial",
            pd.to_numeric(com["units_on_initial"]).astype(float) > units,
            "exceeds units",
        ),
        (
            "p_initial_mw",
            com["p_initial_mw"].astype(float)
            > com["p_max_mw"].astype(float)
            / units
            * pd.to_numeric(com["units_on_initial"]).astype(float).fillna(units),
            "exceeds the rating of the units on before the horizon (units_on_initial)",
        ),
    ]
    for column, bad, rule in checks:
        problems += [
            Problem(
                where,
                f"{column} {rule}",
                row=int(rows.get(n, 0)) or None,
                column=column,
                value=com.at[n, column],
            )
            for n in com.index[bad.to_numpy()]
        ]
    if case.reserve.enabled:
        regions = tables["buses"]["region"]
        holding = set(regions.reindex(com["bus"]).dropna())
        if case.reserve.regions != "all":
            for region in case.reserve.regions:
                if region not in set(regions):
                    problems.append(
                        Problem(file, "unknown region", column="reserve.regions", value=region)
                    )
                elif region not in holding:
                    problems.append(
                        Problem(
                            file,
                            "region has no committable generator to hold reserve",
                            column="reserve.regions",
                            value=region,
                        )
                    )
        elif not holding:
            problems.append(
                Problem(
                    file,
                    "no committable generator can hold reserve",
                    column="reserve.enabled",
                    value=True,
                )
            )
    return problems


def _apply_overrides(
    case: Case,
    tables: dict[str, pd.DataFrame],
    file: str,
    series: dict[str, pd.DataFrame] | None = None,
) -> list[Problem]:
    problems = []
    for i, ov in enumerate(case.overrides):
        where = f"overrides[{i}]"
        if ov.table not in TABLES:
            problems.append(
                Problem(
                    file,
                    f"unknown table (one of {', '.join(TABLES)})",
                    column=f"{where}.table",
                    value=ov.table,
                )
            )
            continue
        df = tables[ov.table]
        if ov.name not in df.index:
            problems.append(
                Problem(
                    file,
                    f"no component of that name in {ov.table}",
                    column=f"{where}.name",
                    value=ov.name,
                )
            )
            continue
        if ov.column not in df.columns:
            problems.append(
                Problem(
                    file,
                    f"{ov.table} has no such column",
                    column=f"{where}.column",
                    value=ov.column,
                )
            )
            continue
        col = TABLES[ov.table].column(ov.column)
        value, rule = override_value(col, ov.value, tables)
        profiles = TABLES[ov.table].series.get(ov.column)
        if (
            rule is None
            and profiles is not None
            and value is not None
            and value not in (series or {}).get(profiles, pd.DataFrame()).columns
        ):
            rule = f"profile not found in timeseries/{profiles}.csv"
        if (
            rule is None
            and ov.column == "profile"
            and value is None
            and profiles in _PROFILE_DEFAULTS_TO_NAME
            and ov.name not in (series or {}).get(profiles, pd.DataFrame()).columns
        ):
            rule = (
                f"profile not found in timeseries/{profiles}.csv (a blank profile is the"
                " component's name)"
            )
        if rule is not None:
            problems.append(Problem(file, rule, column=f"{where}.value", value=ov.value))
            continue
        df.loc[ov.name, ov.column] = value
    return problems


def override_value(
    col: Column, given: Any, tables: dict[str, pd.DataFrame]
) -> tuple[Any, str | None]:
    """An override's value as its column holds it, or the rule it breaks: the column's type,
    finite numbers within its range, its choices, and a reference to a component that
    exists (as the table itself is checked, `gridopt.inputs.network`)."""
    if col.kind in ("float", "int"):
        if isinstance(given, bool):
            return None, f"expected {'a whole number' if col.kind == 'int' else 'a number'}"
        try:
            value = float(given)
        except (TypeError, ValueError, OverflowError):
            return None, "expected a number"
        if not math.isfinite(value):
            return None, "must be a finite number"
        if col.kind == "int" and value != round(value):
            return None, "expected a whole number"
        if (col.min is not None and value < col.min) or (col.max is not None and value > col.max):
            low = "" if col.min is None else f"{col.min:g}"
            high = "" if col.max is None else f"{col.max:g}"
            return None, f"{col.name} must lie in [{low or '-inf'}, {high or 'inf'}]"
        return value, None
    if col.kind == "bool":
        text = str(given).strip().lower()
        if isinstance(given, bool) or text in BOOL_TRUE | BOOL_FALSE:
            return (given if isinstance(given, bool) else text in BOOL_TRUE), None
        return None, "expected true or false"
    if given is None or (isinstance(given, str) and not given.strip()):
        return (None, None) if not col.required else (None, "a value is required")
    if isinstance(given, dict | list):
        return None, "expected text"
    text = str(given).strip()
    if col.choices is not None and text not in col.choices:
        return None, f"must be one of {', '.join(col.choices)}"
    if (
        col.ref is not None
        and col.ref in tables
        and (col.ref != "carriers" or len(tables["carriers"]))
        and text not in tables[col.ref].index
    ):
        return None, f"refers to a component that does not exist in {col.ref}"
    return text, None


def _apply_scaling(case: Case, tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    problems = []
    carriers = set(tables["carriers"].index) | set(tables["generators"]["carrier"])
    for setting, column in (("fuel_price", "marginal_cost_cny_per_mwh"), ("capacity", "p_max_mw")):
        for carrier, factor in getattr(case.scale, setting).items():
            if carrier not in carriers:
                problems.append(
                    Problem(file, "unknown carrier", column=f"scale.{setting}", value=carrier)
                )
                continue
            gens = tables["generators"]
            mask = gens["carrier"] == carrier
            gens.loc[mask, column] = gens.loc[mask, column] * factor
            if setting == "fuel_price":
                quadratic = "quadratic_cost_cny_per_mw2h"
                gens.loc[mask, quadratic] = gens.loc[mask, quadratic] * factor
            if setting == "capacity":
                gens.loc[mask, "p_min_mw"] = gens.loc[mask, "p_min_mw"] * factor
    supplies = tables["gas_supplies"]
    for key, factor in case.scale.gas_price.items():
        mask = (supplies["kind"] == key) | (supplies.index == key)
        if not mask.any():
            problems.append(
                Problem(
                    file, "no gas supply of that kind or name", column="scale.gas_price", value=key
                )
            )
            continue
        supplies.loc[mask, "price_cny_per_mwh_th"] = (
            supplies.loc[mask, "price_cny_per_mwh_th"] * factor
        )
    return problems


def _snapshots(
    case: Case, net: Network, file: str
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
            return (
                hours,
                np.array([]),
                [
                    Problem(
                        file,
                        f"horizon {hours[0]} .. {hours[-1]} is not covered by"
                        f" {series.attrs.get('file', missing[0])} ({series.index[0]} .. "
                        f"{series.index[-1]})",
                        column="horizon",
                    )
                ],
            )
    else:
        start = pd.Timestamp(h.start) if h.start is not None else pd.Timestamp("2025-01-01")
        hours = pd.date_range(start, periods=hours_needed, freq="h")
    snapshots = pd.DatetimeIndex(hours[:: h.resolution_h], name="snapshot")
    return snapshots, np.full(len(snapshots), float(h.resolution_h)), []


def _period_demand(case: Case, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """(period x load) factor on each load's demand in each investment period."""
    loads = tables["loads"]
    region = tables["buses"]["region"].reindex(loads["bus"]).to_numpy()
    periods = case.expansion.periods if case.expansion is not None else []
    out = np.ones((len(periods), len(loads)))
    for p, period in enumerate(periods):  # a handful of periods
        if isinstance(period.demand, dict):
            out[p] = pd.Series(region).map(period.demand).fillna(1.0).to_numpy()
        else:
            out[p] = period.demand
    return out


def _period_snapshots(
    case: Case, net: Network, file: str
) -> tuple[pd.DatetimeIndex, np.ndarray, pd.DatetimeIndex, InvestmentPeriods, list[Problem]]:
    """Snapshots of the investment periods (gridopt.inputs.investment): labels in each period's
    year,
    their hours, the hours of the series they average, and the periods and weights."""
    h = case.horizon
    exp = case.expansion
    assert exp is not None  # called for expansion cases only
    start = (
        pd.Timestamp(h.start)
        if h.start is not None
        else (
            min((s.index for s in net.series.values()), key=len)[0]
            if net.series
            else pd.Timestamp("2025-01-01")
        )
    )
    source, labels, period, weight, sample = period_hours(exp, start, h.snapshots * h.resolution_h)
    problems = []
    for name, series in net.series.items():
        missing = ~source.isin(series.index)
        if missing.any():
            problems.append(
                Problem(
                    file,
                    f"sample hour {source[missing][0]} is not covered by"
                    f" {series.attrs.get('file', name)} ({series.index[0]} .."
                    f" {series.index[-1]})",
                    column="expansion.periods",
                )
            )
            break
    if labels.has_duplicates:
        problems.append(
            Problem(
                file,
                f"samples of a period overlap (hour {labels[labels.duplicated()][0]} twice)",
                column="expansion.periods",
            )
        )
    res = h.resolution_h
    first = np.arange(0, len(source), res)
    snapshots = pd.DatetimeIndex(labels[first], name="snapshot")
    years = np.array([p.year for p in exp.periods])
    span = period_spans(exp.periods)
    cycle_start = np.r_[True, sample[first][1:] != sample[first][:-1]]
    periods = InvestmentPeriods(
        years=years,
        span_yr=span,
        factor=discounted_years(years, span, exp.discount_rate),
        of_snapshot=period[first],
        sample_weight=weight[first],
        cycle_start=cycle_start,
        series_hours=source,
    )
    return snapshots, np.full(len(snapshots), float(res)), source, periods, problems


def _layout(
    net: Network,
    series_name: str,
    table: pd.DataFrame,
    column: str,
    snapshots: pd.DatetimeIndex,
    horizon: Horizon,
    fill: float = 0.0,
    default_name: bool = False,
    hours: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """(snapshot x component) matrix of each component's profile, block-averaged.

    `hours` are the hours of the series that the snapshots average (blank: the hours from the
    first snapshot on, `resolution_h` per snapshot); an expansion case's samples take them
    from the series' own year while the snapshots are labelled in the period's year.
    """
    profiles = table[column]
    if default_name:
        profiles = profiles.fillna(pd.Series(table.index, index=table.index))
    out = pd.DataFrame(fill, index=snapshots, columns=table.index, dtype=float)
    used = profiles.dropna()
    if used.empty:
        return out
    series = net.series[series_name]
    if hours is None:
        hours = pd.date_range(snapshots[0], periods=len(snapshots) * horizon.resolution_h, freq="h")
    block = series.loc[hours, used.unique()]
    if horizon.resolution_h > 1:
        block = block.groupby(np.arange(len(hours)) // horizon.resolution_h).mean()
    values = block.to_numpy()[:, block.columns.get_indexer(used.to_numpy())]
    out.loc[:, used.index] = values
    return out
