"""`gridopt sweep CASE --scenarios FILE --out DIR [--workers N] [--scheduler ADDRESS]`.

Solves every scenario of FILE (see `gridopt.studies.sweep`) on a Dask cluster: a local one of N
worker
processes by default, or the running cluster at ADDRESS. Exit codes: 0 every scenario solved;
2 the case or the scenario file is bad (every problem listed); 1 some scenario failed (each
named, the others complete); 130 interrupted (complete scenarios are kept; rerun to finish).

The command function is registered on the main app in `gridopt.cli`; this module imports that
module only inside functions, so the registration cannot form an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    app,
    fail_input,
    parse_formats,
    progress,
    say_interrupted,
)
from gridopt.errors import InputError


@app.command("sweep")
def sweep(
    case: Annotated[Path, typer.Argument(help="case YAML file")],
    scenarios: Annotated[
        Path,
        typer.Option(
            "--scenarios",
            "-s",
            help="scenario file: YAML (named changes and/or a product of"
            " settings) or a CSV / XLSX table (a 'scenario' column and one column per setting)",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="sweep folder: DIR/<scenario>/, sweep.xlsx, sweep_parquet/, sweep_status.csv",
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="worker processes of the local Dask cluster (default: one per core)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786);"
            " its workers must see the case, network and DIR at the same paths",
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="formats of each scenario's results: comma list of xlsx, csv,"
            " parquet (parquet is always written)",
        ),
    ] = "parquet",
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="scenario the others are compared with (sheet differences of"
            " sweep.xlsx; default: the scenario file's base:)",
        ),
    ] = None,
) -> None:
    """Solve scenarios of a case in parallel on Dask; skip those complete from a previous run."""
    from gridopt.studies.sweep import run_sweep

    formats = parse_formats(format)
    if workers is not None and scheduler is not None:
        typer.echo(
            "gridopt: --workers sizes the local cluster; with --scheduler the running"
            " cluster's workers are used",
            err=True,
        )
        raise typer.Exit(EXIT_INPUT)
    try:
        listed: list | Path = scenarios
        if base is not None:
            from gridopt.studies.scenarios import read_scenarios, with_base

            listed, problems = with_base(read_scenarios(scenarios), base)
            if problems:
                raise InputError(problems)
        result = run_sweep(
            case,
            listed,
            out,
            workers=workers,
            scheduler=scheduler,
            formats=formats,
            progress=progress,
        )
    except InputError as err:
        fail_input(err)
        return
    except ConnectionError as err:
        typer.echo(f"gridopt: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        say_interrupted(
            f"gridopt: sweep interrupted; complete scenarios are kept in {out} (see"
            " sweep_status.csv): run the same command again to solve the rest"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    failed = [o for o in result.outcomes if not o.ok]
    if failed:
        typer.echo(
            f"gridopt: {len(failed)} of {len(result.outcomes)} scenarios failed"
            f" (the others are in {out}):",
            err=True,
        )
        for o in failed:
            lines = [line for line in o.message.splitlines() if line.strip()] or [o.status]
            typer.echo(f"  - {o.scenario}: {o.status}: {lines[0]}", err=True)
            for line in lines[1:5]:
                typer.echo(f"      {line}", err=True)
        raise typer.Exit(EXIT_FAILED)
    typer.echo(
        f"solved {len(result.outcomes)} scenarios ({len(result.executed)} now,"
        f" {len(result.skipped)} from an earlier run); comparison in"
        f" {out / 'sweep.xlsx'}"
    )
