"""One run of a case: read, build, solve, collect results, write. Phases are timed and reported."""

from __future__ import annotations

import math
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.model.core import LinearModel
from gridopt.model.registry import build_model, families
from gridopt.progress import duration, end_status, status
from gridopt.results.tables import collect, network_tables, summary, summary_table
from gridopt.results.write import write_results
from gridopt.solver.diagnose import diagnose_infeasibility, unbounded_components
from gridopt.solver.solve import solve, solver_option_problems
from gridopt.solver.types import GapPoint, Solution, Status


def stderr_progress(message: str) -> None:
    print(f"gridopt: {message}", file=sys.stderr, flush=True)


@dataclass
class RunResult:
    data: CaseData
    model: LinearModel
    solution: Solution
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    out_dir: Path | None = None


def solve_case(
    case_path: Path | str,
    out_dir: Path | str | None = None,
    formats: tuple[str, ...] = ("xlsx",),
    changes: dict[str, Any] | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    diagnose: bool = True,
) -> RunResult:
    """Solve a case file in one piece; write results to `out_dir` when given (even when not
    optimal). A case's `rolling` setting is read by `gridopt.studies.rolling.solve_rolling` (the
    `gridopt solve` command chooses).

    An infeasible model is diagnosed by an elastic re-solve (which requirements conflict,
    where, when and by how much); an unbounded one names the variables of its ray. The
    findings go to `summary["diagnosis"]`.
    """
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say(f"reading {case_path}")
    data = load_case(case_path, changes)
    timings["read_seconds"] = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        log_file = Path(tmp) / "solver.log"
        result = solve_data(data, str(case_path), timings, log_file, log, say, diagnose)
        if out_dir is not None:
            say(f"writing results to {out_dir}")
            result.summary = write_results(
                Path(out_dir),
                {"summary": summary_table(result.summary), **result.tables},
                result.summary,
                formats,
                extra_files={"solver.log": log_file},
                progress=progress,
            )
            result.out_dir = Path(out_dir)
            say(f"wrote results in {result.summary['write_seconds']:.2f} s")
    return result


def solve_data(
    data: CaseData,
    case_path: str,
    timings: dict[str, float],
    log_file: Path | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    diagnose: bool = True,
) -> RunResult:
    """Build, solve and collect a prepared case, without writing: the part of a run that each
    window of a rolling run repeats. `timings` (phases so far) gains the phases of this one."""
    say = progress or (lambda _m: None)
    problems = solver_option_problems(data.case, data.path)  # before the build, not after
    if problems:
        raise InputError(problems)
    t = time.perf_counter()
    say(
        f"building the {data.case.model} model: {data.n_snapshots} snapshots,"
        f" {len(data.tables['buses'])} buses"
    )
    model = build_model(data)
    timings["build_seconds"] = time.perf_counter() - t
    say(
        f"built {model.n_cols:,} variables and {model.n_rows:,} constraints in"
        f" {timings['build_seconds']:.2f} s"
    )

    say("solving with HiGHS")
    mip = bool(model.integrality().any()) and not data.case.solver.relax
    with MipLine(None if log else progress, mip=mip) as line:
        sol = solve(model, data.case.solver, log=log, log_file=log_file, progress=line)
    timings.update(sol.timings)
    say(
        f"solver finished: {sol.status} in {timings['solve_seconds']:.2f} s"
        + (f", objective {sol.objective_cny:,.0f} CNY" if sol.status.has_solution else "")
    )

    t = time.perf_counter()
    tables = collect(sol, families(data)) if has_values(sol) else {}
    if tables:
        # coordinates and colours travel with the results so charts need only the folder
        tables.update(network_tables(data))
    timings["extract_seconds"] = time.perf_counter() - t
    info = summary(sol, tables, timings, case_path, data.case.model)
    if diagnose and sol.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        say("the model is infeasible; finding which requirements conflict")
        info["diagnosis"] = [c.message for c in diagnose_infeasibility(model)]
    elif diagnose and sol.status is Status.UNBOUNDED:
        info["diagnosis"] = [
            f"cost falls without limit along {v}" for v in unbounded_components(model)
        ]
    return RunResult(data, model, sol, tables, info)


class MipLine:
    """The live line of a MIP's search for `progress`: incumbent, bound, gap and time elapsed,
    from the solver's progress hook; a clock thread repeats the last state every `every_s`
    seconds with the time updated while the solver reports nothing (e.g. in its root LP)."""

    def __init__(
        self, progress: Callable[[str], None] | None, every_s: float = 3.0, mip: bool = True
    ):
        self.progress = progress
        self.mip = mip
        self.every_s = every_s
        self.point: GapPoint | None = None
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, point: GapPoint) -> None:
        """The solver's hook: a new state of the search."""
        self.point = point
        self._show()

    def _show(self) -> None:
        p = self.point
        elapsed = time.perf_counter() - self.started
        if p is None:
            # before the search reports (presolve, the root LP), or an LP: the time so far
            what = "MIP: presolve and root LP" if self.mip else "solving"
            status(self.progress, f"{what}, {duration(elapsed)} elapsed")
            return
        found = (
            f"incumbent {p.objective_cny:,.0f} CNY"
            if math.isfinite(p.objective_cny)
            else "no incumbent yet"
        )
        bound = f"bound {p.bound_cny:,.0f} CNY" if math.isfinite(p.bound_cny) else "no bound yet"
        gap = f"gap {p.gap:.2%}" if math.isfinite(p.gap) and p.gap < 1e3 else "gap -"
        status(self.progress, f"MIP: {found}, {bound}, {gap}, {duration(elapsed)} elapsed")

    def _tick(self) -> None:
        while not self._stop.wait(self.every_s):
            self._show()

    def __enter__(self) -> MipLine:
        self.started = time.perf_counter()
        if self.progress is not None:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        end_status(self.progress)


def has_values(sol: Solution) -> bool:
    """Whether a solve left a point to report: optimal, or stopped with a feasible one."""
    return sol.status is Status.OPTIMAL or (
        sol.status is Status.TIME_LIMIT and not pd.isna(sol.x).all()
    )
