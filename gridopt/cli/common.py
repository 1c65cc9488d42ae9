"""The `gridopt` command line: the app, its exit codes, and the options and helpers that
several commands share. Commands live in the modules of this package and register themselves
on `app` with `@app.command(...)` (command groups with `app.add_typer`).

Exit codes: 0 solved (optimal, or stopped by the time limit with a solution written);
2 bad input (every problem listed); 3 infeasible; 4 unbounded; 5 stopped without a solution;
1 anything else; 130 interrupted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from gridopt.errors import InputError
from gridopt.progress import Reporter
from gridopt.results.folders import KeptEarlierResults, Output, claim_output
from gridopt.results.write import FORMATS
from gridopt.solver.types import Status

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Power and gas dispatch for the Pan-Pearl-River-Delta region.",
    pretty_exceptions_enable=False,
)

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130
EXIT_CODES = {
    Status.OPTIMAL: 0,
    Status.INFEASIBLE: EXIT_INFEASIBLE,
    Status.INFEASIBLE_OR_UNBOUNDED: EXIT_INFEASIBLE,
    Status.UNBOUNDED: 4,
    Status.TIME_LIMIT: 5,
    Status.INTERRUPTED: EXIT_INTERRUPTED,
    Status.ERROR: EXIT_FAILED,
}


def _version(value: bool) -> None:
    if value:
        from gridopt import __version__

        typer.echo(f"gridopt {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
    project_root: Annotated[
        Path | None,
        typer.Option(
            "--project-root",
            help="folder that the paths of a case file (network,"
            " security_file) must stay in; default: the folder above the case file's",
        ),
    ] = None,
) -> None:
    """Power and gas dispatch for the Pan-Pearl-River-Delta region."""
    if project_root is not None:
        from gridopt.inputs.paths import PROJECT_ROOT_ENV

        if not project_root.is_dir():
            typer.echo(f"gridopt: --project-root {project_root} is not a folder", err=True)
            raise typer.Exit(EXIT_INPUT)
        # the environment carries it to worker processes (sweeps, studies)
        os.environ[PROJECT_ROOT_ENV] = str(project_root.resolve())


# options shared by the commands that solve a case and write its results
OutDir = Annotated[
    Path | None, typer.Option("--out", "-o", help="results folder (default: runs/<case name>)")
]
Formats = Annotated[str, typer.Option("--format", "-f", help="comma list of xlsx, csv, parquet")]
TimeLimit = Annotated[float | None, typer.Option("--time-limit", help="solver time limit, s")]
StudyOutDir = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="results folder (default: runs/<case name>_<command>)"),
]
CaseFile = Annotated[Path, typer.Argument(help="case YAML file")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="let a run without a solution replace earlier results that have one"
        " (a results folder is otherwise replaced only by a solved run)",
    ),
]


_interrupt_said: list[bool] = []


def say_interrupted(message: str) -> None:
    """A command's own words on an interruption (the entry point then adds none)."""
    typer.echo(message, err=True)
    _interrupt_said.append(True)


def interrupt_reported() -> bool:
    """Whether a command has already said that it was interrupted."""
    return bool(_interrupt_said)


# progress of long steps, on stderr (results and the final line go to stdout): messages,
# counted steps with the time left and a MIP's live line (`gridopt.progress`)
progress = Reporter()


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
        typer.echo(
            f"gridopt: --format takes a comma list of {', '.join(FORMATS)}; got {text!r}", err=True
        )
        raise typer.Exit(EXIT_INPUT)
    return formats


def kept_earlier(kept: KeptEarlierResults) -> None:
    """A run without a solution left the earlier results in place: say so and exit with the
    run's own exit code."""
    info = kept.summary
    status = Status(str(info.get("status", "error")))
    typer.echo(
        f"gridopt: the model is {status.value.replace('_', ' ')}"
        f" ({info.get('solver_message', '')}); nothing was written",
        err=True,
    )
    for line in info.get("diagnosis", [])[:20]:
        typer.echo(f"  - {line}", err=True)
    typer.echo(f"gridopt: {kept}", err=True)
    raise typer.Exit(EXIT_CODES[status])


@contextmanager
def writing(out: Path, kind: str = "results", **rules: Any) -> Iterator[Output]:
    """A command's output, claimed for the whole command (`gridopt.results.folders`): checked
    and locked before the work starts. Bad input (the output refused included) and a run
    that did not replace earlier results end the command with their messages and codes."""
    try:
        with claim_output(out, kind, **rules) as claimed:
            yield claimed
    except InputError as err:
        fail_input(err)
    except KeptEarlierResults as kept:
        kept_earlier(kept)
