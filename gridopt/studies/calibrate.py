"""`gridopt calibrate`: a solved year set beside the published figures it should reproduce.

The network folder holds the figures (`calibration_reference.csv`, written by the network's
builder from its reference data, each with its source, year and status). For each row r the
model's value M[r] is measured on the solved case, with w[t] the hours of snapshot t, E[g] the
energy of generator or hydro station g (sum_t w[t] p[g,t]), R the buses of region r and s[c]
the share of component c that a row counts (`components`: `name` or `name*share`):

    generation_mwh       sum_c s[c] E[c], or the sum of E[g] over the region's generators and
                         stations (of the row's carrier, if given)
    delivered_mwh        sum_c s[c] sum_t w[t] d[c,t], d the power delivered at the receiving
                         end of corridor or link c (after losses)
    consumption_mwh      S[R] = sum_{t, b in R} w[t] served[b,t]
    import_mwh           S[R] - G[R] - sum_t w[t] storage net output in R,  G[R] the region's
                         generation
    import_share_pu      that over S[R]
    supply_share_pu      G[R, carrier] / S[R]
    generation_share_pu  G[R, carrier] / G[R]
    gas_burn_mwh_th      sum_t w[t] gas burnt by the region's gas-fired plants
    gas_use_mwh_th       that plus the non-power gas demand served at the region's gas nodes

and its deviation from the published value P[r] is

    dev[r] = (M[r] - P[r]) / P[r]

A row passes when |dev[r]| <= target of its group (`TARGETS_PU`: 15 % for a hydro station,
10 % for an aggregate). A row beyond its target is *explained* when the reference gives the
reason (its `caveat`: another year, a figure the network carries as a contract, a policy the
case imposes), else it *fails*. `headline` rows are the aggregates a test keeps within target.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case
from gridopt.inputs.network import coerce_table
from gridopt.inputs.paths import outside, project_root
from gridopt.inputs.schema import Column, Table
from gridopt.results.tables import summary_table
from gridopt.results.write import write_results
from gridopt.studies.run import RunResult, solve_case

REFERENCE_FILE = "calibration_reference.csv"

# largest |deviation| that passes, per group of figures
TARGETS_PU: dict[str, float] = {
    "station": 0.15,  # one hydro station's annual energy
    "river": 0.10,  # a reach of several stations
    "corridor": 0.10,  # annual energy carried by a West-to-East corridor
    "province": 0.10,  # provincial consumption served, generation by type
    "hk_macao": 0.10,  # Hong Kong's and Macao's shares and energies
    "gas": 0.10,  # gas burnt for power, gas use
}
GROUP_TITLES = {
    "station": "Hydro stations",
    "river": "River reaches",
    "corridor": "West-to-East corridors",
    "province": "Provinces",
    "hk_macao": "Hong Kong and Macao",
    "gas": "Gas",
}

# quantity -> unit of its value
QUANTITIES: dict[str, str] = {
    "generation_mwh": "MWh",
    "delivered_mwh": "MWh",
    "consumption_mwh": "MWh",
    "import_mwh": "MWh",
    "import_share_pu": "pu",
    "supply_share_pu": "pu",
    "generation_share_pu": "pu",
    "gas_burn_mwh_th": "MWh_th",
    "gas_use_mwh_th": "MWh_th",
}
# quantities measured on listed components; the others on a region
BY_COMPONENTS = {"generation_mwh": ("generators", "hydro"), "delivered_mwh": ("corridors", "links")}

REFERENCE = Table(
    "calibration_reference",
    "Published figures a solved case is compared with, one a row, in the model's units.",
    (
        Column("name", "str", "unique name of the figure", required=True),
        Column(
            "group",
            "str",
            "group of figures (sets the target)",
            required=True,
            choices=tuple(TARGETS_PU),
        ),
        Column(
            "quantity",
            "str",
            "what is measured in the model",
            required=True,
            choices=tuple(QUANTITIES),
        ),
        Column("region", "str", "reporting region of buses", nullable=True),
        Column("carrier", "str", "carrier of the generation counted", nullable=True),
        Column("components", "str", "name or name*share, separated by ';'", nullable=True),
        Column("value", "float", "published value in the quantity's unit", required=True),
        Column("published", "str", "the figure as published, with its unit", nullable=True),
        Column("year", "str", "year the figure refers to", nullable=True),
        Column("status", "str", "confirmed / derived / secondary / estimate", nullable=True),
        Column("source", "str", "where the figure comes from", nullable=True),
        Column("basis", "str", "how the value follows from the publication", nullable=True),
        Column("caveat", "str", "why the model's measure may differ", nullable=True),
        Column(
            "headline",
            "bool",
            "a headline aggregate, kept within target by the tests",
            default=False,
        ),
    ),
)


def read_reference(folder: Path, project: Path | None = None) -> pd.DataFrame:
    """The network's reference figures, typed and checked (InputError listing every problem);
    with `project`, a reference file linked from outside it is refused unread."""
    path = Path(folder) / REFERENCE_FILE
    if not path.exists():
        raise InputError(
            [
                Problem(
                    str(path),
                    "the network has no calibration reference (its"
                    " builder writes one beside the component tables)",
                )
            ]
        )
    refused = outside(path, project)
    if refused is not None:
        raise InputError([refused])
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # an unreadable file is a problem with the input
        raise InputError([Problem(str(path), f"cannot be read as CSV ({exc})")]) from None
    table, problems = coerce_table(raw, REFERENCE, str(path))
    if problems:
        raise InputError(problems)
    table.attrs["file"] = str(path)
    return table


def components_of(ref: pd.DataFrame) -> pd.DataFrame:
    """One row per (figure, component): `figure`, `component` and its `share`."""
    text = ref["components"].dropna().astype(str)
    if text.empty:
        return pd.DataFrame(
            {
                "figure": pd.Series(dtype=object),
                "component": pd.Series(dtype=object),
                "share": pd.Series(dtype=float),
            }
        )
    listed = text.str.split(";").explode().astype(str).str.strip()
    listed = listed[listed != ""]
    parts = listed.str.partition("*")
    share = pd.to_numeric(parts[2].where(parts[1] == "*", "1").str.strip(), errors="coerce")
    return pd.DataFrame(
        {
            "figure": listed.index,
            "component": parts[0].str.strip().to_numpy(),
            "share": share.to_numpy(dtype=float),
        }
    )


def check_reference(ref: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every component, region and carrier a row names must exist in the solved case's
    network; a row measured on components needs them, one measured on a region needs it."""
    file = ref.attrs.get("file", REFERENCE_FILE)
    rows = ref.attrs.get("rownum", {})
    problems: list[Problem] = []

    def problem(names: pd.Index, column: str, rule: str, values: pd.Series) -> None:
        problems.extend(
            Problem(file, rule, row=int(rows.get(n, 0)) or None, column=column, value=values[n])
            for n in names
        )

    comps = components_of(ref)
    quantity = ref["quantity"].reindex(comps["figure"]).to_numpy()
    known = pd.MultiIndex.from_frame(
        pd.concat(
            [
                pd.DataFrame({"quantity": q, "component": tables[t].index})
                for q, where in BY_COMPONENTS.items()
                for t in where
            ],
            ignore_index=True,
        )
    )
    on_components = np.isin(quantity, list(BY_COMPONENTS))
    named = pd.MultiIndex.from_arrays([quantity, comps["component"].to_numpy()])
    unknown = on_components & ~named.isin(known)
    bad_share = comps["share"].isna() | (comps["share"] <= 0)
    for mask, rule in (
        (
            unknown,
            "names a component that the network does not have (generators"
            " or hydro for generation, corridors or links for delivered energy)",
        ),
        (bad_share.to_numpy(), "a share after '*' must be a number above 0"),
        (~on_components, "components are counted only by generation_mwh and delivered_mwh"),
    ):
        names = pd.Index(comps.loc[mask, "figure"].unique())
        problem(names, "components", rule, ref["components"])
    has_comp = ref["components"].notna()
    needs_comp = ref["quantity"].eq("delivered_mwh") & ~has_comp
    problem(
        ref.index[needs_comp],
        "components",
        "delivered energy needs the corridors or links it is carried on",
        ref["components"],
    )
    needs_region = ~ref["quantity"].isin(list(BY_COMPONENTS)) | (
        ref["quantity"].eq("generation_mwh") & ~has_comp
    )
    problem(
        ref.index[needs_region & ref["region"].isna()],
        "region",
        "this quantity is measured on a region: give one",
        ref["region"],
    )
    regions = set(tables["buses"]["region"])
    problem(
        ref.index[ref["region"].notna() & ~ref["region"].isin(regions)],
        "region",
        f"unknown region (one of {', '.join(sorted(regions))})",
        ref["region"],
    )
    carriers = set(tables["generators"]["carrier"]) | set(tables["hydro"]["carrier"])
    problem(
        ref.index[ref["carrier"].notna() & ~ref["carrier"].isin(carriers)],
        "carrier",
        "no generator or hydro station has this carrier",
        ref["carrier"],
    )
    share_of_carrier = ref["quantity"].isin(["supply_share_pu", "generation_share_pu"])
    problem(
        ref.index[share_of_carrier & ref["carrier"].isna()],
        "carrier",
        "a share is the share of a carrier: give one",
        ref["carrier"],
    )
    problem(
        ref.index[ref["value"] == 0],
        "value",
        "a published value of 0 leaves no relative deviation",
        ref["value"],
    )
    return problems


def _weighted(table: pd.DataFrame, column: str, weight: pd.Series) -> pd.Series:
    """Energy of a power column: w[t] x value, per row of a tidy result table."""
    return table[column] * table["snapshot"].map(weight).to_numpy()


def model_values(run: RunResult, ref: pd.DataFrame) -> np.ndarray:
    """M[r] of every reference row (see the module docstring), in the row's unit."""
    t = run.tables
    weight = pd.Series(run.data.weights_h, index=pd.DatetimeIndex(run.data.snapshots))
    gen = t["generation"]
    energy = gen.groupby("generator")["energy_mwh"].sum()
    delivered = (
        [
            _weighted(t["corridors"], "delivered_mw", weight)
            .groupby(t["corridors"]["corridor"])
            .sum()
        ]
        if "corridors" in t
        else []
    )
    if "flows" in t:
        links = t["flows"][t["flows"]["kind"] == "link"]
        delivered.append(_weighted(links, "p1_mw", weight).groupby(links["branch"]).sum())
    by_component = {
        "generation_mwh": energy,
        "delivered_mwh": (pd.concat(delivered) if delivered else pd.Series(dtype=float)),
    }

    comps = components_of(ref)
    quantity = ref["quantity"].reindex(comps["figure"]).to_numpy()
    looked_up = np.zeros(len(comps))
    for q, values in by_component.items():
        mine = quantity == q
        looked_up[mine] = values.reindex(comps.loc[mine, "component"]).fillna(0.0).to_numpy()
    from_components = (
        pd.Series(looked_up * comps["share"].to_numpy())
        .groupby(comps["figure"].to_numpy())
        .sum()
        .reindex(ref.index)
    )

    region = ref["region"]
    by_rc = gen.groupby(["region", "carrier"])["energy_mwh"].sum()
    g_rc = by_rc.reindex(pd.MultiIndex.from_arrays([region, ref["carrier"]])).fillna(0.0)
    g_rc = pd.Series(g_rc.to_numpy(), index=ref.index)
    g_r = gen.groupby("region")["energy_mwh"].sum().reindex(region).fillna(0.0)
    g_r = pd.Series(g_r.to_numpy(), index=ref.index)

    def per_region(values: pd.Series) -> pd.Series:
        return pd.Series(values.reindex(region).fillna(0.0).to_numpy(), index=ref.index)

    un = t["unserved"]
    served = per_region(_weighted(un, "served_mw", weight).groupby(un["region"]).sum())
    storage = pd.Series(dtype=float)
    if "storage" in t:
        storage = (
            _weighted(t["storage"], "net_output_mw", weight).groupby(t["storage"]["region"]).sum()
        )
    local = g_r + per_region(storage)
    burn = pd.Series(dtype=float)
    if "gas_burn" in t:
        burn = _weighted(t["gas_burn"], "burn_mwth", weight).groupby(t["gas_burn"]["region"]).sum()
    non_power = pd.Series(dtype=float)
    if "gas_prices" in t:
        gp = t["gas_prices"]
        non_power = (
            (
                _weighted(gp, "non_power_demand_mwth", weight)
                - _weighted(gp, "unserved_mwth", weight)
            )
            .groupby(gp["region"])
            .sum()
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        measures = {
            "generation_mwh": from_components.where(
                ref["components"].notna(), g_rc.where(ref["carrier"].notna(), g_r)
            ),
            "delivered_mwh": from_components,
            "consumption_mwh": served,
            "import_mwh": served - local,
            "import_share_pu": (served - local) / served,
            "supply_share_pu": g_rc / served,
            "generation_share_pu": g_rc / g_r,
            "gas_burn_mwh_th": per_region(burn),
            "gas_use_mwh_th": per_region(burn) + per_region(non_power),
        }
    out = np.full(len(ref), np.nan)
    for q, values in measures.items():
        mine = (ref["quantity"] == q).to_numpy()
        out[mine] = values.to_numpy(dtype=float)[mine]
    return out


def calibration_table(run: RunResult, ref: pd.DataFrame) -> pd.DataFrame:
    """The reference rows with the model's value, deviation, target and result."""
    model = model_values(run, ref)
    published = ref["value"].to_numpy(dtype=float)
    deviation = (model - published) / published
    target = ref["group"].map(TARGETS_PU).to_numpy(dtype=float)
    within = np.abs(deviation) <= target + 1e-12
    explained = ref["caveat"].fillna("").str.strip().ne("").to_numpy()
    result = np.select([within, explained], ["pass", "explained"], "fail")
    return pd.DataFrame(
        {
            "figure": ref.index,
            "group": ref["group"].to_numpy(),
            "quantity": ref["quantity"].to_numpy(),
            "unit": ref["quantity"].map(QUANTITIES).to_numpy(),
            "model": model,
            "published_value": published,
            "deviation_pu": deviation,
            "target_pu": target,
            "result": result,
            "headline": ref["headline"].to_numpy(dtype=bool),
            "published": ref["published"].to_numpy(),
            "year": ref["year"].to_numpy(),
            "status": ref["status"].to_numpy(),
            "source": ref["source"].to_numpy(),
            "basis": ref["basis"].to_numpy(),
            "caveat": ref["caveat"].to_numpy(),
            "region": ref["region"].to_numpy(),
            "carrier": ref["carrier"].to_numpy(),
            "components": ref["components"].to_numpy(),
        }
    )


# ---- the report -----------------------------------------------------------------------------
def _shown(values: pd.Series, units: pd.Series) -> list[str]:
    """Values for reading: energy in TWh (or TWh_th), shares in %."""
    scale = units.map({"MWh": 1e-6, "MWh_th": 1e-6, "pu": 100.0}).to_numpy()
    suffix = units.map({"MWh": " TWh", "MWh_th": " TWh_th", "pu": " %"}).to_numpy()
    return [
        f"{v * k:,.{1 if s == ' %' else 2}f}{s}" if np.isfinite(v) else "-"
        for v, k, s in zip(values.to_numpy(dtype=float), scale, suffix, strict=True)
    ]


def _cell(text: object) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rule = (
        "|"
        + "|".join(
            "---:" if c in ("model", "published", "deviation", "target") else "---"
            for c in df.columns
        )
        + "|"
    )
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _display(table: pd.DataFrame, detail: bool) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "figure": table["figure"],
            "model": _shown(table["model"], table["unit"]),
            "published": _shown(table["published_value"], table["unit"]),
            "deviation": [f"{d:+.1%}" if np.isfinite(d) else "-" for d in table["deviation_pu"]],
            "target": [f"±{t:.0%}" for t in table["target_pu"]],
            "result": table["result"],
        }
    )
    if detail:
        out["as published"] = table["published"]
        out["year"] = table["year"]
        out["status"] = table["status"]
        out["source"] = table["source"]
        out["basis / caveat"] = [
            " — ".join(p for p in (_cell(b), _cell(c)) if p)
            for b, c in zip(table["basis"], table["caveat"], strict=True)
        ]
    return out


def report_markdown(table: pd.DataFrame, run: RunResult, case_path: str) -> str:
    """calibration.md: the headline figures, then every figure by group with its source."""
    data, summary = run.data, run.summary
    counts = table["result"].value_counts()
    head = table[table["headline"]]
    out_of_target = head[head["result"] != "pass"]
    lines = [
        f"# Calibration: {data.case.name}",
        "",
        f"Case `{case_path}` on network `{data.network.folder.name}`:"
        f" {data.n_snapshots} snapshots of {data.case.horizon.resolution_h} h from"
        f" {data.snapshots[0]:%Y-%m-%d %H:%M}, inflow year {data.case.inflow_year}."
        f" Solved {summary['status']} in {summary.get('solve_seconds', float('nan')):.1f} s"
        + (
            f", objective {summary['objective_cny']:,.0f} CNY"
            if summary.get("objective_cny")
            else ""
        )
        + ".",
        "",
        "Each published figure (the network's `calibration_reference.csv`, written by its"
        " builder from the reference data with source, year and status) is set beside the"
        " model's value of the same quantity. Deviation = (model - published) / published."
        " Targets (|deviation| at most): "
        + "; ".join(f"{GROUP_TITLES[g]} {v:.0%}" for g, v in TARGETS_PU.items())
        + ". A figure beyond"
        " its target is *explained* when the reference states why the model's measure differs"
        " (another year, a figure the network carries as a contract, a policy the case imposes),"
        " otherwise it *fails*.",
        "",
        *(
            [f"The case: {' '.join(data.case.description.split())}", ""]
            if data.case.description
            else []
        ),
        f"**{len(table)} figures: {counts.get('pass', 0)} pass, {counts.get('explained', 0)}"
        f" explained, {counts.get('fail', 0)} fail. Headline figures: {len(head)},"
        + (
            " all within target.**"
            if out_of_target.empty
            else f" {len(out_of_target)} beyond target: {', '.join(out_of_target['figure'])}.**"
        ),
        "",
        "## Headline figures",
        "",
        _md(_display(head, detail=False)),
        "",
    ]
    for group, title in GROUP_TITLES.items():
        part = table[table["group"] == group]
        if part.empty:
            continue
        lines += [f"## {title}", "", _md(_display(part, detail=True)), ""]
    beyond = table[table["result"] != "pass"]
    if len(beyond):
        lines += ["## Beyond target", ""]
        lines += [
            f"- **{r.figure}** ({r.result}, {r.deviation_pu:+.1%}): "
            + (_cell(r.caveat) or "no reason given in the reference.")
            for r in beyond.itertuples()
        ]
        lines.append("")
    return "\n".join(lines)


# ---- the command ----------------------------------------------------------------------------
@dataclass
class Calibration:
    """A calibrated run: the solve, the figure-by-figure table and the report's text."""

    run: RunResult
    table: pd.DataFrame
    markdown: str
    summary: dict[str, Any]
    out_dir: Path | None = None


def calibrate_case(
    case_path: Path | str,
    out_dir: Path | str | None = None,
    formats: tuple[str, ...] = ("xlsx",),
    changes: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Solve a case, compare it with its network's reference figures and, given `out_dir`,
    write the results folder atomically: the run's tables with a `calibration` sheet (or CSV)
    first, summary.json and calibration.md.

    Raises InputError for a bad case or reference. A run that ends without a solution returns
    an empty table (its status is in the summary) and writes only the summary.
    """
    say = progress or (lambda _m: None)
    case_path = Path(case_path)
    # the reference is checked against the case's network before the solve, not after it
    data = load_case(case_path, changes)
    ref = read_reference(data.network.folder, project_root(data.path, data.case.project)[0])
    problems = check_reference(ref, data.tables)
    if problems:
        raise InputError(problems)
    run = solve_case(case_path, changes=changes, progress=say)
    info = dict(run.summary)
    table = pd.DataFrame()
    markdown = ""
    if run.tables:
        t = time.perf_counter()
        table = calibration_table(run, ref)
        markdown = report_markdown(table, run, str(case_path))
        counts = table["result"].value_counts()
        head = table[table["headline"]]
        info.update(
            {
                "calibration_figures": len(table),
                "calibration_pass": int(counts.get("pass", 0)),
                "calibration_explained": int(counts.get("explained", 0)),
                "calibration_fail": int(counts.get("fail", 0)),
                "calibration_headline_within_target": bool((head["result"] == "pass").all()),
                "calibration_seconds": round(time.perf_counter() - t, 4),
            }
        )
    result = Calibration(run, table, markdown, info)
    if out_dir is not None:
        say(f"writing results to {out_dir}")
        tables = {"summary": summary_table(info)}
        if len(table):
            tables["calibration"] = table
        tables.update(run.tables)
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "calibration.md"
            if markdown:
                report.write_text(markdown, encoding="utf-8")
            result.summary = write_results(
                Path(out_dir), tables, info, formats, extra_files={"calibration.md": report}
            )
        result.out_dir = Path(out_dir)
    return result
