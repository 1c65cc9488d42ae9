"""Cost-of-security benchmark: the study as it solves now (one matrix, each target's rows
relaxed, the variants in parallel on a local Dask cluster of 2 workers, no crossover where only
the objective is read) against solving each variant's model one by one, built without its
targets, with the full solve (crossover) - how the study solved before, in the same process.

The PPRD week with Hong Kong's and Macao's targets (cases/pprd_week_security.yaml), its first
12 hours by default (`--bench-full`: the week). Both must give every objective of the study to
1e-6 of the secured case's objective, or the benchmark fails.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.harness import ROOT
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from gridopt.studies.security import Study, cost_of_security

pytest.importorskip("distributed")

CASE = ROOT / "cases" / "pprd_week_security.yaml"


def _one_by_one(data: CaseData) -> dict[tuple[str, str], tuple[float, float]]:
    """(zone, target) -> (objective without it, objective with it alone), and the cases with
    all targets and none, each variant's model built and solved in turn."""
    zones = list(data.security_zones)

    def objective(security_zones) -> float:
        sol = solve(build_model(replace(data, security_zones=security_zones)), data.case.solver)
        return sol.objective_cny if sol.status.has_solution else np.nan

    none = [z.without("all") for z in zones]
    out = {
        ("all zones", "all"): (objective(zones), np.nan),
        ("all zones", "none"): (objective(none), np.nan),
    }
    for i, zone in enumerate(zones):
        for target in zone.targets():
            if target == "reserve_margin":
                continue
            without, alone = list(zones), list(none)
            without[i] = zone.without(target)
            only = (
                {"fuel_mix": [zone.fuel_mix[int(target[9:-1])]]}
                if target.startswith("fuel_mix[")
                else {target: getattr(zone, target)}
            )
            alone[i] = zone.without("all").model_copy(update=only)
            out[(zone.name, target)] = (objective(without), objective(alone))
    return out


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    result = fn(*args, **kw)
    return result, time.perf_counter() - t0


@pytest.mark.benchmark(group="security")
def test_cost_of_security_parallel_vs_one_by_one(benchmark, record, request):
    snapshots = 168 if request.config.getoption("--bench-full") else 12
    data = load_case(CASE, {"horizon.snapshots": snapshots})
    before, seconds_before = _timed(_one_by_one, data)
    study, seconds_now = benchmark.pedantic(
        _timed, args=(cost_of_security, data), kwargs={"workers": 2}, rounds=1, iterations=1
    )
    assert isinstance(study, Study)
    scale = abs(before[("all zones", "all")][0])
    table = study.table.set_index(["zone", "target"])
    assert table.loc[("all zones", "all targets"), "objective_cny"] == pytest.approx(
        before[("all zones", "all")][0], abs=1e-6 * scale
    )
    assert table.loc[("all zones", "no targets"), "objective_cny"] == pytest.approx(
        before[("all zones", "none")][0], abs=1e-6 * scale
    )
    from gridopt.inputs.zones import target_label

    for zone in data.security_zones:
        for target in zone.targets():
            if target == "reserve_margin":
                continue
            row = table.loc[(zone.name, target_label(zone, target))]
            without, alone = before[(zone.name, target)]
            assert row["objective_cny"] == pytest.approx(without, abs=1e-6 * scale)
            assert row["objective_alone_cny"] == pytest.approx(alone, abs=1e-6 * scale)
    record(
        {
            "case": "pprd security",
            "snapshots": snapshots,
            "solves": study.solves,
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "seconds_one_by_one": round(seconds_before, 3),
            "seconds_parallel": round(seconds_now, 3),
            "speedup": round(seconds_before / seconds_now, 3),
        }
    )
