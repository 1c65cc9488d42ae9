"""Dispatch LP benchmarks: gridopt against PyPSA on the same network, in the same run.

The headline figure is the ratio of gridopt's end-to-end time to PyPSA's. Objectives must agree
to 1e-6 relative, or the benchmark fails.
"""

from __future__ import annotations

import pytest

from benchmarks.harness import ROOT, peak_memory_mb, run_gridopt, run_pypsa

PPRD = ROOT / "cases" / "pprd_week.yaml"


def _compare(benchmark, record, case, snapshots, label, memory) -> None:
    ours = benchmark.pedantic(run_gridopt, args=(case, snapshots), rounds=1, iterations=1)
    theirs = run_pypsa(case, snapshots)
    assert ours["status"] == "optimal"
    rel = abs(ours["objective_cny"] - theirs["objective_cny"]) / abs(theirs["objective_cny"])
    assert rel <= 1e-6, f"objectives differ: {ours['objective_cny']} vs {theirs['objective_cny']}"
    figures = {
        "case": label, "snapshots": snapshots, "gridopt": ours, "pypsa": theirs,
        "objective_rel_diff": rel,
        "ratio_end_to_end": ours["total_seconds"] / theirs["total_seconds"],
        "non_solver_share_of_solve": ours["non_solver_seconds"] / max(ours["solve_seconds"],
                                                                      1e-9),
    }
    if memory:
        figures["gridopt_peak_mb"] = peak_memory_mb("gridopt", case, snapshots)
        figures["pypsa_peak_mb"] = peak_memory_mb("pypsa", case, snapshots)
    benchmark.extra_info.update({k: v for k, v in figures.items()
                                 if not isinstance(v, dict)})
    record(figures)


@pytest.mark.benchmark(group="pprd dispatch")
def test_pprd_dispatch(benchmark, record, request, snapshots):
    if snapshots > 168:
        pytest.importorskip("pypsa")
    _compare(benchmark, record, PPRD, snapshots, "pprd", request.config.getoption(
        "--bench-memory"))


@pytest.mark.benchmark(group="synthetic dispatch")
def test_synthetic_dispatch(benchmark, record, request, tmp_path, buses):
    from gridopt.synthetic import write_synthetic

    case = write_synthetic(tmp_path / f"syn{buses}", n_buses=buses, hours=168)
    _compare(benchmark, record, case, 168, f"synthetic {buses} buses",
             request.config.getoption("--bench-memory"))
