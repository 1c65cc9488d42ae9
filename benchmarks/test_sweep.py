"""Scenario sweep benchmark: wall time of one sweep on a local Dask cluster of 1 and of 2 workers.

Six PPRD scenarios (dry, normal and wet inflow years x two LNG prices), one week each, with
`--bench-full`; without it two of them (dry at today's LNG price, wet at 1.3 times it), one
day each, which proves the benchmark works in the test run without its cluster time
dominating it. The wall time is what the user waits for: cluster start, the
solves, cluster stop and the combined outputs; the solve phase alone is recorded too. Both
sweeps must give the same objectives, or the benchmark fails.
"""

from __future__ import annotations

import os
import time

import pytest

from benchmarks.harness import ROOT
from gridopt.studies.scenarios import Scenario
from gridopt.studies.sweep import SweepResult, run_sweep

pytest.importorskip("distributed")

PPRD = ROOT / "cases" / "pprd_week.yaml"


def _scenarios(snapshots: int, full: bool) -> list[Scenario]:
    pairs = (
        [(year, price) for year in ("dry", "normal", "wet") for price in (1.0, 1.3)]
        if full
        else [("dry", 1.0), ("wet", 1.3)]
    )
    return [
        Scenario(
            f"{year}_lng-{price}",
            {"horizon.snapshots": snapshots, "inflow_year": year, "scale.gas_price.lng": price},
        )
        for year, price in pairs
    ]


def _sweep(scenarios: list[Scenario], out, workers: int) -> tuple[SweepResult, float]:
    t0 = time.perf_counter()
    result = run_sweep(PPRD, scenarios, out, workers=workers)
    return result, time.perf_counter() - t0


def _concurrency(result: SweepResult) -> float:
    return sum(o.seconds for o in result.outcomes) / result.seconds["solve_seconds"]


@pytest.mark.benchmark(group="sweep")
def test_sweep_wall_time_1_vs_2_workers(benchmark, record, request, tmp_path):
    full = request.config.getoption("--bench-full")
    snapshots = 168 if full else 24
    scenarios = _scenarios(snapshots, full)
    one, seconds_1 = _sweep(scenarios, tmp_path / "one_worker", 1)
    two, seconds_2 = benchmark.pedantic(
        _sweep, args=(scenarios, tmp_path / "two_workers", 2), rounds=1, iterations=1
    )
    for result in (one, two):
        assert result.failed == [] and len(result.executed) == len(scenarios)
    for a, b in zip(one.outcomes, two.outcomes, strict=True):
        assert a.objective_cny == pytest.approx(b.objective_cny, rel=1e-9), a.scenario
    figures = {
        "case": "pprd sweep",
        "scenarios": len(scenarios),
        "snapshots": snapshots,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "seconds_1_worker": round(seconds_1, 3),
        "seconds_2_workers": round(seconds_2, 3),
        "speedup_2_vs_1": round(seconds_1 / seconds_2, 3),
        "solve_seconds_1_worker": round(one.seconds["solve_seconds"], 3),
        "solve_seconds_2_workers": round(two.seconds["solve_seconds"], 3),
        "solve_speedup_2_vs_1": round(
            one.seconds["solve_seconds"] / two.seconds["solve_seconds"], 3
        ),
        # scenario-seconds per second of the solve phase: how many solves ran at once
        "concurrency_1_worker": round(_concurrency(one), 2),
        "concurrency_2_workers": round(_concurrency(two), 2),
        "cluster_start_seconds_1_worker": round(one.seconds["cluster_start_seconds"], 3),
        "cluster_start_seconds_2_workers": round(two.seconds["cluster_start_seconds"], 3),
    }
    benchmark.extra_info.update(figures)
    record(figures)
