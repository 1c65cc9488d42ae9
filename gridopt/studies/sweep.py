"""Scenario sweeps: many variants of one case, solved in parallel on a Dask cluster.

A scenario is a name and a set of `changes` to the case: dotted-key settings applied on top of
the case YAML, exactly as `gridopt.inputs.case_file.read_case` applies them (any setting or scaling
the case
accepts: `inflow_year`, `scale.demand`, `scale.fuel_price.gas`, `overrides`, `horizon.start`,
`solver.time_limit_s`, ...). The scenario file is YAML or a table.

YAML (`changes` at the top applies to every scenario; `scenarios` and `product` may both be
given, and their scenarios are listed together):

```yaml
changes: {solver.time_limit_s: 3600}
scenarios:
  - name: dry_year
    changes: {inflow_year: dry}
  - name: nuozhadu_out
    changes:
      overrides: [{table: links, name: Nuozhadu-Guangdong UHVDC, column: p_max_mw, value: 0}]
product:                        # every combination: 3 x 2 = 6 scenarios
  inflow_year: [dry, normal, wet]
  scale.fuel_price.gas: [1.0, 1.3]
```

`base: NAME` (a scenario of the file, or `base: {name, changes}` defining it; on the command
line `--base NAME`) is the scenario the others are compared with: `sweep.xlsx` then has a sheet
`differences`, each scenario's figures of `comparison` minus the base's.

Product scenarios are named from the last part of each key and the value
(`inflow_year-dry_gas-1.3`); a value that is a list or mapping is named by its position (1, 2,
...). A nested mapping in `changes` is the same as its dotted keys: `{scale: {demand: 1.1}}`
changes only `scale.demand`. `overrides` is a list and a change replaces the case's whole list.

A table (`.csv`, or `.xlsx` with a sheet `scenarios` or else its first sheet): one row per
scenario, a `scenario` column with its name and one column per dotted key. Each cell is read as
a YAML value (`1.05`, `dry`, `true`, `[{table: links, ...}]`); a blank cell leaves that setting
as the case has it.

Names become folder names: letters, digits, `.`, `_` and `-`, starting with a letter or digit,
unique (ignoring case).

Each scenario is one `gridopt.studies.run.solve_case` call in a Dask worker, writing
`DIR/<scenario>/`
as `gridopt solve` would (Parquet always, so the combined outputs can be read back; xlsx or csv
on request: a year-long hourly workbook per scenario takes long to write). Each solve uses one
HiGHS thread (`solver.threads: 1`) unless the scenario sets `solver.threads`: the parallelism is
across scenarios. A scenario is complete when its folder holds a summary.json with a final
status (optimal, time limit, infeasible, unbounded) written for the same case file, network
files, changes and formats; a rerun skips complete scenarios (its record is
`DIR/sweep_state/<scenario>.json`, written by the worker after the folder). Results folders are
written atomically, so an interrupted sweep leaves no half-written scenario.

A scenario whose changes the case rejects fails with the validation message and the others run.
Combined outputs in DIR, with a `scenario` column in every table:

- `sweep.xlsx`: sheet `comparison` (one row per scenario: its changed settings, status,
  objective, demand, unserved energy, CO2, mean price per region, energy sent on each link and
  corridor), `status`, and the key tables `summary`, `generation_by_carrier`, `price_by_region`,
  `price_by_bus`, `corridor_energy` (every line, link and corridor), `unserved_by_bus`, `costs`
- `sweep_parquet/<table>.parquet`: the same tables
- `sweep_status.csv`: scenario, status, objective, seconds, whether it ran now, message

Prices are time averages of the nodal prices (snapshots have equal weight); energies are
summed over the snapshots with their weight (`resolution_h`).

With `scheduler` (a running Dask cluster), the case, its network and DIR must be at the same
paths on the workers as here (a shared file system), and gridopt installed on the workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gridopt.errors import InputError, Problem
from gridopt.inputs.case_file import read_case
from gridopt.inputs.paths import network_folder
from gridopt.progress import steps
from gridopt.results.folders import claim_output
from gridopt.results.write import FORMATS
from gridopt.studies.run import solve_case
from gridopt.studies.scenarios import (
    STATE_DIR,
    Scenario,
    _change_problems,
    check_names,
    in_scenario_file,
    read_scenarios,
    scenario_changes,
)
from gridopt.studies.sweep_tables import (
    ERROR,
    FINAL_STATUSES,
    INVALID,
    ScenarioOutcome,
    _one_line,
    _read_key_tables,
    _write_status,
    key_tables,
    write_combined,
)

if TYPE_CHECKING:
    from distributed import Client


@dataclass
class SweepResult:
    """Outcomes in scenario order, and which scenarios ran now, were skipped or failed.

    `seconds`: plan_seconds (checking scenarios, reading complete ones back),
    cluster_start_seconds, solve_seconds (first submission to last result),
    cluster_stop_seconds, combine_seconds, total_seconds; the cluster's only when it ran.
    """

    out_dir: Path
    outcomes: list[ScenarioOutcome]
    seconds: dict[str, float]

    @property
    def executed(self) -> list[str]:
        return [o.scenario for o in self.outcomes if o.ran]

    @property
    def skipped(self) -> list[str]:
        return [o.scenario for o in self.outcomes if not o.ran and o.status in FINAL_STATUSES]

    @property
    def failed(self) -> list[str]:
        return [o.scenario for o in self.outcomes if not o.ok]

    def outcome(self, name: str) -> ScenarioOutcome:
        return next(o for o in self.outcomes if o.scenario == name)


@dataclass(frozen=True)
class ScenarioTask:
    """Everything a worker needs to solve one scenario (plain, picklable values)."""

    scenario: str
    case_path: str
    sweep_dir: str
    changes: dict[str, Any]
    formats: tuple[str, ...]
    fingerprint: str
    # where the scenario is defined, so that problems its changes cause are located there
    scenario_file: str = ""
    scenario_row: int | None = None


# ------------------------------------------------------------------------ scenario files


# ------------------------------------------------------------------------ one scenario


def run_scenario(task: ScenarioTask) -> ScenarioOutcome:
    """Solve one scenario into `sweep_dir/<scenario>/` (runs in a Dask worker).

    Bad input and crashes become the outcome's status and message: one scenario's failure
    never reaches the others. The completion record is written after the results folder.
    """
    t0 = time.perf_counter()
    folder = Path(task.sweep_dir) / task.scenario
    state = _state_file(task.sweep_dir, task.scenario)
    state.unlink(missing_ok=True)  # until this run completes, the folder is not complete
    try:
        # the sweep's own folder: a scenario solved again replaces what it had, whatever
        # the new status (its inputs have changed)
        with claim_output(folder, overwrite=True):
            result = solve_case(task.case_path, folder, task.formats, changes=task.changes)
    except InputError as err:
        problems = in_scenario_file(
            err.problems, task.changes, task.case_path, task.scenario_file, task.scenario_row
        )
        return ScenarioOutcome(
            task.scenario,
            INVALID,
            message=str(InputError(problems)),
            seconds=time.perf_counter() - t0,
            ran=True,
        )
    except Exception as exc:  # reported as this scenario's error; the sweep goes on
        return ScenarioOutcome(
            task.scenario,
            ERROR,
            message=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - t0,
            ran=True,
        )
    info = result.summary
    outcome = ScenarioOutcome(
        task.scenario,
        info["status"],
        _objective(info),
        _message(info),
        time.perf_counter() - t0,
        ran=True,
        summary=info,
    )
    if outcome.status in FINAL_STATUSES:
        _write_json(
            state,
            {
                "fingerprint": task.fingerprint,
                "status": outcome.status,
                "objective_cny": outcome.objective_cny,
                "seconds": round(outcome.seconds, 4),
            },
        )
    outcome.tables = key_tables(result.tables, info)
    return outcome


def _objective(info: Mapping[str, Any]) -> float | None:
    value = info.get("objective_cny")
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _message(info: Mapping[str, Any]) -> str:
    if info.get("status") == "optimal":
        return ""
    lines = [str(info.get("solver_message", ""))] + [str(d) for d in info.get("diagnosis", [])]
    return "\n".join(line for line in lines if line)


def _state_file(sweep_dir: Path | str, name: str) -> Path:
    return Path(sweep_dir) / STATE_DIR / f"{name}.json"


def _write_json(path: Path, content: dict[str, Any]) -> None:
    """Write a small JSON file atomically (a temporary file moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh, indent=2, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------ key tables


# ------------------------------------------------------------------------ the sweep


def fingerprint(
    case_text: str, changes: Mapping[str, Any], formats: tuple[str, ...], network_digest: str
) -> str:
    """What a scenario's results depend on: case file, network files, changes, formats."""
    content = {
        "case": case_text,
        "network": network_digest,
        "changes": changes,
        "formats": sorted(formats),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def folder_digest(folder: Path) -> str:
    """A digest of every file in a folder (names and bytes; hidden files left out)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        h.update(str(rel).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def plan(
    case_path: Path | str,
    scenarios: list[Scenario],
    out_dir: Path | str,
    formats: tuple[str, ...] = ("parquet",),
) -> tuple[list[ScenarioTask], dict[str, ScenarioOutcome]]:
    """Split scenarios into tasks to solve and outcomes known now (complete or invalid).

    Each scenario's changes are checked by `read_case` (a bad override fails the scenario
    with the case's validation message); a complete scenario is read back from its folder.
    """
    case_path = Path(case_path).resolve()
    out_dir = Path(out_dir).resolve()
    formats = _formats(formats)
    case_text = case_path.read_text(encoding="utf-8")
    raw = yaml.safe_load(case_text)
    digests: dict[Path, str] = {}
    tasks: list[ScenarioTask] = []
    known: dict[str, ScenarioOutcome] = {}
    for s in scenarios:
        changes = scenario_changes(s)
        bad = _change_problems(raw, changes)
        if bad:
            known[s.name] = ScenarioOutcome(
                s.name,
                INVALID,
                message=str(
                    InputError(
                        [
                            Problem(s.file or str(case_path), rule, row=s.row, column=key)
                            for key, rule in bad
                        ]
                    )
                ),
            )
            continue
        try:
            case = read_case(case_path, changes)
            net = network_folder(case, case_path)
        except InputError as err:
            problems = in_scenario_file(err.problems, changes, str(case_path), s.file, s.row)
            known[s.name] = ScenarioOutcome(s.name, INVALID, message=str(InputError(problems)))
            continue
        if net not in digests:
            digests[net] = folder_digest(net) if net.is_dir() else ""
        task = ScenarioTask(
            s.name,
            str(case_path),
            str(out_dir),
            changes,
            formats,
            fingerprint(case_text, changes, formats, digests[net]),
            s.file,
            s.row,
        )
        done = _complete(task)
        if done is not None:
            known[s.name] = done
        else:
            tasks.append(task)
    return tasks, known


def _complete(task: ScenarioTask) -> ScenarioOutcome | None:
    """The outcome of a scenario completed earlier with the same fingerprint, if any."""
    state_file = _state_file(task.sweep_dir, task.scenario)
    folder = Path(task.sweep_dir) / task.scenario
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        info = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        state.get("fingerprint") != task.fingerprint
        or info.get("status") not in FINAL_STATUSES
        or state.get("status") != info.get("status")
    ):
        return None
    return ScenarioOutcome(
        task.scenario,
        info["status"],
        _objective(info),
        _message(info),
        float(state.get("seconds") or 0.0),
        ran=False,
        summary=info,
        tables=_read_key_tables(folder, info),
    )


def _formats(formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown formats {bad}; use {', '.join(FORMATS)}")
    return tuple(dict.fromkeys([*formats, "parquet"]))


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, client: Client | None = None
) -> Iterator[Client]:
    """A Dask client: the one given, one of a running cluster, or of a local cluster of
    `workers` single-threaded worker processes (closed on leaving)."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            remote = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot connect to the Dask scheduler at {scheduler} ({exc})"
            ) from None
        with remote:
            yield remote
        return
    # no dashboard; the scheduler's small HTTP service takes any free port. The workers
    # preload this module so that Ctrl-C reaches only this process, which then stops them.
    with (
        LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
            preload=[__name__],
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as local,
    ):
        yield local


def dask_setup(worker: Any) -> None:
    """Worker preload (local clusters): ignore Ctrl-C, which the terminal sends to the whole
    process group; the sweep process handles it and closes its cluster."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_sweep(
    case_path: Path | str,
    scenarios: list[Scenario] | Path | str,
    out_dir: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Client | None = None,
    formats: tuple[str, ...] = ("parquet",),
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Solve every scenario not yet complete on a Dask cluster; write the combined outputs.

    `scenarios` is a list or a scenario file. The cluster is `client` if given, else the one
    at `scheduler`, else a local cluster of `workers` processes (default: one per core).
    Raises InputError when the case itself or the scenario file is bad. On an interruption
    (KeyboardInterrupt), sweep_status.csv records what finished, and the error propagates.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    case_path = Path(case_path).resolve()
    out_dir = Path(out_dir).resolve()
    read_case(case_path)  # the case itself must be valid: else every scenario would fail
    if not isinstance(scenarios, list):
        scenarios = read_scenarios(scenarios)
    problems = check_names(scenarios)
    if problems:
        raise InputError(problems)
    # a sweep folder (gridopt.results.folders), one sweep at a time, kept for the whole sweep
    with claim_output(out_dir, "sweep", inputs=[case_path]) as claimed:
        claimed.open_in_place()
        _clean_leftovers(out_dir)
        return _sweep(
            case_path, scenarios, out_dir, workers, scheduler, client, formats, say, started
        )


# what an interrupted sweep may leave in its own folder: the temporary files and folders of
# its atomic writes (sweep_tables.write_combined, _write_status, _write_json)
_LEFTOVERS = (".sweep.", ".sweep_parquet.old-", ".sweep_status.csv.")


def _clean_leftovers(out_dir: Path) -> None:
    """Remove the temporary files of an interrupted sweep (the sweep's lock is held)."""
    places = [(out_dir, _LEFTOVERS), (out_dir / STATE_DIR, (".",))]
    for folder, prefixes in places:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if not entry.name.startswith(prefixes) or entry.is_symlink():
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _sweep(
    case_path: Path,
    scenarios: list[Scenario],
    out_dir: Path,
    workers: int | None,
    scheduler: str | None,
    client: Client | None,
    formats: tuple[str, ...],
    say: Callable[[str], None],
    started: float,
) -> SweepResult:
    tasks, outcomes = plan(case_path, scenarios, out_dir, formats)
    n = len(scenarios)
    failed = sum(not o.ok for o in outcomes.values())
    complete = sum(o.status in FINAL_STATUSES for o in outcomes.values())
    say(
        f"sweep of {n} scenario{'s' if n != 1 else ''}: {complete} complete from an earlier"
        f" run, {len(tasks)} to solve" + (f", {failed} failed" if failed else "")
    )
    for o in outcomes.values():
        if not o.ok:
            say(f"scenario {o.scenario} failed: {_one_line(o.message or o.status)}")
    seconds = {"plan_seconds": time.perf_counter() - started}
    try:
        if tasks:
            _solve_tasks(tasks, outcomes, n, workers, scheduler, client, say, seconds)
    except BaseException:
        _write_status(out_dir, scenarios, outcomes)
        raise
    t = time.perf_counter()
    ordered = [outcomes[s.name] for s in scenarios]
    write_combined(out_dir, scenarios, ordered)
    seconds["combine_seconds"] = time.perf_counter() - t
    seconds["total_seconds"] = time.perf_counter() - started
    result = SweepResult(out_dir, ordered, seconds)
    say(
        f"sweep finished: {sum(o.ok for o in ordered)} of {n} solved, {len(result.failed)}"
        f" failed, {len(result.executed)} run now; comparison in {out_dir / 'sweep.xlsx'}"
    )
    return result


def _solve_tasks(
    tasks: list[ScenarioTask],
    outcomes: dict[str, ScenarioOutcome],
    n: int,
    workers: int | None,
    scheduler: str | None,
    client: Client | None,
    say: Callable[[str], None],
    seconds: dict[str, float],
) -> None:
    """Submit the tasks and gather their outcomes as they complete, reporting progress."""
    from distributed import as_completed

    t = time.perf_counter()
    with dask_client(workers, scheduler, client) as c:
        seconds["cluster_start_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        token = uuid.uuid4().hex[:8]
        futures = {
            c.submit(
                run_scenario,
                task,
                key=f"gridopt-sweep-{task.scenario}-{token}",
                pure=False,
                retries=0,
                priority=len(tasks) - i,
            ): task.scenario
            for i, task in enumerate(tasks)
        }
        pending = set(futures)
        slots = sum(c.nthreads().values())
        say(
            f"solving {len(tasks)} scenario{'s' if len(tasks) != 1 else ''} on {slots}"
            f" worker thread{'s' if slots != 1 else ''}"
        )
        try:
            with steps(say, "scenarios solved", len(tasks)) as counted:
                for future in as_completed(futures):
                    pending.discard(future)
                    name = futures[future]
                    outcomes[name] = _future_outcome(future, name)
                    o = outcomes[name]
                    slots = sum(c.nthreads().values())
                    n_failed = sum(not x.ok for x in outcomes.values())
                    why = "" if o.ok else f": {_one_line(o.message or o.status)}"
                    say(
                        f"scenario {name} {'done' if o.ok else 'failed'} ({len(outcomes)}/{n}),"
                        f" running {min(len(pending), slots)}, failed {n_failed}{why}"
                    )
                    counted.advance(name)
        finally:
            if pending:
                c.cancel(list(pending))
        seconds["solve_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
    seconds["cluster_stop_seconds"] = time.perf_counter() - t


def _future_outcome(future: Any, name: str) -> ScenarioOutcome:
    if future.status == "finished":
        return future.result()
    try:
        exc = future.exception()
        message = f"{type(exc).__name__}: {exc}"
    except Exception as err:  # cancelled futures raise instead of returning their error
        message = f"{type(err).__name__}: {err}"
    return ScenarioOutcome(name, ERROR, message=f"the worker failed: {message}", ran=True)


# ------------------------------------------------------------------------ combined outputs
