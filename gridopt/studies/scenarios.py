"""Scenario files of a sweep: named changes of a case, listed or as a product of settings.

The format is described in `gridopt.studies.sweep`; `read_scenarios` reads YAML, CSV or XLSX
and checks every name and change, each problem located in the scenario file.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.case_file import _yaml_line
from gridopt.inputs.limits import MAX_TABLE_BYTES, load_yaml, read_yaml_text

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Scenario:
    """A named variant of the case: dotted-key `changes` on top of the case file."""

    name: str
    changes: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it was defined, for messages
    file: str = ""  # the scenario file, and the row (table) or line (YAML) that defines it
    row: int | None = None
    # the scenario the others are compared with (sheet `differences` of sweep.xlsx)
    base: bool = False


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
    scenarios = [replace(s, file=s.file or file) for s in scenarios]
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
            problems.append(
                Problem(
                    file,
                    "a scenario name is a folder name: up to 100"
                    " letters, digits, '.', '_' or '-', starting with a letter"
                    " or digit",
                    column=s.source or None,
                    value=s.name,
                )
            )
        elif s.name.lower() in RESERVED:
            problems.append(
                Problem(
                    file,
                    "is the name of a sweep output; choose another",
                    column=s.source or None,
                    value=s.name,
                )
            )
        elif s.name.lower() in seen:
            problems.append(
                Problem(
                    file,
                    f"scenario name used twice (also in"
                    f" {seen[s.name.lower()].source or 'the list'})",
                    column=s.source or None,
                    value=s.name,
                )
            )
        else:
            seen[s.name.lower()] = s
    return problems


def _from_yaml(path: Path) -> tuple[list[Scenario], list[Problem]]:
    file = str(path)
    text, problems = read_yaml_text(path)
    if text is None:
        return [], problems
    raw, problems = load_yaml(text, file)
    if problems:
        return [], problems
    if not isinstance(raw, dict):
        return [], [
            Problem(
                file,
                "a scenario file is a mapping with 'scenarios' and/or"
                " 'product' (and optionally 'changes' for all of them)",
            )
        ]
    problems = [
        Problem(file, "unknown setting (use base, changes, scenarios, product)", column=k)
        for k in raw
        if k not in ("base", "changes", "scenarios", "product")
    ]
    if "scenarios" not in raw and "product" not in raw and not isinstance(raw.get("base"), dict):
        problems.append(
            Problem(
                file,
                "give 'scenarios' (a list of {name, changes}) and/or"
                " 'product' (a mapping of settings to lists of values)",
            )
        )
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
            problems.append(
                Problem(file, "each scenario is a mapping with a name and changes", column=where)
            )
            continue
        problems += [
            Problem(
                file, "unknown setting of a scenario (use name, changes)", column=f"{where}.{k}"
            )
            for k in entry
            if k not in ("name", "changes")
        ]
        changes, found = _flat_changes(entry.get("changes") or {}, file, f"{where}.changes")
        problems += found
        scenarios.append(
            Scenario(
                _name_text(entry["name"]),
                {**common, **changes},
                where,
                file,
                _yaml_line(text, ("scenarios", i)),
            )
        )
    product = raw.get("product") or {}
    if not isinstance(product, dict):
        problems.append(Problem(file, "must map settings to lists of values", column="product"))
        product = {}
    axes, found = _flat_changes(product, file, "product")
    problems += found
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            problems.append(
                Problem(
                    file, "give a non-empty list of values", column=f"product.{key}", value=values
                )
            )
    if not problems and axes:
        line = _yaml_line(text, ("product",))
        scenarios += [replace(s, file=file, row=line) for s in _product(axes, common)]
    base = raw.get("base")
    if isinstance(base, dict):
        # the base defined here: the first scenario
        if "name" not in base or any(k not in ("name", "changes") for k in base):
            problems.append(
                Problem(
                    file,
                    "base is the name of a scenario, or a scenario (a"
                    " mapping with a name and changes)",
                    column="base",
                )
            )
        else:
            changes, found = _flat_changes(base.get("changes") or {}, file, "base.changes")
            problems += found
            scenarios.insert(
                0,
                Scenario(
                    _name_text(base["name"]),
                    {**common, **changes},
                    "base",
                    file,
                    _yaml_line(text, ("base",)),
                    base=True,
                ),
            )
    elif base is not None:
        scenarios, found = with_base(scenarios, _name_text(base), file)
        problems += found
    return scenarios, problems


def with_base(
    scenarios: list[Scenario], name: str, file: str = "--base"
) -> tuple[list[Scenario], list[Problem]]:
    """The scenarios with `name` marked as the base (the only one); a problem when no scenario
    has that name."""
    if not any(s.name.lower() == name.lower() for s in scenarios):
        return scenarios, [
            Problem(
                file,
                "names no scenario of the file (the base is one of them, by name)",
                column="base",
                value=name,
            )
        ]
    return [replace(s, base=s.name.lower() == name.lower()) for s in scenarios], []


def _flat_changes(raw: Any, file: str, where: str) -> tuple[dict[str, Any], list[Problem]]:
    """Dotted-key changes; a nested (non-empty) mapping is flattened to its dotted keys."""
    if not isinstance(raw, dict):
        return {}, [Problem(file, "must be a mapping of settings to values", column=where)]
    out: dict[str, Any] = {}
    problems = []

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if not isinstance(key, str) or not all(part.strip() for part in key.split(".")):
                problems.append(
                    Problem(
                        file,
                        "a setting is a dotted name such as scale.demand",
                        column=where,
                        value=key,
                    )
                )
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
    labels = [
        short if last.count(short) == 1 else key for key, short in zip(axes, last, strict=True)
    ]
    scenarios = []
    for combo in itertools.product(*(list(enumerate(v, 1)) for v in axes.values())):
        parts = [
            f"{label}-{_value_label(value, k)}"
            for label, (k, value) in zip(labels, combo, strict=True)
        ]
        changes = {**common, **{key: value for key, (_k, value) in zip(axes, combo, strict=True)}}
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
    if path.stat().st_size > MAX_TABLE_BYTES:
        return [], [
            Problem(file, "file is larger than 1 GiB (the limit for a table); refusing to read it")
        ]
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
        return [], [
            Problem(
                file,
                "needs a 'scenario' column with the scenario names and one"
                " column per setting (dotted names such as scale.demand)",
            )
        ]
    problems = []
    for col in df.columns:
        if col != "scenario" and not all(part.strip() for part in col.split(".")):
            problems.append(
                Problem(file, "a column is a dotted setting name such as scale.demand", column=col)
            )
    scenarios = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        cells = dict(zip(df.columns, row, strict=True))
        name = str(cells.pop("scenario")).strip()
        changes = {}
        for col, cell in cells.items():
            text = str(cell).strip() if cell is not None else ""
            if not text or text.lower() == "nan":
                continue
            value, found = load_yaml(text, file)
            if found:
                problems.append(
                    Problem(
                        file, f"not a valid value ({found[0].rule})", row=i, column=col, value=text
                    )
                )
            else:
                changes[col] = value
        scenarios.append(Scenario(name, changes, f"row {i}", file, i))
    return scenarios, problems


def scenario_changes(scenario: Scenario) -> dict[str, Any]:
    """The changes a sweep solves a scenario with: one HiGHS thread unless it sets threads."""
    sets_threads = any(k in ("solver", "solver.threads") for k in scenario.changes)
    return dict(scenario.changes) if sets_threads else {"solver.threads": 1, **scenario.changes}


def in_scenario_file(
    problems: list[Problem],
    changes: Mapping[str, Any],
    case_file: str,
    scenario_file: str,
    row: int | None,
) -> list[Problem]:
    """Problems of the case file that a scenario's changes cause, located where the scenario
    is defined (its file and row or line), with the setting as the column: a misspelt or
    out-of-range change is the scenario file's error, not the case's."""
    if not scenario_file:
        return problems
    out = []
    for p in problems:
        column = p.column or ""
        changed = any(column == key or column.startswith((f"{key}.", f"{key}[")) for key in changes)
        if p.file == case_file and changed:
            p = replace(p, file=scenario_file, row=row)
        out.append(p)
    return out


def _change_problems(raw: dict, changes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Changes that cannot be applied to the case YAML, as (key, rule): a dotted key whose
    leading part is a value (or a list), not a group of settings. Applied in order, as
    `read_case` does."""
    doc = copy.deepcopy(raw)
    problems = []
    for key, value in changes.items():
        node = doc
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                kind = "a list" if isinstance(child, list) else f"the value {child!r}"
                problems.append(
                    (
                        key,
                        f"cannot be set: '{'.'.join(parts[: i + 1])}' is {kind}"
                        " in the case, not a group of settings",
                    )
                )
                break
            node = child
        else:
            node[parts[-1]] = value
    return problems


STATE_DIR = "sweep_state"


RESERVED = frozenset({"sweep.xlsx", "sweep_parquet", "sweep_status.csv", STATE_DIR})
