"""Time-series aggregation: a case's horizon solved on a few typical periods with weights.

Case setting (see `gridopt.inputs.settings.Aggregation`):

```yaml
horizon:
  start: "2025-01-01 00:00"
  snapshots: 8760
  resolution_h: 1
  aggregation: {method: typical_periods, periods: 12, period_h: 24,
                extreme_periods: [peak_load], clustering: hierarchical, linking: seasonal}
```

`gridopt.inputs.case.prepare_case` lays out every series on the whole horizon; `aggregate` then cuts
the horizon into its O original periods of L = period_h / resolution_h snapshots and clusters
them, all series jointly, with `tsam` (Kotzur et al. 2018): the load, availability, inflow,
non-power gas demand and gas supply profiles, each column scaled to [0, 1] (so a 80 GW load
does not outweigh a capacity factor), identical columns counted once, and each kind of series
weighted as a whole (its columns share a weight of one), so that a hundred wind farms do not
outweigh ten loads. Each cluster is represented by its medoid, a real period of the horizon,
whose date-times its snapshots keep; `preserve_means` rescales the typical periods so every
series keeps its mean over the horizon (energy, inflow volume). `extreme_periods` adds periods
kept as they are (e.g. the day of the peak hour, `peak_load`), each its own typical period.

What the returned CaseData carries (the rest of the model reads only this):

- `snapshots`: the K typical periods' snapshots, L per period, contiguous, ordered by date;
  the series (`load_mw`, ...) on them.
- `weights_h[t]` = resolution_h x the number of original periods that t's typical period
  stands for; sum(weights_h) = the horizon's hours, so costs, energy and CO2 (all weighted by
  `weights_h`) are those of the whole horizon.
- `typical` (`TypicalPeriods`): `period_of_snapshot` (T,) typical period k of each snapshot;
  `period_order` (O,) the typical period standing for each original period, in time order;
  `period_weight` (K,) original periods per typical period; `representative` (K,) the
  original period each typical period is; `period_start` (O,) and `chronological` (O x L) the
  date-times of the original periods and of every snapshot of the horizon; `linking`; and
  `error`, the reproduction error of the series (`reproduction_error`).

How the formulation uses it (`gridopt.model.core.LinearModel`): rows that link a snapshot to
the one before it (ramps of generators and corridors, commitment, water routing with travel
delay) stay inside a typical period, wrapping round at its ends; stores (storage units, gas
storage, hydro reservoirs) are either cyclic per typical period (`linking: periodic`) or
chained through the year (`linking: seasonal`, `gridopt.model._stateful`). Initial levels
and units on before the horizon apply only under seasonal linking (initial levels) and not at
all (units on: each typical period is cyclic in its commitment).

Results keep the typical snapshots, with a `weight_h` column on every table that has a
snapshot (sum x weight_h over a table is a sum over the horizon); tables `typical_periods`
(each original period and the typical period standing for it) and `storage_year`,
`hydro_year`, `gas_storage_year` (levels in every snapshot of the horizon, for stores chained
through the year; the others repeat their typical period) are added.

Not supported with aggregation (each an InputError naming the setting): obligations per
calendar month (contracts, must-take, energy obligations, gas contracts, security shares),
annual ones on a horizon that spans more than a calendar year, and expansion cases with
samples (`expansion.periods`). An expansion case of one period runs on the typical snapshots,
each typical period a cycle.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.case_file import _with_lines
from gridopt.inputs.data import CaseData, TypicalPeriods
from gridopt.inputs.settings import Aggregation

# the series clustered jointly, as CaseData attributes
SERIES = (
    "load_mw",
    "availability_pu",
    "inflow_m3s",
    "gas_demand_mwth",
    "gas_supply_pu",
    "storage_inflow_mw",
)
SETTING = "horizon.aggregation"


def aggregate(data: CaseData) -> CaseData:
    """The case on typical periods: series clustered, snapshots and weights replaced."""
    settings = data.aggregation
    res = data.case.horizon.resolution_h
    problems = _check(data, settings)
    if problems:
        raise InputError(_with_lines(problems, data.path))
    steps = settings.period_h // res
    n_orig = data.n_snapshots // steps
    frame, columns, weights, extremes = _clustering_input(data, settings)
    result = _cluster(frame, settings, weights, extremes, res, n_orig)

    assign = np.asarray(result.clustering.cluster_assignments, dtype=int)
    centers = np.asarray(result.clustering.cluster_centers, dtype=int)
    counts = np.bincount(assign, minlength=len(centers))
    # a cluster left without periods (its member became an extreme period) stands for none
    kept = np.flatnonzero(counts > 0)
    kept = kept[np.argsort(centers[kept])]  # typical periods in the order of their dates
    rank = np.full(len(centers), -1)
    rank[kept] = np.arange(len(kept))
    order = rank[assign]
    representative = centers[kept]
    reps = result.cluster_representatives

    positions = (representative[:, None] * steps + np.arange(steps)[None, :]).ravel()
    snapshots = pd.DatetimeIndex(data.snapshots[positions], name=data.snapshots.name)
    series = {}
    for name in SERIES:
        full = getattr(data, name)
        values = full.to_numpy(dtype=float)[positions].copy()
        for j, col in enumerate(full.columns):
            source = columns.get((name, col))
            if source is not None:
                values[:, j] = np.concatenate([reps.loc[int(k), source].to_numpy() for k in kept])
        series[name] = pd.DataFrame(values, index=snapshots, columns=full.columns)

    weight = counts[kept].astype(float)
    typical = TypicalPeriods(
        snapshots_per_period=steps,
        period_of_snapshot=np.repeat(np.arange(len(kept)), steps),
        period_order=order,
        period_weight=weight,
        representative=representative,
        period_start=pd.DatetimeIndex(data.snapshots[::steps], name="period"),
        chronological=pd.DatetimeIndex(data.snapshots),
        linking=settings.linking,
        error=pd.DataFrame(),
    )
    typical.error = reproduction_error(data, series, typical)
    investment = data.investment
    if investment is not None:
        # an expansion case of one investment period: its snapshots are the typical ones,
        # each typical period a cycle (weights_h already counts what each stands for)
        investment = replace(
            investment,
            of_snapshot=investment.of_snapshot[positions],
            sample_weight=investment.sample_weight[positions],
            cycle_start=np.arange(len(positions)) % steps == 0,
        )
    return replace(
        data,
        snapshots=snapshots,
        weights_h=np.repeat(weight * res, steps),
        typical=typical,
        investment=investment,
        **series,
    )


def reproduction_error(
    full: CaseData, series: dict[str, pd.DataFrame], typical: TypicalPeriods
) -> pd.DataFrame:
    """How well the typical periods, laid out in the order of the year, reproduce each kind of
    series: per column RMSE / (max - min) over the horizon (columns that never change are
    left out), its mean and worst over the columns, and the relative error of the kind's total
    over the horizon (energy, volume)."""
    rows = []
    for name in SERIES:
        original = getattr(full, name).to_numpy(dtype=float)
        if not original.size:
            continue
        rebuilt = typical.expand(series[name].to_numpy(dtype=float).T).T
        span = original.max(axis=0) - original.min(axis=0)
        moving = span > 0
        rmse = np.sqrt(((rebuilt - original) ** 2).mean(axis=0))
        nrmse = rmse[moving] / span[moving]
        total = original.sum()
        rows.append(
            {
                "series": name,
                "columns": int(moving.sum()),
                "nrmse_mean_pu": float(nrmse.mean()) if moving.any() else 0.0,
                "nrmse_max_pu": float(nrmse.max()) if moving.any() else 0.0,
                "total_error_pu": float((rebuilt.sum() - total) / total) if total else 0.0,
            }
        )
    return pd.DataFrame(rows)


# ---- checks ----------------------------------------------------------------------------------
def _check(data: CaseData, settings: Aggregation) -> list[Problem]:
    file = str(data.path)
    res = data.case.horizon.resolution_h
    problems = []
    if settings.period_h % res:
        problems.append(
            Problem(
                file,
                f"must be a multiple of resolution_h ({res})",
                column=f"{SETTING}.period_h",
                value=settings.period_h,
            )
        )
        return problems
    hours = data.n_snapshots * res
    if hours % settings.period_h:
        problems.append(
            Problem(
                file,
                f"must divide the horizon's {hours} hours into whole periods",
                column=f"{SETTING}.period_h",
                value=settings.period_h,
            )
        )
        return problems
    n_orig = hours // settings.period_h
    extremes = list(dict.fromkeys(settings.extreme_periods))
    if settings.periods + len(extremes) > n_orig:
        problems.append(
            Problem(
                file,
                f"typical periods ({settings.periods} plus"
                f" {len(extremes)} extreme) must not outnumber the horizon's"
                f" {n_orig} periods",
                column=f"{SETTING}.periods",
                value=settings.periods,
            )
        )
    for rule in extremes:
        if not _extreme_column(data, rule).to_numpy().any():
            problems.append(
                Problem(
                    file,
                    "the case has no series for this extreme period"
                    " (no demand, wind or solar, or inflow of that kind)",
                    column=f"{SETTING}.extreme_periods",
                    value=rule,
                )
            )
    exp = data.case.expansion
    if exp is not None and exp.enabled and exp.periods:
        problems.append(
            Problem(
                file,
                "typical periods cannot be combined with the samples"
                " of expansion.periods (each sample is its own cycle)",
                column=SETTING,
            )
        )
    tables = data.tables
    span_years = data.snapshots.year.nunique()
    for table in ("contracts", "must_take", "energy_obligations", "gas_contracts"):
        obligations = tables.get(table, pd.DataFrame())
        if obligations.empty:
            continue
        if (obligations["period"] == "month").any():
            problems.append(
                Problem(
                    file,
                    f"{table} per calendar month need the chronological"
                    " horizon: a typical period stands for days of several"
                    " months",
                    column=SETTING,
                    value=table,
                )
            )
        elif span_years > 1:
            problems.append(
                Problem(
                    file,
                    f"annual {table} need a horizon within one calendar year when it is aggregated",
                    column=SETTING,
                    value=table,
                )
            )
    for zone in data.security_zones:
        shares = [zone.local_share, zone.import_share, *zone.fuel_mix]
        if any(s is not None and s.period == "month" for s in shares):
            problems.append(
                Problem(
                    file,
                    f"security zone '{zone.name}' has a share per month:"
                    " it needs the chronological horizon",
                    column=SETTING,
                    value=zone.name,
                )
            )
    return problems


# ---- clustering ------------------------------------------------------------------------------
EXTREME_RULES = {  # rule -> (tsam ExtremeConfig field, auxiliary column)
    "peak_load": ("max_value", "total load"),
    "peak_gas_demand": ("max_value", "total gas demand"),
    "min_renewable": ("min_period", "total wind and solar"),
    "min_inflow": ("min_period", "total inflow"),
}


def _extreme_column(data: CaseData, rule: str) -> pd.Series:
    """The horizon's total series an extreme period rule looks at."""
    if rule == "peak_load":
        return data.load_mw.sum(axis=1)
    if rule == "peak_gas_demand":
        return (
            data.gas_demand_mwth.sum(axis=1)
            if data.gas_demand_mwth.size
            else pd.Series(0.0, index=data.snapshots)
        )
    if rule == "min_inflow":
        return (
            data.inflow_m3s.sum(axis=1)
            if data.inflow_m3s.size
            else pd.Series(0.0, index=data.snapshots)
        )
    gens = data.tables["generators"]
    variable = gens.index[gens["availability_profile"].notna().to_numpy()]
    return (data.availability_pu[variable] * gens.loc[variable, "p_max_mw"].to_numpy()).sum(axis=1)


def _clustering_input(
    data: CaseData, settings: Aggregation
) -> tuple[pd.DataFrame, dict[tuple[str, str], str], dict[str, float], dict[str, list[str]]]:
    """The frame tsam clusters, the clustered column standing for each (series, column), the
    weight of each clustered column and the extreme period columns by tsam field.

    Columns that never change are left out (they are the same in every period); identical
    columns are clustered once; the columns of each kind of series share a weight of one.
    """
    parts, columns, weights = [], {}, {}
    for name in SERIES:
        full = getattr(data, name)
        if full.empty:
            continue
        values = full.to_numpy(dtype=float)
        moving = values.max(axis=0) > values.min(axis=0)
        if not moving.any():
            continue
        kind = pd.DataFrame(
            values[:, moving],
            index=data.snapshots,
            columns=[f"{name}|{c}" for c in full.columns[moving]],
        )
        # each column of the kind maps to the first identical one, which alone is clustered
        codes, _ = pd.factorize(pd.util.hash_pandas_object(kind.T, index=False))
        first = np.unique(codes, return_index=True)[1]
        unique = kind.iloc[:, first]
        for col, code in zip(full.columns[moving], codes, strict=True):
            columns[(name, col)] = kind.columns[first[code]]
        for col in unique.columns:
            weights[col] = 1.0 / len(unique.columns)
        parts.append(unique)
    extremes: dict[str, list[str]] = {}
    for rule in dict.fromkeys(settings.extreme_periods):
        field, column = EXTREME_RULES[rule]
        parts.append(_extreme_column(data, rule).rename(column).to_frame())
        weights[column] = 0.0  # it selects a period; it does not shape the clusters
        extremes.setdefault(field, []).append(column)
    if not parts:  # nothing varies: any period stands for all
        parts.append(pd.DataFrame({"constant": 0.0}, index=data.snapshots))
        weights["constant"] = 1.0
    frame = pd.concat(parts, axis=1)
    frame.index = pd.DatetimeIndex(data.snapshots)
    return frame, columns, weights, extremes


def _cluster(
    frame: pd.DataFrame,
    settings: Aggregation,
    weights: dict[str, float],
    extremes: dict[str, list[str]],
    res: int,
    n_orig: int,
):
    """Run tsam on the frame (medoid representation); its result object."""
    try:
        import tsam
    except ImportError:  # its metadata caps pandas below ours, so it comes with --no-deps
        raise RuntimeError("typical periods need tsam: pip install --no-deps tsam==4.1.1") from None

    floor = tsam.options.min_weight
    weights = {k: max(v, floor) for k, v in weights.items()}
    method: Literal["kmedoids", "hierarchical"] = (
        "kmedoids" if settings.clustering == "k_medoids" else "hierarchical"
    )
    with warnings.catch_warnings():
        # tsam warns when rescaling cannot keep a mean within its clip bounds; the remaining
        # deviation is reported by reproduction_error
        warnings.simplefilter("ignore", UserWarning)
        return tsam.aggregate(
            frame,
            n_clusters=min(settings.periods, n_orig),
            period_duration=settings.period_h,
            temporal_resolution=float(res),
            cluster=tsam.ClusterConfig(method=method, representation="medoid"),
            extremes=tsam.ExtremeConfig(method="append", **extremes) if extremes else None,
            weights=weights,
            preserve_column_means=settings.preserve_means,
        )


# ---- results ---------------------------------------------------------------------------------
YEAR_TABLES = ("storage_year", "hydro_year", "gas_storage_year")


def result_tables(data: CaseData, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Result tables of a case in typical periods: a `weight_h` column on every table of the
    typical snapshots (hours each row stands for: sum of x * weight_h is a sum over the
    horizon), the order of the typical periods over the horizon (`typical_periods`) and the
    reproduction error of the series (`aggregation_error`)."""
    typical = data.typical
    if typical is None:
        return {}
    weight = pd.Series(data.weights_h, index=pd.DatetimeIndex(data.snapshots))
    out = {}
    for name, table in tables.items():
        if name in YEAR_TABLES or "snapshot" not in table.columns or "weight_h" in table:
            continue
        table = table.copy()
        table["weight_h"] = weight.reindex(pd.DatetimeIndex(table["snapshot"])).to_numpy()
        out[name] = table
    steps = typical.snapshots_per_period
    out["typical_periods"] = pd.DataFrame(
        {
            "period_start": typical.period_start,
            "typical_period": typical.period_order,
            "typical_period_start": data.snapshots[typical.period_order * steps],
            "periods_represented": typical.period_weight[typical.period_order].astype(int),
        }
    )
    out["aggregation_error"] = typical.error.copy()
    return out
