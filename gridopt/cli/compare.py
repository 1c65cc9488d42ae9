"""`gridopt compare RUN_A RUN_B ... --out DIR`: results folders side by side, with differences
against the first (see `gridopt.studies.compare`). Exit codes: 0 written, 2 a folder holds no
results or fewer than two were given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import EXIT_INPUT, Formats, app, parse_formats, progress


@app.command("compare")
def compare_cmd(
    runs: Annotated[list[Path], typer.Argument(help="results folders; the first is the base")],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="folder for results.xlsx (with charts) and summary.json"),
    ],
    format: Formats = "xlsx",
) -> None:
    """Compare runs: cost, energy by carrier and region, corridors, prices, CO2, security."""
    from gridopt.results.write import write_results
    from gridopt.studies.compare import compare_runs, run_names

    formats = parse_formats(format)
    if len(runs) < 2:
        typer.echo("gridopt: give at least two results folders to compare", err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        tables = compare_runs(list(runs), progress=progress)
    except FileNotFoundError as err:
        typer.echo(f"gridopt: {err}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    names = run_names(runs)
    info = {
        "study": "comparison",
        "base": names[0],
        "runs": names,
        "folders": [str(r) for r in runs],
    }
    figures = tables["comparison"].set_index("figure")
    from gridopt.results.tables import summary_table

    progress(f"writing the comparison to {out}")
    write_results(out, {"summary": summary_table(info), **tables}, info, formats, progress=progress)
    lines = []
    for name in names[1:]:
        diff = figures.loc["objective_cny", f"{name} - {names[0]}"]
        if diff is not None:
            lines.append(f"{name} - {names[0]}: objective {diff:+,.0f} CNY")
    typer.echo("; ".join(lines) + f"; comparison in {out}")
