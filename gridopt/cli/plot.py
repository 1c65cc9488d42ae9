"""`gridopt plot RUN_DIR [--out DIR]`: PNG charts of a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import EXIT_INPUT, app, fail_input, progress, writing
from gridopt.errors import InputError
from gridopt.plot import CHARTS, plot_run
from gridopt.results.read import RunTables


@app.command("plot")
def plot(
    run_dir: Annotated[Path, typer.Argument(help="results folder written by `gridopt solve`")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="folder for the PNG files (default: RUN_DIR/plots)"),
    ] = None,
) -> None:
    """Draw PNG charts of a solved run: dispatch, corridors, reservoirs, prices, gas, security,
    network map."""
    out_dir = out if out is not None else run_dir / "plots"
    try:
        RunTables(run_dir).close()  # a results folder, readable, before any folder is made
    except FileNotFoundError as err:
        typer.echo(f"gridopt: {err}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except InputError as err:
        fail_input(err)
    with writing(out_dir, "plots") as claimed:
        folder = claimed.open_in_place()
        for left in folder.glob(".*.png.tmp"):  # charts a killed run began (gridopt.plot._save)
            left.unlink(missing_ok=True)
        paths = plot_run(run_dir, out_dir, note=progress, progress=progress)
    if not paths:
        typer.echo(
            f"gridopt: none of the charts ({', '.join(c.name for c in CHARTS)}) could"
            f" be drawn from {run_dir}",
            err=True,
        )
        raise typer.Exit(EXIT_INPUT)
    typer.echo(f"wrote {len(paths)} chart{'s' if len(paths) != 1 else ''} to {out_dir}")
