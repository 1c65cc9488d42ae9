"""`gridopt plot RUN_DIR [--out DIR]`: PNG charts of a results folder.

"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import EXIT_INPUT, app
from gridopt.plot import CHARTS, plot_run


@app.command("plot")
def plot(
    run_dir: Annotated[Path, typer.Argument(help="results folder written by `gridopt solve`")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="folder for the PNG files"
                                             " (default: RUN_DIR/plots)")] = None,
) -> None:
    """Draw PNG charts of a solved run: dispatch, corridors, reservoirs, prices, gas, security,
    network map."""
    out_dir = out if out is not None else run_dir / "plots"
    try:
        paths = plot_run(run_dir, out_dir,
                         note=lambda message: typer.echo(f"gridopt: {message}", err=True))
    except FileNotFoundError as err:
        typer.echo(f"gridopt: {err}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    if not paths:
        typer.echo(f"gridopt: none of the charts ({', '.join(c.name for c in CHARTS)}) could"
                   f" be drawn from {run_dir}", err=True)
        raise typer.Exit(EXIT_INPUT)
    typer.echo(f"wrote {len(paths)} chart{'s' if len(paths) != 1 else ''} to {out_dir}")
