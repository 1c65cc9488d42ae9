"""The reference of a network's tables, generated from `gridopt.inputs.schema`: every table,
column, unit, default and rule, as Markdown (`docs/schema.md`, `gridopt schema [TABLE]`).

A column's unit is read from its name's suffix (names carry units: `p_max_mw`, `inflow_m3s`);
its rule from the schema's declaration (required, bounds, choices, the table it refers to,
whether a blank cell means something). Rules that span columns or tables, which
`gridopt.inputs.network` checks, are listed per table in `CROSS_RULES`.
"""

from __future__ import annotations

from gridopt.inputs.schema import SERIES, TABLES, Column, Table

# name suffix -> unit, longest first
_UNITS = (
    ("_cny_per_mwh_th", "CNY/MWh_th"),
    ("_cny_per_mw2h", "CNY/(MW^2 h)"),
    ("_cny_per_mwh", "CNY/MWh"),
    ("_cny_per_unit_yr", "CNY per unit of the rating and year"),
    ("_cny_per_unit", "CNY per unit of the rating"),
    ("_cny", "CNY"),
    ("_t_per_mwh", "t CO2/MWh"),
    ("_mw_per_m3s", "MW per m3/s"),
    ("_mw_per_h", "MW/h"),
    ("_mwh_th", "MWh_th"),
    ("_mwth", "MWth"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_per_h", "per hour"),
    ("_pu", "per unit"),
    ("_kv", "kV"),
    ("_m3s", "m3/s"),
    ("_hm3", "hm3 (10^6 m3)"),
    ("_km", "km"),
    ("_ohm", "ohm"),
    ("_yr", "years"),
    ("_deg", "degrees"),
    ("_h", "h"),
    ("x_lon", "degrees east"),
    ("y_lat", "degrees north"),
)

# rules that span columns or tables (checked in gridopt.inputs.network and .case)
CROSS_RULES: dict[str, tuple[str, ...]] = {
    "buses": (
        "every load's island (buses joined by lines, links and corridors) has a"
        " generator, hydro station or storage unit, unless the case allows load"
        " shedding",
    ),
    "generators": (
        "p_min_mw <= p_max_mw",
        "p_initial_mw <= p_max_mw",
        "a generator on a gas node has an efficiency above 0",
        "a uc case needs committable generators (committable = true, with units,"
        " stable minimum, minimum up/down times and start costs)",
    ),
    "links": (
        "bus0 and bus1 differ",
        "a reversible link (p_min_pu < 0) is lossless (efficiency 1)",
    ),
    "lines": ("bus0 and bus1 differ",),
    "hydro": (
        "storage_min_hm3 <= storage_max_hm3",
        "storage_initial_hm3 within [storage_min_hm3, storage_max_hm3]",
        "a river cascade (downstream) has no loop",
    ),
    "storage_units": ("soc_initial_mwh <= energy_max_mwh",),
    "gas_supplies": ("p_min_mwth <= p_max_mwth",),
    "gas_storage": ("volume_initial_mwh_th <= volume_max_mwh_th",),
    "pipelines": ("node0 and node1 differ",),
    "corridors": ("bus0 and bus1 differ", "poles_available <= poles"),
    "contracts": (
        "either the corridors it lists or from_region and to_region, not both",
        "from_region and to_region name regions of the buses",
        "every corridor it lists exists in corridors.csv",
    ),
}


def unit_of(column: str) -> str:
    """The unit a column's name carries ("" for none)."""
    for suffix, unit in _UNITS:
        if column.endswith(suffix) or column == suffix:
            return unit
    return ""


def rule_of(col: Column) -> str:
    """A column's rule in words: kind, bounds, choices, reference, blank."""
    kind = {"str": "text", "float": "number", "int": "whole number", "bool": "true/false"}[col.kind]
    parts = [kind]
    if col.min is not None and col.max is not None:
        parts.append(f"{_num(col.min)} to {_num(col.max)}")
    elif col.min is not None:
        parts.append(f">= {_num(col.min)}")
    elif col.max is not None:
        parts.append(f"<= {_num(col.max)}")
    if col.choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in col.choices))
    if col.ref:
        parts.append(f"a `name` of `{col.ref}`")
    if col.nullable:
        parts.append("blank allowed")
    return "; ".join(parts)


def _num(value: float) -> str:
    return f"{value:g}"


def _default(col: Column) -> str:
    if col.required:
        return "required"
    if col.default is None:
        return "blank"
    if isinstance(col.default, bool):
        return str(col.default).lower()
    return f"`{col.default}`" if isinstance(col.default, str) else _num(float(col.default))  # type: ignore[arg-type]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """One table's section: what it holds, its columns and its rules across columns."""
    lines = [
        f"## `{table.name}`" + (" (required)" if table.required else ""),
        "",
        _cell(table.description),
        "",
        f"File `{table.name}.csv` (or sheet `{table.name}` of `network.xlsx`).",
        "",
        "| column | unit | default | rule | meaning |",
        "|---|---|---|---|---|",
    ]
    for col in table.columns:
        lines.append(
            f"| `{col.name}` | {unit_of(col.name) or '-'} | {_default(col)} |"
            f" {_cell(rule_of(col))} | {_cell(col.description)} |"
        )
    if table.series:
        lines += [
            "",
            "Series: "
            + "; ".join(
                f"`{column}` names a column of `timeseries/{file}.csv`"
                for column, file in table.series.items()
            ),
        ]
    rules = CROSS_RULES.get(table.name, ())
    if rules:
        lines += ["", "Rules across columns and tables:", ""] + [f"- {r}" for r in rules]
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The whole reference: every table of the schema, then the time series files."""
    head = [
        "# Network tables: columns, units, defaults and rules",
        "",
        "Generated from `gridopt/inputs/schema.py` by `gridopt schema --markdown`; do not edit"
        " by hand (`tests/test_reference.py` checks that it is up to date).",
        "",
        "A network folder holds one CSV file per table (or one `network.xlsx` with a sheet per"
        " table) and hourly series in `timeseries/`. The first row names the columns; a"
        " component's `name` is unique in its table. A column left out takes its default; a"
        " required column must be given. Bad input is reported with file, row, column and the"
        " rule broken. Units are those the column's name carries.",
        "",
        "Tables: " + ", ".join(f"`{t}`" for t in TABLES),
        "",
    ]
    body = [table_markdown(t) for t in TABLES.values()]
    series = [
        "## Time series (`timeseries/`)",
        "",
        "Hourly CSV files, first column `timestamp` (hourly, in order, no gaps), one"
        " column per profile named by the tables above.",
        "",
        "| file | content |",
        "|---|---|",
    ]
    series += [f"| `timeseries/{name}.csv` | {_cell(text)} |" for name, text in SERIES.items()]
    series += [
        "",
        "Inflow years: `timeseries/inflow_m3s_<year>.csv` (e.g. `dry`, `wet`) is"
        " read when a case sets `inflow_year: <year>`; `normal` reads"
        " `inflow_m3s.csv`.",
    ]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n" + "\n".join(series) + "\n"
