"""gridopt from Python (a notebook, a script): solve a case with changes and get its result
tables as pandas DataFrames; read a results folder back; compare runs.

    import gridopt

    result = gridopt.solve("cases/pprd_week.yaml", {"inflow_year": "dry"})
    result.status, result.objective_cny         # "optimal", 1.03e10
    result.tables["generation"]                 # a DataFrame, as the workbook's sheet
    result["prices"].groupby("region")["price_cny_per_mwh"].mean()
    result.summary                              # the figures of summary.json

    run = gridopt.load("runs/pprd_week")        # a results folder written earlier
    cmp = gridopt.compare(["runs/normal", "runs/dry"])   # tables side by side, differences

`changes` are dotted-key settings on top of the case file, exactly as a sweep's scenario
(`{"scale.demand": 1.1, "overrides": [...]}`). Bad input raises `gridopt.errors.InputError`,
whose `problems` name file, row, column and rule; a model without a solution returns a result
whose `status` says why (and `summary["diagnosis"]` for an infeasible one), it never raises.
A case with `rolling:` (or `rolling=` given) is solved window by window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Result:
    """A solved case: its status, objective, summary and result tables (DataFrames, one per
    sheet of the workbook, same names and columns)."""

    status: str
    objective_cny: float | None
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    out_dir: Path | None = None
    # the underlying run (gridopt.studies.run.RunResult): model, solution, case data
    run: Any = field(default=None, repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    @property
    def names(self) -> list[str]:
        """The tables of the result."""
        return list(self.tables)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def solve(
    case: str | Path,
    changes: Mapping[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    formats: tuple[str, ...] = ("xlsx",),
    rolling: str | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Solve a case file with `changes` (dotted-key settings); write its results folder to
    `out` when given. `rolling` ("168h:24h") solves window by window."""
    from gridopt.inputs.case_file import read_case
    from gridopt.results.tables import summary_table

    path = Path(case)
    changed = dict(changes) if changes else None
    if rolling is not None or read_case(path, changed).rolling is not None:
        from gridopt.studies.rolling import parse_rolling, solve_rolling

        window_h, overlap_h = parse_rolling(rolling) if rolling else (None, None)
        rolled = solve_rolling(
            path,
            out,
            formats,
            changes=changed,
            log=log,
            progress=progress,
            window_h=window_h,
            overlap_h=overlap_h,
        )
        tables = {"summary": summary_table(rolled.summary), **rolled.tables}
        return Result(
            str(rolled.status),
            _objective(rolled.summary),
            rolled.summary,
            tables,
            Path(out) if out else None,
            rolled,
        )
    from gridopt.studies.run import solve_case

    run = solve_case(path, out, formats, changes=changed, log=log, progress=progress)
    tables = {"summary": summary_table(run.summary), **run.tables}
    return Result(
        str(run.solution.status), _objective(run.summary), run.summary, tables, run.out_dir, run
    )


def load(run_dir: str | Path) -> Result:
    """A results folder written earlier (`gridopt solve --out`, a sweep's scenario, a study):
    every table it holds, from Parquet, CSV or the workbook."""
    from gridopt.results.read import RunTables

    with RunTables(run_dir) as run:
        tables = {name: df for name in run.names() if (df := run.get(name)) is not None}
        info = dict(run.summary)
    return Result(str(info.get("status", "")), _objective(info), info, tables, Path(run_dir))


def compare(runs: list[str | Path], names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Results folders side by side with differences against the first (the tables of
    `gridopt compare`)."""
    from gridopt.studies.compare import compare_runs

    return compare_runs([Path(r) for r in runs], names)


def _objective(info: Mapping[str, Any]) -> float | None:
    value = info.get("objective_cny")
    return None if value is None else float(value)
