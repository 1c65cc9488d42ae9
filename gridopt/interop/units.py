"""A case with its committable clusters split into single units, for tools that commit units
one by one (PyPSA: one Generator, one binary status per snapshot, per unit).

A generator row with `units` = N > 1 is N identical units of rating P = p_max_mw / N
(`gridopt.model.commitment`). `expand_units` replaces it by N rows `<name> unit 1` ..
`<name> unit N`, each with

    p_max_mw = P,  p_min_mw = p_min_mw / N,  ramp_up/down_mw_per_h = ramp / N,  units = 1,

the same availability profile, per-unit data (stable minimum, minimum times, start cost,
start-up and shut-down capability) and fuel, and units_on_initial 1 for the first U0 units and
0 for the others (the hours in that state unchanged). The cluster's rows (1)-(5) are exact for
identical units and its ramp rows (6)-(7) a relaxation of the units' own, so the clustered
optimum is at most the expanded one, and the two are equal when the cluster has no ramp
limit or its optimal schedule can share the ramps among its units
(`tests/test_commitment.py`, `tests/test_commitment_pypsa.py`).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.data import CaseData

PER_ROW = ("p_max_mw", "p_min_mw", "ramp_up_mw_per_h", "ramp_down_mw_per_h")


def unit_names(name: str, n: int) -> list[str]:
    """The names of the units of a cluster row."""
    return [f"{name} unit {k}" for k in range(1, n + 1)]


def expand_units(data: CaseData) -> CaseData:
    """A copy of `data` in which every committable row of several units is one row per unit.

    Raises `InputError` where a new name is taken already or a security zone names a cluster
    (the zone would have to be rewritten unit by unit).
    """
    gens = data.tables["generators"]
    n = pd.to_numeric(gens["units"]).to_numpy(dtype=int)
    split = gens["committable"].astype(bool).to_numpy() & (n > 1)
    if not split.any():
        return data
    clusters = gens.index[split]
    counts = n[split]
    names = [u for name, k in zip(clusters, counts, strict=True) for u in unit_names(name, k)]
    problems = []
    taken = gens.index.intersection(names)
    if len(taken):
        problems.append(
            Problem(
                str(data.path),
                "unit names of expanded clusters are taken"
                f" already: {', '.join(map(str, taken[:5]))}",
            )
        )
    for zone in data.security_zones:
        named = (
            set(zone.units or [])
            | set(zone.unit_mw)
            | {el.name for el in zone.imports if el.kind == "generator"}
        )
        if named & set(clusters):
            problems.append(
                Problem(
                    str(data.path),
                    f"security zone '{zone.name}' names"
                    " clusters that would be split into units: "
                    + ", ".join(sorted(named & set(clusters))),
                )
            )
    if problems:
        raise InputError(problems)

    rows = np.repeat(np.flatnonzero(split), counts)
    units = gens.iloc[rows].copy()
    per = np.repeat(counts, counts).astype(float)
    for column in PER_ROW:
        units[column] = units[column].to_numpy(dtype=float) / per
    units["units"] = 1
    # the first U0 units of a cluster are on before the horizon (blank U0: all of them)
    k = np.concatenate([np.arange(c) for c in counts])
    on0 = pd.to_numeric(units["units_on_initial"]).to_numpy(dtype=float)
    units["units_on_initial"] = np.where(np.isnan(on0), np.nan, (k < on0).astype(float))
    units.index = pd.Index(names, name=gens.index.name)

    out = copy.copy(data)
    out.tables = dict(data.tables)
    out.tables["generators"] = pd.concat([gens[~split], units])
    avail = data.availability_pu
    out.availability_pu = pd.concat(
        [
            avail.drop(columns=clusters),
            avail[clusters[np.repeat(np.arange(len(clusters)), counts)]].set_axis(names, axis=1),
        ],
        axis=1,
    )
    return out
