"""`gridopt future-cost CASE`: a future-cost function by dual dynamic programming.

Writes the sheets `future_cost_cuts`, `future_cost_values`, `future_cost_bounds` and
`future_cost_levels` (`gridopt.studies.future_cost`). Exit codes: 0 done (converged, or
stopped at --max-iterations: the summary and the last line say which); 2 bad input or a bad
option (named); 3 a stage without a solution even with its start free to move.

The command function is registered on the main app in `gridopt.cli`; this module imports that
module only inside functions, so the registration cannot form an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridopt.cli.common import (
    EXIT_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    Formats,
    Overwrite,
    StudyOutDir,
    app,
    fail_input,
    parse_formats,
    progress,
    writing,
)
from gridopt.errors import InputError


def _bad(message: str) -> None:
    typer.echo(f"gridopt: {message}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _floats(text: str | None, what: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        _bad(f"{what} takes a comma list of numbers; got {text!r}")
        raise  # not reached


@app.command("future-cost")
def future_cost(
    case: Annotated[Path, typer.Argument(help="case YAML file")],
    stages: Annotated[
        str,
        typer.Option(
            "--stages", help="stage length: week, day, month (calendar) or hours (72h, 3d)"
        ),
    ] = "week",
    resolution: Annotated[
        str, typer.Option("--resolution", help="hours per snapshot of the stages (24h)")
    ] = "24h",
    gap: Annotated[
        float,
        typer.Option("--gap", help="stop when (upper - lower) / upper is at most this"),
    ] = 1e-6,
    max_iterations: Annotated[
        int, typer.Option("--max-iterations", help="stop after this many passes")
    ] = 50,
    scenarios: Annotated[
        str | None,
        typer.Option(
            "--scenarios",
            help="inflow years, comma list (dry,normal,wet): stochastic DDP"
            " (default: the case's own year)",
        ),
    ] = None,
    probabilities: Annotated[
        str | None,
        typer.Option("--probabilities", help="of the scenarios, comma list (default: equal)"),
    ] = None,
    samples: Annotated[
        int,
        typer.Option(
            "--samples", min=0, help="forward paths drawing a year per stage, besides each year"
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="of the sampled paths")] = 0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="worker processes of the local Dask cluster (default: one per core for"
            " large stages; 1: one by one in this process)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786)",
        ),
    ] = None,
    first_pass: Annotated[
        str,
        typer.Option(
            "--first-pass",
            help="first trial states: horizon (the whole horizon as one LP at the stages'"
            " resolution, a feasible path) or forward (a pass without cuts)",
        ),
    ] = "horizon",
    pull: Annotated[
        float,
        typer.Option(
            "--pull",
            help="the forward pass is pulled toward the cheapest paths so far (each year's own),"
            " at this fraction of each store's marginal value, fading by 0.8 a pass (0: none)",
        ),
    ] = 0.5,
    out: StudyOutDir = None,
    format: Formats = "xlsx",
    overwrite: Overwrite = False,
) -> None:
    """Cuts of the future cost of every store by dual dynamic programming over stages."""
    from gridopt.studies.future_cost import StageFailed, parse_hours, run_future_cost

    formats = parse_formats(format)
    try:
        resolution_h = parse_hours(resolution, "--resolution")
    except ValueError as err:
        _bad(str(err))
    if max_iterations < 1:
        _bad(f"--max-iterations must be at least 1; got {max_iterations}")
    if not gap >= 0:
        _bad(f"--gap must be >= 0; got {gap}")
    if workers is not None and scheduler is not None:
        _bad(
            "--workers sizes the local cluster; with --scheduler the running cluster's"
            " workers are used"
        )
    years = [y.strip() for y in scenarios.split(",") if y.strip()] if scenarios else None
    weights = _floats(probabilities, "--probabilities")
    out_dir = out if out is not None else Path("runs") / f"{case.stem}_future_cost"
    with writing(out_dir, overwrite=overwrite, inputs=[case]):
        try:
            result = run_future_cost(
                case,
                out_dir,
                formats,
                progress=progress,
                stages=stages,
                resolution_h=resolution_h,
                gap=gap,
                max_iterations=max_iterations,
                scenarios=years,
                probabilities=weights,
                samples=samples,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                first_pass=first_pass,
                pull=pull,
            )
        except InputError as err:
            fail_input(err)
            return
        except ValueError as err:
            _bad(str(err))
        except StageFailed as err:
            typer.echo(f"gridopt: {err}", err=True)
            raise typer.Exit(EXIT_INFEASIBLE) from None
        except ConnectionError as err:
            typer.echo(f"gridopt: {err}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
    bound = "upper bound" if len(result.scenarios) == 1 else "upper estimate"
    typer.echo(
        f"future cost {result.status.replace('_', ' ')} after {result.iterations} iterations:"
        f" lower bound {result.lower_bound_cny:,.2f} CNY, {bound}"
        f" {result.upper_bound_cny:,.2f} CNY, gap {result.gap:.3g};"
        f" {sum(len(c) for c in result.cuts)} cuts in {out_dir}"
    )
