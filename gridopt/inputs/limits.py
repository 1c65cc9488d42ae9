"""Resource limits on inputs, stated as rules so that no input can exhaust the machine.

- a table or series file is at most `MAX_TABLE_BYTES` (1 GiB);
- a YAML file (case, scenarios, security zones, network notes) is at most `MAX_YAML_BYTES`
  (4 MiB) and holds at most `MAX_YAML_NODES` values counted as they are used: an alias counts
  its anchor's values again each time it is used, so an "alias bomb" (aliases of aliases,
  a few lines that expand to billions of values) is refused before it is expanded; it is
  nested at most `MAX_YAML_DEPTH` levels and an alias may not refer to itself;
- a horizon is at most `MAX_HORIZON_HOURS` hours (about 114 years of hourly snapshots).

Numbers in case settings are finite, and factors and prices have upper bounds
(`MAX_FACTOR`, `MAX_PRICE_CNY`) so that no product of them overflows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gridopt.errors import Problem

MAX_TABLE_BYTES = 2**30
MAX_YAML_BYTES = 4 * 2**20
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64
MAX_HORIZON_HOURS = 1_000_000
# a factor on demand, inflow, capacity or a price: a thousandfold at most
MAX_FACTOR = 1_000.0
# a price or penalty, CNY per unit (MWh, MWh_th, t): a billion at most
MAX_PRICE_CNY = 1e9


def read_yaml_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The text of a YAML file within the size limit, or the problem that stops it."""
    file = str(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            return None, [
                Problem(
                    file,
                    f"file is larger than {MAX_YAML_BYTES // 2**20} MiB"
                    " (the limit for a YAML file); refusing to read it",
                )
            ]
        return path.read_text(encoding="utf-8"), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, f"cannot be read ({exc})")]


def load_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text with the safe loader, within the limits above; (value, problems)."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_YAML_BYTES:
        return None, [
            Problem(
                file,
                f"file is larger than {MAX_YAML_BYTES // 2**20} MiB"
                " (the limit for a YAML file); refusing to read it",
            )
        ]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file)]
    except RecursionError:
        return None, [
            Problem(file, f"not valid YAML (nested more than {MAX_YAML_DEPTH} levels deep)")
        ]
    if node is None:
        return None, []
    rule = _node_rule(node)
    if rule is not None:
        return None, [Problem(file, rule)]
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file)]
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. a date that does not exist (2025-02-30), which YAML reads as a date
        return None, [Problem(file, f"not valid YAML ({exc})")]


def _yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    return Problem(
        file,
        f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
        row=mark.line + 1 if mark else None,
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _node_rule(root: yaml.Node) -> str | None:
    """The limit a composed YAML document breaks (values counted with aliases expanded,
    depth, an alias inside itself), or None. Each node is visited once: an alias is a
    shared node, whose expanded size is remembered."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            kids = _children(node)
            size[key] = min(1 + sum(size[id(k)] for k in kids), MAX_YAML_NODES + 1)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_YAML_NODES:
                return (
                    f"holds more than {MAX_YAML_NODES:,} values once its aliases are"
                    " expanded (the limit for a YAML file)"
                )
            if depth[key] > MAX_YAML_DEPTH:
                return f"is nested more than {MAX_YAML_DEPTH} levels deep"
            continue
        if key in size:
            continue
        on_path.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in on_path:
                line = kid.start_mark.line + 1
                return f"an alias refers to the value that holds it (line {line})"
            if id(kid) not in size:
                stack.append((kid, False))
    return None
