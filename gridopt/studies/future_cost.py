"""Future-cost functions by dual dynamic programming (DDP), over inflow scenarios.

The value of what the stores hold is a function of all of them together: a reservoir's water
is worth less when the one below it is full, and water released upstream but not yet arrived
is as good as stored. `future_cost_function` builds that function as Benders cuts:

1. Stages. The horizon, at a coarse resolution R (`resolution_h`, a day by default), is cut
   into stages t = 1..S (`stages`: a week, a day, a calendar month, or hours). Each stage is
   the case over its snapshots (as a dispatch LP: a uc case's commitment relaxed, as the
   seasonal plan of a rolling run does), built ONCE per inflow scenario: its start state x0 is
   a set of columns held by rows (`CaseData.stage_state`, `gridopt.model._stateful`): the
   level of every store and the release of each upstream station in the last steps before
   the stage that has not yet reached the station below (`gridopt.model.hydro`). A new start
   is a change of those rows' bounds, and their duals are d(stage cost)/d(x0). Every stage
   but the last carries the future cost of its end state, theta_t >= 0 (CNY), bounded by the
   cuts found so far (`gridopt.model.future_cost`); the last applies the case's end rules (a
   `fixed` reservoir ends at its initial level, a store without an initial level starts at
   the middle of its range and ends there).

2. Forward pass: each path solves the stages in turn from the case's start, each stage from
   the state the one before left, with the current cuts; the stage costs (objective less
   theta) add up to the path's cost. The upper bound is the mean cost over the paths. The
   first pass (`first_pass="horizon"`, the default) instead takes each year's whole horizon
   solved as one LP at the stages' resolution (`first_trials`) and its states at the stage
   ends: a feasible path, so the first cuts are made where the optimum goes rather than where
   stages that see nothing after them leave the stores (empty); its cost is the first upper
   bound. A run stops only after a pass that followed the cuts' own policy.

   The forward pass is pulled toward the cheapest paths found so far (the incumbent x_bar:
   each year's own path in the pass of least mean cost; the horizon LPs' paths to begin
   with): stage t of a path also pays

       rho_k sum_i w_t,i |x_t,i - x_bar_t,i|,   w_t,i = mean_k |beta_t,k,i|

   (w the store's mean marginal value in the cuts of stage t, so the pull is priced as a
   fraction rho_k of what the water is worth), with rho_k = `pull` * PULL_DECAY^(k - 2) on
   pass k (regularised DDP, Asamov and Powell 2018). Without it, the forward pass of a state
   of 89 stores goes wherever the cuts made so far underestimate the cost (they are exact
   only where they were made) and the December stages start too low for the end of the year
   in most passes; pulled, the trial states stay where the cuts are being made exact. A
   pulled path is a feasible path: its cost (without the pull) is still an upper bound; the
   backward pass and the lower bound are never pulled, so the cuts stay valid. The pull
   never fades below PULL_FLOOR (1e-6 of the water's value): a tie-break among end states
   the cuts value alike, which otherwise an LP settles at any vertex, often one the stages
   after pay for. The policy is the cuts with that tie-break; the run stops only on a pass
   at the floor. The windows of a rolling run keep near the same path, by default at half
   each store's value (`rolling.future_cost_pull`, `FutureCost.toward`): their hours see
   peaks the stages' days smooth over, and the cuts are exact only near the path. Over
   several years that path is the years' paths weighted by their probabilities: a window
   does not know which year it is in, and keeps near the expected path. Sampled paths
   (`samples`) mix years stage by stage and have no path of their own: no pull.

3. Backward pass: from the last stage down to the second, every stage t is solved again from
   each trial state xhat (the end of stage t - 1 on a path), under every scenario w, and
   one cut is added to stage t - 1:

       theta_{t-1} >= sum_w p_w [ Q_t,w(xhat) + pi_t,w(xhat)' (x - xhat) ]

   with Q the stage's objective (its theta included) and pi the duals of its start rows.
   The lower bound is the expected objective of stage 1 from the case's start with its cuts.

4. Stop when (upper - lower) / |upper| <= `gap`, or after `max_iterations` passes.

Deterministic (one scenario): each Q_t is a convex polyhedral function of the start, the cuts
are exact where they are made, and the bounds meet at the optimum of the same horizon solved
as one LP (`horizon_lp`) in finitely many passes. Over inflow scenarios (stochastic DDP,
`scenarios`: the case's inflow years, equal probability unless given) the inflows of each
stage are taken to be independent of the stages before (the inflows of week t are those of
one of the years, whatever the weeks before were); each year is also a forward path, and
`samples` more paths draw a year per stage at random. The lower bound is then the expected
cost of that model; the upper bound is only a statistical estimate of the policy's cost (the
mean cost of the sampled paths, or without samples of the years' own paths; not a bound), so
the gap need not close: a stochastic run ends on the gap or, more often, on `max_iterations`.

Feasibility: a stage that is infeasible from a trial start (a store too low to meet its end
rule, say) is solved again with the start free to move at a penalty (`PENALTY_CNY_PER_UNIT`
per unit moved, per entry); its cut is still valid (the penalised stage is a relaxation of
the stage), and each such solve is reported in words (`FutureCostResult.notes`). A forward
pass that needed it gives no valid upper bound: its paths are marked. The penalised cut alone
lets the stage before trade the missing water of one store for the water values of others;
so the backward pass also solves the least total move v(xhat) (each entry in its own unit)
and adds to the stage before a feasibility cut v(xhat) + sigma' (x - xhat) <= 0 (sigma the
duals of the start rows in that solve; v is convex and 0 wherever the stage can start, so no
feasible state is cut off), as in the L-shaped method.

Independent solves (the paths of a forward pass at one stage, the trial states and
scenarios of a backward pass at one stage) run on the existing Dask machinery
(`gridopt.studies.sweep.dask_client`: a local cluster of `workers` processes by default, or
the running cluster at `scheduler`); small stages are solved one by one in this process.
"""

from __future__ import annotations

import dataclasses
import re
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case, prepare_case
from gridopt.inputs.data import CaseData, FutureCost
from gridopt.inputs.settings import Case, Horizon, Reserve, SolverOptions
from gridopt.model.commitment import free_to_go_off
from gridopt.model.core import LinearModel
from gridopt.model.future_cost import (
    CUT_COLUMNS,
    THETA_UNIT_CNY,
    cut_matrix,
    pull_block,
    state_of,
    theta_column,
)
from gridopt.model.hydro import steps_in_transit
from gridopt.model.registry import build_model, carried_entries
from gridopt.model.stores import Motion
from gridopt.progress import steps
from gridopt.solver.backends import backend_for
from gridopt.solver.matrix import model_matrix
from gridopt.solver.types import Matrix, Status
from gridopt.studies.pieces import State, Window, piece_data, stores

if TYPE_CHECKING:
    from distributed import Client

# stages whose models have this many columns or more are solved on Dask (below: one by one
# here, where starting a cluster would take longer than the solves)
PARALLEL_FROM_COLUMNS = 20_000
# what moving a stage's start costs, per unit of a store or m3/s of water in transit, when
# the stage is infeasible from the start it was given (a relaxation: its cuts stay valid)
PENALTY_CNY_PER_UNIT = 1e7
STAGE_WORDS = {"day": 24, "week": 168}
# where the first pass's trial states come from: the whole horizon solved as one LP at the
# stages' resolution (a feasible path: cuts where the optimum goes from the first pass), or
# a forward pass with no cuts (stages that see nothing after them: the stores are emptied)
FIRST_PASS = ("horizon", "forward")
# how fast the pull toward the incumbent path fades, per pass (module doc)
PULL_DECAY = 0.8
# the least pull: a tie-break among end states the cuts value alike (a fraction of each
# store's value), kept by the passes that decide convergence and by the windows of a
# rolling run that use the cuts
PULL_FLOOR = 1e-6
# the backward pass also makes a cut at states below the trial states, every store this
# fraction of the way down to its floor (one fraction a pass, in turn): the cuts then know
# what water is worth where the passes do not go but the windows of a rolling run may (their
# hours see peaks the stages' days smooth over, and they draw the stores further)
LOW_POINTS = (0.5, 0.2, 0.8)
# a move of a stage's start smaller than this (in the entry's unit) is no move
MOVE_TOLERANCE = 1e-6
# a level within this share of its range of the range's own end is no bound (`within_reach`)
REACH_TOLERANCE = 1e-6
# a stage's end state outside its range by less than this share of the bound (at least one
# unit's share) is on it (`within_tolerance`)
STATE_TOLERANCE = 1e-9


class StageFailed(RuntimeError):
    """A stage without a solution even with its start free to move (its own rows conflict)."""


# ---- settings ---------------------------------------------------------------------------------
def parse_hours(text: str, what: str) -> int:
    """`24h`, `24`, `7d` -> hours (ValueError in words)."""
    match = re.fullmatch(r"\s*(\d+)\s*([hd]?)\s*", str(text).lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{what}: expected hours (24h) or days (7d); got {text!r}")
    return int(match.group(1)) * (24 if match.group(2) == "d" else 1)


def inflow_years() -> list[str]:
    """The inflow years a case may name (`inflow_year`)."""
    return list(typing.get_args(Case.model_fields["inflow_year"].annotation))


def stage_bounds(
    snapshots: pd.DatetimeIndex, stages: str | Sequence[int], resolution_h: int
) -> list[tuple[int, int]]:
    """The stages as [start, end) positions on the coarse snapshots: `week`, `day`, `month`
    (calendar months) or a length in hours (`72h`, `3d`); the last stage may be shorter. Or
    the hours (from the start) at which the stages end, increasing (a rolling run's window
    ends: each window's end is then a stage's end)."""
    n = len(snapshots)
    if not isinstance(stages, str):
        given = sorted({int(h) for h in stages if 0 < int(h) < n * resolution_h})
        off = [h for h in given if h % resolution_h]
        if off:
            raise ValueError(
                f"stages: the stage ends at hours {off[:3]} are not multiples of the"
                f" resolution ({resolution_h} h)"
            )
        stage_ends = np.r_[np.asarray(given, dtype=int) // resolution_h, n]
        return [
            (int(a), int(b)) for a, b in zip(np.r_[0, stage_ends[:-1]], stage_ends, strict=True)
        ]
    word = str(stages).strip().lower()
    if word == "month":
        month = snapshots.year * 12 + snapshots.month
        starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    else:
        try:
            hours = STAGE_WORDS.get(word) or parse_hours(word, "stages")
        except ValueError:
            raise ValueError(
                f"stages: expected week, day, month or hours (72h, 3d); got {stages!r}"
            ) from None
        if hours % resolution_h:
            raise ValueError(
                f"stages: {hours} h is not a multiple of the resolution ({resolution_h} h)"
            )
        starts = np.arange(0, n, hours // resolution_h)
    ends = np.r_[starts[1:], n]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


# ---- stages -----------------------------------------------------------------------------------
@dataclass
class Stage:
    """One stage under one scenario, built once: its model, matrix and state."""

    number: int  # 1-based
    scenario: str
    model: LinearModel
    matrix: Matrix
    end: sp.csr_matrix  # (entries x columns): the state at its end is end @ x
    start_rows: np.ndarray  # rows holding each entry's start
    theta: int | None  # the future-cost column (None: the last stage)
    keys: pd.MultiIndex  # (table, store) of each entry


@dataclass
class Cuts:
    """The cuts of one stage's future cost: theta >= alpha_k + beta_k' (x - xhat_k)."""

    alpha: list[float] = field(default_factory=list)
    beta: list[np.ndarray] = field(default_factory=list)
    xhat: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.alpha)

    def add(self, alpha: float, beta: np.ndarray, xhat: np.ndarray) -> None:
        self.alpha.append(float(alpha))
        # copies: the trial states are overwritten by the next forward pass
        self.beta.append(np.array(beta, dtype=float))
        self.xhat.append(np.array(xhat, dtype=float))

    def frame(self, keys: pd.MultiIndex) -> pd.DataFrame:
        """The cuts as a table (`gridopt.inputs.data.FutureCost`)."""
        n, k = len(keys), len(self.alpha)
        return pd.DataFrame(
            {
                "cut": np.repeat(np.arange(1, k + 1), n),
                "table": np.tile(keys.get_level_values(0).to_numpy(), k),
                "store": np.tile(keys.get_level_values(1).to_numpy(), k),
                "intercept_cny": np.repeat(self.alpha, n),
                "slope_cny_per_unit": np.concatenate(self.beta) if k else np.zeros(0),
                "at_level": np.concatenate(self.xhat) if k else np.zeros(0),
            },
            columns=CUT_COLUMNS,
        )


@dataclass
class StageTask:
    """One solve of a stage: its matrix with the cuts as extra rows and its start."""

    matrix: Matrix
    start_rows: np.ndarray
    start: np.ndarray
    end: sp.csr_matrix
    theta: int | None
    options: SolverOptions
    feasibility_rows: int = 0  # the matrix's last rows that are feasibility cuts
    # the forward pass's pull: toward these end levels, at these prices (CNY per unit)
    pull_to: np.ndarray | None = None
    pull_cny_per_unit: np.ndarray | None = None
    with_bounds: bool = False  # find each entry's least move where it is infeasible


@dataclass
class StageOutcome:
    """What a stage solve gives: status, objective (theta included), theta, the state at its
    end, the duals of its start rows (slopes), its point, and whether the start moved."""

    status: Status
    message: str
    objective_cny: float
    theta_cny: float
    end: np.ndarray | None
    slopes: np.ndarray | None
    x: np.ndarray | None
    penalised: bool = False
    moved: np.ndarray | None = None  # per entry, how far its start moved (penalised only)
    # penalised only: the least total move that makes the stage feasible from its start, and
    # its slopes in the start (a feasibility cut for the stage before: `feasibility_row`)
    shortfall: float = 0.0
    shortfall_slopes: np.ndarray | None = None
    pull_cny: float = 0.0  # what the pull toward the incumbent cost (forward pass only)
    # penalised backward solves only: per entry, the least move with the others free
    # (`_least_starts`): + the start must be at least that much higher, - lower
    least_moves: np.ndarray | None = None

    @property
    def cost_cny(self) -> float:
        """The stage's own cost: its objective less its future cost and its pull."""
        return self.objective_cny - self.theta_cny - self.pull_cny


def solve_stage(task: StageTask) -> StageOutcome:
    """Solve a stage from its start (a Dask task): as it is, and where that is infeasible,
    again with the start free to move at `PENALTY_CNY_PER_UNIT` per unit (module doc)."""
    m = task.matrix
    n = m.A.shape[1]
    pulled = (
        m
        if task.pull_to is None or task.pull_cny_per_unit is None
        else _pulled(m, task.end, task.pull_to, task.pull_cny_per_unit)
    )
    row_lb, row_ub = pulled.row_lb.copy(), pulled.row_ub.copy()
    row_lb[task.start_rows] = row_ub[task.start_rows] = task.start
    backend = backend_for(task.options.backend)
    fixed = dataclasses.replace(pulled, row_lb=row_lb, row_ub=row_ub)
    out = backend.solve_matrix(fixed, task.options, relax=True)
    penalised = False
    shortfall, shortfall_slopes = 0.0, None
    least_up: np.ndarray | None = None
    if not out.status.has_solution:
        # infeasible (or, as a solver may call an infeasible LP, unbounded: the stage's cost
        # is bounded below): solve it with its start free to move
        movable = _movable(fixed, task.start_rows)
        # the least move (in the units of the entries) and its slopes: a feasibility cut
        least = dataclasses.replace(
            movable,
            c=np.r_[np.zeros(fixed.A.shape[1]), np.ones(movable.A.shape[1] - fixed.A.shape[1])],
            c0=0.0,
            q=None,
        )
        phase1 = backend.solve_matrix(least, task.options, relax=True)
        if phase1.status.has_solution and phase1.row_dual is not None:
            shortfall = float(phase1.objective_cny)
            shortfall_slopes = np.asarray(phase1.row_dual[task.start_rows], dtype=float)
            if task.with_bounds and phase1.x is not None:
                least_up = _least_starts(least, phase1.x, task, fixed.A.shape[1])
        out = backend.solve_matrix(movable, task.options, relax=True)
        penalised = True
        if not out.status.has_solution and task.feasibility_rows:
            # the feasibility cuts of its end state in conflict with its own rows (cuts made
            # of near-parallel duals): the stage without them, a relaxation, its cut valid
            # (they are the last rows of the stage's own matrix; the pull's rows follow)
            keep = np.r_[
                np.arange(m.A.shape[0] - task.feasibility_rows),
                np.arange(m.A.shape[0], movable.A.shape[0]),
            ]
            out = backend.solve_matrix(
                dataclasses.replace(
                    movable,
                    A=movable.A[keep],
                    row_lb=movable.row_lb[keep],
                    row_ub=movable.row_ub[keep],
                ),
                task.options,
                relax=True,
            )
    if not out.status.has_solution or out.x is None or out.row_dual is None:
        return StageOutcome(out.status, out.message, np.nan, 0.0, None, None, None, penalised)
    x = out.x[:n]
    theta = float(x[task.theta]) * THETA_UNIT_CNY if task.theta is not None else 0.0
    k, f = len(task.start_rows), fixed.A.shape[1]
    # the start row reads x0 + down - up = start (`_movable`)
    moved = out.x[f + k :] - out.x[f : f + k] if penalised else None
    end = task.end @ x
    pull = (
        0.0
        if task.pull_to is None or task.pull_cny_per_unit is None
        else float(task.pull_cny_per_unit @ np.abs(end - task.pull_to))
    )
    return StageOutcome(
        out.status,
        out.message,
        float(out.objective_cny),
        theta,
        end,
        out.row_dual[task.start_rows],
        x,
        penalised,
        moved,
        shortfall,
        shortfall_slopes,
        pull,
        least_up,
    )


def _least_starts(least: Matrix, x: np.ndarray, task: StageTask, f: int) -> np.ndarray:
    """For each entry the least-move solution `x` moved, the least it must move with every
    other entry free (that solve's objective, signed: + up, - down; 0 elsewhere): the
    projection of the starts the stage can start from on that entry, so x_i >= start_i + m_i
    (or <= start_i - m_i) holds at every such start, whatever the others."""
    k = len(task.start_rows)
    down, up = x[f : f + k], x[f + k : f + 2 * k]
    moved = up - down
    out = np.zeros(k)
    backend = backend_for(task.options.backend)
    for i in np.flatnonzero(np.abs(moved) > MOVE_TOLERANCE):
        c = np.zeros(least.A.shape[1])
        c[[f + i, f + k + i]] = 1.0
        alone = backend.solve_matrix(dataclasses.replace(least, c=c), task.options, relax=True)
        if alone.status.has_solution and alone.objective_cny > MOVE_TOLERANCE:
            out[i] = np.sign(moved[i]) * float(alone.objective_cny)
    return out


def _moves(moved: np.ndarray | None, stage: Stage, most: int = 3) -> str:
    """The largest moves of a stage's start, in words: `Upper +1.2 hm3, ...`."""
    if moved is None or not len(moved):
        return "not at all"
    units = state_of(stage.model).labels["unit"].to_numpy()
    order = np.argsort(-np.abs(moved), kind="stable")[:most]
    words = [f"{stage.keys[i][1]} {moved[i]:+,.4g} {units[i]}" for i in order if abs(moved[i]) > 0]
    more = int((np.abs(moved) > 0).sum()) - len(words)
    return ", ".join(words) + (f" and {more} more" if more > 0 else "")


def _movable(m: Matrix, rows: np.ndarray) -> Matrix:
    """The matrix with two columns per start row, down and up >= 0 at `PENALTY_CNY_PER_UNIT`
    each, the row reading x0 + down - up = start (x0 = start - down + up): the stage from any
    start (a relaxation of it)."""
    k = len(rows)
    extra = sp.csr_matrix(
        (np.r_[np.ones(k), -np.ones(k)], (np.r_[rows, rows], np.arange(2 * k))),
        shape=(m.A.shape[0], 2 * k),
    )
    return dataclasses.replace(
        m,
        A=sp.hstack([m.A, extra], format="csr"),
        c=np.r_[m.c, np.full(2 * k, PENALTY_CNY_PER_UNIT)],
        col_lb=np.r_[m.col_lb, np.zeros(2 * k)],
        col_ub=np.r_[m.col_ub, np.full(2 * k, np.inf)],
        integer=np.r_[m.integer, np.zeros(2 * k, dtype=bool)],
        q=None if m.q is None else np.r_[m.q, np.zeros(2 * k)],
    )


def _pulled(m: Matrix, end: sp.csr_matrix, to: np.ndarray, price: np.ndarray) -> Matrix:
    """The matrix with the pull toward end levels `to` (`gridopt.model.future_cost`, rows
    `future_cost_toward`): two columns per entry, above and below >= 0 at `price` each."""
    n, k = m.A.shape[1], len(to)
    rows, cost = pull_block(sp.csr_matrix(end, shape=(k, n)), price)
    return dataclasses.replace(
        m,
        A=sp.vstack([sp.hstack([m.A, sp.csr_matrix((m.A.shape[0], 2 * k))]), rows], format="csr"),
        row_lb=np.r_[m.row_lb, to],
        row_ub=np.r_[m.row_ub, to],
        c=np.r_[m.c, cost],
        col_lb=np.r_[m.col_lb, np.zeros(2 * k)],
        col_ub=np.r_[m.col_ub, np.full(2 * k, np.inf)],
        integer=np.r_[m.integer, np.zeros(2 * k, dtype=bool)],
        q=None if m.q is None else np.r_[m.q, np.zeros(2 * k)],
    )


def pull_prices(cuts: Cuts, strength: float) -> np.ndarray | None:
    """What a unit of each entry's distance from the incumbent costs a stage's forward solve:
    `strength` times the entry's mean |slope| over the stage's cuts (None: no cuts yet)."""
    if not len(cuts) or strength <= 0:
        return None
    return strength * np.abs(np.asarray(cuts.beta)).mean(axis=0)


def with_cuts(
    stage: Stage, cuts: Cuts, feasible: Cuts | None = None, reach: Reach | None = None
) -> Matrix:
    """The stage's matrix with its cuts as rows theta - beta_k' E x >= alpha_k - beta_k' xhat_k
    (`gridopt.model.future_cost`), its feasibility cuts (`feasible`: alpha the least move
    v_k of the stage after from xhat_k, beta its slopes sigma_k) as rows
    -sigma_k' E x >= v_k - sigma_k' xhat_k: the end states from which the stage after can
    start (v_k + sigma_k' (x - xhat_k) <= 0, as v is convex and 0 there), and last the
    levels each entry must end within for the stage after to start (`reach`): rows
    low_i <= E_i x <= high_i."""
    m = stage.matrix
    bounded = reach is not None and reach.rows > 0
    if stage.theta is None or not (
        len(cuts) or (feasible is not None and len(feasible)) or bounded
    ):
        return m
    n = m.A.shape[1]
    end = sp.csr_matrix(stage.end, shape=(stage.end.shape[0], n))
    blocks, lbs = [m.A], [m.row_lb]
    if len(cuts):
        rows, rhs, _ids = cut_matrix(stage.keys, end, cuts.frame(stage.keys), THETA_UNIT_CNY)
        theta = sp.csr_matrix(
            (np.ones(len(rhs)), (np.arange(len(rhs)), np.full(len(rhs), stage.theta))),
            shape=(len(rhs), n),
        )
        blocks.append(theta - rows)
        lbs.append(rhs)
    if feasible is not None and len(feasible):
        rows, rhs, _ids = cut_matrix(stage.keys, end, feasible.frame(stage.keys))
        blocks.append(-rows)
        lbs.append(rhs)
    lb = np.concatenate(lbs)
    ub = np.r_[m.row_ub, np.full(len(lb) - len(m.row_lb), np.inf)]
    if reach is not None and reach.rows > 0:
        held = np.isfinite(reach.low) | np.isfinite(reach.high)
        blocks.append(end[np.flatnonzero(held)])
        lb, ub = np.r_[lb, reach.low[held]], np.r_[ub, reach.high[held]]
    return dataclasses.replace(m, A=sp.vstack(blocks, format="csr"), row_lb=lb, row_ub=ub)


@dataclass
class Reach:
    """The levels each entry of a stage's end state must keep for the stage after to be
    able to start (`_least_starts`): valid bounds found where a start could not."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def none(cls, n: int) -> Reach:
        return cls(np.full(n, -np.inf), np.full(n, np.inf))

    @property
    def rows(self) -> int:
        return int((np.isfinite(self.low) | np.isfinite(self.high)).sum())

    def add(self, at: np.ndarray, moves: np.ndarray) -> None:
        """From a start `at` that had to move by `moves` (+ up, - down, each with the other
        entries free): at least at + move, or at most."""
        up, down = moves > 0, moves < 0
        self.low[up] = np.maximum(self.low[up], at[up] + moves[up])
        self.high[down] = np.minimum(self.high[down], at[down] + moves[down])


def within_reach(
    built: dict[tuple[str, int], Stage], years: list[str], S: int, coarse: dict[str, CaseData]
) -> Reach:
    """The levels each store must keep at the end of every coarse snapshot (rows 0..T: before
    the first, ..., after the last; columns: the state's entries) for the case's end rules
    to be within its reach whatever the rest of the system does
    (`gridopt.model.stores.Motion.reachable` over the stages), under every scenario: the
    same kind of bounds as the backward pass finds (`Reach`), known before it starts. A
    reservoir at the head of a river refills only from its own inflow, so in a dry season it
    must already hold nearly what it is to end the year with; without these bounds the stages
    learn that only from the trial states that could not start, and the windows of a rolling
    run, which leave the trial path, could end a window below them and leave the last window
    unable to make the end. Entries without a motion (water in transit, energy delivered so
    far) have none (-inf, inf)."""
    first = state_of(built[(years[0], 0)].model)
    T = sum(built[(years[0], s)].model.T for s in range(S))
    n = len(first.keys)
    out = Reach(np.full((T + 1, n), -np.inf), np.full((T + 1, n), np.inf))
    for year in years:
        parts = [state_of(built[(year, s)].model).parts for s in range(S)]
        ends = end_rules(coarse[year], start_levels(coarse[year]))
        offset = 0
        for i, part in enumerate(parts[0]):
            k = len(part.names)
            motions = [m for stage in parts if (m := stage[i].motion) is not None]
            if len(motions) == S:
                end = (
                    ends[part.table]["level"].reindex(part.names).to_numpy(dtype=float)
                    if part.table in ends
                    else np.full(k, np.nan)
                )
                low, high = Motion.join(motions).reachable(part.lower, part.upper, end)
                span = np.where(np.isfinite(part.upper - part.lower), part.upper - part.lower, 1.0)
                tol = (REACH_TOLERANCE * span)[:, None]
                held = slice(offset, offset + k)
                lo = np.where(low > part.lower[:, None] + tol, low, -np.inf).T
                hi = np.where(high < part.upper[:, None] - tol, high, np.inf).T
                out.low[:, held] = np.maximum(out.low[:, held], lo)
                out.high[:, held] = np.minimum(out.high[:, held], hi)
            offset += k
    return out


def reach_at_boundaries(
    known: Reach, built: dict[tuple[str, int], Stage], year: str, S: int
) -> list[Reach]:
    """The known levels (`within_reach`) at the end of every stage but the last."""
    at = np.cumsum([built[(year, s)].model.T for s in range(S)])[:-1]
    return [Reach(known.low[b].copy(), known.high[b].copy()) for b in at]


# ---- the coarse case and its stages -------------------------------------------------------------
def coarse_case(data: CaseData, resolution_h: int, inflow_year: str | None = None) -> CaseData:
    """The case over its whole horizon at `resolution_h` hours per snapshot, as a dispatch
    LP (a uc case's commitment relaxed and its units free to go off), in `inflow_year`."""
    case = data.case
    hours = data.n_snapshots * case.horizon.resolution_h
    update: dict[str, Any] = {
        "horizon": Horizon(
            start=data.snapshots[0].to_pydatetime(),
            snapshots=hours // resolution_h,
            resolution_h=resolution_h,
        ),
        "model": "dispatch",
        "reserve": Reserve(),
        "rolling": None,
        "solver": case.solver.model_copy(update={"relax": True}),
    }
    if inflow_year is not None:
        update["inflow_year"] = inflow_year
    coarse = prepare_case(case.model_copy(update=update), data.path)
    # its stages carry the energy of contracts that span them (`gridopt.model.periods`)
    coarse = dataclasses.replace(coarse, delivered=carried_entries(coarse))
    return free_to_go_off(coarse) if case.model == "uc" else coarse


def start_levels(data: CaseData) -> dict[str, np.ndarray]:
    """Where every store starts: its initial level, or, where it has none (cyclic), the
    middle of its range (and the last stage ends there)."""
    out = {}
    for table, store in stores(data).items():
        middle = 0.5 * (store.lower + store.upper)
        out[table] = np.where(np.isnan(store.initial), middle, store.initial)
    return out


def end_rules(data: CaseData, levels: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """The case's end rules, for the last stage (`CaseData.end_state`): a fixed store ends at
    its initial level, a cyclic one where it started (`levels`, `start_levels`)."""
    out = {}
    for table, store in stores(data).items():
        level = np.full(len(store.names), np.nan)
        fixed, cyclic = store.rule == "fixed", store.rule == "cyclic"
        level[fixed] = store.initial[fixed]
        level[cyclic] = levels[table][cyclic]
        if np.isnan(level).all():
            continue
        out[table] = pd.DataFrame(
            {
                "level": level,
                "rule": "equal",
                "value_cny_per_unit": np.nan,
                "shortfall_penalty_cny_per_unit": np.nan,
            },
            index=store.names,
        )
    return out


def stage_data(
    coarse: CaseData, bounds: tuple[int, int], number: int, last: bool, resolution_h: int
) -> CaseData:
    """The coarse case cut to one stage, its start a state of rows, its end the case's rules
    (the last stage) or a future cost."""
    levels = start_levels(coarse)
    a, b = bounds
    end_state = end_rules(coarse, levels) if last else {}
    data = piece_data(coarse, Window(number, a, b, b), State(levels), end_state)
    return dataclasses.replace(
        data,
        stage_state=True,
        future_cost=None if last else FutureCost(pd.DataFrame(columns=CUT_COLUMNS), resolution_h),
    )


def build_stage(data: CaseData, number: int, scenario: str, resolution_h: int) -> Stage:
    """Build a stage's model and matrix once, and read its state."""
    model = build_model(data)
    matrix = model_matrix(model)
    state = state_of(model, resolution_h)
    rows = state.start_rows
    if (rows < 0).any():
        raise ValueError("every entry of a stage's state needs a start row")
    return Stage(
        number,
        scenario,
        model,
        matrix,
        state.end(model.n_cols),
        rows,
        theta_column(model),
        state.keys,
    )


def _whole(coarse: CaseData) -> tuple[LinearModel, Any]:
    """The coarse case over its whole horizon as one LP, from the stages' start
    (`start_levels`) to the last stage's end rules: its model and its solution."""
    levels = start_levels(coarse)
    n = coarse.n_snapshots
    whole = piece_data(coarse, Window(1, 0, n, n), State(levels), end_rules(coarse, levels))
    model = build_model(whole)
    # its point and cost are what is read, not its duals: no crossover (the dry year's daily
    # LP with crossover ran for more than 10 minutes; without it, 11 s)
    out = backend_for(whole.case.solver.backend).solve_matrix(
        model_matrix(model), whole.case.solver, relax=True, need_duals=False
    )
    return model, out


def horizon_lp(data: CaseData, resolution_h: int) -> tuple[Status, float]:
    """The same horizon as the stages, solved as one LP at `resolution_h`: the same start
    (`start_levels`), the same end rules. Its optimum is what a deterministic DDP converges
    to."""
    _model, out = _whole(coarse_case(data, resolution_h))
    return out.status, float(out.objective_cny)


def within_tolerance(end: np.ndarray, floor: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """A stage's end state with every entry that passes its range by no more than the solver's
    tolerance (STATE_TOLERANCE of the range's bound) put back on it: a solution meets its
    bounds (a level's, a period's most energy) only to within a tolerance, and a start that
    much outside them would leave the next stage infeasible by that much."""
    slack = STATE_TOLERANCE * np.maximum(1.0, np.abs(np.nan_to_num(np.r_[floor, ceiling])))
    low, high = slack[: len(floor)], slack[len(floor) :]
    out = np.where((end < floor) & (end >= floor - low), floor, end)
    return np.where((out > ceiling) & (out <= ceiling + high), ceiling, out)


def states_at(
    model: LinearModel, x: np.ndarray, ends: list[int], resolution_h: int
) -> tuple[pd.MultiIndex, np.ndarray]:
    """The state (`state_of`) of a solved chronological model at the end of snapshot b - 1
    for each b in `ends`: (keys, len(ends) x entries). The end-state expression is moved
    back in time, every column of a timed variable to the same component T - b snapshots
    earlier (clipped at the first snapshot, as the water in transit is); an entry that sums
    over the snapshots (`StatePart.sums`: energy delivered so far) counts those before b."""
    state = state_of(model, resolution_h)
    end = state.end(model.n_cols).tocoo()
    sums = np.concatenate(
        [np.full(len(p.names), p.sums) for p in state.parts] or [np.zeros(0, dtype=bool)]
    )[end.row]
    T = len(model.snapshots)
    block = np.full(model.n_cols, -1, dtype=np.int64)
    comp = np.zeros(model.n_cols, dtype=np.int64)
    snap = np.zeros(model.n_cols, dtype=np.int64)
    blocks = [v for v in model.variables.values() if v.timed and v.cols.shape[1] == T]
    for j, var in enumerate(blocks):
        flat = var.cols.ravel()
        block[flat] = j
        comp[flat] = np.repeat(np.arange(var.cols.shape[0]), T)
        snap[flat] = np.tile(np.arange(T), var.cols.shape[0])
    out = np.zeros((len(ends), end.shape[0]))
    for i, b in enumerate(ends):
        cols = end.col.copy()
        timed = block[cols] >= 0
        for j in np.unique(block[cols[timed & ~sums]]):
            at = np.flatnonzero((block[cols] == j) & ~sums)
            t = np.clip(snap[cols[at]] - (T - b), 0, T - 1)
            cols[at] = blocks[j].cols[comp[cols[at]], t]
        counted = ~(sums & timed & (snap[cols] >= b))
        out[i] = np.bincount(
            end.row[counted], weights=(end.data * x[cols])[counted], minlength=end.shape[0]
        )
    return state.keys, out


def first_trials(
    coarse: CaseData, bounds: list[tuple[int, int]], keys: pd.MultiIndex, resolution_h: int
) -> tuple[np.ndarray | None, float, str]:
    """The first trial states: the state of the whole horizon solved as one LP (`_whole`)
    at every stage's end, a feasible path (stages x entries), with its cost; None and why
    not where that LP has no solution or its state is not the stages' one."""
    model, out = _whole(coarse)
    if not out.status.has_solution or out.x is None:
        return None, np.nan, f"the whole horizon as one LP has no solution ({out.status})"
    have, states = states_at(model, np.asarray(out.x), [b for _a, b in bounds], resolution_h)
    if not have.equals(keys):
        return None, np.nan, "the whole horizon as one LP keeps another state than the stages"
    return states, float(out.objective_cny), ""


# ---- the run ----------------------------------------------------------------------------------
@dataclass
class FutureCostResult:
    """Cuts of every stage, the bounds by iteration and the trial states."""

    case_path: str
    stages: list[tuple[pd.Timestamp, pd.Timestamp]]  # first and last coarse snapshot
    stage_hours: list[int]  # hour (from the start) at which each stage ends
    resolution_h: int
    scenarios: list[str]
    probabilities: np.ndarray
    keys: pd.MultiIndex
    units: list[str]
    cuts: list[Cuts]  # per stage but the last: its future cost
    bounds: pd.DataFrame
    trials: pd.DataFrame  # path, stage, table, store, level at the stage's end
    values: pd.DataFrame  # stage, path, table, store, level, slope, value
    ranges: pd.DataFrame  # table, store, lower, upper
    start: dict[str, np.ndarray]
    status: str
    lower_bound_cny: float
    upper_bound_cny: float
    gap: float
    iterations: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    case_name: str = ""
    reach: list[Reach] = field(default_factory=list)  # per stage but the last
    # the levels known to keep at the end of every coarse snapshot (`within_reach`; rows
    # 0..T), None: not computed
    known: Reach | None = None
    # the cheapest path the passes found (stages x entries; over several years the years'
    # paths weighted by their probabilities; None: none, or sampled paths)
    path: np.ndarray | None = None

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    def cuts_at(self, hour: float, pull: float = PULL_FLOOR) -> FutureCost | None:
        """The future cost of the state at `hour` (from the start): the cuts of the stage
        that ends at the first stage boundary at or after it, or, for an hour inside the last
        stage, at the boundary before it; None where there is no boundary but the end. At a
        boundary the state also keeps near the cheapest path at `pull` times each store's
        value (`pull_prices`; the tie-break PULL_FLOOR by default), and the levels the stage
        after was found unable to start from; at any hour that ends a coarse step, the
        levels from which the case's end is within reach (`within_reach`)."""
        ends = np.asarray(self.stage_hours[:-1], dtype=float)
        if not len(ends):
            return None
        after = np.flatnonzero(ends >= hour - 1e-9)
        j = int(after[0]) if len(after) else len(ends) - 1
        keep = Reach.none(len(self.keys))
        if j < len(self.reach) and abs(ends[j] - hour) < 1e-9:
            # levels the stage after was found unable to start from hold only at the stage's
            # own boundary
            keep.low, keep.high = self.reach[j].low.copy(), self.reach[j].high.copy()
        step = hour / self.resolution_h
        if self.known is not None and abs(step - round(step)) < 1e-9:
            # those known from the end rules hold at any hour the coarse steps end at: a
            # window that ends inside the last stage (a short remainder joins the stage
            # before) keeps them too
            k = min(max(round(step), 0), len(self.known.low) - 1)
            keep.low = np.maximum(keep.low, self.known.low[k])
            keep.high = np.minimum(keep.high, self.known.high[k])
        reach = None
        if keep.rows:
            reach = pd.DataFrame(
                {
                    "table": self.keys.get_level_values(0),
                    "store": self.keys.get_level_values(1),
                    "low": keep.low,
                    "high": keep.high,
                }
            )
        toward = None
        prices = pull_prices(self.cuts[j], pull)
        if self.path is not None and prices is not None and abs(ends[j] - hour) < 1e-9:
            toward = pd.DataFrame(
                {
                    "table": self.keys.get_level_values(0),
                    "store": self.keys.get_level_values(1),
                    "level": self.path[j],
                    "price_cny_per_unit": prices,
                }
            )
        return FutureCost(self.cuts[j].frame(self.keys), self.resolution_h, reach, toward)

    def cut_table(self) -> pd.DataFrame:
        """Sheet `future_cost_cuts`: every cut of every stage, entry by entry."""
        parts = []
        for j, cuts in enumerate(self.cuts):
            frame = cuts.frame(self.keys)
            frame.insert(0, "stage", j + 1)
            frame.insert(1, "stage_end", self.stages[j][1] + pd.Timedelta(hours=self.resolution_h))
            frame["unit"] = np.tile(self.units, len(cuts))
            parts.append(frame)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "future_cost_bounds": self.bounds,
            "future_cost_cuts": self.cut_table(),
            "future_cost_values": self.values,
            "future_cost_levels": self.trials,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "case": self.case_path,
            "case_name": self.case_name,
            "study": "future-cost function (dual dynamic programming)",
            "status": self.status,
            "stages": len(self.stages),
            "resolution_h": self.resolution_h,
            "scenarios": ", ".join(self.scenarios),
            "probabilities": ", ".join(f"{p:g}" for p in self.probabilities),
            "forward_paths": ", ".join(self.paths),
            "iterations": self.iterations,
            "lower_bound_cny": self.lower_bound_cny,
            "upper_bound_cny": self.upper_bound_cny,
            "gap": self.gap,
            "upper_bound_is": "a bound (one scenario)"
            if len(self.scenarios) == 1
            else "a statistical estimate (the mean cost of the forward paths)",
            "cuts": int(sum(len(c) for c in self.cuts)),
            "state_entries": len(self.keys),
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


class _Solver:
    """Runs stage solves here or on a Dask client, in batches."""

    def __init__(self, client: Client | None) -> None:
        self.client = client

    def run(self, tasks: list[StageTask]) -> list[StageOutcome]:
        if self.client is None or len(tasks) < 2:
            return [solve_stage(t) for t in tasks]
        futures = self.client.map(solve_stage, tasks, pure=False)
        return self.client.gather(futures)


@contextmanager
def _runner(
    n_columns: int, n_parallel: int, workers: int | None, scheduler: str | None
) -> Iterator[Client | None]:
    """A Dask client for the independent solves (None: one by one here)."""
    small = n_columns < PARALLEL_FROM_COLUMNS or n_parallel < 2
    if scheduler is None and (workers == 1 or (workers is None and small)):
        yield None
        return
    from gridopt.studies.sweep import dask_client

    with dask_client(workers, scheduler) as client:
        yield client


def future_cost_function(
    data: CaseData,
    stages: str | Sequence[int] = "week",
    resolution_h: int = 24,
    gap: float = 1e-6,
    max_iterations: int = 50,
    scenarios: list[str] | None = None,
    probabilities: list[float] | None = None,
    samples: int = 0,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    first_pass: str = "horizon",
    pull: float = 0.5,
    low_points: bool = True,
    known_reach: bool = True,
) -> FutureCostResult:
    """Cuts of the future cost of every stage by DDP (module doc). `scenarios`: inflow years
    of the case (None: the case's own); `probabilities` (None: equal); `first_pass`: where the
    first pass's trial states come from (`FIRST_PASS`); `pull`: the first strength of the
    forward pass's pull toward the incumbent paths (not with `samples`; 0: none); `low_points`:
    cuts also at states below the trial states (`LOW_POINTS`); `known_reach`: the stages keep
    from the start the levels from which the case's end is within reach (`within_reach`;
    False: only those the backward pass finds)."""
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    _check(data, resolution_h, scenarios, probabilities, gap, max_iterations, first_pass, pull)
    years = scenarios or [data.case.inflow_year]
    p = np.asarray(probabilities or [1.0 / len(years)] * len(years), dtype=float)
    p = p / p.sum()
    coarse = {y: coarse_case(data, resolution_h, y) for y in years}
    first = coarse[years[0]]
    bounds = stage_bounds(first.snapshots, stages, resolution_h)
    longest = steps_in_transit(first.tables["hydro"], resolution_h)
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < longest:
        # a short remainder (a year's 365th day after 52 weeks) joins the stage before it
        bounds = [*bounds[:-2], (bounds[-2][0], bounds[-1][1])]
    S = len(bounds)
    shortest = min(b - a for a, b in bounds)
    if shortest < longest:
        # the water in transit at a stage's end must have been released in that stage
        raise InputError(
            [
                Problem(
                    str(data.path),
                    f"every stage must last at least the longest travel time of a river"
                    f" ({longest} steps of {resolution_h} h); the shortest lasts {shortest}",
                    column="stages",
                    value=stages,
                )
            ]
        )
    say(
        f"future cost: {S} stages of {first.n_snapshots} snapshots of {resolution_h} h,"
        f" {len(years)} scenario{'s' if len(years) != 1 else ''} ({', '.join(years)})"
    )
    t0 = time.perf_counter()
    built = {
        (y, s): build_stage(
            stage_data(coarse[y], bounds[s], s + 1, s == S - 1, resolution_h),
            s + 1,
            y,
            resolution_h,
        )
        for y in years
        for s in range(S)
    }
    keys = built[(years[0], 0)].keys
    say(
        f"built {len(built)} stage models in {time.perf_counter() - t0:.2f} s;"
        f" state of {len(keys)} entries"
    )
    # the start: every store's start level, water in transit as the case gives it
    x0 = np.asarray(built[(years[0], 0)].matrix.row_lb[built[(years[0], 0)].start_rows])
    rng = np.random.default_rng(seed)
    # each year's own inflows through every stage, then the sampled paths (drawn each pass)
    paths = [[years.index(y)] * S for y in years] + [[0] * S for _ in range(samples)]
    path_names = list(years) + [f"sample {i + 1}" for i in range(samples)]
    cuts = [Cuts() for _ in range(S - 1)]
    # feasibility cuts of every stage but the last: where the stage after can start from
    feasible = [Cuts() for _ in range(S - 1)]
    known = within_reach(built, years, S, coarse) if known_reach else None
    reach = (
        reach_at_boundaries(known, built, years[0], S)
        if known is not None
        else [Reach.none(len(keys)) for _ in range(S - 1)]
    )
    # each entry's lowest level (the floor the backward pass's low points go toward, raised
    # at each boundary to the levels from which the case's end is still within reach)
    floor = np.asarray(state_of(built[(years[0], 0)].model).lower, dtype=float)
    ceiling = np.asarray(state_of(built[(years[0], 0)].model).upper, dtype=float)
    options = first.case.solver.model_copy(update={"relax": True})
    if workers != 1 or scheduler is not None:
        options = options.model_copy(update={"threads": 1}) if options.threads is None else options
    history: list[dict[str, Any]] = []
    notes: list[str] = []
    trial: np.ndarray = np.zeros((len(paths), S, len(keys)))
    lower, upper, rel, status = -np.inf, np.inf, np.inf, "max_iterations"
    last_values: list[dict[str, Any]] = []
    n_cols = max(st.matrix.A.shape[1] for st in built.values())
    # the first trial states: each year's whole horizon as one LP (a feasible path)
    planned: dict[int, np.ndarray] = {}
    planned_cost: dict[int, float] = {}
    if first_pass == "horizon":
        t0 = time.perf_counter()
        for y, year in enumerate(years):
            states, cost, why = first_trials(coarse[year], bounds, keys, resolution_h)
            if states is None:
                notes.append(f"first trial states from a forward pass under {year}: {why}")
                say(notes[-1])
                continue
            planned[y], planned_cost[y] = states, cost
        if planned:
            say(
                f"first trial states: the whole horizon as one LP under"
                f" {', '.join(years[y] for y in planned)}, {planned_cost[min(planned)]:,.2f} CNY"
                f"{'' if len(planned) == 1 else ' (the first)'}"
                f" ({time.perf_counter() - t0:.2f} s)"
            )

    # the cheapest paths found so far (each year's, in the pass of least mean cost) and their
    # mean cost: the forward pass's pull; the horizon LPs' paths to begin with, whose cost in
    # stages is not known (an LP meets energy obligations and shares over the horizon, the
    # stages each over its own hours)
    pulls = not samples and pull > 0
    incumbent: np.ndarray | None = (
        np.stack([planned[y] for y in range(len(years))])
        if pulls and len(planned) == len(years)
        else None
    )
    incumbent_cny = np.inf
    check = False

    def task(
        stage: Stage,
        start: np.ndarray,
        strength: float = 0.0,
        backward: bool = False,
        path: int = 0,
    ) -> StageTask:
        s = stage.number - 1
        last = stage.number == S
        prices = pull_prices(cuts[s], strength) if incumbent is not None and not last else None
        return StageTask(
            stage.matrix if last else with_cuts(stage, cuts[s], feasible[s], reach[s]),
            stage.start_rows,
            start,
            stage.end,
            stage.theta,
            options,
            0 if last else len(feasible[s]) + reach[s].rows,
            None if prices is None or incumbent is None else incumbent[path, s],
            prices,
            backward,
        )

    def failed(out: StageOutcome, stage: Stage, what: str) -> NoReturn:
        raise StageFailed(
            f"{what}: stage {stage.number} ({bounds_words(stage.number - 1)}) under"
            f" {stage.scenario} has no solution: {out.status} ({out.message})"
        )

    def bounds_words(s: int) -> str:
        a, b = bounds[s]
        return f"{first.snapshots[a]:%Y-%m-%d} .. {first.snapshots[b - 1]:%Y-%m-%d}"

    with (
        _runner(n_cols, max(len(paths), len(years)), workers, scheduler) as client,
        steps(progress, "DDP iterations", max_iterations) as counted,
    ):
        solver = _Solver(client)
        iteration = 0
        for iteration in range(1, max_iterations + 1):
            t_it = time.perf_counter()
            # new sampled paths every pass: the cuts go where the policy goes
            for k in range(len(years), len(paths)):
                paths[k] = [int(y) for y in rng.choice(len(years), size=S, p=p)]
            # forward pass: every path through the stages with the cuts so far (the first:
            # the paths of the whole horizon as one LP, where every year has one)
            start = np.repeat(x0[None, :], len(paths), axis=0)
            costs = np.zeros(len(paths))
            penalised_paths = np.zeros(len(paths), dtype=bool)
            planned_pass = iteration == 1 and len(planned) == len(years)
            # a pass after a pulled pass within the gap follows the cuts with the least pull
            # (a tie-break, PULL_FLOOR): the policy the windows of a rolling run follow; the
            # run stops only on such a pass
            strength = max(pull * PULL_DECAY ** max(iteration - 2, 0), PULL_FLOOR) if pulls else 0.0
            strength = PULL_FLOOR if pulls and check else strength
            if planned_pass:
                for k in range(len(paths)):
                    trial[k] = [planned[paths[k][s]][s] for s in range(S)]
                    # a sampled path mixes the years' paths: its cost is not known
                    costs[k] = planned_cost[paths[k][0]] if k < len(years) else np.nan
            for s in range(S if not planned_pass else 0):
                jobs = [built[(years[paths[k][s]], s)] for k in range(len(paths))]
                outs = solver.run(
                    [task(st, start[k], strength, path=k) for k, st in enumerate(jobs)]
                )
                for k, out in enumerate(outs):
                    if out.end is None:
                        failed(out, jobs[k], f"iteration {iteration}, forward pass")
                    if out.penalised:
                        penalised_paths[k] = True
                        notes.append(
                            f"iteration {iteration}, forward pass: stage {s + 1}"
                            f" ({bounds_words(s)}) under {jobs[k].scenario} was infeasible from"
                            f" the state the stage before left; solved with its start moved"
                            f" ({_moves(out.moved, jobs[k])}) at {PENALTY_CNY_PER_UNIT:,.0f}"
                            " CNY per unit"
                        )
                        say(notes[-1])
                    costs[k] += out.cost_cny
                    trial[k, s] = start[k] = within_tolerance(out.end, floor, ceiling)
            # sampled paths, where there are any, estimate the policy's expected cost
            upper = float(costs[len(years) :].mean() if samples else costs.mean())
            if pulls and not penalised_paths.any() and upper < incumbent_cny:
                incumbent, incumbent_cny = trial.copy(), upper
            # backward pass: a cut for every stage but the last, from every trial state
            values_now: list[dict[str, Any]] = []
            for s in range(S - 1, 0, -1):
                states = trial[:, s - 1]
                # and from states below the trial states (`LOW_POINTS`): a cut there too
                f = LOW_POINTS[iteration % len(LOW_POINTS)] if low_points else 0.0
                least = np.minimum(states, np.fmax(floor, reach[s - 1].low))
                lows = states - f * np.where(np.isfinite(least), states - least, 0.0)
                points = [(states, True), (lows, False)] if f > 0 else [(states, True)]
                pairs = [(k, y) for k in range(len(paths)) for y in range(len(years))]
                outs_all = solver.run(
                    [
                        task(built[(years[y], s)], at[k], backward=trial_point)
                        for at, trial_point in points
                        for k, y in pairs
                    ]
                )
                for j, (at, trial_point) in enumerate(points):
                    outs = outs_all[j * len(pairs) : (j + 1) * len(pairs)]
                    for k in range(len(paths)):
                        alpha, beta = 0.0, np.zeros(len(keys))
                        for (kk, y), out in zip(pairs, outs, strict=True):
                            if kk != k:
                                continue
                            if out.slopes is None:
                                failed(
                                    out,
                                    built[(years[y], s)],
                                    f"iteration {iteration}, backward pass",
                                )
                            if out.penalised and trial_point:
                                notes.append(
                                    f"iteration {iteration}, backward pass: stage {s + 1}"
                                    f" ({bounds_words(s)}) under {years[y]} was infeasible from"
                                    f" the trial state of path {path_names[k]}; its cut comes"
                                    " from the stage with its start moved at a penalty (still"
                                    " valid)"
                                )
                                say(notes[-1])
                            alpha += p[y] * out.objective_cny
                            beta += p[y] * np.asarray(out.slopes)
                            sigma = out.shortfall_slopes
                            if out.penalised and sigma is not None and np.abs(sigma).max() > 0:
                                # every scenario's stage must start feasibly: a cut for each
                                feasible[s - 1].add(out.shortfall, sigma, at[k])
                            if out.least_moves is not None:
                                reach[s - 1].add(at[k], out.least_moves)
                        cuts[s - 1].add(alpha, beta, at[k])
                        if trial_point:
                            values_now.append(
                                {"stage": s, "path": path_names[k], "level": at[k], "slope": beta}
                            )
            # the lower bound: stage 1 from the start with its new cuts, every scenario
            outs = solver.run([task(built[(y, 0)], x0) for y in years])
            for out, year in zip(outs, years, strict=True):
                if out.end is None:
                    failed(out, built[(year, 0)], f"iteration {iteration}, lower bound")
            lower = float(sum(p[i] * o.objective_cny for i, o in enumerate(outs)))
            rel = (upper - lower) / max(abs(upper), 1e-9)
            last_values = values_now
            history.append(
                {
                    "iteration": iteration,
                    "lower_bound_cny": lower,
                    "upper_bound_cny": upper,
                    "gap": rel,
                    # the horizon LP's cost is not one of the stages' (`incumbent`)
                    "upper_bound_valid": not penalised_paths.any() and not planned_pass,
                    "trials": "horizon LP" if planned_pass else "forward pass",
                    "pull": 0.0 if planned_pass else strength,
                    "best_upper_bound_cny": incumbent_cny if pulls else np.nan,
                    "cuts": int(sum(len(c) for c in cuts)),
                    "feasibility_cuts": int(sum(len(c) for c in feasible)),
                    "reach_bounds": int(sum(r.rows for r in reach)),
                    "seconds": round(time.perf_counter() - t_it, 4),
                }
            )
            counted.advance(f"iteration {iteration}")
            say(
                f"iteration {iteration}: lower bound {lower:,.2f} CNY, upper bound"
                f" {upper:,.2f} CNY{'' if len(years) == 1 else ' (estimate)'}, gap {rel:.3g}"
                f" ({time.perf_counter() - t_it:.2f} s)"
            )
            # the policy of the cuts must have been followed (not the horizon LP's path, not
            # a pulled pass)
            within = abs(rel) <= gap and not penalised_paths.any() and not planned_pass
            if within and strength <= (PULL_FLOOR if pulls else 0.0):
                status = "converged"
                break
            check = within
    result = _result(
        data,
        first,
        bounds,
        resolution_h,
        years,
        p,
        keys,
        built[(years[0], 0)],
        cuts,
        history,
        trial,
        path_names,
        last_values,
        status,
        lower,
        upper,
        rel,
        iteration,
        time.perf_counter() - started,
        notes,
        reach,
        None
        if incumbent is None or not np.isfinite(incumbent_cny)
        else np.tensordot(p, incumbent, 1),
        known,
    )
    say(
        f"future cost {status} after {iteration} iterations: lower bound {lower:,.2f} CNY,"
        f" upper bound {upper:,.2f} CNY, gap {rel:.3g}"
    )
    return result


def _check(
    data: CaseData,
    resolution_h: int,
    scenarios: list[str] | None,
    probabilities: list[float] | None,
    gap: float,
    max_iterations: int,
    first_pass: str = "horizon",
    pull: float = 0.0,
) -> None:
    """Settings that cannot work with the case, each named (InputError)."""
    file, h = str(data.path), data.case.horizon
    problems = []
    hours = h.snapshots * h.resolution_h
    if resolution_h % h.resolution_h or hours % resolution_h:
        problems.append(
            Problem(
                file,
                f"must be a multiple of the case's resolution_h ({h.resolution_h} h) that"
                f" divides the horizon ({hours} h)",
                column="resolution",
                value=resolution_h,
            )
        )
    if h.aggregation is not None or data.expanding:
        problems.append(
            Problem(
                file,
                "a future-cost function needs a chronological case: no typical periods"
                " (horizon.aggregation), no expansion",
                column="horizon",
            )
        )
    if scenarios is not None and probabilities is not None and len(scenarios) != len(probabilities):
        problems.append(
            Problem(
                file,
                f"{len(probabilities)} probabilities for {len(scenarios)} scenarios",
                column="probabilities",
            )
        )
    if probabilities is not None and (min(probabilities) < 0 or sum(probabilities) <= 0):
        problems.append(
            Problem(file, "probabilities must be >= 0 and not all 0", column="probabilities")
        )
    unknown = [y for y in scenarios or [] if y not in inflow_years()]
    if unknown:
        problems.append(
            Problem(
                file,
                f"not an inflow year; the years are {', '.join(inflow_years())}",
                column="scenarios",
                value=", ".join(unknown),
            )
        )
    if scenarios is not None and len(set(scenarios)) != len(scenarios):
        problems.append(Problem(file, "a scenario is named twice", column="scenarios"))
    if not gap >= 0:
        problems.append(Problem(file, "must be >= 0", column="gap", value=gap))
    if max_iterations < 1:
        problems.append(
            Problem(file, "must be >= 1", column="max_iterations", value=max_iterations)
        )
    if not (pull >= 0 and np.isfinite(pull)):
        problems.append(Problem(file, "must be a number >= 0", column="pull", value=pull))
    if first_pass not in FIRST_PASS:
        problems.append(
            Problem(
                file,
                f"must be one of {', '.join(FIRST_PASS)}",
                column="first_pass",
                value=first_pass,
            )
        )
    if problems:
        raise InputError(problems)


def _result(
    data: CaseData,
    coarse: CaseData,
    bounds: list[tuple[int, int]],
    resolution_h: int,
    years: list[str],
    p: np.ndarray,
    keys: pd.MultiIndex,
    stage1: Stage,
    cuts: list[Cuts],
    history: list[dict[str, Any]],
    trial: np.ndarray,
    path_names: list[str],
    last_values: list[dict[str, Any]],
    status: str,
    lower: float,
    upper: float,
    rel: float,
    iteration: int,
    seconds: float,
    notes: list[str],
    reach: list[Reach],
    path: np.ndarray | None,
    known: Reach | None = None,
) -> FutureCostResult:
    snaps = coarse.snapshots
    state = state_of(stage1.model)
    units = state.labels["unit"].to_numpy().astype(object)
    ranges = (state.lower, state.upper)
    table = keys.get_level_values(0).to_numpy()
    store = keys.get_level_values(1).to_numpy()
    n_paths, S, n = trial.shape
    stage_end = [snaps[b - 1] + pd.Timedelta(hours=resolution_h) for _a, b in bounds]
    kept = (np.full((S, n), np.nan), np.full((S, n), np.nan))
    for s, r in enumerate(reach):
        kept[0][s] = np.where(np.isfinite(r.low), r.low, np.nan)
        kept[1][s] = np.where(np.isfinite(r.high), r.high, np.nan)
    trials = pd.DataFrame(
        {
            "path": np.repeat(path_names, S * n),
            "stage": np.tile(np.repeat(np.arange(1, S + 1), n), n_paths),
            "time": np.tile(np.repeat(stage_end, n), n_paths),
            "table": np.tile(table, n_paths * S),
            "store": np.tile(store, n_paths * S),
            "unit": np.tile(units, n_paths * S),
            "level": trial.ravel(),
            "lower": np.tile(ranges[0], n_paths * S),
            "upper": np.tile(ranges[1], n_paths * S),
            # the levels the stages after can start from (`Reach`: known or found), NaN: any
            "keep_at_least": np.tile(kept[0].ravel(), n_paths),
            "keep_at_most": np.tile(kept[1].ravel(), n_paths),
        }
    )
    start = pd.DataFrame(
        {
            "path": np.repeat(path_names, n),
            "stage": 0,
            "time": snaps[0],
            "table": np.tile(table, n_paths),
            "store": np.tile(store, n_paths),
            "unit": np.tile(units, n_paths),
            "level": np.tile(stage1.matrix.row_lb[stage1.start_rows], n_paths),
            "lower": np.tile(ranges[0], n_paths),
            "upper": np.tile(ranges[1], n_paths),
        }
    )
    trials = pd.concat([start, trials], ignore_index=True)
    values = pd.DataFrame(
        [
            {
                "stage": v["stage"],
                "stage_end": stage_end[v["stage"] - 1],
                "path": v["path"],
                "table": t,
                "store": s,
                "unit": u,
                "level": lv,
                "slope_cny_per_unit": b + 0.0,
                "value_cny_per_unit": -b + 0.0,
            }
            for v in last_values
            for t, s, u, lv, b in zip(table, store, units, v["level"], v["slope"], strict=True)
        ]
    )
    if len(values):
        values = values.sort_values(["stage", "path"], kind="stable").reset_index(drop=True)
    return FutureCostResult(
        str(data.path),
        [(snaps[a], snaps[b - 1]) for a, b in bounds],
        [b * resolution_h for _a, b in bounds],
        resolution_h,
        years,
        p,
        keys,
        list(units),
        cuts,
        pd.DataFrame(history),
        trials,
        values,
        pd.DataFrame({"table": table, "store": store, "lower": ranges[0], "upper": ranges[1]}),
        start_levels(coarse),
        status,
        lower,
        upper,
        rel,
        iteration,
        seconds,
        notes,
        path_names,
        data.case.name,
        reach,
        known,
        path,
    )


def run_future_cost(
    case_path: Path | str,
    out_dir: Path | str | None = None,
    formats: tuple[str, ...] = ("xlsx",),
    changes: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> FutureCostResult:
    """Read a case, build its future-cost function (`future_cost_function`, `settings`) and
    write the sheets `future_cost_cuts`, `future_cost_values`, `future_cost_bounds` and
    `future_cost_levels` to `out_dir`."""
    from gridopt.results.tables import summary_table
    from gridopt.results.write import write_results

    data = load_case(case_path, changes)
    result = future_cost_function(data, progress=progress, **settings)
    if out_dir is not None:
        info = result.summary()
        write_results(
            Path(out_dir),
            {"summary": summary_table(info), **result.tables()},
            info,
            formats,
            progress=progress,
        )
    return result
