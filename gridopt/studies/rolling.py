"""Long horizons by rolling horizon: consecutive windows, coordinated by a seasonal plan.

A year of the PPRD system, hourly, is too large to solve as one model (and a year of unit
commitment far more so). Operators plan it in two steps, and so does `solve_rolling`:

1. Seasonal plan (`seasonal_plan`): the case over the whole horizon at a coarse resolution
   (`rolling.seasonal_resolution_h`, a day by default), as a dispatch LP (a uc case's
   commitment and reserve left out, integrality dropped, and its committable units free to
   go off, as commitment lets them: no must-run floor). It gives, for every long-duration
   store i, its level at the end of each coarse snapshot j, X[i,j], and the dual of its level
   balance, whose negative lambda[i,j] is the value of one more unit stored then (CNY per hm3
   of reservoir water, per MWh in a storage unit, per MWh_th of gas). The plan steers the
   stores that cannot fill or empty within one coarse snapshot: level range / most it moves
   per hour > `seasonal_resolution_h`, in hours to 0.1 h (reservoirs: range / (0.0036 x
   turbine flow); storage units: energy / power; gas storage: volume / the larger of
   injection and withdrawal); the others are left to the windows (below). Many level paths of
   the plan cost the same (water may be held today or tomorrow); a cost of 1e-4 CNY per unit
   and hour away from the middle of a store's range (`OFF_MIDDLE_CNY_PER_UNIT_H`) picks the
   one nearest the middle, which leaves the windows room both ways (a plan that keeps
   reservoirs as low as costs nothing leaves none for the peaks within a day that it averages
   away).

   `rolling.plan_span: year` solves the plan over the calendar years that contain the horizon
   instead (1 January to 1 January, `plan_span`), the case's initial levels and end rules
   then holding at the ends of those years: a short horizon (a day, a week in January) starts
   its long-duration stores at the plan's levels for its first hour and ends them at the
   plan's levels for its end, as a slice of the year. Over the horizon alone a 24-hour
   horizon must end its reservoirs at their start level (a fixed rule) and so hold back the
   water a winter day turbines from storage: PPRD on 1 January then sheds 441 GWh (279 GWh
   in Sichuan, the rest where its HVDC lines deliver; 2,459 GWh over a week). The plan of a
   year leaves out the zones' N-1 rows (`security_n1_*`, `security_gas_n1_*`: one per
   contingency and snapshot, on daily averages that understate every hour's peak); the
   windows keep them, hour by hour. It is solved as `solver.method: choose` without
   crossover to a vertex (HiPO from 20,000 columns): the plan needs levels and values, not a
   vertex, and on the PPRD year's daily plan HiPO takes 334 s with crossover and 11 s
   without (dual simplex, the PPRD cases' method for their windows: 365 s). Its values are
   then interior duals.

2. Windows (`plan_windows`): window k keeps the hours [a_k, b_k) (b_k - a_k = `window_h`)
   and is solved over [a_k, c_k), c_k = b_k + `overlap_h`: the overlap looks ahead, and its
   results are discarded. The first window whose look-ahead reaches the horizon's end keeps
   everything to the end and is the last (b_k = c_k = end). Each window is the case with its
   horizon cut to [a_k, c_k) and its initial-state columns set to the state at a_k that the
   window before left at the end of its kept part:

   - stored levels: `storage_initial_hm3` (hydro, its `end_rule` then `free`),
     `soc_initial_mwh` (storage units), `volume_initial_mwh_th` (gas storage);
   - generators: output `p_initial_mw` (so ramp limits hold into the window's first hour,
     `gridopt.model.generation`), units on `units_on_initial`, and the units started and
     stopped in the hours before (`CaseData.history`, so that minimum up and down times carry
     over exactly, also for clusters: `gridopt.model.commitment`);
   - rivers: the releases of the hours before (`CaseData.history`), so that water still
     travelling between stations of a cascade arrives in the next window
     (`gridopt.model.hydro`).

   What a store holds at the window's end c_k answers to the seasonal plan
   (`CaseData.end_state`, `gridopt.model.end_state`), by `rolling.seasonal`:

   - `targets`: x[i, c_k] >= X_i(c_k) (`rolling.target: at_least`) or = X_i(c_k) (`equal`),
     with X_i(h) the plan's level at hour h, interpolated linearly between the ends of its
     coarse snapshots (windows that end on a day boundary meet the plan's own values). A
     target may be missed, where no schedule of the window reaches it or reaching it would
     cost more (load shed), at a penalty of `target_penalty_factor` x lambda[i, j(c_k)] per
     unit (reported per window and store in `window_ends.target_missed`, and counted in the
     summary's `targets_missed`); with `target_penalty_factor: null` targets are hard. Why
     a window may not reach a target the plan reached: it starts from the level the window
     before left at the end of its kept part, which that window only held to the plan at
     the end of its look-ahead, and its hours resolve peaks, ramps and travel times that the
     plan's daily averages smooth over;
   - `water_values`: no target; the window's objective credits what is left,
     - lambda[i, j(c_k)] x[i, c_k], with j(c_k) the coarse snapshot that starts at (or
     contains) hour c_k: the value of water held past the window's end. One value per store
     is a linear valuation: a window empties or keeps a store whole as its prices cross it,
     which the last window's end rules may then not undo (a hard rule: infeasible);
   - `future_cost`: no plan and no target; the window minimises its cost plus the future
     cost of its end state (`gridopt.model.future_cost`), the Benders cuts of a future-cost
     function built by dual dynamic programming over stages of `rolling.stage_h` hours at
     `seasonal_resolution_h` (`gridopt.studies.future_cost`): the cuts of the stage boundary
     at or after the window's end (inside the last stage, the boundary before it). The
     state it values is every store's level and the water released upstream and not yet
     arrived, so no store is steered on its own; stores without an initial level start (and
     the run ends) where the stages started them. By default the stages end where the
     windows end; each window's end also keeps the levels below which the stages after
     cannot start (a miss paid; among them, known before the function's passes begin, the
     levels from which a store can still make the case's end on its own inflow and rates,
     `gridopt.studies.future_cost.within_reach`), and keeps near the cheapest path of the
     function's passes at `rolling.future_cost_pull` times each store's value in the cuts;
   - `none`: no plan is solved.

   Stores the plan does not follow (short-duration ones, and all of them under `none`) keep the
   case's own rule, window by window: `fixed` and cyclic stores end each window at the level
   they started it with; `free` ones (and storage with a given initial level) end anywhere.

   The last window applies the case's end rules to the whole horizon (with `plan_span: year`,
   to the stores the plan does not steer only; those it steers end at the plan's level for
   the horizon's end, as at any window's end): a `fixed` reservoir
   ends at its initial level, a cyclic store where the stitched run started (its level at the
   plan's start, or, for a store the plan does not follow, where the first window, solved
   cyclic, started), exactly: the stitched run is then a schedule of the whole horizon (as
   far as windows carry state, below), whose cost an LP relaxation of the whole horizon
   bounds from below. Only when earlier windows left too little to get back there (the last
   window is infeasible) is it solved again with the end levels of the stores the plan steers
   penalised, at `target_penalty_factor` x the most the plan valued the store in any coarse
   snapshot (its value in the last one alone may be nil, in a wet season), and the misses are
   reported as missed targets. Under `future_cost` no plan values them: a miss costs
   `gridopt.model.future_cost.MISS_CNY_PER_UNIT` per unit, as a window's miss of the levels
   the stages after cannot start from does, and the period minimums that close in the last
   window and are hard (contracts, must-take, energy obligations and gas contracts with no
   shortfall penalty) are missable too, at the value of lost load per MWh (MWh_th): the
   windows before it may have left more than the last can deliver (`_minimums_missable`);
   the contracts sheets and the summary's `minimums_missed` say by how much. Under
   `future_cost`, a window before the last
   that ends inside the function's last stage (a remainder shorter than a river's travel
   time joins the stage before it) keeps the horizon to its end instead, and is the last
   (`_last_at_a_boundary`).

3. Stitching: the kept part of every window (its variables and the duals of its rows on the
   kept snapshots) is read by the families' own `results`, so the stitched result set has the
   tables of a single solve, with a `window` column; `costs` add up over windows, and the
   objective of the stitched run is their sum (the cost of the kept hours; end-of-window
   targets and values are not costs of the run). Sheets `windows` (dates, status, objective,
   kept cost and times of each window), `window_ends` (each window's end condition per store
   and the level reached) and `seasonal_plan` (the plan's levels and values) come on top.

Exact across window boundaries: ramp limits of generators (dispatch and committed), minimum up
and down times, the start-up and shut-down capability of units stopping in a window's first
hour, storage levels and water in transit. Not carried: the ramp limits of corridor schedules
(a window's first hour is not ramp-limited). Energy obligations over calendar periods
(corridor contracts, must-take, the energy obligations of fleets, regions and carriers, gas
take-or-pay) are met pro rata by hours, each window's share of a period on its kept hours and,
separately, on its look-ahead (`CaseData.kept_snapshots`, `gridopt.model.periods`): the
stitched run delivers every period's share of the hours it kept, window by window, but does
not shift energy between windows to meet a period's total more cheaply. Under `seasonal:
future_cost` the windows carry instead what each contract, energy obligation and take-or-pay
has delivered so far in its period (`CaseData.delivered`, an entry of the state the cuts
value, as the stages of the future-cost function do): a period's bound holds on the whole
period in the window where it is due, and an annual contract is delivered when that is
cheapest (must-take stays pro rata). The energy shares of
security zones (Hong Kong's fuel mix: gas at least 50 %, coal at most 25 %) hold on the kept
hours and the look-ahead apart in the same way (`gridopt.model.security`); under `seasonal:
future_cost` they are carried as contracts are, the share counted so far an entry of the
state. Held over the window as a whole, either would go to the discarded look-ahead where
that is cheaper, and the kept hours, and so the stitched run, would miss it (or, for a
maximum, take the look-ahead's part too). Water still
in transit at a window's end counts for no store's end condition, so a window does not release
upstream water that cannot arrive before its end: as a single solve, a window should solve at
least the longest travel time of a cascade (PPRD: 45 h from Lianghekou down the Yalong; 24- and
36-hour PPRD horizons shed load in a single solve too, 48 hours do not). A window
whose model fails is reported with its dates and a diagnosis (`gridopt.solver.
diagnose_infeasibility`); the windows solved before it are written.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case, prepare_case
from gridopt.inputs.data import CaseData
from gridopt.inputs.settings import Case, Horizon, Reserve, Rolling
from gridopt.model.commitment import free_to_go_off
from gridopt.model.core import LinearModel
from gridopt.model.future_cost import MISS_CNY_PER_UNIT, theta_cny
from gridopt.model.periods import delivered_at
from gridopt.model.registry import build_model, carried_entries, carrying, families
from gridopt.model.stores import Past, Stores
from gridopt.progress import steps
from gridopt.results.tables import (
    collect,
    generation_by_carrier,
    network_tables,
    summary,
    summary_table,
)
from gridopt.results.write import write_results
from gridopt.solver.diagnose import diagnose_infeasibility
from gridopt.solver.solve import solve
from gridopt.solver.types import Solution, Status, restrict, timed
from gridopt.studies.future_cost import FutureCostResult, future_cost_function
from gridopt.studies.pieces import State, Window, kinds, piece_data, stores
from gridopt.studies.run import RunResult, has_values, solve_data

# tables whose rows add up over windows (others without snapshots are listed per window)
_SUMMED = {
    "costs": ["component", "name", "region", "carrier", "cost_type"],
    "start_up_costs": ["generator", "region", "carrier", "units", "cost_per_start_cny"],
}


# ---- settings ---------------------------------------------------------------------------------
def parse_rolling(text: str) -> tuple[int, int]:
    """`WINDOW[:OVERLAP]` in hours (`168h:24h`, `168:24`) or days (`7d:1d`) -> (hours, hours)."""
    parts = text.strip().lower().split(":")
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"expected WINDOW[:OVERLAP], e.g. 168h:24h; got {text!r}")
    hours = []
    for part in parts:
        match = re.fullmatch(r"\s*(\d+)\s*([hd]?)\s*", part)
        if not match:
            raise ValueError(f"expected hours (168h) or days (7d); got {part!r}")
        hours.append(int(match.group(1)) * (24 if match.group(2) == "d" else 1))
    return hours[0], hours[1] if len(hours) > 1 else 0


def _check(data: CaseData, settings: Rolling) -> None:
    """Settings that cannot work with the case, each named (InputError)."""
    file, h = str(data.path), data.case.horizon
    res = h.resolution_h
    problems = []
    for name in ("window_h", "overlap_h"):
        if getattr(settings, name) % res:
            problems.append(
                Problem(
                    file,
                    f"must be a multiple of the horizon's resolution_h ({res} h)",
                    column=f"rolling.{name}",
                    value=getattr(settings, name),
                )
            )
    if settings.window_h < res:
        problems.append(
            Problem(
                file,
                "must be at least one snapshot",
                column="rolling.window_h",
                value=settings.window_h,
            )
        )
    if settings.seasonal != "none":
        r = settings.seasonal_resolution_h
        _start, span_h, _offset = plan_span(data, settings)
        spans = "the horizon" if settings.plan_span == "horizon" else "the plan's calendar years"
        if r % res or span_h % r:
            problems.append(
                Problem(
                    file,
                    f"must be a multiple of resolution_h ({res} h) that divides {spans}"
                    f" ({span_h} h)",
                    column="rolling.seasonal_resolution_h",
                    value=r,
                )
            )
    stage_h = settings.stage_h
    if settings.seasonal == "future_cost" and stage_h is not None and stage_h >= h.snapshots * res:
        problems.append(
            Problem(
                file,
                f"must be shorter than the horizon ({h.snapshots * res} h): one stage has no"
                " future cost to give the windows",
                column="rolling.stage_h",
                value=settings.stage_h,
            )
        )
    if (
        settings.seasonal == "future_cost"
        and stage_h is not None
        and stage_h % settings.seasonal_resolution_h
    ):
        problems.append(
            Problem(
                file,
                "must be a multiple of rolling.seasonal_resolution_h"
                f" ({settings.seasonal_resolution_h} h)",
                column="rolling.stage_h",
                value=settings.stage_h,
            )
        )
    if (
        settings.seasonal == "future_cost"
        and stage_h is None
        and (
            settings.window_h % settings.seasonal_resolution_h
            or settings.overlap_h % settings.seasonal_resolution_h
        )
    ):
        # the stages end where the windows end, on the stages' coarse snapshots
        problems.append(
            Problem(
                file,
                "with rolling.stage_h unset the stages end where the windows end: the window"
                " and its look-ahead must be multiples of rolling.seasonal_resolution_h"
                f" ({settings.seasonal_resolution_h} h)",
                column="rolling.window_h",
                value=f"{settings.window_h}h:{settings.overlap_h}h",
            )
        )
    if getattr(h, "aggregation", None) is not None or getattr(data, "expanding", False):
        problems.append(
            Problem(
                file,
                "a rolling horizon needs a chronological case: no"
                " typical periods (horizon.aggregation), no expansion",
                column="rolling",
            )
        )
    if problems:
        raise InputError(problems)


# ---- windows ----------------------------------------------------------------------------------
def plan_windows(
    n_snapshots: int, resolution_h: int, window_h: int, overlap_h: int
) -> list[Window]:
    """Consecutive windows over the snapshots (see the module doc).

    A window whose look-ahead reaches the horizon's end keeps it and is the last: it has
    already solved those hours with the horizon's end rules, and a window after it would
    start from a level that meets them only to its solver's tolerance.
    """
    keep, extra = window_h // resolution_h, overlap_h // resolution_h
    windows: list[Window] = []
    for a in range(0, n_snapshots, keep):
        if a + keep + extra >= n_snapshots:
            windows.append(Window(len(windows) + 1, a, n_snapshots, n_snapshots))
            break
        windows.append(Window(len(windows) + 1, a, a + keep, a + keep + extra))
    return windows


# ---- the seasonal plan --------------------------------------------------------------------------
def plan_span(data: CaseData, settings: Rolling) -> tuple[pd.Timestamp, int, int]:
    """What the seasonal plan covers: its first hour, its length and the hours from its start
    to the horizon's (`rolling.plan_span`: the horizon, or the calendar years it touches)."""
    snaps = data.snapshots
    hours = len(snaps) * data.case.horizon.resolution_h
    if settings.plan_span == "horizon":
        return snaps[0], hours, 0
    start = pd.Timestamp(year=snaps[0].year, month=1, day=1)
    end = pd.Timestamp(year=snaps[-1].year + 1, month=1, day=1)
    offset = (snaps[0] - start) // pd.Timedelta(hours=1)
    return start, int((end - start) // pd.Timedelta(hours=1)), int(offset)


@dataclass
class SeasonalPlan:
    """Levels and values of the long-duration stores from a coarse LP of the whole horizon."""

    resolution_h: int
    # per store table: (store x (J + 1)) levels at hours 0, R, 2R, ... (the start, then the
    # end of each coarse snapshot) and (store x J) values (CNY per unit) of each snapshot
    levels: dict[str, pd.DataFrame]
    values: dict[str, pd.DataFrame]
    units: dict[str, str]
    status: Status
    objective_cny: float
    seconds: float
    n_variables: int = 0
    message: str = ""
    diagnosis: list[str] = field(default_factory=list)
    # hours from the plan's start to the horizon's (plan_span: year); `hour` arguments below
    # count from the horizon's start
    offset_h: int = 0

    def level_at(self, table: str, hour: float) -> pd.Series:
        """X_i(hour): the plan's level, interpolated between the ends of its snapshots."""
        frame = self.levels[table]
        knots = self.resolution_h * np.arange(frame.shape[1])
        return pd.Series(
            [np.interp(hour + self.offset_h, knots, row) for row in frame.to_numpy()],
            index=frame.index,
        )

    def value_at(self, table: str, hour: float) -> pd.Series:
        """lambda_i of the coarse snapshot that starts at (or contains) `hour`."""
        frame = self.values[table]
        j = min(int((hour + self.offset_h) // self.resolution_h), frame.shape[1] - 1)
        return frame.iloc[:, j]

    def table(self, start: pd.Timestamp) -> pd.DataFrame:
        """The plan as a tidy sheet: time, store, level and value (`start`: the horizon's)."""
        start = start - pd.Timedelta(hours=self.offset_h)
        parts = []
        for name, frame in self.levels.items():
            hours = self.resolution_h * np.arange(frame.shape[1])
            value = self.values[name].to_numpy()
            value = np.column_stack([value, np.full(len(value), np.nan)])
            parts.append(
                pd.DataFrame(
                    {
                        "time": np.tile(start + pd.to_timedelta(hours, unit="h"), len(frame)),
                        "table": name,
                        "store": np.repeat(frame.index.to_numpy(), len(hours)),
                        "unit": self.units[name],
                        "level": frame.to_numpy().ravel(),
                        "value_cny_per_unit": value.ravel(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def seasonal_plan(
    data: CaseData,
    settings: Rolling,
    followed: dict[str, np.ndarray],
    log_file: Path | None = None,
    diagnose: bool = True,
) -> SeasonalPlan:
    """Solve the coarse LP of the whole horizon (or of its calendar years, `plan_span`) and
    read the plan of the `followed` stores (an infeasible plan is diagnosed, as a window
    would be)."""
    t0 = time.perf_counter()
    case = data.case
    r = settings.seasonal_resolution_h
    start, hours, offset = plan_span(data, settings)
    solver = case.solver.model_copy(update={"relax": True})
    if settings.plan_span == "year":
        # the plan of a year is not the LP the case's method was chosen for (its windows):
        # it needs levels and values, not a vertex, and crossover is most of its time (PPRD,
        # 2025 daily: 365 s by dual simplex, 334 s by HiPO with crossover, 11 s without).
        # a crossover the case asks for itself still wins
        solver = solver.model_copy(
            update={
                "method": "choose",
                "crossover": "off" if solver.crossover == "auto" else solver.crossover,
            }
        )
    coarse = case.model_copy(
        update={
            "horizon": Horizon(start=start.to_pydatetime(), snapshots=hours // r, resolution_h=r),
            "model": "dispatch",
            "reserve": Reserve(),
            "rolling": None,
            "solver": solver,
        }
    )
    coarse_data = prepare_case(coarse, data.path)
    if case.model == "uc":
        coarse_data = free_to_go_off(coarse_data)
    if settings.plan_span == "year":
        # a year of a zone's N-1 rows (one per contingency and snapshot, on daily averages
        # that understate every hour's peak) adds to the plan's size and hardly moves a
        # reservoir's path; the windows keep them, hour by hour
        coarse_data = dataclasses.replace(
            coarse_data,
            security_zones=[
                z.model_copy(update={"n_1": None, "gas_n_1": None})
                for z in coarse_data.security_zones
            ],
        )
    # of the level paths that cost the same, the one nearest the middle of each range
    coarse_data = dataclasses.replace(coarse_data, near_middle=followed)
    model = build_model(coarse_data)
    sol = solve(model, coarse.solver, log_file=log_file)
    levels: dict[str, pd.DataFrame] = {}
    values: dict[str, pd.DataFrame] = {}
    by_table = kinds(coarse_data)
    if sol.status is Status.OPTIMAL:
        for table, store in stores(coarse_data).items():
            idx = np.flatnonzero(followed.get(table, np.zeros(0, dtype=bool)))
            if not len(idx):
                continue
            x = sol.value(by_table[table].level)[idx]
            start = np.where(np.isnan(store.initial[idx]), x[:, -1], store.initial[idx])
            names = store.names[idx]
            levels[table] = pd.DataFrame(np.column_stack([start, x]), index=names)
            values[table] = pd.DataFrame(-sol.dual(by_table[table].balance)[idx], index=names)
    diagnosis = []
    if diagnose and sol.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        diagnosis = [c.message for c in diagnose_infeasibility(model)]
    return SeasonalPlan(
        r,
        levels,
        values,
        {t: k.unit for t, k in by_table.items()},
        sol.status,
        sol.objective_cny,
        time.perf_counter() - t0,
        sol.n_variables,
        sol.message,
        diagnosis,
        offset,
    )


def _last_at_a_boundary(
    windows: list[Window],
    future_cost: FutureCostResult,
    res: int,
    n: int,
    say: Callable[[str], None],
) -> list[Window]:
    """The windows, the window before the last merged into the last while it ends inside the
    function's last stage. A remainder shorter than a river's travel time joins the stage
    before it (`future_cost_function`), so the window before the last, which ends a day
    before the horizon, would end inside that stage and be valued by the cuts of the stage
    boundary before it, made for a state with days more to go: on the PPRD year of unit
    commitment it left Hong Kong's LNG tank 575 GWh_th below where the last window had to
    end it. It keeps the horizon to its end instead, under the case's end rules."""
    boundaries = future_cost.stage_hours[:-1]
    while len(windows) > 1 and boundaries:
        before = windows[-2]
        if before.solve_end * res <= boundaries[-1] + 1e-9:
            break
        say(
            f"window {before.number} ends inside the future-cost function's last stage:"
            f" it keeps the horizon to its end (window {windows[-1].number} joins it)"
        )
        windows = [*windows[:-2], Window(before.number, before.start, n, n)]
    return windows


# ---- one window -------------------------------------------------------------------------------
def _soft_targets(plan: SeasonalPlan | None, settings: Rolling) -> bool:
    """Whether the plan's targets may be missed at a penalty (and so may the last window's
    end levels, when they cannot be held exactly)."""
    return (
        plan is not None
        and settings.seasonal == "targets"
        and settings.target_penalty_factor is not None
    )


def _end_conditions(
    w: Window,
    last: bool,
    all_stores: dict[str, Stores],
    state: State,
    run_start: dict[str, np.ndarray],
    followed: dict[str, np.ndarray],
    plan: SeasonalPlan | None,
    settings: Rolling,
    hour: float,
    end_penalised: bool = False,
) -> dict[str, pd.DataFrame]:
    """What each store must hold (or is worth) at the end of window `w` (module doc);
    the last window holds the case's end rules exactly unless `end_penalised`, but for the
    stores a plan of the year steers (`plan_span: year`): they end at the plan's level for
    the horizon's end, as any window does."""
    out = {}
    spanned = plan is not None and settings.plan_span == "year"
    for table, store in all_stores.items():
        n = len(store.names)
        level = np.full(n, np.nan)
        rule = np.full(n, "equal", dtype=object)
        value = np.full(n, np.nan)
        start = state.levels[table]
        penalty = np.full(n, np.nan)
        soft = _soft_targets(plan, settings)
        if last:
            # the case's own rules, over the whole horizon, so that the stitched run is a
            # schedule of the whole horizon; penalised only when they cannot be held
            fixed = store.rule == "fixed"
            level[fixed] = store.initial[fixed]
            cyclic = store.rule == "cyclic"
            level[cyclic] = run_start[table][cyclic]
            # a horizon shorter than the plan's year ends where the plan has the store by
            # then, not back at its start: a day in January would otherwise have to refill
            # its reservoirs to their start level within the day
            planned = followed[table] if spanned else np.zeros(n, dtype=bool)
            level[planned] = np.nan
            chase = followed[table] & ~np.isnan(level)
            if end_penalised and settings.seasonal == "future_cost":
                # no plan values the stores: a miss costs what missing a level the future
                # cannot recover from costs any window (`gridopt.model.future_cost`)
                penalty[~np.isnan(level)] = MISS_CNY_PER_UNIT
            elif plan is not None and soft and end_penalised and chase.any():
                # at the most the plan ever valued the store: its value in the last coarse
                # snapshot alone may be nil (a wet season), which would let the window
                # empty a reservoir the case's rule wants back
                worth = plan.values[table].max(axis=1).reindex(store.names).to_numpy()[chase]
                penalty[chase] = settings.target_penalty_factor * np.maximum(worth, 0.0)
        else:
            own = ~followed[table] | (plan is None)
            keep = own & (store.rule != "free")
            level[keep] = start[keep]
            planned = ~own
        if plan is None or not planned.any():
            pass
        elif settings.seasonal == "targets":
            level[planned] = plan.level_at(table, hour).reindex(store.names).to_numpy()[planned]
            rule[planned] = settings.target
            if soft:
                worth = plan.value_at(table, hour).reindex(store.names).to_numpy()[planned]
                penalty[planned] = settings.target_penalty_factor * np.maximum(worth, 0.0)
        elif settings.seasonal == "water_values":
            value[planned] = plan.value_at(table, hour).reindex(store.names).to_numpy()[planned]
        if np.isnan(level).all() and np.isnan(value).all():
            continue
        out[table] = pd.DataFrame(
            {
                "level": level,
                "rule": rule,
                "value_cny_per_unit": value,
                "shortfall_penalty_cny_per_unit": penalty,
            },
            index=store.names,
        )
    return out


# the period tables whose minimum is hard where the shortfall penalty is blank, with their
# penalty column and the results sheet and column that report the shortfall
_HARD_MINIMUMS = {
    "contracts": ("shortfall_penalty_cny_per_mwh", "contracts", "shortfall_mwh"),
    "must_take": ("shortfall_penalty_cny_per_mwh", "contracts", "shortfall_mwh"),
    "energy_obligations": ("shortfall_penalty_cny_per_mwh", "contracts", "shortfall_mwh"),
    "gas_contracts": ("shortfall_penalty_cny_per_mwh_th", "gas_contracts", "not_taken_mwh_th"),
}


def _minimums_missable(data: CaseData) -> tuple[CaseData, dict[str, list[str]]]:
    """`data` with every hard period minimum (a blank shortfall penalty) missable at the
    value of lost load per MWh (of gas: per MWh_th): met wherever that does not shed load.
    Also the names made missable, by results sheet."""
    tables = dict(data.tables)
    voll = data.case.load_shedding.voll_cny_per_mwh
    missable: dict[str, list[str]] = {}
    for name, (column, sheet, _short) in _HARD_MINIMUMS.items():
        table = tables.get(name)
        if table is None or table.empty or column not in table:
            continue
        hard = table[column].isna()
        if hard.any():
            tables[name] = table.assign(**{column: table[column].fillna(voll)})
            missable.setdefault(sheet, []).extend(table.index[hard].astype(str))
    return dataclasses.replace(data, tables=tables), missable


def _minimums_missed(run: RunResult, missable: dict[str, list[str]]) -> list[str]:
    """The minimums of `missable` that `run` missed, in words."""
    out = []
    shorts = {sheet: short for _c, sheet, short in _HARD_MINIMUMS.values()}
    for sheet, names in missable.items():
        table = run.tables.get(sheet)
        short = shorts[sheet]
        if table is None or short not in table:
            continue
        key = "contract"
        hit = table[table[key].astype(str).isin(names) & (table[short] > 1e-6)]
        unit = short.split("_", 1)[1].replace("mwh_th", "MWh_th").replace("mwh", "MWh")
        words = zip(hit[key], hit["period"], hit[short], strict=True)
        out += [f"{name} ({period}) short by {value:,.6g} {unit}" for name, period, value in words]
    return out


# ---- the run ----------------------------------------------------------------------------------
@dataclass
class WindowReport:
    """How one window went."""

    number: int
    first: pd.Timestamp
    last_kept: pd.Timestamp
    last_solved: pd.Timestamp
    status: Status
    objective_cny: float | None = None  # the window's own objective (overlap, end values)
    kept_cost_cny: float | None = None  # cost of its kept hours
    seconds: dict[str, float] = field(default_factory=dict)
    mip_gap: float | None = None
    message: str = ""
    diagnosis: list[str] = field(default_factory=list)
    price_basis: str = "lp"

    def row(self) -> dict[str, Any]:
        return {
            "window": self.number,
            "first_snapshot": self.first,
            "last_kept_snapshot": self.last_kept,
            "last_solved_snapshot": self.last_solved,
            "status": str(self.status),
            "objective_cny": self.objective_cny,
            "kept_cost_cny": self.kept_cost_cny,
            "mip_gap": self.mip_gap,
            **{k: round(v, 4) for k, v in self.seconds.items()},
            "solver_message": self.message,
        }


@dataclass
class RollingResult:
    """A stitched run: the result tables over the kept hours, its summary and its windows."""

    data: CaseData
    settings: Rolling
    status: Status
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    windows: list[WindowReport]
    plan: SeasonalPlan | None
    # stitched values of every variable family over the snapshots, (component x snapshot),
    # for checks of the stitched schedule against a model of the whole horizon
    values: dict[str, np.ndarray]
    out_dir: Path | None = None

    @property
    def objective_cny(self) -> float:
        return float(self.summary.get("objective_cny") or np.nan)


def settings_of(
    data: CaseData,
    window_h: int | None = None,
    overlap_h: int | None = None,
    seasonal: str | None = None,
) -> Rolling:
    """The case's `rolling` settings with the given ones on top (command line)."""
    base = data.case.rolling
    given = {
        k: v
        for k, v in (("window_h", window_h), ("overlap_h", overlap_h), ("seasonal", seasonal))
        if v is not None
    }
    if base is None:
        if window_h is None:
            raise InputError(
                [
                    Problem(
                        str(data.path),
                        "a rolling run needs window_h (case setting rolling.window_h or --rolling)",
                        column="rolling",
                    )
                ]
            )
        return Rolling(**given)
    return base.model_copy(update=given)


def solve_rolling(
    case_path: Path | str,
    out_dir: Path | str | None = None,
    formats: tuple[str, ...] = ("xlsx",),
    changes: dict[str, Any] | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    diagnose: bool = True,
    window_h: int | None = None,
    overlap_h: int | None = None,
    seasonal: str | None = None,
    future_cost: FutureCostResult | None = None,
) -> RollingResult:
    """Solve a case by rolling horizon (module doc) and write the stitched results.

    `window_h`, `overlap_h` and `seasonal` override the case's `rolling` settings. The run
    stops at the first window without a solution; the windows before it are written and
    the summary names the failing window, its dates and diagnosis. `future_cost`: the
    future-cost function the windows use under `seasonal: future_cost` (None: built here,
    `gridopt.studies.future_cost`).
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    say(f"reading {case_path}")
    full = load_case(case_path, changes)
    settings = settings_of(full, window_h, overlap_h, seasonal)
    _check(full, settings)
    if settings.seasonal == "future_cost":
        # the windows carry the energy of contracts that span them, as the stages do
        full = dataclasses.replace(full, delivered=carried_entries(full))
    read_seconds = time.perf_counter() - started
    res = full.case.horizon.resolution_h
    windows = plan_windows(full.n_snapshots, res, settings.window_h, settings.overlap_h)
    all_stores = stores(full)
    followed = {
        t: (np.round(s.duration_h, 1) > settings.seasonal_resolution_h) & (s.upper > s.lower)
        if settings.seasonal not in ("none", "future_cost")
        else np.zeros(len(s.names), dtype=bool)
        for t, s in all_stores.items()
    }
    say(
        f"rolling horizon: {len(windows)} windows of {settings.window_h} h"
        f" (+{settings.overlap_h} h overlap), seasonal coordination: {settings.seasonal}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        logs = [Path(tmp) / "seasonal.log"]
        plan = None
        if settings.seasonal != "none" and any(f.any() for f in followed.values()):
            first, span_h, _offset = plan_span(full, settings)
            say(
                f"seasonal plan: {span_h // settings.seasonal_resolution_h}"
                f" snapshots of {settings.seasonal_resolution_h} h from {first:%Y-%m-%d}"
            )
            plan = seasonal_plan(full, settings, followed, logs[0], diagnose)
            say(
                f"seasonal plan: {plan.status} in {plan.seconds:.2f} s"
                + (
                    f", objective {plan.objective_cny:,.0f} CNY"
                    if plan.status.has_solution
                    else f" ({plan.message}); no window is solved"
                )
            )
            for line in plan.diagnosis[:10]:
                say(f"  - {line}")
        if settings.seasonal == "future_cost" and future_cost is None:
            # stages end where the windows end (`RollingSettings.stage_h`)
            ends = [w.solve_end * res for w in windows]
            say(
                "future-cost function: "
                + (
                    "stages ending where the windows end"
                    if settings.stage_h is None
                    else f"stages of {settings.stage_h} h"
                )
                + f" at {settings.seasonal_resolution_h} h"
            )
            future_cost = future_cost_function(
                full,
                stages=ends if settings.stage_h is None else f"{settings.stage_h}h",
                gap=settings.future_cost_gap,
                max_iterations=settings.future_cost_iterations,
                resolution_h=settings.seasonal_resolution_h,
                progress=progress,
            )
        if settings.seasonal == "future_cost" and future_cost is not None:
            windows = _last_at_a_boundary(windows, future_cost, res, full.n_snapshots, say)
        run = _Run(full, settings, all_stores, followed, plan, str(case_path), diagnose, say)
        run.future_cost = future_cost if settings.seasonal == "future_cost" else None
        if run.future_cost is not None:
            run.start_from(run.future_cost.start)
        with steps(progress, "windows", len(windows)) as counted:
            for w in windows if plan is None or plan.status.has_solution else []:
                logs.append(Path(tmp) / f"window_{w.number}.log")
                if not run.step(w, len(windows), logs[-1], log):
                    break
                counted.advance(f"window {w.number}")
        result = run.finish(read_seconds, time.perf_counter() - started)
        if out_dir is not None and (result.tables or result.windows):
            say(f"writing results to {out_dir}")
            log_file = Path(tmp) / "solver.log"
            with log_file.open("w") as out:
                for path in logs:
                    if path.exists():
                        out.write(f"==== {path.stem} ====\n{path.read_text()}\n")
            sheets = {"summary": summary_table(result.summary), **result.tables}
            result.summary = write_results(
                Path(out_dir),
                sheets,
                result.summary,
                formats,
                extra_files={"solver.log": log_file},
                progress=progress,
            )
            result.out_dir = Path(out_dir)
            say(f"wrote results in {result.summary['write_seconds']:.2f} s")
    return result


def window_case(full: CaseData) -> CaseData:
    """The case as its windows solve it: `solver.crossover: auto` is off in a window.

    A window needs its levels, costs and prices, not a vertex. On the PPRD year's week
    windows (HiPO, 76,000 columns) crossover ended "imprecise" in every window and the simplex
    clean-up after it took up to 312 s, against 8-13 s for a whole window without it
    (benchmarks/RESULTS.md, "The year by rolling horizon"). A window's prices are then interior
    duals (`price_basis` lp_interior); windows small enough for simplex end at a vertex anyway.
    """
    solver = full.case.solver
    if solver.crossover != "auto":
        return full
    case = full.case.model_copy(update={"solver": solver.model_copy(update={"crossover": "off"})})
    return dataclasses.replace(full, case=case)


def own_cost_gap(case: Case, fc: FutureCostResult, window_h: float) -> Case:
    """The case as a window valued by a future-cost function solves it: its MIP gap applies
    to the window's own cost, not to its objective.

    A window's objective is its own cost plus the future cost of its end state, the cost of
    the rest of the horizon: on the PPRD year, some 580 bn CNY against 6 bn for a window of
    four days, so a relative gap of 1 % on the objective would accept any schedule within
    5.8 bn, nearly the window's whole cost. The gap is therefore absolute,

        mip_abs_gap = mip_gap * C_H * window_h / H

    with C_H the function's lower bound (the whole horizon's cost) and H its hours (the
    window's share of that cost as the scale; a gap the case sets itself in CNY wins if
    smaller), and the relative gap is off."""
    solver = case.solver
    horizon_h = fc.stage_hours[-1] if fc.stage_hours else 0
    if not (horizon_h > 0 and np.isfinite(fc.lower_bound_cny) and fc.lower_bound_cny > 0):
        return case
    gap_cny = solver.mip_gap * fc.lower_bound_cny * window_h / horizon_h
    if solver.mip_abs_gap is not None:
        gap_cny = min(gap_cny, solver.mip_abs_gap)
    return case.model_copy(
        update={"solver": solver.model_copy(update={"mip_gap": 0.0, "mip_abs_gap": gap_cny})}
    )


def own_mip_gap(sol: Solution) -> float | None:
    """A MIP window's gap relative to its own cost (its objective less the future cost of its
    end state): (objective - best bound) / own cost; without a future cost, the solver's."""
    if sol.mip_gap is None or sol.best_bound_cny is None:
        return sol.mip_gap
    theta = theta_cny(sol)
    own = sol.objective_cny - theta
    if theta == 0.0 or not abs(own) > 0:
        return sol.mip_gap
    return max(sol.objective_cny - sol.best_bound_cny, 0.0) / abs(own)


class _Run:
    """The windows of one rolling run, solved in turn, and what they leave behind."""

    def __init__(
        self,
        full: CaseData,
        settings: Rolling,
        all_stores: dict[str, Stores],
        followed: dict[str, np.ndarray],
        plan: SeasonalPlan | None,
        case_path: str,
        diagnose: bool,
        say: Callable[[str], None],
    ) -> None:
        self.full, self.settings, self.stores = window_case(full), settings, all_stores
        self.followed, self.plan, self.case_path = followed, plan, case_path
        self.diagnose, self.say = diagnose, say
        levels = {}
        for table, store in all_stores.items():
            level = store.initial.copy()
            if plan is not None and table in plan.levels:
                # the plan's level at the horizon's start: the case's own initial level (or
                # the plan's cyclic start) when the plan starts with the horizon, and where
                # the plan of the year has the store by then (plan_span: year)
                start = plan.level_at(table, 0).reindex(store.names).to_numpy()
                if settings.plan_span == "year":
                    taken = ~np.isnan(start)
                else:
                    taken = np.isnan(level) & ~np.isnan(start)
                level[taken] = start[taken]
            levels[table] = level
        # the level the stitched run starts from (cyclic stores: known after window 1)
        self.run_start = {t: v.copy() for t, v in levels.items()}
        self.state = State(levels)
        self.kinds = kinds(full)
        self.reports: list[WindowReport] = []
        self.parts: dict[str, list[pd.DataFrame]] = {}
        self.values: dict[str, list[np.ndarray]] = {}
        self.ends: list[pd.DataFrame] = []
        self.minimums_missed: list[str] = []
        self.first_tables: dict[str, pd.DataFrame] = {}
        self.kept_snapshots = 0
        self.future_cost: FutureCostResult | None = None

    def start_from(self, levels: dict[str, np.ndarray]) -> None:
        """Stores without an initial level (cyclic) start, and the run ends, at `levels`
        (where a future-cost function started them)."""
        for table, start in levels.items():
            level = self.state.levels[table]
            cyclic = np.isnan(level)
            level[cyclic] = start[cyclic]
            self.run_start[table][cyclic] = start[cyclic]

    def step(self, w: Window, n_windows: int, log_file: Path, log: bool) -> bool:
        """Solve window `w`; False when it has no solution (the run stops)."""
        full = self.full
        snaps = full.snapshots
        last = w.solve_end == full.n_snapshots
        hour = (w.solve_end) * full.case.horizon.resolution_h
        span = f"{snaps[w.start]:%Y-%m-%d %H:%M} .. {snaps[w.keep_end - 1]:%Y-%m-%d %H:%M}"
        if w.solve_end > w.keep_end:
            span += f" (+{w.solve_end - w.keep_end} snapshots ahead)"
        self.say(f"window {w.number}/{n_windows}: {span}")
        # the last window holds the case's end rules; where the windows before it left too
        # little to get there, it misses them at a penalty and says so
        soft = last and (
            _soft_targets(self.plan, self.settings) or self.settings.seasonal == "future_cost"
        )
        timings: dict[str, float] = {}
        for penalised in (False, True) if soft else (False,):
            end_state = _end_conditions(
                w,
                last,
                self.stores,
                self.state,
                self.run_start,
                self.followed,
                self.plan,
                self.settings,
                hour,
                penalised,
            )
            fc = self.future_cost
            if fc is not None and not last:
                # no target: what the window leaves is worth what the stages after it
                # would make of it (the cuts of the stage boundary at or after its end)
                end_state = {}
            data = piece_data(full, w, self.state, end_state)
            missable: dict[str, list[str]] = {}
            if penalised and fc is not None:
                data, missable = _minimums_missable(data)
            if fc is not None and not last:
                window_h = (w.solve_end - w.start) * full.case.horizon.resolution_h
                data = dataclasses.replace(
                    data,
                    case=own_cost_gap(data.case, fc, window_h),
                    future_cost=fc.cuts_at(hour, self.settings.future_cost_pull),
                )
            timings = {}
            run = solve_data(
                data,
                self.case_path,
                timings,
                log_file,
                log,
                None,
                self.diagnose and (penalised or not soft),
            )
            if (
                penalised
                or not soft
                or has_values(run.solution)
                or run.solution.status not in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)
            ):
                break
            self.say(
                f"window {w.number}/{n_windows}: the case's end levels cannot be held"
                " exactly; solved again with them penalised (misses are reported)"
                + ("; so are the hard minimums of its periods" if fc is not None else "")
            )
        sol = run.solution
        report = WindowReport(
            w.number,
            snaps[w.start],
            snaps[w.keep_end - 1],
            snaps[w.solve_end - 1],
            sol.status,
            message=sol.message,
            seconds={k: v for k, v in timings.items() if k.endswith("seconds")},
            mip_gap=own_mip_gap(sol),
            price_basis=sol.price_basis,
        )
        self.reports.append(report)
        if not has_values(sol):
            report.diagnosis = list(run.summary.get("diagnosis", []))
            self.say(
                f"window {w.number}/{n_windows} ({span}) has no solution: {sol.status}"
                f" ({sol.message})"
            )
            for line in report.diagnosis[:10]:
                self.say(f"  - {line}")
            return False
        report.objective_cny = float(sol.objective_cny)
        for line in _minimums_missed(run, missable):
            self.minimums_missed.append(f"window {w.number}: {line}")
            self.say(f"window {w.number}/{n_windows}: missed at a penalty: {line}")
        self._keep(w, run, data)
        report.kept_cost_cny = float(self.parts["costs"][-1]["cost_cny"].sum())
        missed = _missed(run.tables.get("end_state"))
        self.say(
            f"window {w.number}/{n_windows}: {sol.status} in"
            f" {timings.get('solve_seconds', 0.0):.2f} s (build"
            f" {timings.get('build_seconds', 0.0):.2f} s), kept cost"
            f" {report.kept_cost_cny:,.0f} CNY"
            + (f"; targets missed: {', '.join(missed)}" if missed else "")
        )
        return True

    def _keep(self, w: Window, run: RunResult, data: CaseData) -> None:
        """Stitch the kept part of a solved window and carry its end state to the next."""
        sol = run.solution
        K = w.keep_end - w.start
        kept = piece_data(
            self.full, Window(w.number, w.start, w.keep_end, w.keep_end), self.state, {}
        )
        kept = dataclasses.replace(kept, tables=data.tables)
        view = restrict(sol, kept)
        tables = collect(view, families(kept))
        if not self.first_tables:
            self.first_tables = network_tables(self.full)
        for name, table in tables.items():
            self.parts.setdefault(name, []).append(
                table if name in _SUMMED else table.assign(window=w.number)
            )
        self.kept_snapshots = w.keep_end
        if "end_state" in run.tables:
            self.ends.append(run.tables["end_state"].assign(window=w.number))
        for name, block in sol.model.variables.items():
            if timed(block, sol.model):
                self.values.setdefault(name, []).append(sol.x[block.cols[:, :K]])
        self._carry(sol, K, w)

    def _carry(self, sol: Solution, K: int, w: Window) -> None:
        """The state at the end of the kept part becomes the next window's start."""
        levels = {}
        for table, store in self.stores.items():
            x = sol.value(self.kinds[table].level)
            if w.number == 1:
                # a store solved cyclic in the first window started where that window ended
                cyclic = np.isnan(self.run_start[table])
                self.run_start[table][cyclic] = x[cyclic, -1]
            levels[table] = np.clip(x[:, K - 1], store.lower, store.upper)
        past = Past(self.full.snapshots, lambda name: np.concatenate(self.values[name], axis=1))
        self.state = State(levels, carrying(sol, K, past), delivered_at(sol.model, sol.x, K))

    def finish(self, read_seconds: float, seconds: float) -> RollingResult:
        """The stitched tables and the summary of the run."""
        full = self.full
        tables = _stitch(self.parts)
        if tables:
            tables.update(self.first_tables)
            if "generation" in tables:
                tables["generation_by_carrier"] = generation_by_carrier(tables["generation"])
        reports = self.reports
        failed = next((r for r in reports if r.objective_cny is None), None)
        if self.plan is not None and not self.plan.status.has_solution:
            # window 0: the seasonal plan, without which no window was solved
            failed = WindowReport(
                0,
                full.snapshots[0],
                full.snapshots[-1],
                full.snapshots[-1],
                self.plan.status,
                message=f"seasonal plan: {self.plan.message}",
                diagnosis=self.plan.diagnosis,
            )
        statuses = [r.status for r in reports]
        status = (
            failed.status
            if failed is not None
            else Status.TIME_LIMIT
            if Status.TIME_LIMIT in statuses
            else Status.OPTIMAL
        )
        n_done = sum(r.objective_cny is not None for r in reports)
        values = {k: np.concatenate(v, axis=1) for k, v in self.values.items()}
        objective = float(tables["costs"]["cost_cny"].sum()) if "costs" in tables else np.nan
        info = self._summary(tables, status, objective, failed, n_done, read_seconds, seconds)
        extra = {"windows": pd.DataFrame([r.row() for r in reports])}
        if self.ends:
            extra["window_ends"] = pd.concat(self.ends, ignore_index=True)
        if self.plan is not None and self.plan.levels and self.plan.status.has_solution:
            extra["seasonal_plan"] = self.plan.table(full.snapshots[0])
        if self.future_cost is not None:
            extra["future_cost_bounds"] = self.future_cost.bounds
        ordered = dict(tables)
        ordered.update(extra)
        return RollingResult(full, self.settings, status, ordered, info, reports, self.plan, values)

    def _summary(
        self,
        tables: dict[str, pd.DataFrame],
        status: Status,
        objective: float,
        failed: WindowReport | None,
        n_done: int,
        read_seconds: float,
        seconds: float,
    ) -> dict[str, Any]:
        full, reports = self.full, self.reports
        done = [r for r in reports if r.objective_cny is not None]
        if tables and done:
            # the figures of a single solve's summary, on the stitched tables of the hours
            # solved (the summary reads the snapshots and weights from the case data)
            n = self.kept_snapshots
            covered = dataclasses.replace(
                full, snapshots=full.snapshots[:n], weights_h=full.weights_h[:n]
            )
            stub = Solution(
                model=LinearModel(covered),
                status=status,
                objective_cny=objective,
                x=np.zeros(0),
                row_dual=np.zeros(0),
                message=f"{n_done} of {len(reports)} windows solved",
                price_basis=done[0].price_basis,
            )
            info = summary(stub, tables, {}, self.case_path, full.case.model)
        else:
            info = {
                "case": self.case_path,
                "case_name": full.case.name,
                "model": full.case.model,
                "status": str(status),
                "objective_cny": None,
            }
        info.pop("n_variables", None), info.pop("n_constraints", None)
        info.pop("n_nonzeros", None)
        total = {
            k: sum(r.seconds.get(k, 0.0) for r in reports)
            for k in ("build_seconds", "solve_seconds", "extract_seconds")
        }
        info.update(
            {
                "rolling": self.settings.model_dump(),
                "n_windows": len(
                    plan_windows(
                        full.n_snapshots,
                        full.case.horizon.resolution_h,
                        self.settings.window_h,
                        self.settings.overlap_h,
                    )
                ),
                "windows_solved": n_done,
                "read_seconds": round(read_seconds, 4),
                **{k: round(v, 4) for k, v in total.items()},
                "seasonal_seconds": round(self.plan.seconds, 4) if self.plan else 0.0,
                "total_seconds": round(seconds, 4),
                "window_status": {str(r.number): str(r.status) for r in reports},
                "window_solve_seconds": {
                    str(r.number): round(r.seconds.get("solve_seconds", 0.0), 4) for r in reports
                },
            }
        )
        if self.ends:
            missed = _missed(pd.concat(self.ends, ignore_index=True), with_window=True)
            info["targets_missed"] = len(missed)
            if missed:
                info["targets_missed_detail"] = missed[:50]
        if self.minimums_missed:
            info["minimums_missed"] = self.minimums_missed
        if any(r.mip_gap is not None for r in done):
            info["largest_window_mip_gap"] = max(r.mip_gap or 0.0 for r in done)
        fc = self.future_cost
        if fc is not None:
            info["future_cost"] = {
                "status": fc.status,
                "stages": len(fc.stages),
                "iterations": fc.iterations,
                "lower_bound_cny": fc.lower_bound_cny,
                "upper_bound_cny": fc.upper_bound_cny,
                "gap": fc.gap,
                "seconds": round(fc.seconds, 3),
            }
        if self.plan is not None:
            info["seasonal_plan"] = {
                "span": self.settings.plan_span,
                "status": str(self.plan.status),
                "objective_cny": self.plan.objective_cny,
                "n_variables": self.plan.n_variables,
            }
        if failed is not None:
            info["failed_window"] = {
                "window": failed.number,
                "first_snapshot": str(failed.first),
                "last_solved_snapshot": str(failed.last_solved),
                "status": str(failed.status),
                "solver_message": failed.message,
            }
            info["diagnosis"] = failed.diagnosis
        return info


def _missed(ends: pd.DataFrame | None, with_window: bool = False) -> list[str]:
    """End-of-window targets missed (penalised targets only), in words."""
    if ends is None or "target_missed" not in ends:
        return []
    hit = ends[ends["target_missed"] > 1e-6 * np.maximum(1.0, ends["target"].abs())]
    return [
        (f"window {r.window}: " if with_window else "")
        + f"{r.store} by {r.target_missed:,.4g} {r.unit}"
        for r in hit.itertuples()
    ]


def _stitch(parts: dict[str, list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Concatenate the windows' kept tables: per snapshot tables component by component (as
    a single solve lays them out), summed tables added up, the others listed per window."""
    out = {}
    for name, frames in parts.items():
        table = pd.concat(frames, ignore_index=True)
        if name in _SUMMED:
            keys = [k for k in _SUMMED[name] if k in table.columns]
            table = (
                table.groupby(keys, sort=False, dropna=False).sum(numeric_only=True).reset_index()
            )
            if name == "costs":
                table = table.sort_values(["component", "cost_type", "name"], kind="stable")
            table = table.reset_index(drop=True)
        elif len(table.columns) > 1 and table.columns[0] == "snapshot":
            codes = pd.factorize(table.iloc[:, 1])[0]
            order = np.lexsort((table["snapshot"].to_numpy(), codes))
            table = table.iloc[order].reset_index(drop=True)
        out[name] = table
    return out
