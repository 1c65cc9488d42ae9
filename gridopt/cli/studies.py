"""`gridopt security CASE` and `gridopt contingency CASE`: studies of supply-security zones.

The command functions are registered on the main app in `gridopt.cli`; this module does not
import it at load time, so the registration cannot form an import cycle. Exit codes as for
`gridopt solve`: 0 done, 2 bad input, 3 the case with all its targets is infeasible (its
diagnosis is printed and the comparison is still written).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from gridopt.cli.common import (
    EXIT_CODES,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    Formats,
    OutDir,
    Overwrite,
    StudyOutDir,
    TimeLimit,
    app,
    fail_input,
    parse_formats,
    progress,
    writing,
)
from gridopt.errors import InputError
from gridopt.results.tables import unserved_summary, unserved_words


def _load(case: Path, time_limit: float | None, fmt: str) -> tuple[Any, tuple[str, ...]]:
    from gridopt.inputs.case import load_case

    formats = parse_formats(fmt)
    try:
        data = load_case(case, {"solver.time_limit_s": time_limit} if time_limit else None)
    except InputError as err:
        fail_input(err)
        raise  # not reached: _fail_input exits
    if not data.security_zones:
        typer.echo(
            f"gridopt: {case} has no security zones (set security_file: or security:)", err=True
        )
        raise typer.Exit(EXIT_INPUT)
    return data, formats


def _write(out_dir: Path, tables: dict, info: dict, formats: tuple[str, ...]) -> None:
    from gridopt.results.tables import summary_table
    from gridopt.results.write import write_results

    progress(f"writing results to {out_dir}")
    write_results(
        out_dir, {"summary": summary_table(info), **tables}, info, formats, progress=progress
    )


def _full_results(study: Any, data: Any) -> dict:
    """The reference solve's tables (its dispatch, flows, prices, ...) and the network's buses
    and carriers, so the folder is a results folder of that case (`gridopt plot`, `compare`)."""
    from gridopt.results.tables import network_tables

    if not study.reference_tables:
        return {}
    return {**study.reference_tables, **network_tables(data)}


Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        help="worker processes of the local Dask cluster that solves the"
        " variants (default: one per core; 1: one by one in this process)",
    ),
]


@app.command("security")
def security(
    case: Annotated[Path, typer.Argument(help="case YAML file with security zones")],
    out: StudyOutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
    workers: Workers = None,
    overwrite: Overwrite = False,
) -> None:
    """Cost of security: solve with all targets, without each in turn and without any."""
    out_dir = out if out is not None else Path("runs") / f"{case.stem}_security"
    with writing(out_dir, overwrite=overwrite, inputs=[case]):
        _security(case, out_dir, format, time_limit, workers)


def _security(
    case: Path, out_dir: Path, format: str, time_limit: float | None, workers: int | None
) -> None:
    from gridopt.studies.security import cost_of_security

    data, formats = _load(case, time_limit, format)
    started = time.perf_counter()
    study = cost_of_security(data, progress=progress, workers=workers)
    info = {
        "case": str(case),
        "case_name": data.case.name,
        "study": "cost of security",
        "status": str(study.reference.status),
        "objective_cny": study.reference.objective_cny,
        "zones": ", ".join(z.name for z in data.security_zones),
        "solves": study.solves,
        "study_seconds": round(time.perf_counter() - started, 3),
    }
    if study.diagnosis:
        info["diagnosis"] = study.diagnosis
    if study.reference.status.has_solution:
        info["reference_objective_cny"] = study.reference.objective_cny
    # the comparison first, then the full results of the case with all its targets
    tables = {"security_cost": study.table, **_full_results(study, data)}
    _write(out_dir, tables, info, formats)
    if study.diagnosis or not study.reference.status.has_solution:
        typer.echo(
            f"gridopt: with all its targets the case is"
            f" {study.reference.status.value.replace('_', ' ')}; comparison written to"
            f" {out_dir}",
            err=True,
        )
        for line in study.diagnosis[:20]:
            typer.echo(f"  - {line}", err=True)
        raise typer.Exit(EXIT_INFEASIBLE)
    every = study.table[study.table["target"] == "all targets"].iloc[0]
    unserved = unserved_words(unserved_summary(data, study.reference_tables))
    typer.echo(
        f"cost of security {every['cost_cny']:,.0f} CNY"
        f" ({every['cost_cny_per_mwh']:,.2f}"
        f" CNY/MWh of zone demand); with all targets {unserved}; comparison in {out_dir}"
    )


@app.command("contingency")
def contingency(
    case: Annotated[Path, typer.Argument(help="case YAML file with security zones")],
    out: StudyOutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
    workers: Workers = None,
    overwrite: Overwrite = False,
) -> None:
    """Re-solve with each import element of each zone out: unserved energy and cost."""
    out_dir = out if out is not None else Path("runs") / f"{case.stem}_contingency"
    with writing(out_dir, overwrite=overwrite, inputs=[case]):
        _contingency(case, out_dir, format, time_limit, workers)


def _contingency(
    case: Path, out_dir: Path, format: str, time_limit: float | None, workers: int | None
) -> None:
    from gridopt.studies.security import contingency_study

    data, formats = _load(case, time_limit, format)
    started = time.perf_counter()
    study = contingency_study(data, progress=progress, workers=workers)
    info = {
        "case": str(case),
        "case_name": data.case.name,
        "study": "contingencies",
        "status": str(study.reference.status),
        "objective_cny": study.reference.objective_cny,
        "zones": ", ".join(z.name for z in data.security_zones),
        "contingencies": len(study.table),
        "solves": study.solves,
        "study_seconds": round(time.perf_counter() - started, 3),
    }
    _write(out_dir, {"contingencies": study.table, **_full_results(study, data)}, info, formats)
    if not study.reference.status.has_solution:
        typer.echo(
            f"gridopt: the intact system is"
            f" {study.reference.status.value.replace('_', ' ')}; see {out_dir}",
            err=True,
        )
        raise typer.Exit(EXIT_INFEASIBLE)
    hurt = study.table[study.table["unserved_zone_mwh"] > 1e-6]
    worst = study.table["unserved_zone_mwh"].max() if len(study.table) else 0.0
    typer.echo(
        f"{len(study.table)} contingencies, {len(hurt)} with unserved energy in their"
        f" zone (the worst {worst:,.1f} MWh); intact system:"
        f" {unserved_words(unserved_summary(data, study.reference_tables))}; results in"
        f" {out_dir}"
    )


@app.command("calibrate")
def calibrate_cmd(
    case: Annotated[Path, typer.Argument(help="case YAML file (e.g. cases/pprd_calibration.yaml)")],
    out: OutDir = None,
    format: Formats = "xlsx",
    time_limit: TimeLimit = None,
    overwrite: Overwrite = False,
) -> None:
    """Solve a case and set it beside its network's published figures (calibration.md)."""
    from gridopt.studies.calibrate import calibrate_case

    formats = parse_formats(format)
    out_dir = out if out is not None else Path("runs") / case.stem
    changes = {"solver.time_limit_s": time_limit} if time_limit is not None else None
    with writing(out_dir, overwrite=overwrite, inputs=[case]):
        result = calibrate_case(case, out_dir, formats, changes=changes, progress=progress)
    status = result.run.solution.status
    if not len(result.table):
        typer.echo(
            f"gridopt: the model is {status.value.replace('_', ' ')}; nothing to"
            f" compare; summary written to {out_dir}",
            err=True,
        )
        raise typer.Exit(EXIT_CODES[status] or 1)
    s = result.summary
    headline = "all" if s["calibration_headline_within_target"] else "not all"
    typer.echo(
        f"{s['calibration_figures']} figures: {s['calibration_pass']} pass,"
        f" {s['calibration_explained']} explained, {s['calibration_fail']} fail;"
        f" headline figures {headline} within target; {unserved_words(s)}; report in"
        f" {out_dir / 'calibration.md'}"
    )
