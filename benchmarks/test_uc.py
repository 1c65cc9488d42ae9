"""Unit-commitment benchmark: the PPRD UC case in gridopt, and gridopt against PyPSA's
committable model on the same network.

Runs (each one HiGHS run, mip_rel_gap 0.001, time limit 1200 s; the first 12 h by default and
with --benchmark-disable, the whole week with --bench-full):

- `gridopt case`: cases/pprd_uc_week.yaml as it is: clustered provincial fleets (one integer
  per fleet and hour), Hong Kong's and Macao's units one by one, gas network, corridors,
  spinning reserve;
- the same case reduced to what the PyPSA export maps (`gridopt.interop.scope`: routed
  natural inflows, gas priced in the plants' marginal cost, corridors as links), without the
  spinning reserve (PyPSA has none), then every cluster expanded into its identical units
  (`gridopt.interop.units`), since a PyPSA Generator commits one unit: `gridopt units` and
  `pypsa units` solve this same network (PyPSA: `Network.optimize.create_model()`, handed to
  HiGHS by linopy's `to_highspy()`);
- `gridopt clusters`: the reduced network with its clusters, what clustering saves.

Reported per run: model size (rows, columns, non-zeros, integer columns), setup time (gridopt:
read, build, hand-off; PyPSA: export, create_model, to_highspy), the solver's time to a 1 % and
to a 0.1 % gap, and the status, objective, best bound and gap at the end. Time to a gap: HiGHS'
MIP callbacks trace the incumbent and bound (`gridopt.solver.highs.trace_gap`: at every new
incumbent, interrupt check and log line), and the time is that of the first report at or
below the gap, in the same run (so the 1 % time is not that of a run stopped at 1 %, which
may differ by the solver's search path). The two tools' results on the same network must be
consistent: each incumbent at least the other's bound (within 1e-6).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from benchmarks.harness import ROOT
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.interop.pypsa import _quiet, to_pypsa
from gridopt.interop.scope import to_export_scope
from gridopt.interop.units import expand_units
from gridopt.model.registry import build_model
from gridopt.solver.highs import run_highs
from gridopt.solver.solve import solve
from gridopt.solver.types import GapPoint, seconds_to_gap

PPRD_UC = ROOT / "cases" / "pprd_uc_week.yaml"
GAPS = {"1pct": 0.01, "0.1pct": 0.001}
TIME_LIMIT_S = 1200.0
REL = 1e-6


def _figures(
    label: str,
    setup_s: float,
    size: dict[str, int],
    trace: list[GapPoint],
    status: str,
    objective: float,
    bound: float,
    gap: float,
    solve_s: float,
) -> dict[str, Any]:
    out = {
        "run": label,
        **size,
        "setup_seconds": setup_s,
        "solve_seconds": solve_s,
        "status": status,
        "objective_cny": objective,
        "best_bound_cny": bound,
        "mip_gap": gap,
    }
    for key, target in GAPS.items():
        out[f"seconds_to_{key}_gap"] = seconds_to_gap(trace, target)
    return out


def run_gridopt_uc(data: CaseData, label: str, read_s: float = 0.0) -> dict[str, Any]:
    """gridopt: build, hand-off and solve of a uc case, its MIP gap traced."""
    t0 = time.perf_counter()
    model = build_model(data)
    trace: list[GapPoint] = []
    sol = solve(model, data.case.solver, gap_trace=trace)
    setup = read_s + model.build_seconds + sol.timings["handoff_seconds"]
    size = {
        "rows": sol.n_constraints,
        "columns": sol.n_variables,
        "nonzeros": sol.n_nonzeros,
        "integer_columns": int(model.integrality().sum()),
    }
    out = _figures(
        label,
        setup,
        size,
        trace,
        str(sol.status),
        sol.objective_cny,
        sol.best_bound_cny,
        sol.mip_gap,
        sol.timings["solve_seconds"],
    )
    out["total_seconds"] = read_s + time.perf_counter() - t0
    return out


def run_pypsa_uc(data: CaseData, label: str) -> dict[str, Any]:
    """PyPSA: the exported network's committable model, handed to HiGHS with the same
    options as gridopt's and its MIP gap traced."""
    t0 = time.perf_counter()
    with _quiet():
        n, _notes = to_pypsa(data)
        m = n.optimize.create_model()
        h = m.to_highspy()
    setup = time.perf_counter() - t0
    trace: list[GapPoint] = []
    run = run_highs(h, data.case.solver, gap_trace=trace)
    size = {
        "rows": run.n_constraints,
        "columns": run.n_variables,
        "nonzeros": run.n_nonzeros,
        "integer_columns": run.n_integer,
    }
    out = _figures(
        label,
        setup,
        size,
        trace,
        str(run.status),
        run.objective_cny,
        run.best_bound_cny,
        run.mip_gap,
        run.solve_seconds,
    )
    out["total_seconds"] = time.perf_counter() - t0
    return out


def _changes(request: pytest.FixtureRequest, **extra: Any) -> dict[str, Any]:
    hours = 168 if request.config.getoption("--bench-full") else 12
    return {
        "horizon.snapshots": hours,
        "solver.mip_gap": GAPS["0.1pct"],
        "solver.time_limit_s": TIME_LIMIT_S,
        **extra,
    }


def _consistent(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Two runs on the same network: each incumbent found is at least the other's bound."""
    for x, y in ((a, b), (b, a)):
        if np.isfinite(x["objective_cny"]):
            tol = REL * abs(y["best_bound_cny"])
            assert x["objective_cny"] >= y["best_bound_cny"] - tol, (x["run"], y["run"])


@pytest.mark.benchmark(group="pprd uc")
def test_pprd_uc_case(benchmark, record, request):
    """gridopt on the PPRD UC case as it is."""
    t0 = time.perf_counter()
    data = load_case(PPRD_UC, _changes(request))
    read_s = time.perf_counter() - t0
    ours = benchmark.pedantic(
        run_gridopt_uc, args=(data, "gridopt case", read_s), rounds=1, iterations=1
    )
    benchmark.extra_info.update(ours)
    record({"case": "pprd uc", "snapshots": data.n_snapshots, **ours})
    assert ours["status"] in ("optimal", "time_limit")
    assert ours["objective_cny"] >= ours["best_bound_cny"] - REL * abs(ours["objective_cny"])
    assert ours["integer_columns"] > 0


@pytest.mark.benchmark(group="pprd uc")
def test_pprd_uc_against_pypsa(benchmark, record, request):
    """gridopt and PyPSA on the reduced PPRD UC network, one generator per unit; gridopt also
    on the same network with its clusters."""
    data = load_case(PPRD_UC, _changes(request, **{"reserve.enabled": False}))
    reduced = to_export_scope(data, keep_commitment=True)
    units = expand_units(reduced)
    assert len(units.tables["generators"]) > len(reduced.tables["generators"])
    ours = benchmark.pedantic(run_gridopt_uc, args=(units, "gridopt units"), rounds=1, iterations=1)
    theirs = run_pypsa_uc(units, "pypsa units")
    clustered = run_gridopt_uc(reduced, "gridopt clusters")
    runs = (ours, theirs, clustered)
    benchmark.extra_info.update(
        {f"{r['run']}: {k}": v for r in runs for k, v in r.items() if k != "run"}
    )
    record(
        {
            "case": "pprd uc reduced",
            "snapshots": data.n_snapshots,
            "gridopt_units": ours,
            "pypsa_units": theirs,
            "gridopt_clusters": clustered,
        }
    )
    for run in runs:
        assert run["status"] in ("optimal", "time_limit"), run
    assert np.isfinite(ours["objective_cny"]) and np.isfinite(clustered["objective_cny"])
    _consistent(ours, theirs)
    # the clusters' ramp rows relax the units' own: their bound is no higher than the units'
    # optimum (gridopt.interop.units)
    assert clustered["best_bound_cny"] <= ours["objective_cny"] * (1 + REL)
