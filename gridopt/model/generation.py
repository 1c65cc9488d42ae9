"""Generators: output limits, availability of wind and solar, ramping, fuel cost.

Variables: p[g,t] (MW).

    p_min[g] <= p[g,t] <= p_max[g] * a[g,t]            (a: availability profile, 1 if none)
    p[g,t] - p[g,t-1] <= ramp_up[g] * w[t]             (where a ramp limit is given)
    p[g,t-1] - p[g,t] <= ramp_down[g] * w[t]
    cost = sum_t w[t] * (c[g] * p[g,t] + k * (p_max[g] * a[g,t] - p[g,t]))

with w[t] the snapshot length in hours and k the case's curtailment penalty (applied to
generators with an availability profile only).

In a uc case, committable rows have 0 <= p[g,t] <= p_max[g] * a[g,t] here: their stable minimum
(which replaces p_min) and their ramp limits come from the units on, in
`gridopt.model.commitment`. A dispatch case treats committable rows as any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridopt.case import CaseData
from gridopt.model.core import LinearModel
from gridopt.solve import Solution
from gridopt.tables import region_of, tidy

NAME = "generation"


def committed(data: CaseData) -> np.ndarray:
    """Generators whose output limits and ramps come from unit commitment (uc cases only)."""
    gens = data.tables["generators"]
    if data.case.model != "uc":
        return np.zeros(len(gens), dtype=bool)
    return gens["committable"].to_numpy(dtype=bool)


def available_mw(model: LinearModel) -> np.ndarray:
    gens = model.data.tables["generators"]
    avail = model.data.availability_pu[gens.index].to_numpy().T
    return gens["p_max_mw"].to_numpy()[:, None] * avail


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
    w = model.w

    cost = gens["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * w[None, :]
    penalty = model.data.case.curtailment_penalty_cny_per_mwh
    variable = gens["availability_profile"].notna().to_numpy()
    if penalty > 0 and variable.any():
        cost = cost - penalty * w[None, :] * variable[:, None]
        model.cost_constant += float(penalty * (w[None, :] * upper)[variable].sum())
    model.add_cost(p.cols, cost)
    model.add_injection(NAME, gens["bus"], p.cols, 1.0)

    for column, sign in (("ramp_up_mw_per_h", 1.0), ("ramp_down_mw_per_h", -1.0)):
        limited = gens[column].notna().to_numpy() & ~uc
        if not limited.any() or model.T < 2:
            continue
        idx = np.flatnonzero(limited)
        rows = model.rows(f"gen_{column.removesuffix('_mw_per_h')}", gens.index[idx],
                          model.snapshots[1:])
        rows.add(p.cols[idx, 1:], sign).add(p.cols[idx, :-1], -sign)
        rows.less(gens[column].to_numpy()[idx, None] * w[None, 1:])


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    gens = model.data.tables["generators"]
    if gens.empty:
        return {}
    p = sol.value("gen_p")
    w = model.w[None, :]
    attrs = pd.DataFrame({"bus": gens["bus"], "region": region_of(model.data.tables, gens["bus"]),
                          "carrier": gens["carrier"]}, index=gens.index)
    co2 = gens["co2_t_per_mwh"].to_numpy()[:, None] * p * w
    generation = tidy(model.snapshots, gens.index, "generator",
                      {"p_mw": p, "energy_mwh": p * w, "co2_t": co2}, attrs)
    variable = gens["availability_profile"].notna().to_numpy()
    avail = available_mw(model)
    curtail = tidy(model.snapshots, gens.index[variable], "generator",
                   {"available_mw": avail[variable], "p_mw": p[variable],
                    "curtailed_mw": np.maximum(avail[variable] - p[variable], 0.0)},
                   attrs[variable])
    fuel = gens["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * p * w
    costs = pd.DataFrame({
        "component": "generator", "name": gens.index, "region": attrs["region"].to_numpy(),
        "carrier": gens["carrier"].to_numpy(),
        # a plant on a gas node buys its fuel through the gas balance (gas_supply costs)
        "cost_type": np.where(gens["gas_node"].notna(), "variable (O&M; fuel bought as gas)",
                              "variable (fuel and O&M)"),
        "cost_cny": fuel.sum(axis=1),
    })
    penalty = model.data.case.curtailment_penalty_cny_per_mwh
    if penalty > 0 and variable.any():
        pen = penalty * ((avail - p) * w)[variable].sum(axis=1)
        costs = pd.concat([costs, pd.DataFrame({
            "component": "generator", "name": gens.index[variable],
            "region": attrs["region"].to_numpy()[variable],
            "carrier": gens["carrier"].to_numpy()[variable],
            "cost_type": "curtailment penalty", "cost_cny": pen})], ignore_index=True)
    return {"generation": generation, "curtailment": curtail, "costs": costs}
