"""Capacity expansion: what the `candidates` table may build, in which period, at what cost.

Sets: candidates i (table `candidates`), each extending one rating (p_max_mw, s_max_mw,
p_max_mwth, ...) of one component; investment periods p with first years Y[p], each standing
for n[p] years, discounted years F[p] (`gridopt.inputs.investment`).

Variables: new capacity b[i,q] >= 0 built for period q (unit of the rating), and, for a
candidate built in blocks of size B[i], the whole number of blocks m[i,q] >= 0 with

    b[i,q] = B[i] m[i,q]                                    (rows exp_whole_blocks; a MIP)

and the capacity in service K[c,p] of every extendable rating c in every period:

    K[c,p] = E[c] [Y[p] < R[c]] + h[c] sum_{q <= p, Y[p] < Y[q] + L[i]} b[i,q]   (rows exp_capacity)

where E is the existing rating (the component table's value), R its retirement year
(`existing_retire_year`, blank: never), L[i] the lifetime, and h = 1, except for the energy of a
storage unit whose candidate has `max_hours`: its energy rating follows its power with
h = max_hours. K replaces the fixed rating in the bound rows of each family
(`LinearModel.rating`, `limit_by_rating`). Limits:

    build_min[i] <= sum_q b[i,q] <= build_max[i],   b[i,q] = 0 before build_year_min[i]

Cost of capacity. The capital recovery factor of rate r and lifetime L (years),

    CRF(r, L) = r (1 + r)^L / ((1 + r)^L - 1)          (1 / L when r = 0)

turns the overnight cost I[i] into an annuity; with fixed O&M M[i] per unit and year, capacity
b[i,q] costs every year it is in service

    A[i] = CRF(r[i], L[i]) I[i] + M[i]     (CNY per unit of the rating and year)

and enters the objective as A[i] b[i,q] sum_{p >= q in service} F[p]: the annuities paid in the
years the horizon covers, discounted like the operating costs of those years (capacity built
late pays only the annuities inside the horizon, so no end-of-horizon value is needed). A
single-period case has F = 1: one year of annuity against the operating cost of its horizon.
The existing capacity's own costs are sunk and left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.inputs.investment import candidate_rating
from gridopt.model.core import INF, Capacity, LinearModel
from gridopt.model.tables import region_of

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "expansion"

# unit of each extendable rating, for the result tables
UNITS = {
    "p_max_mw": "MW",
    "s_max_mw": "MW",
    "energy_max_mwh": "MWh",
    "p_max_mwth": "MWth",
    "p_max_reverse_mwth": "MWth",
    "injection_max_mwth": "MWth",
    "withdrawal_max_mwth": "MWth",
    "volume_max_mwh_th": "MWh_th",
}


def crf(rate: np.ndarray | float, lifetime_yr: np.ndarray | float) -> np.ndarray:
    """Capital recovery factor r (1 + r)^L / ((1 + r)^L - 1); 1 / L at r = 0."""
    r = np.asarray(rate, dtype=float)
    n = np.asarray(lifetime_yr, dtype=float)
    grow = (1.0 + r) ** n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 0, r * grow / (grow - 1.0), 1.0 / n)


def candidates(model: LinearModel) -> pd.DataFrame:
    """The candidates of an expansion case, with their rating column, existing capacity,
    annuity and the position of their component in its table."""
    data = model.data
    cand = data.tables["candidates"].copy()
    if not data.expanding or cand.empty:
        return cand.iloc[0:0]
    cand["rating"] = candidate_rating(cand)
    cand["existing"] = np.nan
    cand["position"] = -1
    for (table, column), group in cand.groupby(["table", "rating"], sort=False):
        df = data.tables[table]
        cand.loc[group.index, "existing"] = df[column].reindex(group["component"]).to_numpy()
        cand.loc[group.index, "position"] = df.index.get_indexer(group["component"])
    rate = cand["discount_rate"].fillna(data.expansion.discount_rate).to_numpy()
    cand["crf"] = crf(rate, cand["lifetime_yr"].to_numpy())
    cand["annuity_cny_per_unit_yr"] = (
        cand["crf"] * cand["overnight_cost_cny_per_unit"] + cand["fixed_om_cny_per_unit_yr"]
    )
    return cand


def in_service(model: LinearModel, cand: pd.DataFrame) -> np.ndarray:
    """alive[i,q,p]: capacity of candidate i built for period q is in service in period p."""
    years = model.periods.years.astype(float)
    q, p = years[:, None], years[None, :]
    life = cand["lifetime_yr"].to_numpy()[:, None, None]
    return (q <= p)[None, :, :] & (p[None, :, :] < q[None, :, :] + life)


def existing_stays(model: LinearModel, cand: pd.DataFrame) -> np.ndarray:
    """[Y[p] < R[i]] (n x P): the existing capacity is in service (R blank: always)."""
    years = model.periods.years.astype(float)[None, :]
    retire = cand["existing_retire_year"].to_numpy(dtype=float)[:, None]
    return np.isnan(retire) | (years < retire)


def ratings(cand: pd.DataFrame) -> pd.DataFrame:
    """One row per extendable rating: the candidates' own, plus the energy of storage units
    whose power candidate has max_hours (built with the power, h = max_hours)."""
    own = pd.DataFrame(
        {
            "candidate": cand.index,
            "table": cand["table"].to_numpy(),
            "rating": cand["rating"].to_numpy(),
            "component": cand["component"].to_numpy(),
            "h": 1.0,
        }
    )
    tied = cand[cand["max_hours"].notna()]
    follow = pd.DataFrame(
        {
            "candidate": tied.index,
            "table": "storage_units",
            "rating": "energy_max_mwh",
            "component": tied["component"].to_numpy(),
            "h": tied["max_hours"].to_numpy(dtype=float),
        }
    )
    return pd.concat([own, follow], ignore_index=True)


def build(model: LinearModel) -> None:
    cand = candidates(model)
    if cand.empty:
        return
    tables = model.data.tables
    inv = model.periods
    n, P = len(cand), inv.n
    years = inv.years
    labels = pd.Index([f"{c} {y}" for c in cand.index for y in years])

    buildable = cand["build_year_min"].isna().to_numpy()[:, None] | (
        years[None, :] >= cand["build_year_min"].to_numpy(dtype=float)[:, None]
    )
    build_max = cand["build_max"].fillna(INF).to_numpy()[:, None]
    # one period: the total limits are the column's bounds; several: rows below
    build_min = cand["build_min"].to_numpy(dtype=float)[:, None] if P == 1 else 0.0
    b = model.add_variables(
        "exp_build",
        labels,
        np.where(buildable, build_min, 0.0).reshape(-1, 1),
        np.where(buildable, build_max, 0.0).reshape(-1, 1),
        time=False,
    )
    bcols = b.cols.reshape(n, P)

    blocks = np.flatnonzero(cand["block_size"].notna().to_numpy())
    if len(blocks):
        size = cand["block_size"].to_numpy(dtype=float)[blocks]
        most = np.floor(cand["build_max"].to_numpy(dtype=float)[blocks] / size + 1e-9)
        most = np.where(np.isnan(most), INF, most)[:, None]
        m = model.add_variables(
            "exp_blocks",
            pd.Index([f"{c} {y}" for c in cand.index[blocks] for y in years]),
            0.0,
            np.where(buildable[blocks], most, 0.0).reshape(-1, 1),
            integer=True,
            time=False,
        )
        rows = model.rows(
            "exp_whole_blocks",
            labels[(blocks[:, None] * P + np.arange(P)).ravel()],
            model.snapshots[:1],
            meaning="new capacity of {} in whole blocks",
            unit="unit of the rating",
        )
        rows.add(bcols[blocks].reshape(-1, 1), 1.0)
        rows.add(m.cols, -np.repeat(size, P)[:, None])
        rows.equal(0.0)

    if P > 1:
        for side, bound in (
            ("max", cand["build_max"].to_numpy(dtype=float)),
            ("min", cand["build_min"].to_numpy(dtype=float)),
        ):
            keep = np.flatnonzero(np.isfinite(bound) & ((bound > 0) | (side == "max")))
            if not len(keep):
                continue
            rows = model.rows(
                f"exp_build_{side}",
                cand.index[keep],
                model.snapshots[:1],
                meaning=f"total new capacity of {{}} (build_{side})",
                unit="unit of the rating",
            )
            rows.scatter(np.repeat(np.arange(len(keep)), P), bcols[keep].ravel(), 1.0)
            (rows.less if side == "max" else rows.greater)(bound[keep, None])

    alive = in_service(model, cand)
    model.add_cost(
        bcols,
        cand["annuity_cny_per_unit_yr"].to_numpy()[:, None]
        * (alive * inv.factor[None, None, :]).sum(axis=2),
    )

    spec = ratings(cand)
    stays = existing_stays(model, cand)
    pos = cand.index.get_indexer(spec["candidate"])
    for (table, column), group in spec.groupby(["table", "rating"], sort=False):
        g = group.index.to_numpy()
        i = pos[g]
        k = len(g)
        h = spec["h"].to_numpy()[g]
        own = tables[table][column].reindex(spec["component"].to_numpy()[g]).to_numpy(float)
        # a tied storage unit's existing energy retires with its existing power
        base = own[:, None] * stays[i]
        # most in service: every build allowed while it lasts (no limit: infinite)
        most = base + h[:, None] * np.where(
            alive[i] & buildable[i][:, :, None], build_max[i][:, :, None], 0.0
        ).sum(axis=1)
        names = pd.Index([f"{c} {y}" for c in spec["component"].to_numpy()[g] for y in years])
        cap = model.add_variables(f"exp_capacity_{table}_{column}", names, 0.0, INF, time=False)
        ccols = cap.cols.reshape(k, P)
        rows = model.rows(
            f"exp_in_service_{table}_{column}",
            names,
            model.snapshots[:1],
            meaning=f"{column} of {{}} in service",
            unit=UNITS[column],
        )
        rows.add(cap.cols, 1.0)
        # sum over the builds q in service in p: one term per (q, p) pair
        for q in range(P):  # a handful of periods
            coef = -(h[:, None] * alive[i, q, :])
            rows.add(np.repeat(bcols[i, q][:, None], P, axis=1).reshape(-1, 1), coef.reshape(-1, 1))
        rows.equal(base.reshape(-1, 1))
        model.capacities[(table, column)] = Capacity(
            positions=tables[table].index.get_indexer(spec["component"].to_numpy()[g]),
            cols=ccols,
            upper=most.max(axis=1),
        )


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    cand = candidates(model)
    if cand.empty:
        return {}
    tables = model.data.tables
    inv = model.periods
    years = inv.years
    P = inv.n
    b = sol.x[model.variables["exp_build"].cols.reshape(len(cand), P)]
    spec = ratings(cand)
    pos = cand.index.get_indexer(spec["candidate"])
    stays = existing_stays(model, cand)
    capacity = []
    for (table, column), group in spec.groupby(["table", "rating"], sort=False):
        cap = model.capacities[(table, column)]
        g = group.index.to_numpy()
        total = sol.x[cap.cols]
        built = spec["h"].to_numpy()[g, None] * b[pos[g]]
        retired = np.zeros_like(total)
        retired[:, 1:] = total[:, :-1] + built[:, 1:] - total[:, 1:]
        comps = spec["component"].to_numpy()[g]
        own = tables[table][column].reindex(comps).to_numpy(dtype=float)
        bus, carrier = _labels(tables, table, comps)
        capacity.append(
            pd.DataFrame(
                {
                    "table": table,
                    "component": np.repeat(comps, P),
                    "rating": column,
                    "unit": UNITS[column],
                    "region": np.repeat(region_of(tables, bus), P),
                    "carrier": np.repeat(carrier, P),
                    "period": np.tile(years, len(g)),
                    "existing_initial": np.repeat(own, P),
                    "existing": (own[:, None] * stays[pos[g]]).ravel() + 0.0,
                    "built": built.ravel() + 0.0,
                    "retired": np.maximum(retired, 0.0).ravel() + 0.0,
                    "total": total.ravel() + 0.0,
                }
            )
        )
    alive = in_service(model, cand)
    discounted = cand["annuity_cny_per_unit_yr"].to_numpy()[:, None] * (
        alive * inv.factor[None, None, :]
    ).sum(axis=2)
    blocks = np.full_like(b, np.nan)
    if model.has("exp_blocks"):
        d = np.flatnonzero(cand["block_size"].notna().to_numpy())
        blocks[d] = sol.x[model.variables["exp_blocks"].cols.reshape(len(d), P)]
    investment = pd.DataFrame(
        {
            "candidate": np.repeat(cand.index.to_numpy(), P),
            "table": np.repeat(cand["table"].to_numpy(), P),
            "component": np.repeat(cand["component"].to_numpy(), P),
            "rating": np.repeat(cand["rating"].to_numpy(), P),
            "unit": np.repeat(cand["rating"].map(UNITS).to_numpy(), P),
            "period": np.tile(years, len(cand)),
            "built": b.ravel() + 0.0,
            "blocks": blocks.ravel() + 0.0,
            "overnight_cost_cny": (
                cand["overnight_cost_cny_per_unit"].to_numpy()[:, None] * b
            ).ravel()
            + 0.0,
            "crf": np.repeat(cand["crf"].to_numpy(), P),
            "annuity_cny_per_unit_yr": np.repeat(cand["annuity_cny_per_unit_yr"].to_numpy(), P),
            "annual_cost_cny_per_yr": (
                cand["annuity_cny_per_unit_yr"].to_numpy()[:, None] * b
            ).ravel()
            + 0.0,
            "objective_cny": (discounted * b).ravel() + 0.0,
        }
    )
    bus = pd.Series(index=cand.index, dtype=object)
    carrier = pd.Series(index=cand.index, dtype=object)
    for table, group in cand.groupby("table", sort=False):
        bus[group.index], carrier[group.index] = _labels(
            tables, table, group["component"].to_numpy()
        )
    costs = pd.DataFrame(
        {
            "component": "candidate",
            "name": cand.index,
            "region": region_of(tables, pd.Series(bus.to_numpy())),
            "carrier": carrier.to_numpy(),
            "cost_type": "investment and fixed O&M (annuities, discounted)",
            "cost_cny": (discounted * b).sum(axis=1) + 0.0,
        }
    )
    return {
        "capacity": pd.concat(capacity, ignore_index=True),
        "investment": investment,
        "costs": costs,
        "expansion_costs": costs_by_period(sol, discounted * b),
    }


def costs_by_period(sol: Solution, investment_cny: np.ndarray) -> pd.DataFrame:
    """The objective split by period: investment (the annuities of the capacity built for the
    period, discounted over the periods it serves), operation (every per-snapshot cost of the
    period's snapshots, weighted and discounted as in the objective, and per year of the
    period: divided by F[p]) and any other cost (not tied to a snapshot) in the first row."""
    model = sol.model
    inv = model.periods
    c = model.cost_vector()
    operating = np.zeros(inv.n)
    timed = np.zeros(model.n_cols, dtype=bool)
    for block in model.variables.values():
        if block.timed:
            timed[block.cols] = True
            per_snapshot = (c[block.cols] * sol.x[block.cols]).sum(axis=0)
            operating += np.bincount(model.investment_period, per_snapshot, minlength=inv.n)
    build = investment_cny.sum(axis=0)
    other = np.zeros(inv.n)
    other[0] = float(c[~timed] @ sol.x[~timed]) - build.sum() + model.cost_constant
    return pd.DataFrame(
        {
            "period": inv.years,
            "years": inv.span_yr,
            "discounted_years": inv.factor,
            "investment_cny": build + 0.0,
            "operation_cny": operating + 0.0,
            "operation_cny_per_yr": operating / inv.factor + 0.0,
            "other_cny": other + 0.0,
            "total_cny": build + operating + other + 0.0,
        }
    )


def _labels(
    tables: dict[str, pd.DataFrame], table: str, comps: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    """Bus (bus, or bus0 of a branch; none on the gas side) and carrier of components."""
    df = tables[table].reindex(comps)
    col = "bus" if "bus" in df else ("bus0" if "bus0" in df else None)
    bus = pd.Series(df[col].to_numpy() if col else np.full(len(comps), None), dtype=object)
    carrier = df["carrier"].to_numpy() if "carrier" in df else np.full(len(comps), "gas")
    return bus, carrier.astype(object)
