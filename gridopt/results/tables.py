"""Result tables of a solved case: each family's tables, stacked, plus the summaries analysts read.

All tables are tidy (one observation per row), with units in the headers and snapshots as real
datetimes. `summary` is a dict that becomes summary.json and the first sheet of the workbook.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridopt.solver.types import Solution

if TYPE_CHECKING:
    from gridopt.inputs.data import CaseData

# order of sheets in the workbook / files in the csv folder
SHEET_ORDER = (
    "summary",
    "capacity",
    "investment",
    "expansion_costs",
    "co2",
    "policy",
    "generation_by_carrier",
    "generation",
    "flows",
    "corridors",
    "contracts",
    "prices",
    "storage",
    "hydro",
    "gas_supply",
    "gas_flows",
    "gas_storage",
    "gas_burn",
    "gas_prices",
    "curtailment",
    "unserved",
    "security",
    "costs",
)


# what the prices are when they are not the basis duals of an LP (gridopt.solver sets the basis)
PRICE_NOTES = {
    "commitment_fixed": "prices are the duals of the dispatch LP with the commitment (units on,"
    " starts, stops) fixed at the MIP solution; start-up costs and the cost"
    " of running units at their stable minimum are not in them",
    "lp_relaxation": "prices are the duals of the LP relaxation (integrality dropped; units on"
    " may be fractional)",
    "none": "no prices: the LP with the commitment fixed could not be solved",
    "lp_interior": "prices are the duals of the interior point's solution, without crossover"
    " to a vertex: where a price is unique they are the simplex prices within"
    " the solver's tolerance; where a range of prices is optimal (a degenerate"
    " hour) they lie inside that range, not at one end of it",
}


def collect(sol: Solution, families: tuple[ModuleType, ...]) -> dict[str, pd.DataFrame]:
    """Every family's result tables, same-named tables stacked, plus the summaries."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for family in families:
        for name, table in family.results(sol).items():
            parts.setdefault(name, []).append(table)
    tables = {name: pd.concat(dfs, ignore_index=True) for name, dfs in parts.items()}
    if "generation" in tables:
        tables["generation_by_carrier"] = generation_by_carrier(tables["generation"])
    if "prices" in tables and sol.price_basis != "lp":
        # a MIP's prices come from an LP derived from it, an LP's without crossover from the
        # interior point: say which (see gridopt.solver)
        tables["prices"]["price_basis"] = sol.price_basis
    if sol.model.aggregated:
        from gridopt.inputs.aggregation import result_tables

        # typical periods: each row's weight, and the order of the periods over the horizon
        tables.update(result_tables(sol.model.data, tables))
    if "costs" in tables:
        tables["costs"] = (
            tables["costs"]
            .sort_values(["component", "cost_type", "name"], kind="stable")
            .reset_index(drop=True)
        )
    ordered = {k: tables[k] for k in SHEET_ORDER if k in tables}
    ordered.update({k: v for k, v in tables.items() if k not in ordered})
    return ordered


def generation_by_carrier(generation: pd.DataFrame) -> pd.DataFrame:
    """Energy by region and carrier over the horizon (MWh), with peak output (MW)."""
    grouped = generation.groupby(["region", "carrier"], sort=True)
    out = grouped.agg(energy_mwh=("energy_mwh", "sum"), co2_t=("co2_t", "sum")).reset_index()
    peak = generation.groupby(["region", "carrier", "snapshot"])["p_mw"].sum()
    out["peak_output_mw"] = peak.groupby(level=[0, 1]).max().to_numpy()
    total = out.groupby("region")["energy_mwh"].transform("sum")
    out["share_of_region_generation_pu"] = np.where(total > 0, out["energy_mwh"] / total, 0.0)
    return out


def summary(
    sol: Solution,
    tables: dict[str, pd.DataFrame],
    timings: dict[str, float],
    case_path: str,
    model_kind: str,
) -> dict[str, Any]:
    """The headline figures of a run (becomes summary.json)."""
    data = sol.model.data
    out: dict[str, Any] = {
        "case": case_path,
        "case_name": data.case.name,
        "model": model_kind,
        # the currency of every amount (gridopt.case.Case.currency; `label_currency`)
        "currency": data.case.currency,
        "status": str(sol.status),
        "solver_message": sol.message,
        "objective_cny": sol.objective_cny if np.isfinite(sol.objective_cny) else None,
        "n_variables": sol.n_variables,
        "n_constraints": sol.n_constraints,
        "n_nonzeros": sol.n_nonzeros,
        "n_snapshots": int(data.n_snapshots),
        "resolution_h": int(data.case.horizon.resolution_h),
        "first_snapshot": str(data.snapshots[0]),
        "last_snapshot": str(data.snapshots[-1]),
        "inflow_year": data.case.inflow_year,
    }
    if data.typical is not None:
        out["typical_periods"] = int(data.typical.n_periods)
        out["original_periods"] = int(data.typical.n_original)
        out["period_h"] = int(data.aggregation.period_h)
    if data.investment is not None:
        # expansion cases (gridopt.model.expansion): periods and what was invested
        out["investment_periods"] = [int(y) for y in data.investment.years]
        if "expansion_costs" in tables:
            out["investment_cny"] = float(tables["expansion_costs"]["investment_cny"].sum())
    if sol.mip_gap is not None:
        out["mip_gap"] = sol.mip_gap
        out["best_bound_cny"] = sol.best_bound_cny
    if sol.iterations:
        out["solver_iterations"] = {k: v for k, v in sol.iterations.items() if v > 0}
    out["price_basis"] = sol.price_basis
    if sol.price_basis in PRICE_NOTES:
        out["price_note"] = PRICE_NOTES[sol.price_basis]
    if sol.relaxed:
        out["relaxed"] = True
    out.update({k: round(float(v), 4) for k, v in timings.items()})
    out.update(unserved_summary(data, tables))
    if "generation" in tables:
        out["generation_mwh"] = float(tables["generation"]["energy_mwh"].sum())
        out["co2_t"] = float(tables["generation"]["co2_t"].sum())
    if "prices" in tables and len(tables["prices"]):
        out["mean_price_cny_per_mwh"] = float(tables["prices"]["price_cny_per_mwh"].mean())
    return out


# the money token of column names and summary keys ("cost_cny", "price_cny_per_mwh")
_CNY = re.compile(r"(?<![a-z])cny(?![a-z])")
_CNY_TEXT = re.compile(r"\bCNY\b")


def currency_name(name: str, currency: str) -> str:
    """A column name or summary key with its money in `currency` ("cost_cny" -> "cost_usd")."""
    return _CNY.sub(currency.lower(), name) if currency != "CNY" else name


def label_currency(
    tables: dict[str, pd.DataFrame], summary: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Tables and summary with money labelled in the case's currency (`summary["currency"]`).

    Amounts are computed in the currency of the network's costs; the code names them `_cny`,
    the project's own currency. A case in another currency (a MATPOWER case in USD, a PyPSA
    network in EUR) gets its headers, summary keys and unit texts ("CNY/MWh") relabelled
    here, when results are written. Nothing changes for a case in CNY.
    """
    currency = str(summary.get("currency") or "CNY")
    if currency == "CNY":
        return tables, summary
    out = {}
    for name, df in tables.items():
        df = df.rename(columns=lambda c: currency_name(str(c), currency))
        for col in df.columns:
            if str(col).endswith("unit") or name == "summary":
                df[col] = df[col].map(
                    lambda v: _CNY_TEXT.sub(currency, v) if isinstance(v, str) else v
                )
        if name == "summary" and "item" in df:
            df["item"] = df["item"].map(lambda v: currency_name(str(v), currency))
        out[name] = df
    return out, {currency_name(k, currency): v for k, v in summary.items()}


# unserved energy below this is the solver's tolerance (an interior point without crossover
# leaves a few kWh), not a shortfall worth a word: below the 0.1 MWh the words show
UNSERVED_TOL_MWH = 0.05


def unserved_summary(data: CaseData, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Demand, unserved energy (MWh) and unserved energy by region of a run's tables."""
    if "unserved" not in tables:
        return {}
    un = tables["unserved"]
    weight = un["snapshot"].map(pd.Series(data.weights_h, index=data.snapshots)).to_numpy()
    by_region = (un["unserved_mw"] * weight).groupby(un["region"].to_numpy()).sum()
    return {
        "demand_mwh": float((un["demand_mw"] * weight).sum()),
        "unserved_mwh": float((un["unserved_mw"] * weight).sum()),
        "unserved_by_region_mwh": {
            str(r): float(v) for r, v in by_region.items() if v > UNSERVED_TOL_MWH
        },
    }


def unserved_words(summary: dict[str, Any]) -> str:
    """How much energy went unserved and where, in words, from a run's summary: "no energy
    unserved" or "1,273.4 MWh unserved (Hong Kong 1,100.2, Macao 173.2 MWh)"."""
    total = summary.get("unserved_mwh")
    if total is None:
        return "unserved energy not known"
    if total <= UNSERVED_TOL_MWH:
        return "no energy unserved"
    regions = sorted(summary.get("unserved_by_region_mwh", {}).items(), key=lambda kv: -kv[1])
    where = ", ".join(f"{r} {v:,.1f}" for r, v in regions)
    return f"{total:,.1f} MWh unserved" + (f" ({where} MWh)" if where else "")


def summary_table(summary: dict[str, Any]) -> pd.DataFrame:
    """summary.json as a two-column sheet: numbers stay numbers (a spreadsheet sums them),
    anything else is text; a figure that is not finite is left blank."""

    def cell(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return None if v is None else str(v)
        if isinstance(v, int | float | np.integer | np.floating):
            return v.item() if isinstance(v, np.generic) else v if np.isfinite(v) else None
        return str(v)

    return pd.DataFrame(
        {
            "item": list(summary),
            "value": pd.Series([cell(v) for v in summary.values()], dtype=object),
        }
    )


def network_tables(data: CaseData) -> dict[str, pd.DataFrame]:
    """The run's buses (region, voltage, coordinates) and declared carriers (flags, colours).

    Written with the results so that charts of a run (the network map, carrier colours) need
    only its results folder, not the network it was solved on.
    """
    buses = data.tables["buses"]
    cols = [c for c in ("region", "carrier", "v_nom_kv", "x_lon", "y_lat") if c in buses]
    out = {"buses": buses[cols].rename_axis("bus").reset_index()}
    carriers = data.tables.get("carriers")
    if carriers is not None and len(carriers):
        out["carriers"] = carriers.rename_axis("carrier").reset_index()
    for table in out.values():
        # the input tables' attrs (source row numbers) are not results, and Parquet cannot
        # store them
        table.attrs = {}
    return out
