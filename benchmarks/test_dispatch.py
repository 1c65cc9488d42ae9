"""Dispatch LP benchmarks: gridopt against PyPSA on the same network, in the same run.

The headline figure is the ratio of gridopt's end-to-end time to PyPSA's. Objectives must agree
to 1e-6 relative, or the benchmark fails.

PPRD sizes (24 h to the year from 1 January) are solved on the PPRD network reduced to what the
PyPSA export maps (`gridopt.interop.scope`: river routing replaced by routed natural inflows,
gas-fired plants' fuel priced in their marginal cost, corridors as plain links), since PyPSA
has no equivalent of those parts. gridopt's time on the whole PPRD case at the same size is
recorded next to it (`gridopt_full`; `--bench-no-whole` leaves it out), and so is the growth of
its build time with the horizon.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.harness import (
    ROOT,
    fresh_run,
    prepare,
    run_gridopt,
    run_pypsa,
    same_algorithm,
)

PPRD_YEAR = ROOT / "cases" / "pprd_year.yaml"


def _compare(benchmark, record, case, changes, network, label, snapshots, memory) -> dict:
    """gridopt and PyPSA end to end on the same network with the same algorithm.

    With `memory` each tool runs once in a fresh interpreter, which gives its time and its
    peak memory together (a year is too long to run twice); otherwise both run in this
    process, one right after the other.
    """
    if memory:
        ours = benchmark.pedantic(
            fresh_run,
            args=("gridopt", case, snapshots if changes else None),
            rounds=1,
            iterations=1,
        )
        theirs = fresh_run("pypsa", network, None, same_algorithm(ours["n_variables"]))
    else:
        ours = benchmark.pedantic(run_gridopt, args=(case, None, changes), rounds=1, iterations=1)
        theirs = run_pypsa(network, same_algorithm(ours["n_variables"]))
    assert ours["status"] == "optimal"
    rel = abs(ours["objective_cny"] - theirs["objective_cny"]) / abs(theirs["objective_cny"])
    assert rel <= 1e-6, f"objectives differ: {ours['objective_cny']} vs {theirs['objective_cny']}"
    figures = {
        "case": label,
        "snapshots": snapshots,
        "gridopt": ours,
        "pypsa": theirs,
        "objective_rel_diff": rel,
        "ratio_end_to_end": ours["total_seconds"] / theirs["total_seconds"],
        "non_solver_share_of_solve": ours["non_solver_seconds"] / max(ours["solve_seconds"], 1e-9),
        "write_share_of_solve": ours["write_seconds"] / max(ours["solve_seconds"], 1e-9),
    }
    if memory:
        figures["gridopt_peak_mb"] = ours["peak_rss_mb"]
        figures["pypsa_peak_mb"] = theirs["peak_rss_mb"]
        figures["ratio_peak_memory"] = figures["gridopt_peak_mb"] / figures["pypsa_peak_mb"]
    benchmark.extra_info.update({k: v for k, v in figures.items() if not isinstance(v, dict)})
    return figures


@pytest.mark.benchmark(group="pprd dispatch")
def test_pprd_dispatch(benchmark, record, request, tmp_path, snapshots):
    case, changes, network = prepare(PPRD_YEAR, snapshots, tmp_path, scope=True)
    figures = _compare(
        benchmark,
        record,
        case,
        changes,
        network,
        "pprd (export scope)",
        snapshots,
        request.config.getoption("--bench-memory"),
    )
    if request.config.getoption("--bench-no-whole"):
        record(figures)
        return
    # the whole case (gas network, corridors, routing): gridopt only, no PyPSA equivalent;
    # its solve against the solve of its export-scope twin above
    # (written as analysts take it: the workbook and Parquet)
    formats = ("xlsx", "parquet")
    full = (
        fresh_run("gridopt", PPRD_YEAR, snapshots, formats=formats)
        if request.config.getoption("--bench-memory")
        else run_gridopt(PPRD_YEAR, snapshots, formats=formats)
    )
    assert full["status"] == "optimal"
    figures["gridopt_full"] = full
    figures["ratio_whole_to_twin_solve"] = (
        full["solve_seconds"] / figures["gridopt"]["solve_seconds"]
    )
    record(figures)


@pytest.mark.benchmark(group="synthetic dispatch")
def test_synthetic_dispatch(benchmark, record, request, tmp_path, buses):
    from gridopt.inputs.synthetic import write_synthetic

    hours = 168 if request.config.getoption("--bench-full") else 24
    case = write_synthetic(tmp_path / f"syn{buses}", n_buses=buses, hours=hours)
    _, changes, network = prepare(case, hours, tmp_path / "work")
    record(
        _compare(
            benchmark,
            record,
            case,
            changes,
            network,
            f"synthetic {buses} buses",
            hours,
            request.config.getoption("--bench-memory"),
        )
    )


def test_build_grows_linearly_with_the_horizon(record, request):
    """Build time of the whole PPRD case against snapshots: the fitted exponent b of
    t = a n^b over the sizes run (1 would be linear)."""
    from gridopt.inputs.case import load_case
    from gridopt.model.registry import build_model

    sizes = [168, 720, 2190, 8760] if request.config.getoption("--bench-full") else [24, 168]
    seconds = []
    for n in sizes:
        data = load_case(PPRD_YEAR, {"horizon.snapshots": n})
        seconds.append(min(build_model(data).build_seconds for _ in range(2)))
    exponent = float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])
    record(
        {
            "case": "pprd build scaling",
            "snapshots": sizes,
            "build_seconds": seconds,
            "fitted_exponent": exponent,
        }
    )
    assert all(s > 0 for s in seconds)
