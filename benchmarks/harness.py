"""Measure gridopt and PyPSA on the same case: phases, model size, peak memory, objective.

Both tools solve the same network: PyPSA the network gridopt exports
(`gridopt.interop.pypsa.export_pypsa`), gridopt its case files (for a case reduced to the
export's scope, the case imported back from that same network file), both with HiGHS and both
writing their results as CSV. Peak memory is measured in a fresh subprocess per tool
(`python -m benchmarks.harness`), so neither run's memory hides the other's.

    python -m benchmarks.harness gridopt cases/pprd_week.yaml --snapshots 720
    python -m benchmarks.harness pypsa network.nc
"""

from __future__ import annotations

import argparse
import json
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


def run_gridopt(
    case: Path | str,
    snapshots: int | None = None,
    extra: dict[str, Any] | None = None,
    out_dir: Path | None = None,
    formats: tuple[str, ...] = ("csv",),
) -> dict[str, Any]:
    """gridopt end to end (read, build, hand-off, solve, extract, write; CSV unless told):
    phases in s."""
    from gridopt.studies.run import solve_case

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = solve_case(
            case,
            out_dir or Path(tmp) / "run",
            formats,
            changes=changes_for(snapshots, extra),
            diagnose=False,
        )
    total = time.perf_counter() - t0
    s = result.summary
    phases = {k: s[k] for k in s if k.endswith("_seconds")}
    non_solver = total - s["solve_seconds"]
    return {
        "tool": "gridopt",
        "status": s["status"],
        "objective_cny": s["objective_cny"],
        "total_seconds": total,
        "non_solver_seconds": non_solver,
        **phases,
        "n_variables": s["n_variables"],
        "n_constraints": s["n_constraints"],
        "n_nonzeros": s["n_nonzeros"],
        "n_snapshots": s["n_snapshots"],
        "solver_iterations": s.get("solver_iterations", {}),
        "solver_message": s.get("solver_message", ""),
        "price_basis": s.get("price_basis"),
    }


def prepare(
    case: Path | str,
    snapshots: int | None,
    work_dir: Path,
    scope: bool = False,
    extra: dict[str, Any] | None = None,
) -> tuple[Path, dict[str, Any], Path]:
    """What both tools solve: gridopt's case (path and changes) and the PyPSA network file.

    With `scope`, the case is first reduced to what the PyPSA export maps
    (`gridopt.interop.scope`) and gridopt solves the reduced network as imported back from the
    very file PyPSA reads, so both start from the same data. Not timed.
    """
    from gridopt.inputs.case import load_case
    from gridopt.interop.pypsa import _quiet, export_pypsa, import_pypsa
    from gridopt.interop.scope import to_export_scope

    changes = changes_for(snapshots, extra)
    data = load_case(case, changes)
    if scope:
        data = to_export_scope(data)
    work_dir.mkdir(parents=True, exist_ok=True)
    nc = work_dir / "network.nc"
    with _quiet():
        export_pypsa(data, nc)
        if not scope:
            return Path(case), changes, nc
        import_pypsa(nc, work_dir / "case", overwrite=True)
    return work_dir / "case" / "case.yaml", dict(extra or {}), nc


def same_algorithm(n_columns: int) -> dict[str, Any]:
    """HiGHS options that make PyPSA use the algorithm gridopt's `method: choose` takes for an
    LP of this size (`gridopt.solver.highs.chosen_options`: simplex, HiPO with crossover, or HiPO
    without it), so the comparison is of the tools, not of algorithms."""
    from gridopt.inputs.settings import SolverOptions
    from gridopt.solver.highs import chosen_options

    return chosen_options(SolverOptions(), True, n_columns)


def run_pypsa(network: Path | str, solver_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyPSA end to end on an exported network: read netCDF, optimize, write CSV results."""
    import pypsa

    from gridopt.interop.pypsa import _quiet

    with tempfile.TemporaryDirectory() as tmp, _quiet():
        t0 = time.perf_counter()
        n = pypsa.Network(network)
        t1 = time.perf_counter()
        _status, condition = n.optimize(
            solver_name="highs", log_to_console=False, **(solver_options or {})
        )
        t2 = time.perf_counter()
        n.export_to_csv_folder(Path(tmp) / "results")
        t3 = time.perf_counter()
    return {
        "tool": "pypsa",
        "status": str(condition),
        # not solved (e.g. HiGHS at its memory limit): no objective stored
        "objective_cny": float(n.objective) if str(condition) == "optimal" else float("nan"),
        "solver_options": solver_options or {},
        "read_seconds": t1 - t0,
        "optimize_seconds": t2 - t1,
        "write_seconds": t3 - t2,
        "total_seconds": t3 - t0,
    }


def memory_refusal(err: MemoryError, tool: str = "pypsa") -> dict[str, Any]:
    """What `tool` refused for lack of memory: the exception and its message, and for numpy's
    refusal of an array (`numpy._core._exceptions._ArrayMemoryError`, a MemoryError) the shape
    and size it asked for."""
    refusal: dict[str, Any] = {
        "tool": tool,
        "status": "refused: out of memory",
        "exception": f"{type(err).__module__}.{type(err).__qualname__}",
        "message": str(err),
    }
    shape, dtype = getattr(err, "shape", None), getattr(err, "dtype", None)
    if shape is not None and dtype is not None:
        import numpy as np

        refusal["requested_shape"] = [int(k) for k in shape]
        refusal["requested_gib"] = float(np.prod(shape, dtype=float)) * np.dtype(dtype).itemsize
        refusal["requested_gib"] /= 2**30
    return refusal


def run_pypsa_or_refusal(
    network: Path | str, solver_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`run_pypsa`, or where PyPSA cannot build or solve the model for lack of memory its
    refusal (`memory_refusal`): a MemoryError while building or solving, or HiGHS stopping at
    its memory limit (linopy's `resource_interrupt`). Any other failure is raised."""
    try:
        out = run_pypsa(network, solver_options)
    except MemoryError as err:
        return memory_refusal(err) | {"solver_options": solver_options or {}}
    if out["status"] == "resource_interrupt":
        return {
            "tool": "pypsa",
            "status": "refused: out of memory",
            "exception": None,
            "message": "HiGHS stopped at its memory limit (kMemoryLimit: resource_interrupt)",
            "solver_options": solver_options or {},
        }
    return out


def fresh_run(
    tool: str,
    source: Path | str,
    snapshots: int | None = None,
    solver_options: dict[str, Any] | None = None,
    formats: tuple[str, ...] = ("csv",),
) -> dict[str, Any]:
    """One end-to-end run of `tool` in a fresh interpreter: its figures (as `run_gridopt` or
    `run_pypsa`) with its peak resident memory, `peak_rss_mb`. `source` is gridopt's case
    YAML or PyPSA's network file."""
    cmd = [sys.executable, "-m", "benchmarks.harness", tool, str(source)]
    if snapshots is not None and tool == "gridopt":
        cmd += ["--snapshots", str(snapshots)]
    if tool == "gridopt":
        cmd += ["--formats", ",".join(formats)]
    if solver_options and tool == "pypsa":
        cmd += ["--solver-options", json.dumps(solver_options)]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def peak_memory_mb(
    tool: str,
    source: Path | str,
    snapshots: int | None = None,
    solver_options: dict[str, Any] | None = None,
) -> float:
    """Peak resident memory (MB) of one end-to-end run of `tool` in a fresh interpreter."""
    return float(fresh_run(tool, source, snapshots, solver_options)["peak_rss_mb"])


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): VmHWM, which starts afresh at exec. (The
    rusage maximum does not: a child started from a large process reports its parent's.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tool", choices=["gridopt", "pypsa"])
    parser.add_argument("source", help="gridopt: a case YAML; pypsa: a network file")
    parser.add_argument("--snapshots", type=int, default=None)
    parser.add_argument("--solver-options", default="{}", help="PyPSA: HiGHS options (JSON)")
    parser.add_argument("--formats", default="csv", help="gridopt: results formats")
    args = parser.parse_args()
    if args.tool == "gridopt":
        out = run_gridopt(args.source, args.snapshots, formats=tuple(args.formats.split(",")))
    else:
        out = run_pypsa(args.source, json.loads(args.solver_options))
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
