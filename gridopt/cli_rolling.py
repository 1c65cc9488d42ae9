"""`gridopt solve CASE --rolling WINDOW[:OVERLAP]`: a long horizon solved window by window.

Called by `gridopt solve` (`gridopt.cli`) when `--rolling` or `--seasonal` is given or the case
has a `rolling:` setting; this module does not import the main CLI at load time, so there is
no import cycle. Exit codes as for `gridopt solve`: 0 every window solved (or stopped by the
time limit with a solution), 2 bad input, 3 a window (or the seasonal plan) infeasible, 4
unbounded, 5 a window stopped without a solution; the windows solved before a failing one are
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gridopt.errors import InputError, Problem
from gridopt.run import stderr_progress
from gridopt.solve import Status


def wants_rolling(case: Path, changes: dict[str, Any] | None, rolling: str | None,
                  seasonal: str | None) -> bool:
    """Whether `gridopt solve` should roll: asked on the command line or set in the case."""
    from gridopt.case import read_case

    if rolling is not None or seasonal is not None:
        return True
    return read_case(case, changes).rolling is not None


def solve_rolling_cmd(case: Path, out_dir: Path, formats: tuple[str, ...],
                      changes: dict[str, Any] | None, log: bool, diagnose: bool,
                      rolling: str | None, seasonal: str | None) -> None:
    """Run `gridopt.rolling.solve_rolling` and report its outcome (raises typer.Exit)."""
    from gridopt.cli import EXIT_CODES, _fail_input
    from gridopt.rolling import parse_rolling, solve_rolling

    window_h = overlap_h = None
    try:
        if rolling is not None:
            try:
                window_h, overlap_h = parse_rolling(rolling)
            except ValueError as exc:
                raise InputError([Problem("--rolling", str(exc), value=rolling)]) from None
        if seasonal is not None and seasonal not in ("targets", "water_values", "none"):
            raise InputError([Problem("--seasonal", "one of targets, water_values, none",
                                      value=seasonal)])
        result = solve_rolling(case, out_dir, formats, changes=changes, log=log,
                               progress=stderr_progress, diagnose=diagnose, window_h=window_h,
                               overlap_h=overlap_h, seasonal=seasonal)
    except InputError as err:
        _fail_input(err)
        return
    from gridopt.results import unserved_words

    info = result.summary
    done, total = info.get("windows_solved", 0), info.get("n_windows", 0)
    if result.status is Status.OPTIMAL:
        typer.echo(f"optimal: {total} windows, stitched objective"
                   f" {result.objective_cny:,.2f} CNY; {unserved_words(info)}; results in"
                   f" {out_dir}")
        return
    if result.status is Status.TIME_LIMIT and "failed_window" not in info:
        typer.echo(f"time limit reached in some windows (their best solutions are kept):"
                   f" stitched objective {result.objective_cny:,.2f} CNY;"
                   f" {unserved_words(info)}; results in {out_dir}")
        return
    failed = info.get("failed_window", {})
    what = ("the seasonal plan" if failed.get("window") == 0 else
            f"window {failed.get('window')} ({failed.get('first_snapshot')} .."
            f" {failed.get('last_solved_snapshot')})")
    kept = (f"the {done} windows before it are written to {out_dir}"
            f" ({unserved_words(info)} in them)" if done else
            f"no window was solved; summary written to {out_dir}")
    typer.echo(f"gridopt: {what} is {result.status.value.replace('_', ' ')}"
               f" ({failed.get('solver_message', '')}); {kept}", err=True)
    for line in info.get("diagnosis", [])[:20]:
        typer.echo(f"  - {line}", err=True)
    raise typer.Exit(EXIT_CODES[result.status])
