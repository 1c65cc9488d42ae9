"""Investment periods of an expansion case: their years, weights and operating snapshots.

An expansion case (case setting `expansion:`) may plan several investment periods, e.g. 2025,
2030 and 2035. Period p starts in year Y[p] and stands for n[p] years (to the next period; the
last one as many as the one before it, or 1 when alone). Its operation is represented by a few
blocks ("samples") of the network's hourly series, each a run of consecutive hours taken from
the series' own year, relabelled into year Y[p] (so every snapshot keeps a unique date-time)
and counted `weight` times in the period's year: a representative week of weight 13 stands
for a quarter of a year. Without samples a period is operated on the case's horizon, weight 1.

Objective weights. With r the case's discount rate, the discounted years of period p are

    F[p] = sum_{y = Y[p]}^{Y[p] + n[p] - 1} (1 + r)^-(y - Y[0])

and a snapshot t of period p(t), from a sample of weight k(t), costs k(t) F[p(t)] times its
own cost: its hours w[t] still measure energy and storage, the weights only count the block
again over the year and discount it. A case without `periods` is one period of one year,
F = 1 and k = 1: its objective is the operating cost of its horizon plus one year of
annualised investment. Nodal prices are reported per MWh of the year (duals divided by
w k F).

Each sample is one cycle for the stores (`LinearModel.previous`): a storage unit's, gas store's
or reservoir's level at the end of a sample returns to its start, so a store cannot carry energy
from one week or period to another that it does not represent.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from gridopt.errors import Problem
from gridopt.inputs.data import InvestmentPeriods
from gridopt.inputs.settings import BuildRatePolicy, Expansion, Period, Sample, SharePolicy

if TYPE_CHECKING:
    from gridopt.inputs.settings import Case


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def discounted_years(years: np.ndarray, span: np.ndarray, rate: float) -> np.ndarray:
    """F[p] = sum over the years of period p of (1 + r)^-(year - first year of the first)."""
    out = np.empty(len(years))
    for p, (y, n) in enumerate(zip(years, span, strict=True)):  # a handful of periods
        offsets = np.arange(int(np.ceil(n))) + (y - years[0])
        share = np.ones(len(offsets))
        share[-1] = n - (len(offsets) - 1)  # a fractional last year counts in part
        out[p] = float((share * (1.0 + rate) ** -offsets.astype(float)).sum())
    return out


def period_spans(periods: list[Period]) -> np.ndarray:
    years = np.array([p.year for p in periods], dtype=float)
    gaps = np.diff(years)
    span = np.empty(len(periods))
    for i, p in enumerate(periods):
        if p.years is not None:
            span[i] = p.years
        elif i < len(periods) - 1:
            # years out of order are reported by check_periods; keep the arithmetic defined
            span[i] = max(gaps[i], 1.0)
        else:
            span[i] = max(gaps[-1], 1.0) if len(gaps) else 1.0
    return span


def check_periods(exp: Expansion, resolution_h: int, file: str) -> list[Problem]:
    """Rules of the `expansion.periods` settings, each named with its setting."""
    problems = []
    years = [p.year for p in exp.periods]
    if any(b <= a for a, b in itertools.pairwise(years)):
        problems.append(
            Problem(file, "period years must increase", column="expansion.periods", value=years)
        )
    for i, period in enumerate(exp.periods):
        factors = period.demand.values() if isinstance(period.demand, dict) else [period.demand]
        if any(f < 0 for f in factors):
            problems.append(
                Problem(
                    file, "demand factors must be >= 0", column=f"expansion.periods[{i}].demand"
                )
            )
        for j, s in enumerate(period.samples):
            if s.hours % resolution_h:
                problems.append(
                    Problem(
                        file,
                        f"a sample's hours must be a multiple of resolution_h ({resolution_h})",
                        column=f"expansion.periods[{i}].samples[{j}].hours",
                        value=s.hours,
                    )
                )
    policy = exp.policy
    for name, by_year in (
        ("co2_cap_t_per_yr", policy.co2_cap_t_per_yr),
        ("co2_price_cny_per_t", policy.co2_price_cny_per_t),
    ):
        known = set(years) if exp.periods else None
        for year in by_year:
            if known is not None and year not in known:
                problems.append(
                    Problem(
                        file,
                        "no period of that year",
                        column=f"expansion.policy.{name}",
                        value=year,
                    )
                )
    return problems


def period_hours(
    exp: Expansion, start: pd.Timestamp, horizon_hours: int
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Source hours (of the series), their labels (in the period's year), the period and the
    sample weight of each hour, and the sample each hour belongs to, for every period in turn."""
    src, lab, per, wgt, smp = [], [], [], [], []
    sample_id = 0
    for p, period in enumerate(exp.periods):
        samples = period.samples or [Sample(start=start, hours=horizon_hours, weight=1.0)]
        for s in samples:
            hours = pd.date_range(pd.Timestamp(s.start), periods=s.hours, freq="h")
            shift = pd.DateOffset(years=period.year - hours[0].year)
            src.append(hours)
            lab.append(pd.DatetimeIndex(hours + shift))
            per.append(np.full(s.hours, p))
            wgt.append(np.full(s.hours, s.weight))
            smp.append(np.full(s.hours, sample_id))
            sample_id += 1
    return (
        pd.DatetimeIndex(np.concatenate([h.to_numpy() for h in src])),
        pd.DatetimeIndex(np.concatenate([h.to_numpy() for h in lab])),
        np.concatenate(per),
        np.concatenate(wgt),
        np.concatenate(smp),
    )


def single_period(snapshots: pd.DatetimeIndex) -> InvestmentPeriods:
    """An expansion case without `periods`: one period of one year, on the horizon (or on its
    typical periods)."""
    n = len(snapshots)
    start = np.zeros(n, dtype=bool)
    start[:1] = True
    return InvestmentPeriods(
        years=np.array([snapshots[0].year]),
        span_yr=np.array([1.0]),
        factor=np.array([1.0]),
        of_snapshot=np.zeros(n, dtype=int),
        sample_weight=np.ones(n),
        cycle_start=start,
    )


def candidate_rating(candidates: pd.DataFrame) -> pd.Series:
    """The rating column each candidate extends (its table's main rating when blank)."""
    from gridopt.inputs.schema import EXTENDABLE

    main = candidates["table"].map(lambda t: EXTENDABLE.get(t, ("",))[0])
    return candidates["rating"].fillna(main)


def check_expansion(case: Case, tables: dict[str, pd.DataFrame], file: str) -> list[Problem]:
    """Candidates and policies that cannot work, each named with its file, row and column."""
    from gridopt.inputs.schema import EXTENDABLE

    exp = case.expansion
    if exp is None:
        return []
    problems = check_periods(exp, case.horizon.resolution_h, file)
    if exp.periods and getattr(case.horizon, "aggregation", None) is not None:
        problems.append(
            Problem(
                file,
                "investment periods bring their own samples: typical"
                " periods (horizon.aggregation) serve a single-period expansion"
                " case, without expansion.periods",
                column="expansion.periods",
            )
        )
    cand = tables["candidates"]
    where = cand.attrs.get("file", "candidates.csv")
    rows = cand.attrs.get("rownum", {})
    rating = candidate_rating(cand)

    def bad(mask: pd.Series | np.ndarray, column: str, rule: str) -> None:
        for name in cand.index[np.asarray(mask, dtype=bool)]:
            problems.append(
                Problem(
                    where,
                    rule,
                    row=int(rows.get(name, 0)) or None,
                    column=column,
                    value=cand.at[name, column],
                )
            )

    known = pd.Series(False, index=cand.index)
    for table, group in cand.groupby("table", sort=False):
        if table in tables:
            known[group.index] = group["component"].isin(tables[table].index)
    bad(~known, "component", "no component of that name in the candidate's table")
    pairs = {(t, r) for t, cols in EXTENDABLE.items() for r in cols}
    allowed = pd.Series(
        pd.MultiIndex.from_arrays([cand["table"], rating]).isin(pairs), index=cand.index
    )
    bad(
        ~allowed,
        "rating",
        "this rating cannot be extended in the candidate's table (see"
        " gridopt.inputs.schema.EXTENDABLE)",
    )
    key = cand["table"] + "/" + cand["component"] + "/" + rating
    bad(
        key.duplicated(),
        "component",
        "a second candidate for the same rating of the same component",
    )
    bad(
        cand["build_max"].notna() & (cand["build_min"] > cand["build_max"]),
        "build_min",
        "build_min exceeds build_max",
    )
    bad(
        cand["block_size"].notna() & ~(cand["block_size"] > 0),
        "block_size",
        "a block must be larger than 0",
    )
    hours = cand["max_hours"].notna()
    bad(
        hours & ~((cand["table"] == "storage_units") & (rating == "p_max_mw")),
        "max_hours",
        "max_hours belongs to a candidate for the p_max_mw of a storage unit",
    )
    tied = set(cand.loc[hours, "component"])
    bad(
        (cand["table"] == "storage_units")
        & (rating == "energy_max_mwh")
        & cand["component"].isin(tied),
        "component",
        "this storage unit's energy already"
        " follows its power (max_hours of its p_max_mw candidate)",
    )
    if exp.periods:
        last = max(p.year for p in exp.periods)
        bad(
            cand["build_year_min"].notna() & (cand["build_year_min"] > last),
            "build_year_min",
            f"no period from this year on (the last is {last}): it could never be built",
        )
    gens = tables["generators"]
    ext_gens = cand.loc[(cand["table"] == "generators") & known, "component"]
    if case.model == "uc":
        committable = gens["committable"].astype(bool)
        bad(
            (cand["table"] == "generators")
            & cand["component"].isin(committable.index[committable.to_numpy()]),
            "component",
            "a committable generator cannot be extended in a uc case (its units are fixed)",
        )
    if case.curtailment_penalty_cny_per_mwh > 0:
        problems.append(
            Problem(
                file,
                "a curtailment penalty is not available in an expansion"
                " case (its constant would need the capacity built)",
                column="curtailment_penalty_cny_per_mwh",
                value=case.curtailment_penalty_cny_per_mwh,
            )
        )
    if case.security or case.security_file:
        problems.append(
            Problem(
                file,
                "supply-security zones are not available in an expansion"
                " case: their N-1 and share rows use fixed ratings",
                column="security",
            )
        )
    must = tables["must_take"]
    if len(must) and must["generator"].isin(ext_gens).any():
        problems.append(
            Problem(
                file,
                "a must-take obligation names an extendable generator;"
                " its share of available energy would use the existing rating",
                column="expansion",
            )
        )
    regions = set(tables["buses"]["region"])
    carriers = (
        set(tables["carriers"].index) | set(gens["carrier"]) | set(tables["hydro"]["carrier"])
    )
    for i, period in enumerate(exp.periods):
        for r in period.demand if isinstance(period.demand, dict) else []:
            if r not in regions:
                problems.append(
                    Problem(
                        file, "unknown region", column=f"expansion.periods[{i}].demand", value=r
                    )
                )
    policy = exp.policy
    years = {p.year for p in exp.periods}
    groups: tuple[tuple[str, Sequence[SharePolicy | BuildRatePolicy]], ...] = (
        ("shares", policy.shares),
        ("build_rates", policy.build_rates),
    )
    for kind, entries in groups:
        names = [e.name for e in entries]
        for i, e in enumerate(entries):
            at = f"expansion.policy.{kind}[{i}]"
            if names.count(e.name) > 1:
                problems.append(
                    Problem(file, "duplicate policy name", column=f"{at}.name", value=e.name)
                )
            for r in [] if e.regions == "all" else e.regions:
                if r not in regions:
                    problems.append(
                        Problem(file, "unknown region", column=f"{at}.regions", value=r)
                    )
            listed = e.carriers if isinstance(e.carriers, list) else []
            for c in listed:
                if c not in carriers:
                    problems.append(
                        Problem(file, "unknown carrier", column=f"{at}.carriers", value=c)
                    )
            for y in [] if e.periods == "all" else e.periods:
                if years and y not in years:
                    problems.append(
                        Problem(file, "no period of that year", column=f"{at}.periods", value=y)
                    )
    return problems
