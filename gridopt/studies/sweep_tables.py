"""The combined tables of a sweep: each scenario's outcome and key tables, stacked.

`sweep.xlsx` (sheets `comparison`, `status` and the key tables), `sweep_parquet/` and
`sweep_status.csv` are written from here (see `gridopt.studies.sweep` for what they hold).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridopt.results.write import _replace_dir, write_xlsx
from gridopt.studies.scenarios import Scenario

_KEY_TABLES = (
    "summary",
    "generation_by_carrier",
    "price_by_region",
    "price_by_bus",
    "corridor_energy",
    "unserved_by_bus",
    "costs",
)


_SOURCE_TABLES = ("generation_by_carrier", "prices", "flows", "corridors", "unserved", "costs")


def key_tables(
    tables: Mapping[str, pd.DataFrame], info: Mapping[str, Any]
) -> dict[str, pd.DataFrame]:
    """The small tables a sweep combines, from one run's result tables and summary."""
    w = float(info.get("resolution_h") or 1)
    out: dict[str, pd.DataFrame] = {"summary": pd.DataFrame([_flat_summary(info)])}
    if _has(tables, "generation_by_carrier"):
        out["generation_by_carrier"] = tables["generation_by_carrier"].copy()
    if _has(tables, "prices"):
        p = tables["prices"].assign(region=lambda d: d["region"].fillna(""))
        price = "price_cny_per_mwh"
        out["price_by_region"] = (
            p.groupby("region", sort=True)[price]
            .agg(
                mean_price_cny_per_mwh="mean",
                min_price_cny_per_mwh="min",
                max_price_cny_per_mwh="max",
            )
            .reset_index()
        )
        out["price_by_bus"] = (
            p.groupby(["bus", "region"], sort=True)[price]
            .agg(
                mean_price_cny_per_mwh="mean",
                min_price_cny_per_mwh="min",
                max_price_cny_per_mwh="max",
            )
            .reset_index()
        )
    energy = []
    if _has(tables, "flows"):
        f = tables["flows"]
        energy.append(
            _branch_energy(
                f,
                "branch",
                f["kind"].to_numpy(),
                f["p0_mw"].clip(lower=0),
                (-f["p1_mw"]).clip(lower=0),
                f["p1_mw"].clip(lower=0) + (-f["p0_mw"]).clip(lower=0),
                w,
            )
        )
    if _has(tables, "corridors"):
        c = tables["corridors"]
        energy.append(
            _branch_energy(
                c,
                "corridor",
                "corridor",
                (c["sent_mw"] + c["schedule_mw"]) / 2,
                (c["sent_mw"] - c["schedule_mw"]) / 2,
                c["delivered_mw"],
                w,
            )
        )
    if energy:
        out["corridor_energy"] = pd.concat(energy, ignore_index=True)
    if _has(tables, "unserved"):
        u = tables["unserved"].assign(
            region=lambda d: d["region"].fillna(""), shed_h=lambda d: (d["unserved_mw"] > 1e-6) * w
        )
        out["unserved_by_bus"] = (
            u.groupby(["bus", "region"], sort=True)
            .agg(
                demand_mwh=("demand_mw", "sum"),
                unserved_mwh=("unserved_mw", "sum"),
                peak_unserved_mw=("unserved_mw", "max"),
                hours_with_unserved_h=("shed_h", "sum"),
            )
            .reset_index()
        )
        out["unserved_by_bus"][["demand_mwh", "unserved_mwh"]] *= w
    if _has(tables, "costs"):
        out["costs"] = tables["costs"].copy()
    for table in out.values():
        table.attrs = {}
    return out


def _has(tables: Mapping[str, pd.DataFrame], name: str) -> bool:
    return name in tables and len(tables[name]) > 0


def _branch_energy(
    df: pd.DataFrame,
    name_col: str,
    kind: Any,
    forward: pd.Series,
    reverse: pd.Series,
    delivered: pd.Series,
    w: float,
) -> pd.DataFrame:
    """Energy sent each way, delivered and lost on each branch over the horizon (MWh)."""
    util = df["utilisation_pu"].fillna(0.0)
    d = pd.DataFrame(
        {
            "branch": df[name_col].to_numpy(),
            "kind": kind,
            "carrier": df["carrier"].to_numpy(),
            "bus0": df["bus0"].to_numpy(),
            "bus1": df["bus1"].to_numpy(),
            "forward_sent_mwh": forward.to_numpy() * w,
            "reverse_sent_mwh": reverse.to_numpy() * w,
            "delivered_mwh": delivered.to_numpy() * w,
            "loss_mwh": df["loss_mw"].to_numpy() * w,
            "mean_utilisation_pu": util.to_numpy(),
            "hours_at_rating_h": (util.to_numpy() >= 1 - 1e-6) * w,
        }
    )
    return (
        d.groupby(["branch", "kind", "carrier", "bus0", "bus1"], sort=False)
        .agg(
            forward_sent_mwh=("forward_sent_mwh", "sum"),
            reverse_sent_mwh=("reverse_sent_mwh", "sum"),
            delivered_mwh=("delivered_mwh", "sum"),
            loss_mwh=("loss_mwh", "sum"),
            mean_utilisation_pu=("mean_utilisation_pu", "mean"),
            hours_at_rating_h=("hours_at_rating_h", "sum"),
        )
        .reset_index()
    )


def _flat_summary(info: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json as one row: lists joined, anything else not scalar as JSON text."""
    row: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, list):
            row[key] = "; ".join(str(v) for v in value)
        elif value is None or isinstance(value, str | int | float | bool):
            row[key] = value
        else:
            row[key] = json.dumps(value, default=str)
    return row


def _read_key_tables(folder: Path, info: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Key tables of a complete scenario from an earlier run, read from its parquet/ folder."""
    parquet = folder / "parquet"
    tables = {
        name: pd.read_parquet(parquet / f"{name}.parquet")
        for name in _SOURCE_TABLES
        if (parquet / f"{name}.parquet").exists()
    }
    return key_tables(tables, info)


def combined_tables(
    scenarios: list[Scenario], outcomes: list[ScenarioOutcome]
) -> dict[str, pd.DataFrame]:
    """comparison, status and the key tables of every scenario, stacked with `scenario`."""
    by_name = {o.scenario: o for o in outcomes}
    stacked: dict[str, pd.DataFrame] = {}
    for name in _KEY_TABLES:
        parts = [o.tables[name].assign(scenario=o.scenario) for o in outcomes if name in o.tables]
        if parts:
            df = pd.concat(parts, ignore_index=True)
            stacked[name] = df[["scenario", *[c for c in df.columns if c != "scenario"]]]
    compared = comparison(scenarios, outcomes)
    out = {"comparison": compared}
    base = next((s.name for s in scenarios if s.base), None)
    if base is not None:
        out["differences"] = differences(compared, base, [k for s in scenarios for k in s.changes])
    return {**out, "status": status_table(scenarios, by_name), **stacked}


def differences(compared: pd.DataFrame, base: str, settings: list[str]) -> pd.DataFrame:
    """Each scenario's figures of `comparison` minus the base scenario's (the changed settings
    left out): objective, demand, unserved energy, CO2, prices, energy on each branch."""
    figures = [
        c
        for c in compared.columns
        if c not in ("scenario", "status", *settings) and pd.api.types.is_numeric_dtype(compared[c])
    ]
    at = compared.index[compared["scenario"] == base]
    out = compared[["scenario", "status"]].copy()
    out.insert(1, "base", base)
    for col in figures:
        ref = compared.loc[at[0], col] if len(at) else np.nan
        out[f"{col} - base"] = compared[col] - ref
    return out


def comparison(scenarios: list[Scenario], outcomes: list[ScenarioOutcome]) -> pd.DataFrame:
    """One row per scenario: its changed settings, then the figures planners compare."""
    keys = [
        k
        for k in dict.fromkeys(k for s in scenarios for k in s.changes)
        if k not in ("scenario", "status")
    ]
    rows = []
    for s, o in zip(scenarios, outcomes, strict=True):
        info = o.summary
        row: dict[str, Any] = {"scenario": s.name}
        row.update(
            {
                k: json.dumps(v, default=str) if isinstance(v, dict | list) else v
                for k, v in s.changes.items()
                if k in keys
            }
        )
        row.update({"status": o.status, "objective_cny": o.objective_cny})
        for key in (
            "demand_mwh",
            "unserved_mwh",
            "co2_t",
            "generation_mwh",
            "mean_price_cny_per_mwh",
        ):
            row[key] = info.get(key)
        region = o.tables.get("price_by_region")
        if region is not None:
            for r, price in zip(region["region"], region["mean_price_cny_per_mwh"], strict=True):
                row[f"price_{r}_cny_per_mwh"] = price
        energy = o.tables.get("corridor_energy")
        if energy is not None:
            for _, e in energy[energy["kind"] != "line"].iterrows():
                row[f"energy_{e['branch']}_mwh"] = e["forward_sent_mwh"] + e["reverse_sent_mwh"]
        rows.append(row)
    df = pd.DataFrame(
        rows,
        columns=list(
            dict.fromkeys(
                ["scenario", *keys, "status", "objective_cny", *(k for r in rows for k in r)]
            )
        ),
    )
    for col in keys:
        df[col] = _uniform(df[col])
    return df


def _uniform(col: pd.Series) -> pd.Series:
    """A column Parquet can store: numbers stay numbers, any mixture becomes text."""
    values = [v for v in col if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(col)
    if all(isinstance(v, bool) for v in values):
        return col
    return col.map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def write_combined(
    out_dir: Path, scenarios: list[Scenario], outcomes: list[ScenarioOutcome]
) -> dict[str, pd.DataFrame]:
    """Write sweep.xlsx, sweep_parquet/ and sweep_status.csv (each replaced atomically)."""
    tables = combined_tables(scenarios, outcomes)
    tmp = Path(tempfile.mkdtemp(prefix=".sweep.", dir=out_dir))
    try:
        write_xlsx(tables, tmp / "sweep.xlsx")
        (tmp / "sweep_parquet").mkdir()
        for name, df in tables.items():
            df.to_parquet(tmp / "sweep_parquet" / f"{name}.parquet", index=False)
        os.replace(tmp / "sweep.xlsx", out_dir / "sweep.xlsx")
        _replace_dir(tmp / "sweep_parquet", out_dir / "sweep_parquet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write_status(out_dir, scenarios, {o.scenario: o for o in outcomes})
    return tables


# solve statuses after which a scenario is not solved again (its result is what it is)
FINAL_STATUSES = frozenset(
    {"optimal", "time_limit", "infeasible", "unbounded", "infeasible_or_unbounded"}
)


INVALID = "invalid"  # the case rejected the scenario's changes


ERROR = "error"  # the run crashed or its worker died


NOT_RUN = "not_run"  # the sweep was interrupted before the scenario finished


@dataclass
class ScenarioOutcome:
    """How one scenario of a sweep ended."""

    scenario: str
    status: str  # a solve status, or invalid / error / not_run
    objective_cny: float | None = None
    message: str = ""
    seconds: float = 0.0
    ran: bool = False  # solved in this run (False: complete from an earlier run, or not run)
    summary: dict[str, Any] = field(default_factory=dict, repr=False)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """Solved with a solution: optimal, or stopped by the time limit with one."""
        return self.status == "optimal" or (
            self.status == "time_limit" and self.objective_cny is not None
        )


def _one_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0] + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "") if lines else ""


def status_table(
    scenarios: list[Scenario], outcomes: Mapping[str, ScenarioOutcome]
) -> pd.DataFrame:
    """One row per scenario: status, objective, seconds, whether it ran now, message."""
    rows = []
    for s in scenarios:
        o = outcomes.get(s.name) or ScenarioOutcome(s.name, NOT_RUN)
        rows.append(
            {
                "scenario": s.name,
                "status": o.status,
                "ok": o.ok,
                "objective_cny": o.objective_cny,
                "seconds": round(o.seconds, 3),
                "ran_now": o.ran,
                "message": o.message,
            }
        )
    return pd.DataFrame(
        rows, columns=["scenario", "status", "ok", "objective_cny", "seconds", "ran_now", "message"]
    )


def _write_status(
    out_dir: Path, scenarios: list[Scenario], outcomes: Mapping[str, ScenarioOutcome]
) -> None:
    path = out_dir / "sweep_status.csv"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    status_table(scenarios, outcomes).to_csv(tmp, index=False)
    os.replace(tmp, path)
