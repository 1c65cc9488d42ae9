"""Policy of an expansion case (`expansion.policy`): CO2 caps and prices, least shares of demand
met by clean carriers, and build rates. The dual of every policy row is its shadow price.

With k[t] the sample weight and w[t] the hours of snapshot t, T(p) the snapshots of period p,
p[g,t] the output of generator g (`generation`), q[h,t] the turbined flow of hydro station h
(`hydro`, output c[h] q[h,t]) and e[g] the CO2 factor of g (t/MWh), the rows are, per year of
period p:

    sum_{t in T(p)} k[t] w[t] sum_g e[g] p[g,t] <= cap[p]                     (policy_co2_cap)

    sum_{t in T(p)} k[t] w[t] (sum_{g in G} p[g,t] + sum_{h in H} c[h] q[h,t])
        >= s sum_{t in T(p)} k[t] w[t] D_R[t]                                    (policy_share)
        <= S sum_{t in T(p)} k[t] w[t] D_R[t]                                (policy_share_max)

    sum_{i in C} b[i,p] <= rate n[p]                                            (policy_build_rate)

    sum_{l in L} length_km[l] K[l,p] <= max_mwkm                    (policy_transmission_volume)

G and H are the generators and hydro stations of the share's carriers (flagged renewable, not
flagged fossil, or listed) in its regions, D_R the demand of those regions, C the candidates
for the power (p_max_mw) of generators and storage units of the rate's regions and carriers,
b the capacity they build for period p (`expansion`), n[p] the years of the period, L the
lines and links of the volume limit's carriers whose rating (s_max_mw, p_max_mw) is extendable
and K[l,p] that rating in service in period p. A CO2
price P[p] adds P[p] e[g] w[t] p[g,t] to the cost of every snapshot of period p (weighted like
all operating costs by k[t] F[p]).

The cap and share rows are divided by 8,760 in the model (t CO2 per hour, MW on average) so
that their sides stay of the order of the other rows; the tables report them per year again.
Shadow prices are reported per unit of the row in one year of the period, undiscounted: the
row's dual divided by the period's discounted years F[p], sign turned so that a binding limit
has a positive price (CNY per t CO2 for a cap; CNY per MWh of clean energy for a share); a
build rate's price is its dual as it is, CNY (discounted, as the objective) per MW of limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "policy"
# caps and shares are written per hour of the year (t/h, MW on average) rather than per year:
# rows of 1e9 t or MWh would leave the solver's absolute tolerances meaningless
PER_YEAR = 8760.0


def _policy(model: LinearModel):
    return model.data.expansion.policy if model.data.expanding else None


def _periods_of(entry_periods: object, years: np.ndarray) -> np.ndarray:
    """Positions of the periods a policy entry applies to."""
    if entry_periods == "all":
        return np.arange(len(years))
    return np.flatnonzero(np.isin(years, np.asarray(entry_periods)))


def _energy_weight(model: LinearModel) -> np.ndarray:
    """k[t] w[t]: hours of the year that each snapshot stands for in its period."""
    return model.periods.sample_weight * model.w


def _qualifying(model: LinearModel, table: str, carriers: str | list[str]) -> np.ndarray:
    """Which rows of `generators` or `hydro` count for a share of these carriers."""
    tables = model.data.tables
    carrier = tables[table]["carrier"]
    flags = tables["carriers"]
    if carriers == "renewable":
        return carrier.map(flags["renewable"]).fillna(False).to_numpy(dtype=bool)
    if carriers == "non_fossil":
        return ~carrier.map(flags["fossil"]).fillna(False).to_numpy(dtype=bool)
    return carrier.isin(list(carriers)).to_numpy()


def _in_regions(model: LinearModel, buses: pd.Series, regions: str | list[str]) -> np.ndarray:
    if regions == "all":
        return np.ones(len(buses), dtype=bool)
    region = model.data.tables["buses"]["region"].reindex(buses).to_numpy()
    return np.isin(region, list(regions))


def share_demand_mwh(model: LinearModel, regions: str | list[str]) -> np.ndarray:
    """Demand of the regions per period, MWh per year of the period."""
    loads = model.data.tables["loads"]
    mask = _in_regions(model, loads["bus"], regions)
    demand = model.data.load_mw[loads.index[mask]].to_numpy().sum(axis=1)
    return np.bincount(
        model.investment_period, demand * _energy_weight(model), minlength=model.periods.n
    )


def _share_rows(model: LinearModel, shares: list, side: str, name: str) -> None:
    """The share rows of one side (least shares: `policy_share`; most: `policy_share_max`)."""
    years = model.periods.years
    per = model.investment_period
    kw = _energy_weight(model)
    gens = model.data.tables["generators"]
    p = model.variables.get("gen_p")
    labels, rhs, terms = [], [], []
    hydro = model.data.tables["hydro"]
    q = model.variables.get("hydro_turbine")
    for e in shares:
        ps = _periods_of(e.periods, years)
        demand = share_demand_mwh(model, e.regions)
        g = np.flatnonzero(
            _qualifying(model, "generators", e.carriers)
            & _in_regions(model, gens["bus"], e.regions)
        )
        h = (
            np.flatnonzero(
                _qualifying(model, "hydro", e.carriers)
                & _in_regions(model, hydro["bus"], e.regions)
            )
            if len(hydro)
            else np.zeros(0, dtype=int)
        )
        for j in ps:
            labels.append(f"{e.name} {years[j]}")
            rhs.append(getattr(e, f"share_{side}") * demand[j])
            terms.append((len(labels) - 1, j, g, h))
    rows = model.rows(
        name,
        pd.Index(labels),
        model.snapshots[:1],
        meaning="{}",
        unit="MW on average over the year",
        below="energy of the carriers short by",
        above="energy of the carriers over the share by",
    )
    conv = hydro["mw_per_m3s"].to_numpy(dtype=float) if len(hydro) else np.zeros(0)
    for row, j, g, h in terms:  # one per share and period
        t = np.flatnonzero(per == j)
        if len(g) and p is not None:
            rows.scatter(
                np.full((len(g), len(t)), row),
                p.cols[np.ix_(g, t)],
                np.broadcast_to(kw[t][None, :] / PER_YEAR, (len(g), len(t))),
            )
        if len(h) and q is not None:
            rows.scatter(
                np.full((len(h), len(t)), row),
                q.cols[np.ix_(h, t)],
                conv[h][:, None] * kw[t][None, :] / PER_YEAR,
            )
    bound = np.array(rhs)[:, None] / PER_YEAR
    if side == "min":
        rows.greater(bound)
    else:
        rows.less(bound)


def build(model: LinearModel) -> None:
    policy = _policy(model)
    if policy is None:
        return
    inv = model.periods
    years = inv.years
    per = model.investment_period
    kw = _energy_weight(model)
    gens = model.data.tables["generators"]
    co2 = gens["co2_t_per_mwh"].to_numpy(dtype=float)
    p = model.variables.get("gen_p")

    if policy.co2_price_cny_per_t and p is not None:
        price = np.array([policy.co2_price_cny_per_t.get(int(y), 0.0) for y in years])
        model.add_cost(p.cols, co2[:, None] * price[per][None, :] * model.w[None, :])

    capped = [i for i, y in enumerate(years) if int(y) in policy.co2_cap_t_per_yr]
    if capped and p is not None:
        rows = model.rows(
            "policy_co2_cap",
            pd.Index([f"CO2 cap {years[i]}" for i in capped]),
            model.snapshots[:1],
            meaning="{}",
            unit="t CO2 per hour of the year",
            above="emissions over the cap by",
        )
        slot = np.full(inv.n, -1)
        slot[capped] = np.arange(len(capped))
        use = slot[per] >= 0
        rows.scatter(
            np.broadcast_to(slot[per][None, use], (len(gens), use.sum())),
            p.cols[:, use],
            co2[:, None] * kw[None, use] / PER_YEAR,
        )
        rows.less(
            np.array([policy.co2_cap_t_per_yr[int(years[i])] for i in capped])[:, None] / PER_YEAR
        )

    for side, name in (("min", "policy_share"), ("max", "policy_share_max")):
        shares = [e for e in policy.shares if getattr(e, f"share_{side}") is not None]
        if shares:
            _share_rows(model, shares, side, name)

    b = model.variables.get("exp_build")
    if policy.build_rates and b is not None:
        from gridopt.model.expansion import candidates

        cand = candidates(model)
        bcols = b.cols.reshape(len(cand), inv.n)
        power = (cand["rating"] == "p_max_mw") & cand["table"].isin(["generators", "storage_units"])
        labels, rhs, members = [], [], []
        for e in policy.build_rates:
            chosen = np.zeros(len(cand), dtype=bool)
            for table in ("generators", "storage_units"):
                mine = (power & (cand["table"] == table)).to_numpy()
                df = model.data.tables[table].reindex(cand["component"][mine])
                ok = _in_regions(model, df["bus"], e.regions)
                if e.carriers != "all":
                    ok &= df["carrier"].isin(list(e.carriers)).to_numpy()
                chosen[np.flatnonzero(mine)[ok]] = True
            for j in _periods_of(e.periods, years):
                labels.append(f"{e.name} {years[j]}")
                rhs.append(e.max_mw_per_yr * inv.span_yr[j])
                members.append((np.flatnonzero(chosen), j))
        rows = model.rows(
            "policy_build_rate",
            pd.Index(labels),
            model.snapshots[:1],
            meaning="{}",
            unit="MW per period",
            above="built over the rate by",
        )
        for row, (idx, j) in enumerate(members):
            if len(idx):
                rows.scatter(np.full(len(idx), row), bcols[idx, j], 1.0)
        rows.less(np.array(rhs)[:, None])

    if policy.transmission_volume:
        _transmission_volume(model, policy.transmission_volume)


def _transmission_volume(model: LinearModel, entries: list) -> None:
    """Rows policy_transmission_volume (module docstring), one per entry and period."""
    years = model.periods.years
    labels, rhs, terms = [], [], []
    for e in entries:
        for j in _periods_of(e.periods, years):
            labels.append(f"{e.name} {years[j]}")
            rhs.append(e.max_mwkm)
            for table, column in (("lines", "s_max_mw"), ("links", "p_max_mw")):
                cap = model.capacities.get((table, column))
                if cap is None:
                    continue
                df = model.data.tables[table].iloc[cap.positions]
                mine = (
                    np.ones(len(df), dtype=bool)
                    if e.carriers == "all"
                    else df["carrier"].isin(list(e.carriers)).to_numpy()
                )
                length = df["length_km"].fillna(0.0).to_numpy(dtype=float)
                terms.append((len(labels) - 1, cap.cols[mine, j], length[mine]))
    rows = model.rows(
        "policy_transmission_volume",
        pd.Index(labels),
        model.snapshots[:1],
        meaning="{}",
        unit="MW km",
        above="transmission volume over the limit by",
    )
    for row, cols, coef in terms:
        if len(cols):
            rows.scatter(np.full(len(cols), row), cols, coef)
    rows.less(np.array(rhs)[:, None])


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    policy = _policy(model)
    if policy is None:
        return {}
    inv = model.periods
    years = inv.years
    per = model.investment_period
    kw = _energy_weight(model)
    out: dict[str, pd.DataFrame] = {}
    gens = model.data.tables["generators"]
    if model.has("gen_p"):
        p = sol.value("gen_p")
        emitted = np.bincount(
            per, (gens["co2_t_per_mwh"].to_numpy()[:, None] * p).sum(axis=0) * kw, minlength=inv.n
        )
        cap = np.array([policy.co2_cap_t_per_yr.get(int(y), np.nan) for y in years])
        price = np.array([policy.co2_price_cny_per_t.get(int(y), 0.0) for y in years])
        shadow = np.full(inv.n, np.nan)
        if "policy_co2_cap" in model.row_blocks:
            capped = np.flatnonzero(~np.isnan(cap))
            shadow[capped] = -sol.dual("policy_co2_cap")[:, 0] / PER_YEAR / inv.factor[capped]
        out["co2"] = pd.DataFrame(
            {
                "period": years,
                "years": inv.span_yr,
                "co2_t_per_yr": emitted + 0.0,
                "cap_t_per_yr": cap,
                "co2_price_cny_per_t": price,
                "cap_shadow_price_cny_per_t": shadow + 0.0,
            }
        )
    parts = []
    for name, kind, unit, sign in (
        ("policy_co2_cap", "co2 cap", "CNY/t CO2", -1.0),
        ("policy_share", "share", "CNY/MWh", 1.0),
        ("policy_share_max", "share max", "CNY/MWh", -1.0),
        ("policy_build_rate", "build rate", "CNY/MW (discounted)", -1.0),
        ("policy_transmission_volume", "transmission volume", "CNY/MWkm (discounted)", -1.0),
    ):
        block = model.row_blocks.get(name)
        if block is None:
            continue
        rows = slice(block.first_row, block.first_row + block.shape[0])
        A = block.constraint.csr  # over the columns that existed when it was built
        # back to t or MWh per year (build rates and volumes are not scaled)
        back = 1.0 if kind in ("build rate", "transmission volume") else PER_YEAR
        lhs = np.asarray(A @ sol.x[: A.shape[1]], dtype=float) * back
        lb, ub = block.constraint.bounds
        rhs = np.where(np.isfinite(ub), ub, lb) * back
        year = np.array([int(str(c).rsplit(" ", 1)[-1]) for c in block.components])
        j = np.searchsorted(years, year)
        # caps and shares hold in every year of the period: their duals, in the objective's
        # discounted CNY, are per unit and year once divided by F[p]; a build rate's is per MW
        scale = np.ones(len(j)) if kind in ("build rate", "transmission volume") else inv.factor[j]
        dual = sol.row_dual[rows] / back
        parts.append(
            pd.DataFrame(
                {
                    "constraint": np.asarray(block.components, dtype=object),
                    "kind": kind,
                    "period": year,
                    "lhs": lhs + 0.0,
                    "rhs": rhs,
                    "slack": np.abs(rhs - lhs) + 0.0,
                    "binding": np.abs(rhs - lhs) <= 1e-6 * np.maximum(1.0, np.abs(rhs)),
                    "shadow_price": sign * dual / scale + 0.0,
                    "shadow_price_unit": unit,
                }
            )
        )
    if parts:
        out["policy"] = pd.concat(parts, ignore_index=True)
    return out
