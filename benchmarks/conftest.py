"""Benchmark suite settings: quick sizes by default (CI proves every benchmark still runs),
every size with --bench-full. Results of each run are gathered into results/latest.json."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

QUICK = {"snapshots": [24, 168], "buses": [50]}
FULL = {"snapshots": [24, 168, 720, 2190, 8760], "buses": [50, 100, 200]}
RESULTS = Path(__file__).parent / "results"
_records: list[dict] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-full", action="store_true", default=False,
                     help="run every benchmark size (the year case takes minutes)")
    parser.addoption("--bench-memory", action="store_true", default=False,
                     help="also measure peak memory of each tool in a fresh process")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    sizes = FULL if metafunc.config.getoption("--bench-full") else QUICK
    for name in ("snapshots", "buses"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, sizes[name])


@pytest.fixture
def record():
    """Keep one benchmark's figures for the session report."""
    return _records.append


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _records or not session.config.getoption("--bench-full"):
        return
    RESULTS.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(),
               "processor": platform.processor(), "cpus": __import__("os").cpu_count()}
    (RESULTS / "latest.json").write_text(json.dumps({"machine": machine, "runs": _records},
                                                    indent=2) + "\n")
