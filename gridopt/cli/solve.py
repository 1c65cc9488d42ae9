"""`gridopt solve`, `gridopt validate` and `gridopt info`: one case, solved or checked.

`gridopt solve CASE --rolling WINDOW[:OVERLAP]` (or a case with a `rolling:` setting) solves a
long horizon window by window (`gridopt.studies.rolling`). Exit codes as for a single solve: 0
every window solved (or stopped by the time limit with a solution), 2 bad input, 3 a window
(or the seasonal plan) infeasible, 4 unbounded, 5 a window stopped without a solution; the
windows solved before a failing one are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import networkx as nx
import pandas as pd
import typer

from gridopt.cli.common import (
    EXIT_CODES,
    Formats,
    OutDir,
    Overwrite,
    TimeLimit,
    app,
    fail_input,
    kept_earlier,
    parse_formats,
    progress,
)
from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case
from gridopt.inputs.case_file import read_case
from gridopt.model.transmission import cycle_basis
from gridopt.results.folders import KeptEarlierResults, claim_output
from gridopt.results.tables import unserved_words
from gridopt.solver.solve import solver_option_problems
from gridopt.solver.types import Status
from gridopt.studies.run import solve_case


@app.command("solve")
def solve_cmd(
    case: Annotated[Path, typer.Argument(help="case YAML file")],
    out: OutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="dispatch (LP) or uc (unit commitment, a MIP); default: the case's"
        ),
    ] = None,
    mip_gap: Annotated[
        float | None,
        typer.Option("--mip-gap", help="relative MIP gap at which HiGHS stops, e.g. 0.01"),
    ] = None,
    relax: Annotated[
        bool, typer.Option("--relax", help="solve the LP relaxation (integrality dropped)")
    ] = False,
    log: Annotated[bool, typer.Option("--log", help="show the solver log")] = False,
    diagnose: Annotated[
        bool,
        typer.Option("--diagnose/--no-diagnose", help="explain an infeasible or unbounded model"),
    ] = True,
    rolling: Annotated[
        str | None,
        typer.Option(
            "--rolling",
            help="solve window by window: WINDOW[:OVERLAP] hours kept and looked"
            " ahead, e.g. 168h:24h (or the case's rolling: setting)",
        ),
    ] = None,
    seasonal: Annotated[
        str | None,
        typer.Option(
            "--seasonal",
            help="rolling: stores follow a seasonal plan as targets, water_values, by a"
            " future-cost function (future_cost), or none",
        ),
    ] = None,
    overwrite: Overwrite = False,
) -> None:
    """Solve a case and write summary.json and the results workbook."""
    formats = parse_formats(format)
    given = {
        "solver.time_limit_s": time_limit,
        "model": model,
        "solver.mip_gap": mip_gap,
        "solver.relax": True if relax else None,
    }
    changes = {k: v for k, v in given.items() if v is not None} or None
    out_dir = out if out is not None else Path("runs") / case.stem
    try:
        # the output is checked and locked before the work starts, and held to the end
        with claim_output(out_dir, overwrite=overwrite, inputs=[case]):
            if wants_rolling(case, changes, rolling, seasonal):
                solve_rolling_cmd(case, out_dir, formats, changes, log, diagnose, rolling, seasonal)
                return
            result = solve_case(
                case,
                out_dir,
                formats,
                changes=changes,
                log=log,
                progress=progress,
                diagnose=diagnose,
            )
    except InputError as err:
        fail_input(err)
        return
    except KeptEarlierResults as kept:
        kept_earlier(kept)
        return
    sol = result.solution
    status = sol.status
    unserved = unserved_words(result.summary)
    if status is Status.OPTIMAL:
        gap = f", gap {sol.mip_gap:.3%}" if sol.mip_gap is not None else ""
        typer.echo(
            f"optimal: objective {sol.objective_cny:,.2f}"
            f" {sol.model.data.case.currency}{gap}; {unserved}; results in {out_dir}"
        )
        return
    if status is Status.TIME_LIMIT and result.tables:
        gap = f", gap {sol.mip_gap:.3%} to the best bound" if sol.mip_gap is not None else ""
        typer.echo(
            f"time limit reached: best solution found written to {out_dir}"
            f" (objective {sol.objective_cny:,.2f} {sol.model.data.case.currency}{gap});"
            f" {unserved}"
        )
        return
    what = (
        "the solver failed"
        if status is Status.ERROR
        else f"the model is {status.value.replace('_', ' ')}"
    )
    typer.echo(f"gridopt: {what} ({sol.message}); summary written to {out_dir}", err=True)
    for line in result.summary.get("diagnosis", [])[:20]:
        typer.echo(f"  - {line}", err=True)
    raise typer.Exit(EXIT_CODES[status])


@app.command("validate")
def validate_cmd(case: Annotated[Path, typer.Argument(help="case YAML file")]) -> None:
    """Check a case and its network without solving (exit 0 if fine, 2 if not)."""
    try:
        data = load_case(case)
        problems = solver_option_problems(data.case, data.path)
        if problems:
            raise InputError(problems)
    except InputError as err:
        fail_input(err)
        return
    typer.echo(
        f"{case}: valid ({data.n_snapshots} snapshots, "
        f"{sum(len(t) for t in data.tables.values())} components)"
    )


@app.command("info")
def info_cmd(case: Annotated[Path, typer.Argument(help="case YAML file")]) -> None:
    """Sizes, islands, corridors and totals of a case."""
    try:
        data = load_case(case)
    except InputError as err:
        fail_input(err)
        return
    t = data.tables
    typer.echo(f"case      {data.case.name}  ({case})")
    typer.echo(f"network   {data.network.folder}")
    typer.echo(
        f"horizon   {data.snapshots[0]} .. {data.snapshots[-1]}: {data.n_snapshots}"
        f" snapshots of {data.case.horizon.resolution_h} h; model {data.case.model}"
    )
    typer.echo("components " + ", ".join(f"{k} {len(v)}" for k, v in t.items() if len(v)))
    islands = list(nx.connected_components(data.network.graph()))
    typer.echo(
        f"islands   {len(islands)}"
        + ("" if len(islands) == 1 else ": " + "; ".join(", ".join(sorted(i)) for i in islands))
    )
    cap = pd.concat(
        [
            t["generators"].groupby("carrier")["p_max_mw"].sum(),
            t["hydro"].groupby("carrier")["p_max_mw"].sum(),
            t["storage_units"].groupby("carrier")["p_max_mw"].sum(),
        ]
    )
    typer.echo(
        "capacity  " + ", ".join(f"{c} {v:,.0f} MW" for c, v in cap.groupby(level=0).sum().items())
    )
    load = data.load_mw
    energy = float((load.sum(axis=1).to_numpy() * data.weights_h).sum())
    shown = f"{energy / 1e3:,.0f} GWh" if energy >= 1e5 else f"{energy:,.1f} MWh"
    typer.echo(f"demand    peak {load.sum(axis=1).max():,.0f} MW, energy {shown} over the horizon")
    region = t["buses"]["region"]
    corr = t["corridors"]
    if len(corr):
        typer.echo(
            f"corridors {len(corr)} scheduled (table corridors), total rating"
            f" {corr['p_max_mw'].sum():,.0f} MW:"
        )
        for name, row in corr.iterrows():
            back = (
                f", {row['p_max_reverse_mw']:,.0f} MW back" if row["p_max_reverse_mw"] > 0 else ""
            )
            if pd.notna(row["poles_available"]) and row["poles_available"] < row["poles"]:
                back += f", {row['poles_available']:.0f} of {row['poles']:.0f} poles in service"
            typer.echo(
                f"  {name}: {row['bus0']} ({region.get(row['bus0'], '?')}) ->"
                f" {row['bus1']} ({region.get(row['bus1'], '?')}), {row['carrier']},"
                f" {row['p_max_mw']:,.0f} MW{back}, loss {row['loss_pu']:.2%}"
            )
    links = t["links"]
    if len(links):
        typer.echo(
            f"links     {len(links)} (table links), total rating {links['p_max_mw'].sum():,.0f} MW:"
        )
        for name, row in links.iterrows():
            typer.echo(
                f"  {name}: {row['bus0']} -> {row['bus1']}, {row['carrier']},"
                f" {row['p_max_mw']:,.0f} MW, efficiency {row['efficiency']:.3f}"
            )
    lines = t["lines"]
    if len(lines):
        typer.echo(
            f"AC lines  {len(lines)}, total rating {lines['s_max_mw'].sum():,.0f} MW;"
            f" independent cycles (KVL rows per snapshot) {cycle_basis(lines).shape[0]}"
        )


def wants_rolling(
    case: Path, changes: dict[str, Any] | None, rolling: str | None, seasonal: str | None
) -> bool:
    """Whether `gridopt solve` should roll: asked on the command line or set in the case."""
    if rolling is not None or seasonal is not None:
        return True
    return read_case(case, changes).rolling is not None


def solve_rolling_cmd(
    case: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    changes: dict[str, Any] | None,
    log: bool,
    diagnose: bool,
    rolling: str | None,
    seasonal: str | None,
) -> None:
    """Run `gridopt.studies.rolling.solve_rolling` and report its outcome (raises typer.Exit)."""
    from gridopt.studies.rolling import parse_rolling, solve_rolling

    window_h = overlap_h = None
    try:
        if rolling is not None:
            try:
                window_h, overlap_h = parse_rolling(rolling)
            except ValueError as exc:
                raise InputError([Problem("--rolling", str(exc), value=rolling)]) from None
        if seasonal is not None and seasonal not in (
            "targets",
            "water_values",
            "future_cost",
            "none",
        ):
            raise InputError(
                [
                    Problem(
                        "--seasonal",
                        "one of targets, water_values, future_cost, none",
                        value=seasonal,
                    )
                ]
            )
        result = solve_rolling(
            case,
            out_dir,
            formats,
            changes=changes,
            log=log,
            progress=progress,
            diagnose=diagnose,
            window_h=window_h,
            overlap_h=overlap_h,
            seasonal=seasonal,
        )
    except InputError as err:
        fail_input(err)
        return
    info = result.summary
    done, total = info.get("windows_solved", 0), info.get("n_windows", 0)
    if result.status is Status.OPTIMAL:
        typer.echo(
            f"optimal: {total} windows, stitched objective"
            f" {result.objective_cny:,.2f} CNY; {unserved_words(info)}; results in"
            f" {out_dir}"
        )
        return
    if result.status is Status.TIME_LIMIT and "failed_window" not in info:
        typer.echo(
            f"time limit reached in some windows (their best solutions are kept):"
            f" stitched objective {result.objective_cny:,.2f} CNY;"
            f" {unserved_words(info)}; results in {out_dir}"
        )
        return
    failed = info.get("failed_window", {})
    what = (
        "the seasonal plan"
        if failed.get("window") == 0
        else f"window {failed.get('window')} ({failed.get('first_snapshot')} .."
        f" {failed.get('last_solved_snapshot')})"
    )
    kept = (
        f"the {done} windows before it are written to {out_dir} ({unserved_words(info)} in them)"
        if done
        else f"no window was solved; summary written to {out_dir}"
    )
    typer.echo(
        f"gridopt: {what} is {result.status.value.replace('_', ' ')}"
        f" ({failed.get('solver_message', '')}); {kept}",
        err=True,
    )
    for line in info.get("diagnosis", [])[:20]:
        typer.echo(f"  - {line}", err=True)
    raise typer.Exit(EXIT_CODES[result.status])
