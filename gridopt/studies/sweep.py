"""Scenario sweeps: many variants of one case, solved in parallel on a Dask cluster.

A scenario is a name and a set of `changes` to the case: dotted-key settings applied on top of
the case YAML, exactly as `gridopt.case.read_case` applies them (any setting or scaling the case
accepts: `inflow_year`, `scale.demand`, `scale.fuel_price.gas`, `overrides`, `horizon.start`,
`solver.time_limit_s`, ...). The scenario file is YAML or a table.

YAML (`changes` at the top applies to every scenario; `scenarios` and `product` may both be
given, and their scenarios are listed together):

```yaml
changes: {solver.time_limit_s: 3600}
scenarios:
  - name: dry_year
    changes: {inflow_year: dry}
  - name: nuozhadu_out
    changes:
      overrides: [{table: links, name: Nuozhadu-Guangdong UHVDC, column: p_max_mw, value: 0}]
product:                        # every combination: 3 x 2 = 6 scenarios
  inflow_year: [dry, normal, wet]
  scale.fuel_price.gas: [1.0, 1.3]
```

Product scenarios are named from the last part of each key and the value
(`inflow_year-dry_gas-1.3`); a value that is a list or mapping is named by its position (1, 2,
...). A nested mapping in `changes` is the same as its dotted keys: `{scale: {demand: 1.1}}`
changes only `scale.demand`. `overrides` is a list and a change replaces the case's whole list.

A table (`.csv`, or `.xlsx` with a sheet `scenarios` or else its first sheet): one row per
scenario, a `scenario` column with its name and one column per dotted key. Each cell is read as
a YAML value (`1.05`, `dry`, `true`, `[{table: links, ...}]`); a blank cell leaves that setting
as the case has it.

Names become folder names: letters, digits, `.`, `_` and `-`, starting with a letter or digit,
unique (ignoring case).

Each scenario is one `gridopt.run.solve_case` call in a Dask worker, writing `DIR/<scenario>/`
as `gridopt solve` would (Parquet always, so the combined outputs can be read back; xlsx or csv
on request: a year-long hourly workbook per scenario takes long to write). Each solve uses one
HiGHS thread (`solver.threads: 1`) unless the scenario sets `solver.threads`: the parallelism is
across scenarios. A scenario is complete when its folder holds a summary.json with a final
status (optimal, time limit, infeasible, unbounded) written for the same case file, network
files, changes and formats; a rerun skips complete scenarios (its record is
`DIR/sweep_state/<scenario>.json`, written by the worker after the folder). Results folders are
written atomically, so an interrupted sweep leaves no half-written scenario.

A scenario whose changes the case rejects fails with the validation message and the others run.
Combined outputs in DIR, with a `scenario` column in every table:

- `sweep.xlsx`: sheet `comparison` (one row per scenario: its changed settings, status,
  objective, demand, unserved energy, CO2, mean price per region, energy sent on each link and
  corridor), `status`, and the key tables `summary`, `generation_by_carrier`, `price_by_region`,
  `price_by_bus`, `corridor_energy` (every line, link and corridor), `unserved_by_bus`, `costs`
- `sweep_parquet/<table>.parquet`: the same tables
- `sweep_status.csv`: scenario, status, objective, seconds, whether it ran now, message

Prices are time averages of the nodal prices (snapshots have equal weight); energies are
summed over the snapshots with their weight (`resolution_h`).

With `scheduler` (a running Dask cluster), the case, its network and DIR must be at the same
paths on the workers as here (a shared file system), and gridopt installed on the workers.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from gridopt.case import network_folder, read_case
from gridopt.errors import InputError, Problem
from gridopt.io.write import FORMATS, _replace_dir, write_xlsx
from gridopt.run import solve_case

if TYPE_CHECKING:
    from distributed import Client

# solve statuses after which a scenario is not solved again (its result is what it is)
FINAL_STATUSES = frozenset({"optimal", "time_limit", "infeasible", "unbounded",
                            "infeasible_or_unbounded"})
INVALID = "invalid"  # the case rejected the scenario's changes
ERROR = "error"  # the run crashed or its worker died
NOT_RUN = "not_run"  # the sweep was interrupted before the scenario finished
STATE_DIR = "sweep_state"
RESERVED = frozenset({"sweep.xlsx", "sweep_parquet", "sweep_status.csv", STATE_DIR})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_KEY_TABLES = ("summary", "generation_by_carrier", "price_by_region", "price_by_bus",
               "corridor_energy", "unserved_by_bus", "costs")
_SOURCE_TABLES = ("generation_by_carrier", "prices", "flows", "corridors", "unserved", "costs")


@dataclass(frozen=True)
class Scenario:
    """A named variant of the case: dotted-key `changes` on top of the case file."""

    name: str
    changes: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it was defined, for messages


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
        return self.status == "optimal" or (self.status == "time_limit"
                                            and self.objective_cny is not None)


@dataclass
class SweepResult:
    """Outcomes in scenario order, and which scenarios ran now, were skipped or failed.

    `seconds`: plan_seconds (checking scenarios, reading complete ones back),
    cluster_start_seconds, solve_seconds (first submission to last result),
    cluster_stop_seconds, combine_seconds, total_seconds; the cluster's only when it ran.
    """

    out_dir: Path
    outcomes: list[ScenarioOutcome]
    seconds: dict[str, float]

    @property
    def executed(self) -> list[str]:
        return [o.scenario for o in self.outcomes if o.ran]

    @property
    def skipped(self) -> list[str]:
        return [o.scenario for o in self.outcomes if not o.ran and o.status in FINAL_STATUSES]

    @property
    def failed(self) -> list[str]:
        return [o.scenario for o in self.outcomes if not o.ok]

    def outcome(self, name: str) -> ScenarioOutcome:
        return next(o for o in self.outcomes if o.scenario == name)


@dataclass(frozen=True)
class ScenarioTask:
    """Everything a worker needs to solve one scenario (plain, picklable values)."""

    scenario: str
    case_path: str
    sweep_dir: str
    changes: dict[str, Any]
    formats: tuple[str, ...]
    fingerprint: str


# ------------------------------------------------------------------------ scenario files


def read_scenarios(path: Path | str) -> list[Scenario]:
    """Read a scenario file (YAML, CSV or XLSX); every problem found is raised together."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputError([Problem(file, "scenario file not found")])
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        scenarios, problems = _from_yaml(path)
    elif suffix in (".csv", ".xlsx", ".xlsm"):
        scenarios, problems = _from_table(path)
    else:
        raise InputError([Problem(file, "a scenario file is .yaml, .yml, .csv or .xlsx")])
    if not problems and not scenarios:
        problems.append(Problem(file, "lists no scenarios"))
    problems += check_names(scenarios, file)
    if problems:
        raise InputError(problems)
    return scenarios


def check_names(scenarios: list[Scenario], file: str = "scenarios") -> list[Problem]:
    """Names must be safe folder names, unique ignoring case, and not a sweep output's name."""
    problems = []
    seen: dict[str, Scenario] = {}
    for s in scenarios:
        if not _NAME.match(s.name):
            problems.append(Problem(file, "a scenario name is a folder name: up to 100"
                                    " letters, digits, '.', '_' or '-', starting with a letter"
                                    " or digit", column=s.source or None, value=s.name))
        elif s.name.lower() in RESERVED:
            problems.append(Problem(file, "is the name of a sweep output; choose another",
                                    column=s.source or None, value=s.name))
        elif s.name.lower() in seen:
            problems.append(Problem(file, f"scenario name used twice (also in"
                                    f" {seen[s.name.lower()].source or 'the list'})",
                                    column=s.source or None, value=s.name))
        else:
            seen[s.name.lower()] = s
    return problems


def _from_yaml(path: Path) -> tuple[list[Scenario], list[Problem]]:
    file = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(file, f"cannot be read ({exc})")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(file, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                            row=mark.line + 1 if mark else None)]
    if not isinstance(raw, dict):
        return [], [Problem(file, "a scenario file is a mapping with 'scenarios' and/or"
                            " 'product' (and optionally 'changes' for all of them)")]
    problems = [Problem(file, "unknown setting (use changes, scenarios, product)", column=k)
                for k in raw if k not in ("changes", "scenarios", "product")]
    if "scenarios" not in raw and "product" not in raw:
        problems.append(Problem(file, "give 'scenarios' (a list of {name, changes}) and/or"
                                " 'product' (a mapping of settings to lists of values)"))
    common, found = _flat_changes(raw.get("changes") or {}, file, "changes")
    problems += found
    scenarios: list[Scenario] = []
    listed = raw.get("scenarios") or []
    if not isinstance(listed, list):
        problems.append(Problem(file, "must be a list of {name, changes}", column="scenarios"))
        listed = []
    for i, entry in enumerate(listed):
        where = f"scenarios[{i}]"
        if not isinstance(entry, dict) or "name" not in entry:
            problems.append(Problem(file, "each scenario is a mapping with a name and"
                                    " changes", column=where))
            continue
        problems += [Problem(file, "unknown setting of a scenario (use name, changes)",
                             column=f"{where}.{k}") for k in entry if k not in ("name",
                                                                               "changes")]
        changes, found = _flat_changes(entry.get("changes") or {}, file, f"{where}.changes")
        problems += found
        scenarios.append(Scenario(_name_text(entry["name"]), {**common, **changes}, where))
    product = raw.get("product") or {}
    if not isinstance(product, dict):
        problems.append(Problem(file, "must map settings to lists of values", column="product"))
        product = {}
    axes, found = _flat_changes(product, file, "product")
    problems += found
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            problems.append(Problem(file, "give a non-empty list of values",
                                    column=f"product.{key}", value=values))
    if not problems and axes:
        scenarios += _product(axes, common)
    return scenarios, problems


def _flat_changes(raw: Any, file: str, where: str) -> tuple[dict[str, Any], list[Problem]]:
    """Dotted-key changes; a nested (non-empty) mapping is flattened to its dotted keys."""
    if not isinstance(raw, dict):
        return {}, [Problem(file, "must be a mapping of settings to values", column=where)]
    out: dict[str, Any] = {}
    problems = []

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if not isinstance(key, str) or not all(part.strip() for part in key.split(".")):
                problems.append(Problem(file, "a setting is a dotted name such as scale.demand",
                                        column=where, value=key))
                continue
            dotted = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                walk(value, f"{dotted}.")
            else:
                out[dotted] = value

    walk(raw, "")
    return out, problems


def _product(axes: dict[str, list[Any]], common: dict[str, Any]) -> list[Scenario]:
    last = [key.rsplit(".", 1)[-1] for key in axes]
    labels = [short if last.count(short) == 1 else key for key, short in zip(axes, last,
                                                                               strict=True)]
    scenarios = []
    for combo in itertools.product(*(list(enumerate(v, 1)) for v in axes.values())):
        parts = [f"{label}-{_value_label(value, k)}"
                 for label, (k, value) in zip(labels, combo, strict=True)]
        changes = {**common, **{key: value for key, (_k, value) in zip(axes, combo,
                                                                         strict=True)}}
        scenarios.append(Scenario("_".join(parts), changes, "product"))
    return scenarios


def _value_label(value: Any, position: int) -> str:
    if isinstance(value, dict | list):
        return str(position)
    if isinstance(value, bool):
        return str(value).lower()
    text = re.sub(r"[^A-Za-z0-9.-]+", "-", str(value)).strip("-")
    return text or str(position)


def _name_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _from_table(path: Path) -> tuple[list[Scenario], list[Problem]]:
    file = str(path)
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            sheets = pd.ExcelFile(path).sheet_names
            sheet = "scenarios" if "scenarios" in sheets else sheets[0]
            df = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
            file = f"{path} [sheet {sheet}]"
    except Exception as exc:  # any unreadable file is a problem with the input
        return [], [Problem(file, f"cannot be read as a table ({exc})")]
    df.columns = [str(c).strip() for c in df.columns]
    if "scenario" not in df.columns:
        return [], [Problem(file, "needs a 'scenario' column with the scenario names and one"
                            " column per setting (dotted names such as scale.demand)")]
    problems = []
    for col in df.columns:
        if col != "scenario" and not all(part.strip() for part in col.split(".")):
            problems.append(Problem(file, "a column is a dotted setting name such as"
                                    " scale.demand", column=col))
    scenarios = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        cells = dict(zip(df.columns, row, strict=True))
        name = str(cells.pop("scenario")).strip()
        changes = {}
        for col, cell in cells.items():
            text = str(cell).strip() if cell is not None else ""
            if not text or text.lower() == "nan":
                continue
            try:
                changes[col] = yaml.safe_load(text)
            except yaml.YAMLError:
                problems.append(Problem(file, "not a valid value", row=i, column=col,
                                        value=text))
        scenarios.append(Scenario(name, changes, f"row {i}"))
    return scenarios, problems


# ------------------------------------------------------------------------ one scenario


def run_scenario(task: ScenarioTask) -> ScenarioOutcome:
    """Solve one scenario into `sweep_dir/<scenario>/` (runs in a Dask worker).

    Bad input and crashes become the outcome's status and message: one scenario's failure
    never reaches the others. The completion record is written after the results folder.
    """
    t0 = time.perf_counter()
    folder = Path(task.sweep_dir) / task.scenario
    state = _state_file(task.sweep_dir, task.scenario)
    state.unlink(missing_ok=True)  # until this run completes, the folder is not complete
    try:
        result = solve_case(task.case_path, folder, task.formats, changes=task.changes)
    except InputError as err:
        return ScenarioOutcome(task.scenario, INVALID, message=str(err),
                               seconds=time.perf_counter() - t0, ran=True)
    except Exception as exc:  # reported as this scenario's error; the sweep goes on
        return ScenarioOutcome(task.scenario, ERROR, message=f"{type(exc).__name__}: {exc}",
                               seconds=time.perf_counter() - t0, ran=True)
    info = result.summary
    outcome = ScenarioOutcome(task.scenario, info["status"], _objective(info),
                              _message(info), time.perf_counter() - t0, ran=True, summary=info)
    if outcome.status in FINAL_STATUSES:
        _write_json(state, {"fingerprint": task.fingerprint, "status": outcome.status,
                            "objective_cny": outcome.objective_cny,
                            "seconds": round(outcome.seconds, 4)})
    outcome.tables = key_tables(result.tables, info)
    return outcome


def _objective(info: Mapping[str, Any]) -> float | None:
    value = info.get("objective_cny")
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _message(info: Mapping[str, Any]) -> str:
    if info.get("status") == "optimal":
        return ""
    lines = [str(info.get("solver_message", ""))] + [str(d) for d in info.get("diagnosis", [])]
    return "\n".join(line for line in lines if line)


def _state_file(sweep_dir: Path | str, name: str) -> Path:
    return Path(sweep_dir) / STATE_DIR / f"{name}.json"


def _write_json(path: Path, content: dict[str, Any]) -> None:
    """Write a small JSON file atomically (a temporary file moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh, indent=2, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------ key tables


def key_tables(tables: Mapping[str, pd.DataFrame], info: Mapping[str, Any]
               ) -> dict[str, pd.DataFrame]:
    """The small tables a sweep combines, from one run's result tables and summary."""
    w = float(info.get("resolution_h") or 1)
    out: dict[str, pd.DataFrame] = {"summary": pd.DataFrame([_flat_summary(info)])}
    if _has(tables, "generation_by_carrier"):
        out["generation_by_carrier"] = tables["generation_by_carrier"].copy()
    if _has(tables, "prices"):
        p = tables["prices"].assign(region=lambda d: d["region"].fillna(""))
        price = "price_cny_per_mwh"
        out["price_by_region"] = p.groupby("region", sort=True)[price].agg(
            mean_price_cny_per_mwh="mean", min_price_cny_per_mwh="min",
            max_price_cny_per_mwh="max").reset_index()
        out["price_by_bus"] = p.groupby(["bus", "region"], sort=True)[price].agg(
            mean_price_cny_per_mwh="mean", min_price_cny_per_mwh="min",
            max_price_cny_per_mwh="max").reset_index()
    energy = []
    if _has(tables, "flows"):
        f = tables["flows"]
        energy.append(_branch_energy(f, "branch", f["kind"].to_numpy(), f["p0_mw"].clip(lower=0),
                                     (-f["p1_mw"]).clip(lower=0),
                                     f["p1_mw"].clip(lower=0) + (-f["p0_mw"]).clip(lower=0),
                                     w))
    if _has(tables, "corridors"):
        c = tables["corridors"]
        energy.append(_branch_energy(c, "corridor", "corridor",
                                     (c["sent_mw"] + c["schedule_mw"]) / 2,
                                     (c["sent_mw"] - c["schedule_mw"]) / 2,
                                     c["delivered_mw"], w))
    if energy:
        out["corridor_energy"] = pd.concat(energy, ignore_index=True)
    if _has(tables, "unserved"):
        u = tables["unserved"].assign(region=lambda d: d["region"].fillna(""),
                                      shed_h=lambda d: (d["unserved_mw"] > 1e-6) * w)
        out["unserved_by_bus"] = u.groupby(["bus", "region"], sort=True).agg(
            demand_mwh=("demand_mw", "sum"), unserved_mwh=("unserved_mw", "sum"),
            peak_unserved_mw=("unserved_mw", "max"), hours_with_unserved_h=("shed_h", "sum"),
        ).reset_index()
        out["unserved_by_bus"][["demand_mwh", "unserved_mwh"]] *= w
    if _has(tables, "costs"):
        out["costs"] = tables["costs"].copy()
    for table in out.values():
        table.attrs = {}
    return out


def _has(tables: Mapping[str, pd.DataFrame], name: str) -> bool:
    return name in tables and len(tables[name]) > 0


def _branch_energy(df: pd.DataFrame, name_col: str, kind: Any, forward: pd.Series,
                   reverse: pd.Series, delivered: pd.Series, w: float) -> pd.DataFrame:
    """Energy sent each way, delivered and lost on each branch over the horizon (MWh)."""
    util = df["utilisation_pu"].fillna(0.0)
    d = pd.DataFrame({
        "branch": df[name_col].to_numpy(), "kind": kind, "carrier": df["carrier"].to_numpy(),
        "bus0": df["bus0"].to_numpy(), "bus1": df["bus1"].to_numpy(),
        "forward_sent_mwh": forward.to_numpy() * w, "reverse_sent_mwh": reverse.to_numpy() * w,
        "delivered_mwh": delivered.to_numpy() * w, "loss_mwh": df["loss_mw"].to_numpy() * w,
        "mean_utilisation_pu": util.to_numpy(),
        "hours_at_rating_h": (util.to_numpy() >= 1 - 1e-6) * w,
    })
    return d.groupby(["branch", "kind", "carrier", "bus0", "bus1"], sort=False).agg(
        forward_sent_mwh=("forward_sent_mwh", "sum"), reverse_sent_mwh=("reverse_sent_mwh", "sum"),
        delivered_mwh=("delivered_mwh", "sum"), loss_mwh=("loss_mwh", "sum"),
        mean_utilisation_pu=("mean_utilisation_pu", "mean"),
        hours_at_rating_h=("hours_at_rating_h", "sum")).reset_index()


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
    tables = {name: pd.read_parquet(parquet / f"{name}.parquet") for name in _SOURCE_TABLES
              if (parquet / f"{name}.parquet").exists()}
    return key_tables(tables, info)


# ------------------------------------------------------------------------ the sweep


def fingerprint(case_text: str, changes: Mapping[str, Any], formats: tuple[str, ...],
                network_digest: str) -> str:
    """What a scenario's results depend on: case file, network files, changes, formats."""
    content = {"case": case_text, "network": network_digest,
               "changes": changes, "formats": sorted(formats)}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()
                          ).hexdigest()


def folder_digest(folder: Path) -> str:
    """A digest of every file in a folder (names and bytes; hidden files left out)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        h.update(str(rel).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def scenario_changes(scenario: Scenario) -> dict[str, Any]:
    """The changes a sweep solves a scenario with: one HiGHS thread unless it sets threads."""
    sets_threads = any(k in ("solver", "solver.threads") for k in scenario.changes)
    return dict(scenario.changes) if sets_threads else {"solver.threads": 1,
                                                        **scenario.changes}


def _change_problems(raw: dict, changes: Mapping[str, Any]) -> list[str]:
    """Changes that cannot be applied to the case YAML: a dotted key whose leading part is a
    value (or a list), not a group of settings. Applied in order, as `read_case` does."""
    doc = copy.deepcopy(raw)
    problems = []
    for key, value in changes.items():
        node = doc
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                kind = "a list" if isinstance(child, list) else f"the value {child!r}"
                problems.append(f"cannot set '{key}': '{'.'.join(parts[:i + 1])}' is {kind}"
                                " in the case, not a group of settings")
                break
            node = child
        else:
            node[parts[-1]] = value
    return problems


def plan(case_path: Path | str, scenarios: list[Scenario], out_dir: Path | str,
         formats: tuple[str, ...] = ("parquet",)
         ) -> tuple[list[ScenarioTask], dict[str, ScenarioOutcome]]:
    """Split scenarios into tasks to solve and outcomes known now (complete or invalid).

    Each scenario's changes are checked by `read_case` (a bad override fails the scenario
    with the case's validation message); a complete scenario is read back from its folder.
    """
    case_path = Path(case_path).resolve()
    out_dir = Path(out_dir).resolve()
    formats = _formats(formats)
    case_text = case_path.read_text(encoding="utf-8")
    raw = yaml.safe_load(case_text)
    digests: dict[Path, str] = {}
    tasks: list[ScenarioTask] = []
    known: dict[str, ScenarioOutcome] = {}
    for s in scenarios:
        changes = scenario_changes(s)
        bad = _change_problems(raw, changes)
        if bad:
            known[s.name] = ScenarioOutcome(s.name, INVALID, message="\n".join(
                f"{case_path}: {m}" for m in bad))
            continue
        try:
            case = read_case(case_path, changes)
            net = network_folder(case, case_path)
        except InputError as err:
            known[s.name] = ScenarioOutcome(s.name, INVALID, message=str(err))
            continue
        if net not in digests:
            digests[net] = folder_digest(net) if net.is_dir() else ""
        task = ScenarioTask(s.name, str(case_path), str(out_dir), changes, formats,
                            fingerprint(case_text, changes, formats, digests[net]))
        done = _complete(task)
        if done is not None:
            known[s.name] = done
        else:
            tasks.append(task)
    return tasks, known


def _complete(task: ScenarioTask) -> ScenarioOutcome | None:
    """The outcome of a scenario completed earlier with the same fingerprint, if any."""
    state_file = _state_file(task.sweep_dir, task.scenario)
    folder = Path(task.sweep_dir) / task.scenario
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        info = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (state.get("fingerprint") != task.fingerprint or info.get("status") not in FINAL_STATUSES
            or state.get("status") != info.get("status")):
        return None
    return ScenarioOutcome(task.scenario, info["status"], _objective(info), _message(info),
                           float(state.get("seconds") or 0.0), ran=False, summary=info,
                           tables=_read_key_tables(folder, info))


def _formats(formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown formats {bad}; use {', '.join(FORMATS)}")
    return tuple(dict.fromkeys([*formats, "parquet"]))


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                client: Client | None = None) -> Iterator[Client]:
    """A Dask client: the one given, one of a running cluster, or of a local cluster of
    `workers` single-threaded worker processes (closed on leaving)."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            remote = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot connect to the Dask scheduler at {scheduler}"
                                  f" ({exc})") from None
        with remote:
            yield remote
        return
    # no dashboard; the scheduler's small HTTP service takes any free port. The workers
    # preload this module so that Ctrl-C reaches only this process, which then stops them.
    with LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                      processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": ":0"}, preload=[__name__],
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as local:
        yield local


def dask_setup(worker: Any) -> None:
    """Worker preload (local clusters): ignore Ctrl-C, which the terminal sends to the whole
    process group; the sweep process handles it and closes its cluster."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_sweep(case_path: Path | str, scenarios: list[Scenario] | Path | str,
              out_dir: Path | str, *, workers: int | None = None, scheduler: str | None = None,
              client: Client | None = None, formats: tuple[str, ...] = ("parquet",),
              progress: Callable[[str], None] | None = None) -> SweepResult:
    """Solve every scenario not yet complete on a Dask cluster; write the combined outputs.

    `scenarios` is a list or a scenario file. The cluster is `client` if given, else the one
    at `scheduler`, else a local cluster of `workers` processes (default: one per core).
    Raises InputError when the case itself or the scenario file is bad. On an interruption
    (KeyboardInterrupt), sweep_status.csv records what finished, and the error propagates.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    case_path = Path(case_path).resolve()
    out_dir = Path(out_dir).resolve()
    read_case(case_path)  # the case itself must be valid: else every scenario would fail
    if not isinstance(scenarios, list):
        scenarios = read_scenarios(scenarios)
    problems = check_names(scenarios)
    if problems:
        raise InputError(problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks, outcomes = plan(case_path, scenarios, out_dir, formats)
    n = len(scenarios)
    failed = sum(not o.ok for o in outcomes.values())
    complete = sum(o.status in FINAL_STATUSES for o in outcomes.values())
    say(f"sweep of {n} scenario{'s' if n != 1 else ''}: {complete} complete from an earlier"
        f" run, {len(tasks)} to solve" + (f", {failed} failed" if failed else ""))
    for o in outcomes.values():
        if not o.ok:
            say(f"scenario {o.scenario} failed: {_one_line(o.message or o.status)}")
    seconds = {"plan_seconds": time.perf_counter() - started}
    try:
        if tasks:
            _solve_tasks(tasks, outcomes, n, workers, scheduler, client, say, seconds)
    except BaseException:
        _write_status(out_dir, scenarios, outcomes)
        raise
    t = time.perf_counter()
    ordered = [outcomes[s.name] for s in scenarios]
    write_combined(out_dir, scenarios, ordered)
    seconds["combine_seconds"] = time.perf_counter() - t
    seconds["total_seconds"] = time.perf_counter() - started
    result = SweepResult(out_dir, ordered, seconds)
    say(f"sweep finished: {sum(o.ok for o in ordered)} of {n} solved, {len(result.failed)}"
        f" failed, {len(result.executed)} run now; comparison in {out_dir / 'sweep.xlsx'}")
    return result


def _solve_tasks(tasks: list[ScenarioTask], outcomes: dict[str, ScenarioOutcome], n: int,
                 workers: int | None, scheduler: str | None, client: Client | None,
                 say: Callable[[str], None], seconds: dict[str, float]) -> None:
    """Submit the tasks and gather their outcomes as they complete, reporting progress."""
    from distributed import as_completed

    t = time.perf_counter()
    with dask_client(workers, scheduler, client) as c:
        seconds["cluster_start_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        token = uuid.uuid4().hex[:8]
        futures = {c.submit(run_scenario, task, key=f"gridopt-sweep-{task.scenario}-{token}",
                            pure=False, retries=0, priority=len(tasks) - i): task.scenario
                   for i, task in enumerate(tasks)}
        pending = set(futures)
        slots = sum(c.nthreads().values())
        say(f"solving {len(tasks)} scenario{'s' if len(tasks) != 1 else ''} on {slots}"
            f" worker thread{'s' if slots != 1 else ''}")
        try:
            for future in as_completed(futures):
                pending.discard(future)
                name = futures[future]
                outcomes[name] = _future_outcome(future, name)
                o = outcomes[name]
                slots = sum(c.nthreads().values())
                n_failed = sum(not x.ok for x in outcomes.values())
                why = "" if o.ok else f": {_one_line(o.message or o.status)}"
                say(f"scenario {name} {'done' if o.ok else 'failed'} ({len(outcomes)}/{n}),"
                    f" running {min(len(pending), slots)}, failed {n_failed}{why}")
        finally:
            if pending:
                c.cancel(list(pending))
        seconds["solve_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
    seconds["cluster_stop_seconds"] = time.perf_counter() - t


def _future_outcome(future: Any, name: str) -> ScenarioOutcome:
    if future.status == "finished":
        return future.result()
    try:
        exc = future.exception()
        message = f"{type(exc).__name__}: {exc}"
    except Exception as err:  # cancelled futures raise instead of returning their error
        message = f"{type(err).__name__}: {err}"
    return ScenarioOutcome(name, ERROR, message=f"the worker failed: {message}", ran=True)


def _one_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0] + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "") if lines else ""


# ------------------------------------------------------------------------ combined outputs


def status_table(scenarios: list[Scenario], outcomes: Mapping[str, ScenarioOutcome]
                 ) -> pd.DataFrame:
    """One row per scenario: status, objective, seconds, whether it ran now, message."""
    rows = []
    for s in scenarios:
        o = outcomes.get(s.name) or ScenarioOutcome(s.name, NOT_RUN)
        rows.append({"scenario": s.name, "status": o.status, "ok": o.ok,
                     "objective_cny": o.objective_cny, "seconds": round(o.seconds, 3),
                     "ran_now": o.ran, "message": o.message})
    return pd.DataFrame(rows, columns=["scenario", "status", "ok", "objective_cny", "seconds",
                                       "ran_now", "message"])


def _write_status(out_dir: Path, scenarios: list[Scenario],
                  outcomes: Mapping[str, ScenarioOutcome]) -> None:
    path = out_dir / "sweep_status.csv"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    status_table(scenarios, outcomes).to_csv(tmp, index=False)
    os.replace(tmp, path)


def combined_tables(scenarios: list[Scenario], outcomes: list[ScenarioOutcome]
                    ) -> dict[str, pd.DataFrame]:
    """comparison, status and the key tables of every scenario, stacked with `scenario`."""
    by_name = {o.scenario: o for o in outcomes}
    stacked: dict[str, pd.DataFrame] = {}
    for name in _KEY_TABLES:
        parts = [o.tables[name].assign(scenario=o.scenario) for o in outcomes
                 if name in o.tables]
        if parts:
            df = pd.concat(parts, ignore_index=True)
            stacked[name] = df[["scenario", *[c for c in df.columns if c != "scenario"]]]
    return {"comparison": comparison(scenarios, outcomes),
            "status": status_table(scenarios, by_name), **stacked}


def comparison(scenarios: list[Scenario], outcomes: list[ScenarioOutcome]) -> pd.DataFrame:
    """One row per scenario: its changed settings, then the figures planners compare."""
    keys = [k for k in dict.fromkeys(k for s in scenarios for k in s.changes)
            if k not in ("scenario", "status")]
    rows = []
    for s, o in zip(scenarios, outcomes, strict=True):
        info = o.summary
        row: dict[str, Any] = {"scenario": s.name}
        row.update({k: json.dumps(v, default=str) if isinstance(v, dict | list) else v
                    for k, v in s.changes.items() if k in keys})
        row.update({"status": o.status, "objective_cny": o.objective_cny})
        for key in ("demand_mwh", "unserved_mwh", "co2_t", "generation_mwh",
                    "mean_price_cny_per_mwh"):
            row[key] = info.get(key)
        region = o.tables.get("price_by_region")
        if region is not None:
            for r, price in zip(region["region"], region["mean_price_cny_per_mwh"],
                                strict=True):
                row[f"price_{r}_cny_per_mwh"] = price
        energy = o.tables.get("corridor_energy")
        if energy is not None:
            for _, e in energy[energy["kind"] != "line"].iterrows():
                row[f"energy_{e['branch']}_mwh"] = e["forward_sent_mwh"] + e["reverse_sent_mwh"]
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(dict.fromkeys(
        ["scenario", *keys, "status", "objective_cny", *(k for r in rows for k in r)])))
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
    return col.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                   else str(v))


def write_combined(out_dir: Path, scenarios: list[Scenario], outcomes: list[ScenarioOutcome]
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
