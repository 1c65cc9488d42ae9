"""`gridopt export ...` and `gridopt import ...`: exchange cases with PyPSA and MATPOWER.

Exit codes as for the rest of the command line: 0 done (warnings, if any, on stderr), 2 the
input cannot be represented (every problem listed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import app, fail_input, writing
from gridopt.errors import InputError

export_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Write a case in another tool's format."
)
import_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Read another tool's network as a gridopt case folder.",
)

_FORCE = typer.Option("--force", help="replace a case folder imported earlier at OUT_DIR (whole)")


app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")


def _warn(notes: list[str]) -> None:
    for note in notes:
        typer.echo(f"gridopt: warning: {note}", err=True)


@export_app.command("pypsa")
def export_pypsa_cmd(
    case: Annotated[Path, typer.Argument(help="case YAML file")],
    out: Annotated[Path, typer.Argument(help="netCDF file (.nc) or CSV folder to write")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an existing .nc file")
    ] = False,
) -> None:
    """Write CASE as a PyPSA network that PyPSA's optimize() solves to the same optimum."""
    from gridopt.interop.pypsa import export_pypsa

    is_file = out.suffix.lower() == ".nc"
    # written beside its place and moved there when complete (gridopt.results.folders)
    with writing(out, "pypsa", overwrite=overwrite, inputs=[case], is_file=is_file) as claimed:
        staged = claimed.staging()
        notes = export_pypsa(case, staged / out.name if is_file else staged)
        claimed.publish(staged)
    _warn(notes)
    typer.echo(f"wrote the PyPSA network {out}")


@import_app.command("pypsa")
def import_pypsa_cmd(
    src: Annotated[Path, typer.Argument(help="PyPSA netCDF file or CSV folder")],
    out_dir: Annotated[Path, typer.Argument(help="case folder to write")],
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="ISO code of the network's costs (default: the network's meta"
            " 'currency', else EUR)",
        ),
    ] = None,
    force: Annotated[bool, _FORCE] = False,
) -> None:
    """Write a gridopt case folder (tables, series, case.yaml) from a PyPSA network."""
    from gridopt.interop.pypsa import import_pypsa

    try:
        notes = import_pypsa(src, out_dir, overwrite=force, currency=currency)
    except InputError as err:
        fail_input(err)
        return
    _warn(notes)
    typer.echo(f"wrote the case {out_dir / 'case.yaml'}")


@import_app.command("matpower")
def import_matpower_cmd(
    file: Annotated[Path, typer.Argument(help="MATPOWER case file (.m)")],
    out_dir: Annotated[Path, typer.Argument(help="case folder to write")],
    quadratic_segments: Annotated[
        int | None,
        typer.Option(
            "--quadratic-segments",
            min=1,
            help="linearise quadratic costs with this many equal segments from Pmin to Pmax"
            " (default: solve them as they are, a QP; segments keep an LP, e.g. for unit"
            " commitment, since HiGHS solves no mixed-integer QP)",
        ),
    ] = None,
    dclines: Annotated[
        bool,
        typer.Option(
            "--dclines/--no-dclines",
            help="import mpc.dcline as links with their losses"
            " (--no-dclines: leave them out, as MATPOWER's rundcopf does without"
            " toggle_dcline)",
        ),
    ] = True,
    force: Annotated[bool, _FORCE] = False,
) -> None:
    """Write a single-snapshot DC dispatch case folder from a MATPOWER case."""
    from gridopt.interop.matpower import import_matpower

    try:
        notes = import_matpower(
            file, out_dir, overwrite=force, quadratic_segments=quadratic_segments, dclines=dclines
        )
    except InputError as err:
        fail_input(err)
        return
    _warn(notes)
    typer.echo(f"wrote the case {out_dir / 'case.yaml'}")
