"""The `gridopt` command line: the app, its exit codes, and the options and helpers that
several commands share. Commands live in the modules of this package and register themselves
on `app` with `@app.command(...)` (command groups with `app.add_typer`).

Exit codes: 0 solved (optimal, or stopped by the time limit with a solution written);
2 bad input (every problem listed); 3 infeasible; 4 unbounded; 5 stopped without a solution;
1 anything else; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gridopt.errors import InputError
from gridopt.results.write import FORMATS
from gridopt.solver.types import Status

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Power and gas dispatch for the Pan-Pearl-River-Delta region.",
                  pretty_exceptions_enable=False)

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130
EXIT_CODES = {Status.OPTIMAL: 0, Status.INFEASIBLE: EXIT_INFEASIBLE,
              Status.INFEASIBLE_OR_UNBOUNDED: EXIT_INFEASIBLE, Status.UNBOUNDED: 4,
              Status.TIME_LIMIT: 5, Status.INTERRUPTED: EXIT_INTERRUPTED,
              Status.ERROR: EXIT_FAILED}

# options shared by the commands that solve a case and write its results
OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="results folder"
                                             " (default: runs/<case name>)")]
Formats = Annotated[str, typer.Option("--format", "-f", help="comma list of xlsx, csv, parquet")]
TimeLimit = Annotated[float | None, typer.Option("--time-limit", help="solver time limit, s")]
StudyOutDir = Annotated[Path | None, typer.Option(
    "--out", "-o", help="results folder (default: runs/<case name>_<command>)")]
CaseFile = Annotated[Path, typer.Argument(help="case YAML file")]


def progress(message: str) -> None:
    """Progress of a long step, on stderr (results and the final line go to stdout)."""
    print(f"gridopt: {message}", file=sys.stderr, flush=True)


def fail_input(err: InputError) -> None:
    """List every problem of a bad input and exit with code 2."""
    n = len(err.problems)
    typer.echo(f"gridopt: {n} problem{'s' if n != 1 else ''} in the input:", err=True)
    for p in err.problems:
        typer.echo(f"  - {p}", err=True)
    raise typer.Exit(EXIT_INPUT)


def parse_formats(text: str) -> tuple[str, ...]:
    """`--format`: a comma list of the result formats (exit 2 on an unknown one)."""
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        typer.echo(f"gridopt: --format takes a comma list of {', '.join(FORMATS)};"
                   f" got {text!r}", err=True)
        raise typer.Exit(EXIT_INPUT)
    return formats
