"""Benchmark suite settings: quick sizes by default (the test suite runs them with timing off,
proving every benchmark still works), every size with --bench-full. A full run writes its
figures to results/latest.json and a markdown table to results/latest.md.

    python -m pytest benchmarks --bench-full --bench-memory --benchmark-enable
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pytest

QUICK = {"snapshots": [24], "buses": [50]}
FULL = {"snapshots": [24, 168, 720, 2190, 8760], "buses": [50, 100, 200]}
# where a full run writes its figures (GRIDOPT_BENCH_RESULTS: another folder, e.g. for two
# runs of different sizes at once)
RESULTS = Path(os.environ.get("GRIDOPT_BENCH_RESULTS", Path(__file__).parent / "results"))
_records: list[dict] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-full",
        action="store_true",
        default=False,
        help="run every benchmark size (the year case takes minutes)",
    )
    parser.addoption(
        "--bench-memory",
        action="store_true",
        default=False,
        help="also measure peak memory of each tool in a fresh process",
    )
    parser.addoption(
        "--bench-year-lp",
        action="store_true",
        default=False,
        help="rolling with future cost: also solve the PPRD year as one hourly LP to compare"
        " (about 20 minutes)",
    )
    parser.addoption(
        "--bench-no-whole",
        action="store_true",
        default=False,
        help="PPRD dispatch: compare the export-scope twin with PyPSA only, without solving "
        "the whole case after it (the whole year alone takes about 20 minutes)",
    )


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
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
    }
    (RESULTS / "latest.json").write_text(
        json.dumps({"machine": machine, "runs": _records}, indent=2, default=str) + "\n"
    )
    (RESULTS / "latest.md").write_text(markdown(machine, _records), encoding="utf-8")


def _fmt(value: object, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _refused(tool: object) -> bool:
    """Whether a tool's figures are its refusal (`benchmarks.harness.run_pypsa_or_refusal`)."""
    return isinstance(tool, dict) and str(tool.get("status", "")).startswith("refused")


def _refusal_lines(records: list[dict]) -> list[str]:
    """Where PyPSA refused for lack of memory: what it refused, who refereed gridopt instead,
    and the checks of gridopt's solution."""
    lines = []
    for r in records:
        if not _refused(r.get("pypsa")):
            continue
        p, checks = r["pypsa"], r.get("checks", {})
        asked = f" ({_fmt(p['requested_gib'])} GiB)" if "requested_gib" in p else ""
        referee = r.get("reference", "")
        if r.get("objective_rel_diff") is not None:
            referee += f", objective relative difference {_fmt(r['objective_rel_diff'])}"
        if r.get("referee_scope"):
            referee += f"; compared: {r['referee_scope']}"
        lines.append(
            f"- {r['case']}: **PyPSA refused{asked}**: {p.get('exception')}: "
            f"{p.get('message')}. Referee: {referee}. Checks of gridopt's solution (MW): "
            + ", ".join(f"{k} = {_fmt(v)}" for k, v in checks.items())
        )
    if lines:
        lines = ["", "PyPSA could not build or solve these cases for lack of memory:", *lines]
    return lines


def markdown(machine: dict, records: list[dict]) -> str:
    """One table row per gridopt-vs-PyPSA comparison (PyPSA's refusal in its cells where it
    ran out of memory, and below the table what refereed instead), then the other records as
    lists."""
    head = (
        "| case | snapshots | rows | columns | non-zeros | gridopt read, build, hand-off, "
        "solve, extract, write (s) | gridopt total (s) | PyPSA read, optimize, write (s) "
        "| PyPSA total (s) | gridopt/PyPSA | non-solver/solve | peak MB gridopt / PyPSA |"
    )
    lines = [f"Machine: {machine}", "", head, "|" + "---|" * (head.count("|") - 1)]
    other = []
    for r in records:
        g, p = r.get("gridopt"), r.get("pypsa")
        if not (isinstance(g, dict) and isinstance(p, dict)):
            other.append(r)
            continue
        phases = ", ".join(
            _fmt(g.get(f"{k}_seconds"))
            for k in ("read", "build", "handoff", "solve", "extract", "write")
        )
        mem = (
            f"{_fmt(r['gridopt_peak_mb'])} / {_fmt(r.get('pypsa_peak_mb', '-'))}"
            if "gridopt_peak_mb" in r
            else ""
        )
        if _refused(p):
            asked = f": {_fmt(p['requested_gib'])} GiB" if "requested_gib" in p else ""
            theirs = f"**refused (out of memory{asked})** | - | - "
        else:
            theirs = (
                f"{_fmt(p['read_seconds'])}, {_fmt(p['optimize_seconds'])}, "
                f"{_fmt(p['write_seconds'])} | {_fmt(p['total_seconds'])} | "
                f"{_fmt(r['ratio_end_to_end'])} "
            )
        lines.append(
            f"| {r['case']} | {r['snapshots']} | {g['n_constraints']:,} | {g['n_variables']:,} "
            f"| {g['n_nonzeros']:,} | {phases} | {_fmt(g['total_seconds'])} | {theirs}"
            f"| {_fmt(r['non_solver_share_of_solve'])} | {mem} |"
        )
    lines += _refusal_lines(records)
    whole = sorted(
        (r["snapshots"], r["gridopt_full"]["solve_seconds"], r.get("ratio_whole_to_twin_solve"))
        for r in records
        if isinstance(r.get("gridopt_full"), dict) and r["snapshots"] >= 720
    )
    if whole:
        lines += [
            "",
            "Whole PPRD case (gas, corridors, routing): solve (s) and solve / "
            "export-scope twin's: "
            + ", ".join(f"{n} h: {_fmt(t)} s ({_fmt(q)}x)" for n, t, q in whole),
        ]
    if len(whole) > 1:
        n, t = np.log([w[0] for w in whole]), np.log([w[1] for w in whole])
        lines.append(
            f"Fitted exponent of the whole case's solve time, t = a n^b from "
            f"{whole[0][0]} h: b = {float(np.polyfit(n, t, 1)[0]):.2f}"
        )
    for r in other:
        lines += [
            "",
            f"- {r.get('case')}: "
            + ", ".join(f"{k} = {_fmt(v)}" for k, v in r.items() if k != "case"),
        ]
    return "\n".join(lines) + "\n"
