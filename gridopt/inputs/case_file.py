import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gridopt.errors import InputError, Problem
from gridopt.inputs.limits import load_yaml, read_yaml_text
from gridopt.inputs.settings import Case


def read_case(path: Path | str, changes: dict[str, Any] | None = None) -> Case:
    """Parse and check a case YAML (safe loader); `changes` are dotted-key settings on top."""
    path = Path(path)
    file = str(path)
    text, problems = read_yaml_text(path)
    if text is None:
        raise InputError(problems)
    raw, problems = load_yaml(text, file)
    if problems:
        raise InputError(problems)
    if not isinstance(raw, dict):
        raise InputError([Problem(file, "a case must be a YAML mapping of settings")])
    for key, value in (changes or {}).items():
        if not _set_dotted(raw, key, value):
            raise InputError(
                [
                    Problem(
                        file,
                        "this setting cannot be changed: a part of its path"
                        " is not a group of settings",
                        column=key,
                        value=value,
                    )
                ]
            )
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            [_problem(file, text, err, changes or {}) for err in exc.errors()]
        ) from None


def _problem(file: str, text: str, err: Any, changes: dict[str, Any]) -> Problem:
    """A validation error located in the case file, or, when the setting was changed on top of
    it (a command-line option, a scenario), said to come from there."""
    column = ".".join(str(p) for p in err["loc"])
    value = err.get("input") if not isinstance(err.get("input"), dict) else None
    given = [
        k
        for k in changes
        if column == k or column.startswith(k + ".") or k.startswith(column + ".")
    ]
    if given:
        return Problem(
            file,
            f"{err['msg']} (the value of {given[0]} was given on the command"
            " line or by a scenario, not in the case file)",
            column=column,
            value=value,
        )
    return Problem(file, err["msg"], row=_yaml_line(text, err["loc"]), column=column, value=value)


def _with_lines(problems: list[Problem], path: Path) -> list[Problem]:
    """Give case-file problems the line of the setting they name (e.g. `overrides[0].name`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return problems
    out = []
    for p in problems:
        if p.file == str(path) and p.row is None and p.column:
            loc = tuple(
                int(part) if part.isdigit() else part
                for part in re.split(r"[.\[\]]+", p.column)
                if part
            )
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
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
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
