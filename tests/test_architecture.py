"""The package's layers: imports flow one way, inputs -> model -> solver -> results -> studies ->
cli, with no cycles; the solver is known only by its backend; variables are named only by
their families. Read from the source (imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gridopt"

# layer -> the layers it may import (besides itself and gridopt.errors)
ALLOWED = {
    "inputs": set(),
    "model": {"inputs"},
    "solver": {"inputs", "model"},
    "results": {"inputs", "model", "solver"},
    "interop": {"inputs", "model", "solver", "results"},
    "studies": {"inputs", "model", "solver", "results"},
    "plot": {"results"},
    "cli": {"inputs", "model", "solver", "results", "studies", "interop", "plot"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether only for type checking) of every gridopt import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for child in node.body for n in ast.walk(child)}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            target = _resolve(name) if name.startswith("gridopt") else None
            if target:
                out.append((target, id(node) in typing_only))
    return out


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        for target, _typing in _imports(path):
            # a package's __init__ re-exporting its children, or a child importing its own
            # package, is not a cycle between two ideas
            if (
                target != module
                and not target.startswith(module + ".")
                and not module.startswith(target + ".")
            ):
                graph.add_edge(module, target)
    return graph


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def test_no_import_cycles():
    cycles = [sorted(c) for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_flow_one_way(layer):
    wrong = []
    for module, path in MODULES.items():
        if _layer(module) != layer:
            continue
        for target, typing_only in _imports(path):
            other = _layer(target)
            # the families read solutions: the solver's types, for annotations only
            if layer == "model" and typing_only and target == "gridopt.solver.types":
                continue
            if other is not None and other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_only_the_solver_backend_imports_the_solver():
    users = sorted(
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if any(
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any(
                (a.name if isinstance(n, ast.Import) else n.module or "").startswith("highspy")
                for a in n.names
            )
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    )
    assert users == ["gridopt/solver/highs.py"]


def test_variables_are_named_only_by_their_families():
    """Outside gridopt/model, nothing reads a variable or row family by its name."""
    found = []
    for module, path in MODULES.items():
        if module.startswith("gridopt.model"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("value", "dual", "variable", "has")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(f"{module}:{node.lineno} {ast.unparse(node)}")
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in ("variables", "row_blocks")
                and isinstance(node.slice, ast.Constant)
            ):
                found.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    assert not found, "\n".join(found)
