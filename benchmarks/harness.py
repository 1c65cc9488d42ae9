"""Measure gridopt and PyPSA on the same case: phases, model size, peak memory, objective.

Both tools solve the same network: gridopt from its case files, PyPSA from the network gridopt
exports (`gridopt.interop.pypsa.to_pypsa`), both with HiGHS and both writing their results as
CSV. Peak memory is measured in a fresh subprocess per tool (`python -m benchmarks.harness`),
so neither run's memory hides the other's.

    python -m benchmarks.harness gridopt cases/pprd_week.yaml --snapshots 720
    python -m benchmarks.harness pypsa cases/pprd_week.yaml --snapshots 720
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def changes_for(snapshots: int | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    changes = dict(extra or {})
    if snapshots is not None:
        changes["horizon.snapshots"] = snapshots
    return changes


def run_gridopt(case: Path | str, snapshots: int | None = None,
                extra: dict[str, Any] | None = None, out_dir: Path | None = None
                ) -> dict[str, Any]:
    """gridopt end to end (read, build, hand-off, solve, extract, write CSV): phases in s."""
    from gridopt.run import solve_case

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = solve_case(case, out_dir or Path(tmp) / "run", ("csv",),
                            changes=changes_for(snapshots, extra), diagnose=False)
    total = time.perf_counter() - t0
    s = result.summary
    phases = {k: s[k] for k in s if k.endswith("_seconds")}
    non_solver = total - s["solve_seconds"]
    return {"tool": "gridopt", "status": s["status"], "objective_cny": s["objective_cny"],
            "total_seconds": total, "non_solver_seconds": non_solver, **phases,
            "n_variables": s["n_variables"], "n_constraints": s["n_constraints"],
            "n_nonzeros": s["n_nonzeros"], "n_snapshots": s["n_snapshots"]}


def run_pypsa(case: Path | str, snapshots: int | None = None,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyPSA end to end on the exported network: read netCDF, optimize, write CSV results."""
    import pypsa

    from gridopt.case import load_case
    from gridopt.interop.pypsa import _quiet, to_pypsa

    data = load_case(case, changes_for(snapshots, extra))
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        nc = Path(tmp) / "network.nc"
        n, _notes = to_pypsa(data)
        n.export_to_netcdf(nc)
        t0 = time.perf_counter()
        n = pypsa.Network(nc)
        t1 = time.perf_counter()
        _status, condition = n.optimize(solver_name="highs", log_to_console=False)
        t2 = time.perf_counter()
        n.export_to_csv_folder(Path(tmp) / "results")
        t3 = time.perf_counter()
    return {"tool": "pypsa", "status": str(condition), "objective_cny": float(n.objective),
            "read_seconds": t1 - t0, "optimize_seconds": t2 - t1, "write_seconds": t3 - t2,
            "total_seconds": t3 - t0}


def peak_memory_mb(tool: str, case: Path | str, snapshots: int | None = None) -> float:
    """Peak resident memory (MB) of one end-to-end run of `tool` in a fresh interpreter."""
    cmd = [sys.executable, "-m", "benchmarks.harness", tool, str(case)]
    if snapshots is not None:
        cmd += ["--snapshots", str(snapshots)]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(json.loads(res.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tool", choices=["gridopt", "pypsa"])
    parser.add_argument("case")
    parser.add_argument("--snapshots", type=int, default=None)
    args = parser.parse_args()
    run = run_gridopt if args.tool == "gridopt" else run_pypsa
    out = run(args.case, args.snapshots)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
