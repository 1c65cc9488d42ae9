"""Shared fixtures: paths and a solve helper that returns the run without writing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridopt.run import RunResult, solve_case

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def solve(case: str | Path, **changes: object) -> RunResult:
    """Solve a case (name in cases/ or a path), with dotted-key setting changes."""
    path = Path(case)
    if not path.is_absolute() and not path.exists():
        path = CASES / f"{case}.yaml"
    return solve_case(path, changes=dict(changes) or None)
