"""The `gridopt` command line.

Exit codes: 0 solved (optimal, or stopped by the time limit with a solution written);
2 bad input (every problem listed); 3 infeasible; 4 unbounded; 5 stopped without a solution;
1 anything else; 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import networkx as nx
import pandas as pd
import typer

from gridopt.case import load_case
from gridopt.cli_interop import register as register_interop
from gridopt.cli_plot import plot as plot_cmd
from gridopt.cli_rolling import solve_rolling_cmd, wants_rolling
from gridopt.cli_security import contingency as contingency_cmd
from gridopt.cli_security import security as security_cmd
from gridopt.cli_sweep import sweep as sweep_cmd
from gridopt.errors import InputError
from gridopt.io.write import FORMATS
from gridopt.model.transmission import cycle_matrix
from gridopt.results import unserved_words
from gridopt.run import solve_case, stderr_progress
from gridopt.solve import Status

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Power and gas dispatch for the Pan-Pearl-River-Delta region.",
                  pretty_exceptions_enable=False)

EXIT_INPUT = 2
# options shared by the commands that solve a case and write its results
OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="results folder"
                                             " (default: runs/<case name>)")]
Formats = Annotated[str, typer.Option("--format", "-f", help="comma list of xlsx, csv, parquet")]
TimeLimit = Annotated[float | None, typer.Option("--time-limit", help="solver time limit, s")]
EXIT_CODES = {Status.OPTIMAL: 0, Status.INFEASIBLE: 3, Status.INFEASIBLE_OR_UNBOUNDED: 3,
              Status.UNBOUNDED: 4, Status.TIME_LIMIT: 5, Status.INTERRUPTED: 130,
              Status.ERROR: 1}


def _fail_input(err: InputError) -> None:
    n = len(err.problems)
    typer.echo(f"gridopt: {n} problem{'s' if n != 1 else ''} in the input:", err=True)
    for p in err.problems:
        typer.echo(f"  - {p}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        typer.echo(f"gridopt: --format takes a comma list of {', '.join(FORMATS)};"
                   f" got {text!r}", err=True)
        raise typer.Exit(EXIT_INPUT)
    return formats


@app.command("solve")
def solve_cmd(
    case: Annotated[Path, typer.Argument(help="case YAML file")],
    out: OutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="dispatch (LP) or uc (unit commitment, a MIP); default: the case's")
    ] = None,
    mip_gap: Annotated[float | None, typer.Option(
        "--mip-gap", help="relative MIP gap at which HiGHS stops, e.g. 0.01")] = None,
    relax: Annotated[bool, typer.Option(
        "--relax", help="solve the LP relaxation (integrality dropped)")] = False,
    log: Annotated[bool, typer.Option("--log", help="show the solver log")] = False,
    diagnose: Annotated[bool, typer.Option("--diagnose/--no-diagnose",
                                           help="explain an infeasible or unbounded model")
                        ] = True,
    rolling: Annotated[str | None, typer.Option(
        "--rolling", help="solve window by window: WINDOW[:OVERLAP] hours kept and looked"
        " ahead, e.g. 168h:24h (or the case's rolling: setting)")] = None,
    seasonal: Annotated[str | None, typer.Option(
        "--seasonal", help="rolling: stores follow a seasonal plan as targets, water_values,"
        " or none")] = None,
) -> None:
    """Solve a case and write summary.json and the results workbook."""
    formats = _parse_formats(format)
    given = {"solver.time_limit_s": time_limit, "model": model, "solver.mip_gap": mip_gap,
             "solver.relax": True if relax else None}
    changes = {k: v for k, v in given.items() if v is not None} or None
    out_dir = out if out is not None else Path("runs") / case.stem
    try:
        if wants_rolling(case, changes, rolling, seasonal):
            solve_rolling_cmd(case, out_dir, formats, changes, log, diagnose, rolling, seasonal)
            return
        result = solve_case(case, out_dir, formats, changes=changes, log=log,
                            progress=stderr_progress, diagnose=diagnose)
    except InputError as err:
        _fail_input(err)
        return
    sol = result.solution
    status = sol.status
    unserved = unserved_words(result.summary)
    if status is Status.OPTIMAL:
        gap = f", gap {sol.mip_gap:.3%}" if sol.mip_gap is not None else ""
        typer.echo(f"optimal: objective {sol.objective_cny:,.2f} CNY{gap}; {unserved};"
                   f" results in {out_dir}")
        return
    if status is Status.TIME_LIMIT and result.tables:
        gap = f", gap {sol.mip_gap:.3%} to the best bound" if sol.mip_gap is not None else ""
        typer.echo(f"time limit reached: best solution found written to {out_dir}"
                   f" (objective {sol.objective_cny:,.2f} CNY{gap}); {unserved}")
        return
    typer.echo(f"gridopt: the model is {status.value.replace('_', ' ')} ({sol.message});"
               f" summary written to {out_dir}", err=True)
    for line in result.summary.get("diagnosis", [])[:20]:
        typer.echo(f"  - {line}", err=True)
    raise typer.Exit(EXIT_CODES[status])


@app.command("validate")
def validate_cmd(case: Annotated[Path, typer.Argument(help="case YAML file")]) -> None:
    """Check a case and its network without solving (exit 0 if fine, 2 if not)."""
    try:
        data = load_case(case)
    except InputError as err:
        _fail_input(err)
        return
    typer.echo(f"{case}: valid ({data.n_snapshots} snapshots, "
               f"{sum(len(t) for t in data.tables.values())} components)")


@app.command("info")
def info_cmd(case: Annotated[Path, typer.Argument(help="case YAML file")]) -> None:
    """Sizes, islands, corridors and totals of a case."""
    try:
        data = load_case(case)
    except InputError as err:
        _fail_input(err)
        return
    t = data.tables
    typer.echo(f"case      {data.case.name}  ({case})")
    typer.echo(f"network   {data.network.folder}")
    typer.echo(f"horizon   {data.snapshots[0]} .. {data.snapshots[-1]}: {data.n_snapshots}"
               f" snapshots of {data.case.horizon.resolution_h} h; model {data.case.model}")
    typer.echo("components " + ", ".join(f"{k} {len(v)}" for k, v in t.items() if len(v)))
    islands = list(nx.connected_components(data.network.graph()))
    typer.echo(f"islands   {len(islands)}" + ("" if len(islands) == 1 else ": " + "; ".join(
        ", ".join(sorted(i)) for i in islands)))
    cap = pd.concat([t["generators"].groupby("carrier")["p_max_mw"].sum(),
                     t["hydro"].groupby("carrier")["p_max_mw"].sum(),
                     t["storage_units"].groupby("carrier")["p_max_mw"].sum()])
    typer.echo("capacity  " + ", ".join(f"{c} {v:,.0f} MW" for c, v in
                                         cap.groupby(level=0).sum().items()))
    load = data.load_mw
    energy = float((load.sum(axis=1).to_numpy() * data.weights_h).sum())
    shown = f"{energy / 1e3:,.0f} GWh" if energy >= 1e5 else f"{energy:,.1f} MWh"
    typer.echo(f"demand    peak {load.sum(axis=1).max():,.0f} MW, energy {shown} over the horizon")
    links = t["links"]
    if len(links):
        typer.echo("corridors (links):")
        for name, row in links.iterrows():
            typer.echo(f"  {name}: {row['bus0']} -> {row['bus1']}, {row['p_max_mw']:,.0f} MW,"
                       f" efficiency {row['efficiency']:.3f}")
    lines = t["lines"]
    if len(lines):
        typer.echo(f"AC lines  {len(lines)}, total rating {lines['s_max_mw'].sum():,.0f} MW;"
                   f" independent cycles (KVL rows per snapshot) {len(cycle_matrix(lines))}")


@app.command("calibrate")
def calibrate_cmd(
    case: Annotated[Path, typer.Argument(help="case YAML file (e.g. cases/pprd_calibration.yaml)")],
    out: OutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
) -> None:
    """Solve a case and set it beside its network's published figures (calibration.md)."""
    from gridopt.calibrate import calibrate_case

    formats = _parse_formats(format)
    out_dir = out if out is not None else Path("runs") / case.stem
    changes = {"solver.time_limit_s": time_limit} if time_limit is not None else None
    try:
        result = calibrate_case(case, out_dir, formats, changes=changes,
                                progress=stderr_progress)
    except InputError as err:
        _fail_input(err)
        return
    status = result.run.solution.status
    if not len(result.table):
        typer.echo(f"gridopt: the model is {status.value.replace('_', ' ')}; nothing to"
                   f" compare; summary written to {out_dir}", err=True)
        raise typer.Exit(EXIT_CODES[status] or 1)
    s = result.summary
    headline = "all" if s["calibration_headline_within_target"] else "not all"
    typer.echo(f"{s['calibration_figures']} figures: {s['calibration_pass']} pass,"
               f" {s['calibration_explained']} explained, {s['calibration_fail']} fail;"
               f" headline figures {headline} within target; {unserved_words(s)}; report in"
               f" {out_dir / 'calibration.md'}")


app.command("plot")(plot_cmd)
app.command("sweep")(sweep_cmd)
app.command("security")(security_cmd)
app.command("contingency")(contingency_cmd)
register_interop(app)


def main() -> None:
    """Console entry point: no tracebacks for the analyst unless GRIDOPT_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        print("gridopt: interrupted; no results were written or replaced", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("GRIDOPT_DEBUG"):
            raise
        print(f"gridopt: internal error: {type(exc).__name__}: {exc}"
              " (set GRIDOPT_DEBUG=1 for details)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
