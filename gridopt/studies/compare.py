"""Runs side by side: results folders compared figure by figure, with differences against the
first (the base).

`compare_runs(folders)` reads each results folder (`gridopt solve`, a sweep's scenario folder,
`gridopt security` or `contingency`) and returns tables with one column per run, in the order
given, and one column `<run> - <base>` per other run:

| table | one row per | figures |
|---|---|---|
| comparison | headline figure | objective (CNY), demand, generation, unserved (MWh), CO2 |
| | | (t), mean price (CNY/MWh), cost of security (CNY), solves |
| energy_by_carrier | carrier | energy generated over the horizon, MWh |
| energy_by_region | region and carrier | energy generated, MWh |
| corridor_energy | corridor, link (and AC line) | energy sent both ways, MWh; `kind` says which |
| price_by_region | region | mean nodal price, CNY/MWh |
| co2_by_region | region | CO2 emitted, t |
| costs | component and cost type | cost, CNY |
| security | zone and target | hours binding, mean shadow price (its unit); a security |
| | | study's cost of the target (CNY) |

A figure a run does not have is blank, and so is its difference. Differences are plain
subtractions of the figures shown (the objective's difference is exactly objective(run) -
objective(base)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridopt.results.chart_data import hours_per_snapshot, security_targets
from gridopt.results.read import RunTables
from gridopt.studies.sweep_tables import key_tables

# the tables whose rows a comparison reads from each run
_SOURCE = (
    "generation_by_carrier",
    "prices",
    "flows",
    "corridors",
    "unserved",
    "costs",
    "security",
    "security_cost",
)

# headline figures of summary.json: (key, unit)
FIGURES = (
    ("objective_cny", "CNY"),
    ("demand_mwh", "MWh"),
    ("generation_mwh", "MWh"),
    ("unserved_mwh", "MWh"),
    ("co2_t", "t"),
    ("mean_price_cny_per_mwh", "CNY/MWh"),
)


def run_names(folders: list[Path]) -> list[str]:
    """A short unique name per run: its folder's name (then its parent's) ."""
    names = [f.name for f in folders]
    for i, f in enumerate(folders):
        if names.count(names[i]) > 1:
            names[i] = f"{f.parent.name}/{f.name}"
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def read_run(folder: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """summary.json and the source tables of one results folder."""
    with RunTables(folder) as run:
        tables = {name: df for name in _SOURCE if (df := run.get(name)) is not None}
        return dict(run.summary), tables


def compare_runs(
    folders: Sequence[Path | str],
    names: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """The comparison tables of results folders (see the module doc); the first is the base.

    Raises FileNotFoundError naming a folder that holds no results.
    """
    say = progress or (lambda _m: None)
    paths = [Path(f) for f in folders]
    names = names or run_names(paths)
    runs = []
    for name, path in zip(names, paths, strict=True):
        say(f"reading {path}")
        info, tables = read_run(path)
        runs.append((name, info, tables, key_tables(tables, info)))
    out = {"comparison": _figures(runs)}
    out["energy_by_carrier"] = _side_by_side(
        runs,
        lambda _i, _t, k: _by(k.get("generation_by_carrier"), ["carrier"], "energy_mwh"),
        ["carrier"],
        "mwh",
    )
    out["energy_by_region"] = _side_by_side(
        runs,
        lambda _i, _t, k: _by(k.get("generation_by_carrier"), ["region", "carrier"], "energy_mwh"),
        ["region", "carrier"],
        "mwh",
    )
    out["corridor_energy"] = _side_by_side(
        runs, _corridor_energy, ["kind", "branch", "bus0", "bus1"], "mwh"
    )
    rank = {"corridor": 0, "link": 1, "line": 2}
    if len(out["corridor_energy"]):
        # the scheduled corridors first, then links, then AC lines
        out["corridor_energy"] = (
            out["corridor_energy"]
            .sort_values("kind", key=lambda k: k.map(rank).fillna(3), kind="stable")
            .reset_index(drop=True)
        )
    out["price_by_region"] = _side_by_side(
        runs,
        lambda _i, _t, k: _by(k.get("price_by_region"), ["region"], "mean_price_cny_per_mwh"),
        ["region"],
        "cny_per_mwh",
    )
    out["co2_by_region"] = _side_by_side(
        runs,
        lambda _i, _t, k: _by(k.get("generation_by_carrier"), ["region"], "co2_t"),
        ["region"],
        "t",
    )
    out["costs"] = _side_by_side(
        runs,
        lambda _i, _t, k: _by(k.get("costs"), ["component", "cost_type"], "cost_cny"),
        ["component", "cost_type"],
        "cny",
    )
    security = _security(runs)
    if security is not None:
        out["security"] = security
    return {k: v for k, v in out.items() if len(v)}


def _by(df: pd.DataFrame | None, keys: list[str], value: str) -> pd.Series | None:
    if df is None or not len(df) or value not in df:
        return None
    frame = df.assign(**{k: df[k].fillna("").astype(str) for k in keys})
    return frame.groupby(keys, sort=False)[value].sum()


def _corridor_energy(
    _info: Mapping[str, Any], _tables: Mapping[str, pd.DataFrame], key: Mapping[str, pd.DataFrame]
) -> pd.Series | None:
    energy = key.get("corridor_energy")
    if energy is None or not len(energy):
        return None
    e = energy.assign(sent=energy["forward_sent_mwh"] + energy["reverse_sent_mwh"])
    return _by(e, ["kind", "branch", "bus0", "bus1"], "sent")


def _side_by_side(
    runs: list, pick: Callable[..., pd.Series | None], keys: list[str], unit: str
) -> pd.DataFrame:
    """One row per key, one column per run (`<run>_<unit>`), then `<run> - <base>` columns;
    rows in the order the runs first name them."""
    series = {name: pick(info, tables, key) for name, info, tables, key in runs}
    present = [s for s in series.values() if s is not None]
    if not present:
        return pd.DataFrame()
    index = present[0].index
    for s in present[1:]:
        index = index.append(s.index.difference(index, sort=False))
    table = pd.DataFrame(index=index)
    for name, s in series.items():
        table[name] = s.reindex(index) if s is not None else np.nan
    table = _with_differences(table, [name for name, *_ in runs])
    shown = {"mwh": "MWh", "cny_per_mwh": "CNY/MWh", "cny": "CNY"}.get(unit, unit)
    table.columns = [f"{c} ({shown})" for c in table.columns]
    return table.reset_index()


def _with_differences(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    base = names[0]
    for name in names[1:]:
        table[f"{name} - {base}"] = table[name] - table[base]
    return table


def _figures(runs: list) -> pd.DataFrame:
    """The headline figures: one row each, runs side by side, differences against the base."""
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for name, info, tables, _key in runs:
        for figure, unit in FIGURES:
            rows.setdefault((figure, unit), {})[name] = _number(info.get(figure))
        cost = tables.get("security_cost")
        if cost is not None and len(cost):
            every = cost[cost["target"] == "all targets"]
            if len(every):
                rows.setdefault(("cost_of_security_cny", "CNY"), {})[name] = float(
                    every["cost_cny"].iloc[0]
                )
        if info.get("solves") is not None:
            rows.setdefault(("solves", "count"), {})[name] = _number(info.get("solves"))
        for key in ("status", "case_name", "model"):
            rows.setdefault((key, "text"), {})[name] = info.get(key)
    names = [name for name, *_ in runs]
    table = pd.DataFrame(
        [{"figure": f, "unit": u, **{n: v.get(n) for n in names}} for (f, u), v in rows.items()]
    )
    numeric = table["unit"] != "text"
    base = names[0]
    for name in names[1:]:
        diff = pd.Series([np.nan] * len(table), dtype=object)
        a = pd.to_numeric(table.loc[numeric, name], errors="coerce")
        b = pd.to_numeric(table.loc[numeric, base], errors="coerce")
        diff[numeric.to_numpy()] = (a - b).to_numpy()
        diff[~numeric.to_numpy()] = None
        table[f"{name} - {base}"] = diff.to_numpy()
    for col in table.columns[2:]:
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def _number(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def _security(runs: list) -> pd.DataFrame | None:
    """Per zone and target: hours binding and mean shadow price of the run's security table,
    and the cost of the target from a security study's security_cost table."""
    parts: dict[str, pd.DataFrame] = {}
    for name, info, tables, _key in runs:
        frame = None
        sec = tables.get("security")
        if sec is not None and len(sec):
            stamps = sec["snapshot"].dropna()
            hours = hours_per_snapshot(stamps, info) if len(stamps) else 1.0
            t = security_targets(sec, stamps if len(stamps) else None, hours)
            frame = t.set_index(["zone", "target"])[["binding_h", "shadow_mean"]].rename(
                columns={"binding_h": "binding_h", "shadow_mean": "mean_shadow_price"}
            )
            frame["price_unit"] = t["price_unit"].to_numpy()
        cost = tables.get("security_cost")
        if cost is not None and len(cost):
            c = cost.assign(target=cost["target"].astype(str)).set_index(["zone", "target"])
            c = c[["cost_cny"]]
            frame = c if frame is None else frame.join(c, how="outer")
        if frame is not None:
            parts[name] = frame
    if not parts:
        return None
    index = next(iter(parts.values())).index
    for f in list(parts.values())[1:]:
        index = index.append(f.index.difference(index, sort=False))
    names = [name for name, *_ in runs]
    out = pd.DataFrame(index=index)
    units = None
    for figure, unit in (("binding_h", "h"), ("mean_shadow_price", ""), ("cost_cny", "CNY")):
        if not any(figure in f for f in parts.values()):
            continue
        block = pd.DataFrame(index=index)
        for name in names:
            f = parts.get(name)
            block[name] = f[figure].reindex(index) if f is not None and figure in f else np.nan
        block = _with_differences(block, names)
        label = f"{figure} ({unit})" if unit else figure
        for col in block.columns:
            out[f"{label}: {col}"] = block[col]
        if figure == "mean_shadow_price":
            units = pd.concat([f["price_unit"] for f in parts.values() if "price_unit" in f])
    if units is not None:
        units = units[~units.index.duplicated()]
        out.insert(0, "price_unit", units.reindex(index).to_numpy())
    return out.reset_index()
