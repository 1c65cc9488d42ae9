"""Shared fixtures: paths and a solve helper that returns the run without writing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridopt.studies.run import RunResult, solve_case

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def pprd_week() -> RunResult:
    """The default PPRD week (cases/pprd_week.yaml), solved once for every test that reads it."""
    run = solve("pprd_week")
    assert run.solution.status == "optimal", run.solution.message
    return run


def solve(case: str | Path, **changes: object) -> RunResult:
    """Solve a case (name in cases/ or a path), with dotted-key setting changes."""
    path = Path(case)
    if not path.is_absolute() and not path.exists():
        path = CASES / f"{case}.yaml"
    return solve_case(path, changes=dict(changes) or None)


def copy_case(tmp_path: Path, case: str, append: str = "") -> Path:
    """Copy a case and its network into tmp_path (cases/, networks/) so a test may edit them.

    `append` is YAML text added to the case (later keys override earlier ones).
    """
    import shutil

    import yaml

    src = CASES / f"{case}.yaml"
    settings = yaml.safe_load(src.read_text())
    network = (src.parent / settings["network"]).resolve()
    (tmp_path / "cases").mkdir(exist_ok=True)
    shutil.copytree(network, tmp_path / "networks" / network.name, dirs_exist_ok=True)
    extra = yaml.safe_load(append) if append else {}
    settings.update(extra or {})
    settings["network"] = f"../networks/{network.name}"
    dst = tmp_path / "cases" / f"{case}.yaml"
    dst.write_text(yaml.safe_dump(settings, sort_keys=False))
    return dst
