"""Generators: output limits, availability of wind and solar, ramping, fuel cost.

Variables: p[g,t] (MW).

    p_min[g] <= p[g,t] <= p_max[g] * a[g,t]            (a: availability profile, 1 if none)
    p[g,t] - p[g,t-1] <= ramp_up[g] * w[t]             (where a ramp limit is given)
    p[g,t-1] - p[g,t] <= ramp_down[g] * w[t]
    cost = sum_t w[t] * (c[g] * p[g,t] + q[g] * p[g,t]^2 + k * (p_max[g] * a[g,t] - p[g,t]))

with w[t] the snapshot length in hours, q[g] >= 0 the quadratic cost term (a QP where any is
set; `LinearModel.add_quadratic_cost`) and k the case's curtailment penalty (applied to
generators with an availability profile only). In an expansion case p_max[g] of a generator
with a candidate is its capacity built in the snapshot's period (`LinearModel.rating`).

The ramp rows link each snapshot to the one before it (`LinearModel.transitions`). In a
chronological case they also hold into the first snapshot, t = 0, for generators whose output
before the horizon p[g,-1] = `p_initial_mw` is given (a constant; a window of a rolling run
carries it from the window before): `ramp_steps` and `output_change` write these rows' left
side, for this family and for the ramp rows of unit commitment.

In a uc case, committable rows have 0 <= p[g,t] <= p_max[g] * a[g,t] here: their stable minimum
(which replaces p_min) and their ramp limits come from the units on, in
`gridopt.model.commitment`. A dispatch case treats committable rows as any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.model.core import INF, LinearModel, Rows
from gridopt.model.stores import Carried, Past
from gridopt.model.tables import region_of, tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "generation"


def committed(data: CaseData) -> np.ndarray:
    """Generators whose output limits and ramps come from unit commitment (uc cases only)."""
    gens = data.tables["generators"]
    if data.case.model != "uc":
        return np.zeros(len(gens), dtype=bool)
    return gens["committable"].to_numpy(dtype=bool)


def availability_pu(model: LinearModel) -> np.ndarray:
    gens = model.data.tables["generators"]
    return model.data.availability_pu[gens.index].to_numpy().T


def available_mw(model: LinearModel, x: np.ndarray | None = None) -> np.ndarray:
    """Most output per generator and snapshot, MW: rating x availability. The rating of an
    extendable generator is the most it can reach, or, given a solution `x`, the capacity
    built."""
    if x is not None:
        rating = model.rating_per_snapshot("generators", "p_max_mw", x)
    else:
        rating = model.rating("generators", "p_max_mw")[:, None]
    avail = availability_pu(model)
    # an extendable generator without a build limit has no finite rating: 0 where unavailable
    return np.where(avail > 0, rating * np.where(avail > 0, avail, 1.0), 0.0)


def build(model: LinearModel) -> None:
    gens = model.data.tables["generators"]
    if gens.empty:
        return
    upper = available_mw(model)
    # a must-run floor cannot exceed what the weather allows
    lower = np.minimum(gens["p_min_mw"].to_numpy()[:, None], upper)
    uc = committed(model.data)
    lower[uc] = 0.0
    p = model.add_variables("gen_p", gens.index, lower, upper)
    model.limit_by_rating(p, "generators", "p_max_mw", availability_pu(model))
    w = model.w

    cost = gens["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * w[None, :]
    penalty = model.data.case.curtailment_penalty_cny_per_mwh
    variable = gens["availability_profile"].notna().to_numpy()
    if penalty > 0 and variable.any():
        cost = cost - penalty * w[None, :] * variable[:, None]
        model.cost_constant += float(penalty * (w[None, :] * upper)[variable].sum())
    model.add_cost(p.cols, cost)
    quadratic = gens["quadratic_cost_cny_per_mw2h"].to_numpy(dtype=float)
    if (quadratic > 0).any():
        model.add_quadratic_cost(p.cols, quadratic[:, None] * w[None, :])
    model.add_injection(NAME, gens["bus"], p.cols, 1.0)

    for column, sign in (("ramp_up_mw_per_h", 1.0), ("ramp_down_mw_per_h", -1.0)):
        idx = np.flatnonzero(gens[column].notna().to_numpy() & ~uc)
        now, before, initial = ramp_steps(model, idx)
        if not len(idx) or not len(now):
            continue
        rows = model.rows(
            f"gen_{column.removesuffix('_mw_per_h')}", gens.index[idx], model.snapshots[now]
        )
        shift = output_change(rows, p.cols[idx], now, before, initial, sign)
        rows.less(gens[column].to_numpy()[idx, None] * model.dt[None, now] + shift)


def ramp_steps(model: LinearModel, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The steps (t, t-1) that ramp rows of generators `idx` (table positions) are written for.

    Returns `now` and `before` (snapshot positions, as `LinearModel.transitions`) and the output
    before the horizon as each row sees it, (k x steps): 0 everywhere but in a first step
    (t = 0, before = -1) that a chronological case adds when some of the generators have
    `p_initial_mw`; there it is p_initial_mw, NaN for a generator without one.
    """
    now, before = model.transitions()  # t and t-1 (inside a typical period)
    initial = np.zeros((len(idx), len(now)))
    p0 = model.data.tables["generators"]["p_initial_mw"].to_numpy(dtype=float)[idx]
    if not model.aggregated and model.T and np.isfinite(p0).any():
        now, before = np.append(0, now), np.append(-1, before)
        initial = np.column_stack([p0, initial])
    return now, before, initial


def output_change(
    rows: Rows,
    p_cols: np.ndarray,
    now: np.ndarray,
    before: np.ndarray,
    initial: np.ndarray,
    sign: float,
) -> np.ndarray:
    """Add sign * (p[g,now] - p[g,before]) to ramp rows (`ramp_steps`); p[g,-1] is a constant.

    Returns what the right-hand side gains: sign * p[g,-1] in the step from before the
    horizon (+inf where that output is unknown: the row then limits nothing), else 0.
    """
    inside = before >= 0
    rows.add(p_cols[:, now], sign).add(
        p_cols[:, np.maximum(before, 0)], np.where(inside, -sign, 0.0)[None, :]
    )
    return np.where(np.isnan(initial), INF, sign * initial)


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    gens = model.data.tables["generators"]
    if gens.empty:
        return {}
    p = sol.value("gen_p")
    w = model.w[None, :]
    attrs = pd.DataFrame(
        {
            "bus": gens["bus"],
            "region": region_of(model.data.tables, gens["bus"]),
            "carrier": gens["carrier"],
        },
        index=gens.index,
    )
    co2 = gens["co2_t_per_mwh"].to_numpy()[:, None] * p * w
    generation = tidy(
        model.snapshots,
        gens.index,
        "generator",
        {"p_mw": p, "energy_mwh": p * w, "co2_t": co2},
        attrs,
    )
    variable = gens["availability_profile"].notna().to_numpy()
    avail = available_mw(model, sol.x)
    curtail = tidy(
        model.snapshots,
        gens.index[variable],
        "generator",
        {
            "available_mw": avail[variable],
            "p_mw": p[variable],
            "curtailed_mw": np.maximum(avail[variable] - p[variable], 0.0),
        },
        attrs[variable],
    )
    fuel = (
        gens["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * p
        + gens["quadratic_cost_cny_per_mw2h"].to_numpy(dtype=float)[:, None] * p**2
    ) * w
    costs = pd.DataFrame(
        {
            "component": "generator",
            "name": gens.index,
            "region": attrs["region"].to_numpy(),
            "carrier": gens["carrier"].to_numpy(),
            # a plant on a gas node buys its fuel through the gas balance (gas_supply costs)
            "cost_type": np.where(
                gens["gas_node"].notna(),
                "variable (O&M; fuel bought as gas)",
                "variable (fuel and O&M)",
            ),
            "cost_cny": fuel.sum(axis=1),
        }
    )
    penalty = model.data.case.curtailment_penalty_cny_per_mwh
    if penalty > 0 and variable.any():
        pen = penalty * ((avail - p) * w)[variable].sum(axis=1)
        costs = pd.concat(
            [
                costs,
                pd.DataFrame(
                    {
                        "component": "generator",
                        "name": gens.index[variable],
                        "region": attrs["region"].to_numpy()[variable],
                        "carrier": gens["carrier"].to_numpy()[variable],
                        "cost_type": "curtailment penalty",
                        "cost_cny": pen,
                    }
                ),
            ],
            ignore_index=True,
        )
    return {"generation": generation, "curtailment": curtail, "costs": costs}


def carry(sol: Solution, k: int, past: Past) -> Carried:
    """Each generator's output in snapshot k-1 (`p_initial_mw`), so that ramp limits hold into
    the next piece's first hour."""
    p = np.maximum(sol.value("gen_p")[:, k - 1], 0.0)
    return Carried(
        columns={
            ("generators", "p_initial_mw"): pd.Series(
                p, index=sol.model.variables["gen_p"].components
            )
        }
    )
