"""`gridopt schema [TABLE]`: the reference of a network's tables (columns, units, defaults,
rules), generated from `gridopt.inputs.schema`; `--markdown` prints the whole document that
`docs/schema.md` holds."""

from __future__ import annotations

import textwrap
from typing import Annotated

import typer

from gridopt.cli.common import EXIT_INPUT, app


@app.command("schema")
def schema_cmd(
    table: Annotated[
        str | None, typer.Argument(help="a table (e.g. generators); default: the list of tables")
    ] = None,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown", help="print the whole reference as Markdown (the text of docs/schema.md)"
        ),
    ] = False,
) -> None:
    """Columns, units, defaults and rules of the network tables."""
    from gridopt.inputs.reference import reference_markdown, table_markdown
    from gridopt.inputs.schema import SERIES, TABLES

    if markdown:
        typer.echo(reference_markdown(), nl=False)
        return
    if table is None:
        width = max(len(t) for t in TABLES)
        for name, t in TABLES.items():
            typer.echo(f"{name:<{width}}  {textwrap.shorten(t.description, 90)}")
        typer.echo("time series: " + ", ".join(f"timeseries/{s}.csv" for s in SERIES))
        typer.echo(
            "gridopt schema TABLE shows a table's columns; the whole reference is docs/schema.md"
        )
        return
    if table not in TABLES:
        typer.echo(f"gridopt: no table {table!r}; tables: {', '.join(TABLES)}", err=True)
        raise typer.Exit(EXIT_INPUT)
    typer.echo(table_markdown(TABLES[table]), nl=False)
