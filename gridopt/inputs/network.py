"""The network data model: component tables and hourly time series, read and checked.

A network folder holds `buses.csv`, `generators.csv`, ... (or one `network.xlsx` with a sheet per
table) and `timeseries/*.csv`. Reading converts every column to the type the schema declares,
fills defaults, and collects every problem (file, row, column, value, rule) before raising one
`InputError`, so an analyst fixes a whole case in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pandera.pandas as pa

from gridopt.errors import InputError, Problem
from gridopt.inputs.limits import MAX_TABLE_BYTES, load_yaml, read_yaml_text
from gridopt.inputs.paths import outside
from gridopt.inputs.schema import SERIES, SERIES_RANGE, TABLES, Column, Table

# documentation columns an analyst may keep beside the data; they are read and ignored
FREE_TEXT_COLUMNS = frozenset({"source", "note", "notes", "status", "comment"})
MAX_FILE_BYTES = MAX_TABLE_BYTES  # larger tables are refused before pandas tries to read them
_SINGULAR = {
    "buses": "bus",
    "carriers": "carrier",
    "hydro": "hydro station",
    "gas_nodes": "gas node",
}
# series whose profile column defaults to the component's name
_PROFILE_DEFAULTS_TO_NAME = frozenset({"load_mw", "gas_demand_mwth"})
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
BOOL_TRUE, BOOL_FALSE = frozenset(_TRUE), frozenset(_FALSE)
# a time stamp that names its time zone or UTC offset (Z, +08:00, -0500) at its end
_ZONED = r"\d(?:\s*Z|\s*[+-]\d{2}:?\d{2})$"


@dataclass
class Network:
    """Component tables (indexed by component name) and hourly series (indexed by timestamp)."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    series: dict[str, pd.DataFrame]
    meta: dict = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def graph(self) -> nx.MultiGraph:
        """Buses as nodes; lines, links and corridors as edges (keyed by component name)."""
        g = nx.MultiGraph()
        g.add_nodes_from(self.tables["buses"].index)
        for table in ("lines", "links", "corridors"):
            df = self.tables[table]
            g.add_edges_from(
                (b0, b1, name, {"kind": table})
                for name, b0, b1 in zip(df.index, df["bus0"], df["bus1"], strict=True)
            )
        return g


def empty_table(table: Table) -> pd.DataFrame:
    """An empty frame with the schema's columns and dtypes."""
    cols = {c.name: pd.Series(dtype=_dtype(c)) for c in table.columns if c.name != "name"}
    return pd.DataFrame(cols, index=pd.Index([], name="name", dtype=object))


def _dtype(col: Column) -> str:
    return {"str": "object", "float": "float64", "int": "int64", "bool": "bool"}[col.kind]


def _is_blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype(str).str.strip() == "")


def coerce_table(raw: pd.DataFrame, table: Table, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Convert a raw all-text table to the schema's types; return it with the problems found.

    Two stages: cells are parsed to their declared type here (so a bad cell is reported with
    the text the analyst typed), then the schema's rules (required, ranges, choices, unique
    names) are enforced by pandera, and its failure cases become problems with a row number.
    """
    problems: list[Problem] = []
    raw = raw.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    known = set(table.column_names)
    for col in raw.columns:
        if col not in known and col.lower() not in FREE_TEXT_COLUMNS:
            problems.append(
                Problem(
                    file,
                    f"unknown column (expected one of: {', '.join(table.column_names)})",
                    row=1,
                    column=col,
                )
            )
    raw = raw.reset_index(drop=True)
    rownum = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    out = pd.DataFrame(index=raw.index)
    unparsed: set[tuple[str, int]] = set()
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                problems.append(Problem(file, "required column is missing", row=1, column=col.name))
            out[col.name] = _default_series(col, raw.index)
            continue
        values = raw[col.name]
        blank = _is_blank(values)
        converted, bad = _convert(values.where(~blank), col)
        for i, v in zip(rownum[bad & ~blank], values[bad & ~blank], strict=True):
            problems.append(
                Problem(
                    file, f"expected {_kind_word(col.kind)}", row=int(i), column=col.name, value=v
                )
            )
        unparsed |= {(col.name, int(i)) for i in np.flatnonzero((bad & ~blank).to_numpy())}
        if not col.nullable and col.default is not None:
            converted = converted.where(~blank, col.default)
        out[col.name] = converted
    present = [c for c in table.columns if c.name in raw.columns]
    problems += [
        p
        for p in _rule_problems(out, table, present, rownum, file)
        if (p.column, (p.row or 0) - 2) not in unparsed
    ]
    out = out.set_index("name")
    out.attrs["rownum"] = dict(zip(out.index, rownum.to_numpy(), strict=True))
    return out, problems


def pandera_schema(table: Table, columns: list[Column] | None = None) -> pa.DataFrameSchema:
    """The rules of a schema table as a pandera schema (types are parsed before it runs)."""
    checks = {}
    for col in columns if columns is not None else table.columns:
        rules = []
        if col.min is not None:
            rules.append(pa.Check.ge(col.min, error=f"must be at least {col.min:g}"))
        if col.max is not None:
            rules.append(pa.Check.le(col.max, error=f"must be at most {col.max:g}"))
        if col.choices is not None:
            rules.append(
                pa.Check.isin(list(col.choices), error=f"must be one of {', '.join(col.choices)}")
            )
        checks[col.name] = pa.Column(
            None,
            checks=rules,
            required=False,
            nullable=not col.required
            and (col.nullable or col.default is None or col.kind == "float"),
        )
    # a repeated name is reported where it repeats, not where it first appears
    return pa.DataFrameSchema(
        checks,
        strict=False,
        unique=["name"] if "name" in checks else None,
        report_duplicates="exclude_first",
    )


_PANDERA_RULES = {
    "not_nullable": "a value is required",
    "field_uniqueness": "duplicate name",
    "multiple_fields_uniqueness": "duplicate name",
}


def _rule_problems(
    df: pd.DataFrame, table: Table, columns: list[Column], rownum: pd.Series, file: str
) -> list[Problem]:
    try:
        pandera_schema(table, columns).validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        return [
            Problem(
                file,
                _PANDERA_RULES.get(str(check), str(check)),
                row=int(rownum.iloc[int(idx)]),
                column=str(column),
                value=None if pd.isna(value) else value,
            )
            for column, check, idx, value in zip(
                cases["column"], cases["check"], cases["index"], cases["failure_case"], strict=True
            )
        ]
    return []


def _default_series(col: Column, index: pd.Index) -> pd.Series:
    if col.kind == "float":
        value = np.nan if col.default is None else float(col.default)  # type: ignore[arg-type]
        return pd.Series(value, index=index)
    if col.kind == "bool":
        return pd.Series(bool(col.default), index=index)
    return pd.Series(col.default, index=index, dtype=object)


def _kind_word(kind: str) -> str:
    return {"float": "a number", "int": "a whole number", "bool": "true or false", "str": "text"}[
        kind
    ]


def _convert(values: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Typed values and a mask of cells that could not be converted."""
    if col.kind in ("float", "int"):
        num = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = num.isna() & values.notna()
        bad |= ~np.isfinite(num.fillna(0.0))
        if col.kind == "int":
            bad |= num.notna() & (num != num.round())
        return num, bad
    if col.kind == "bool":
        text = values.astype(str).str.strip().str.lower()
        out = pd.Series(np.where(text.isin(_TRUE), True, False), index=values.index)
        bad = values.notna() & ~text.isin(_TRUE | _FALSE)
        return out.astype(bool), bad
    text = values.astype(object).where(values.isna(), values.astype(str).str.strip())
    bad = pd.Series(False, index=values.index)
    return text, bad


def _with_header(raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """A table read without a header: its first row becomes the header. A column name given
    twice is a problem (pandas would rename the second `x.1` and read it as another column);
    only its first column is kept."""
    if raw.empty:
        return pd.DataFrame(), []
    names = [str(v).strip() for v in raw.iloc[0]]
    names = [n if n else f"Unnamed: {j}" for j, n in enumerate(names)]
    problems: list[Problem] = []
    keep: list[int] = []
    seen: dict[str, int] = {}
    for j, n in enumerate(names):
        if n in seen:
            problems.append(
                Problem(
                    file,
                    f"column name given twice (columns {seen[n] + 1}"
                    f" and {j + 1}); the second is not read",
                    row=1,
                    column=n,
                )
            )
        else:
            seen[n] = j
            keep.append(j)
    body = raw.iloc[1:, keep].reset_index(drop=True)
    body.columns = [names[j] for j in keep]
    return body, problems


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, header=None)


def _too_large(path: Path) -> Problem | None:
    if path.stat().st_size > MAX_FILE_BYTES:
        return Problem(
            str(path),
            f"file is larger than {MAX_FILE_BYTES // 2**30} GiB (the"
            " limit for a table); refusing to read it",
        )
    return None


def _read_raw_tables(
    folder: Path, project: Path | None = None
) -> tuple[dict[str, tuple[pd.DataFrame, str]], list[Problem], bool]:
    """Raw text tables by name, with the file (or workbook sheet) each came from; the last
    item says whether a workbook was there but could not be read (its tables are then
    unknown, not missing)."""
    found: dict[str, tuple[pd.DataFrame, str]] = {}
    problems: list[Problem] = []
    workbook = folder / "network.xlsx"
    if workbook.exists():
        refused = outside(workbook, project) or _too_large(workbook)
        if refused is not None:
            return {}, [refused], True
        try:
            sheets = pd.read_excel(
                workbook, sheet_name=None, dtype=str, keep_default_na=False, header=None
            )
        except Exception as exc:  # a corrupt workbook is the analyst's problem to fix, not ours
            return {}, [Problem(str(workbook), f"cannot be read as an XLSX workbook ({exc})")], True
        for sheet, df in sheets.items():
            where = f"{workbook} [sheet {sheet}]"
            if sheet in TABLES:
                df, dup = _with_header(df, where)
                problems += dup
                found[sheet] = (df, where)
            elif not sheet.startswith("_"):
                problems.append(
                    Problem(where, f"unknown sheet (expected one of {', '.join(TABLES)})")
                )
    for name in TABLES:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        refused = outside(path, project) or _too_large(path)
        if refused is not None:
            problems.append(refused)
            continue
        if name in found:
            problems.append(Problem(str(path), f"table '{name}' is given twice (CSV and sheet)"))
            continue
        try:
            df, dup = _with_header(_read_csv(path), str(path))
        except Exception as exc:
            problems.append(Problem(str(path), f"cannot be read as CSV ({exc})"))
            continue
        problems += dup
        found[name] = (df, str(path))
    return found, problems, False


def read_series(
    path: Path, limits: tuple[float | None, float | None] = (None, None)
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """An hourly series CSV indexed by its `timestamp` column, checked for gaps and NaN, and
    every value within `limits` (low, high; None: unbounded)."""
    file = str(path)
    refused = _too_large(path)
    if refused is not None:
        return None, [refused]
    try:
        raw, problems = _with_header(_read_csv(path), file)
    except Exception as exc:
        return None, [Problem(file, f"cannot be read as CSV ({exc})")]
    if "timestamp" not in raw.columns:
        return None, [*problems, Problem(file, "first column must be 'timestamp'", row=1)]
    text = raw["timestamp"].astype(str).str.strip()
    zoned = text.str.contains(_ZONED, regex=True).to_numpy()
    for i in np.flatnonzero(zoned):
        problems.append(
            Problem(
                file,
                "a time stamp is a local date and time without a time"
                " zone or UTC offset (as the case's horizon)",
                row=int(i) + 2,
                column="timestamp",
                value=text.iloc[i],
            )
        )
    try:
        stamps = pd.to_datetime(text.where(~zoned), errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):  # mixed forms pandas will not line up
        stamps = pd.Series([_one_stamp(t) for t in text.where(~zoned)], index=text.index)
    for i in np.flatnonzero(stamps.isna().to_numpy() & ~zoned):
        problems.append(
            Problem(
                file,
                "not a date and time",
                row=int(i) + 2,
                column="timestamp",
                value=raw["timestamp"].iloc[i],
            )
        )
    data = raw.drop(columns="timestamp")
    data = (
        data.apply(pd.to_numeric, errors="coerce")
        if data.shape[1]
        else pd.DataFrame(index=raw.index, dtype=float)
    ).astype(float)
    bad = data.isna().to_numpy(dtype=bool) | ~np.isfinite(data.fillna(0.0).to_numpy(dtype=float))
    for r, c in zip(*np.nonzero(bad), strict=True):
        problems.append(
            Problem(
                file,
                "expected a number",
                row=int(r) + 2,
                column=str(data.columns[c]),
                value=raw.iat[r, c + 1],
            )
        )
    low, high = limits
    values = data.to_numpy(dtype=float)
    for bound, out_of_range, word in (
        (low, lambda v, b: v < b, "at least"),
        (high, lambda v, b: v > b, "at most"),
    ):
        if bound is None:
            continue
        hit = ~bad & out_of_range(np.nan_to_num(values, nan=bound), bound)
        for r, c in zip(*np.nonzero(hit), strict=True):
            problems.append(
                Problem(
                    file,
                    f"must be {word} {bound:g}",
                    row=int(r) + 2,
                    column=str(data.columns[c]),
                    value=raw.iat[r, c + 1],
                )
            )
    if problems:
        return None, problems
    data.index = pd.DatetimeIndex(pd.to_datetime(stamps), name="timestamp")
    dup = data.index.duplicated()
    for i in np.flatnonzero(dup):
        problems.append(
            Problem(
                file,
                "duplicate timestamp",
                row=int(i) + 2,
                column="timestamp",
                value=str(data.index[i]),
            )
        )
    steps = np.diff(data.index.to_numpy()).astype("timedelta64[m]").astype(int)
    for i in np.flatnonzero(steps != 60):
        problems.append(
            Problem(
                file,
                f"timestamps must be hourly and in order (gap or step of {steps[i]} minutes)",
                row=int(i) + 3,
                column="timestamp",
                value=str(data.index[i + 1]),
            )
        )
    return (None, problems) if problems else (data, [])


def _one_stamp(text: object) -> pd.Timestamp | None:
    """One time stamp parsed on its own (None when it is not one)."""
    try:
        stamp = pd.Timestamp(str(text)) if isinstance(text, str) and text else None
    except (ValueError, TypeError, OverflowError):
        return None
    return None if stamp is None or pd.isna(stamp) or stamp.tzinfo is not None else stamp


def load_network(
    folder: Path | str, inflow_year: str = "normal", project: Path | None = None
) -> Network:
    """Read and check a network folder. Raises `InputError` listing every problem found.

    With `project`, a file of the folder that is a link to a file outside it is refused
    unread (`gridopt.inputs.paths`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "network folder does not exist")])
    raw, problems, unreadable_book = _read_raw_tables(folder, project)
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name, table in TABLES.items():
        if name in raw:
            df, file = raw[name]
            tables[name], found = coerce_table(df, table, file)
            tables[name].attrs["file"] = file
            problems += found
            files[name] = file
        else:
            # a workbook that cannot be read may well hold the table: not reported missing
            if table.required and not unreadable_book:
                problems.append(Problem(str(folder / f"{name}.csv"), "required table is missing"))
            tables[name] = empty_table(table)
            files[name] = str(folder / f"{name}.csv")
    series: dict[str, pd.DataFrame] = {}
    unreadable: set[str] = set()
    for name in SERIES:
        stem = (
            name
            if (name != "inflow_m3s" or inflow_year == "normal")
            else (f"inflow_m3s_{inflow_year}")
        )
        path = folder / "timeseries" / f"{stem}.csv"
        if path.exists():
            refused = outside(path, project)
            df, found = (
                (None, [refused])
                if refused is not None
                else read_series(path, SERIES_RANGE.get(name, (None, None)))
            )
            problems += found
            if df is not None:
                df.attrs["file"] = str(path)
                series[name] = df
            else:
                unreadable.add(name)
        elif stem != name:
            problems.append(Problem(str(path), f"inflow year '{inflow_year}' has no series file"))
    meta: dict = {}
    meta_path = folder / "network.yaml"
    if meta_path.exists():
        refused = outside(meta_path, project)
        if refused is not None:
            problems.append(refused)
        else:
            text, found = read_yaml_text(meta_path)
            loaded, more = load_yaml(text, str(meta_path)) if text is not None else (None, [])
            problems += found + more
            if isinstance(loaded, dict):
                meta = loaded
            elif loaded is not None:
                problems.append(Problem(str(meta_path), "must be a mapping of notes"))
    net = Network(folder=folder, tables=tables, series=series, meta=meta)
    # references are checked even when some cells are bad, so one pass reports everything
    problems += check_references(net, files, unreadable)
    if problems:
        raise InputError(problems)
    return net


def check_references(
    net: Network, files: dict[str, str], unreadable: set[str] | frozenset[str] = frozenset()
) -> list[Problem]:
    """Every reference (bus, carrier, downstream station, profile column) must exist.
    Profiles in a series file that could not be read (`unreadable`) are not checked: its
    own problems say why."""
    problems: list[Problem] = []
    known = {name: set(df.index) for name, df in net.tables.items()}
    carriers_declared = len(net.tables["carriers"]) > 0
    for tname, table in TABLES.items():
        df = net.tables[tname]
        rows = df.attrs.get("rownum", {})
        for col in table.columns:
            if col.name == "name":
                continue
            if col.ref is not None and (col.ref != "carriers" or carriers_declared):
                values = df[col.name]
                bad = values.notna() & ~values.isin(known[col.ref])
                what = _SINGULAR.get(col.ref, col.ref)
                problems += [
                    Problem(
                        files[tname],
                        f"refers to a {what} that does not exist in {col.ref}",
                        row=int(rows.get(n, 0)),
                        column=col.name,
                        value=v,
                    )
                    for n, v in values[bad].items()
                ]
            if col.name in table.series and table.series[col.name] not in unreadable:
                sname = table.series[col.name]
                series = net.series.get(sname)
                values = df[col.name]
                if sname in _PROFILE_DEFAULTS_TO_NAME:
                    values = values.fillna(pd.Series(df.index, index=df.index))
                used = values.dropna()
                if used.empty:
                    continue
                have = set(series.columns) if series is not None else set()
                bad = ~used.isin(have)
                problems += [
                    Problem(
                        files[tname],
                        f"profile not found in timeseries/{sname}.csv",
                        row=int(rows.get(n, 0)),
                        column=col.name,
                        value=v,
                    )
                    for n, v in used[bad].items()
                ]
    for tname in ("lines", "links", "corridors"):
        df = net.tables[tname]
        rows = df.attrs.get("rownum", {})
        same = df["bus0"] == df["bus1"]
        problems += [
            Problem(
                files[tname],
                "bus0 and bus1 must differ",
                row=int(rows.get(n, 0)),
                column="bus1",
                value=v,
            )
            for n, v in df.loc[same, "bus1"].items()
        ]
    # a line is part of the electrical power flow: it joins AC (or DC) buses; buses of other
    # carriers (H2, heat, ...) are balance nodes joined by links
    carrier = net.tables["buses"]["carrier"].fillna("AC")
    lines = net.tables["lines"]
    rows = lines.attrs.get("rownum", {})
    for end in ("bus0", "bus1"):
        other = ~lines[end].map(carrier).fillna("AC").isin(["AC", "DC"])
        problems += [
            Problem(
                files["lines"],
                f"a line joins AC or DC buses, and bus '{v}' is of"
                f" carrier '{carrier[v]}' (join it by a link)",
                row=int(rows.get(n, 0)),
                column=end,
                value=v,
            )
            for n, v in lines.loc[other, end].items()
        ]
    problems += _check_cascade(net, files["hydro"])
    problems += _check_limits(net, files)
    problems += _check_load_signs(net)
    problems += _check_gas(net, files)
    problems += _check_corridors(net, files)
    problems += _check_obligations(net, files)
    return problems


def check_islands(net: Network) -> list[Problem]:
    """A load on an island (buses joined by lines, links, corridors) with nothing that can
    supply it: no generator, hydro station or storage unit on any of its buses. (A case that
    allows load shedding may leave such load unserved; see gridopt.inputs.case.)"""
    files = {"loads": net.tables["loads"].attrs.get("file", str(net.folder / "loads.csv"))}
    loads = net.tables["loads"]
    if loads.empty or loads["bus"].isna().any():
        return []
    suppliers = set()
    for table in ("generators", "hydro", "storage_units"):
        suppliers |= set(net.tables[table]["bus"].dropna())
    problems = []
    rows = loads.attrs.get("rownum", {})
    for island in nx.connected_components(net.graph()):
        if island & suppliers:
            continue
        stranded = loads[loads["bus"].isin(island)]
        problems += [
            Problem(
                files["loads"],
                "load on an island with no generator, hydro"
                f" station or storage (island: {', '.join(sorted(island))})",
                row=int(rows.get(n, 0)),
                column="bus",
                value=b,
            )
            for n, b in stranded["bus"].items()
        ]
    return problems


def _check_load_signs(net: Network) -> list[Problem]:
    """Demand is at least 0 in every column of `load_mw` that a load uses, unless every load
    using it allows a negative demand (`negative_allowed`)."""
    series = net.series.get("load_mw")
    loads = net.tables["loads"]
    if series is None or loads.empty:
        return []
    profiles = loads["profile"].fillna(pd.Series(loads.index, index=loads.index))
    strict = [
        c
        for c in dict.fromkeys(profiles[~loads["negative_allowed"].astype(bool)])
        if c in series.columns
    ]
    if not strict:
        return []
    values = series[strict].to_numpy(dtype=float)
    file = str(series.attrs.get("file", "timeseries/load_mw.csv"))
    return [
        Problem(
            file,
            "must be at least 0 (a load's demand; a load that injects power says"
            " so with negative_allowed in loads)",
            row=int(r) + 2,
            column=strict[c],
            value=float(values[r, c]),
        )
        for r, c in zip(*np.nonzero(values < 0), strict=True)
    ]


def _check_cascade(net: Network, file: str) -> list[Problem]:
    hydro = net.tables["hydro"]
    edges = hydro["downstream"].dropna()
    g = nx.DiGraph(list(edges.items()))
    rows = hydro.attrs.get("rownum", {})
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return []
    first = cycle[0][0]
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    return [
        Problem(
            file,
            f"river cascade has a loop ({path})",
            row=int(rows.get(first, 0)),
            column="downstream",
            value=hydro.at[first, "downstream"],
        )
    ]


def _check_limits(net: Network, files: dict[str, str]) -> list[Problem]:
    problems = []
    gen = net.tables["generators"]
    rows = gen.attrs.get("rownum", {})
    bad = gen["p_min_mw"] > gen["p_max_mw"]
    problems += [
        Problem(
            files["generators"],
            "p_min_mw exceeds p_max_mw",
            row=int(rows[n]),
            column="p_min_mw",
            value=float(v),
        )
        for n, v in gen.loc[bad, "p_min_mw"].items()
    ]
    bad = gen["p_initial_mw"] > gen["p_max_mw"]
    problems += [
        Problem(
            files["generators"],
            "p_initial_mw exceeds p_max_mw",
            row=int(rows[n]),
            column="p_initial_mw",
            value=float(v),
        )
        for n, v in gen.loc[bad, "p_initial_mw"].items()
    ]
    links = net.tables["links"]
    rows = links.attrs.get("rownum", {})
    # a reversible link with losses would deliver more than it takes when run backwards
    bad = (links["p_min_pu"] < 0) & (links["efficiency"] < 1)
    problems += [
        Problem(
            files["links"],
            "a reversible link (p_min_pu < 0) must be lossless"
            " (efficiency 1): run backwards, a lossy one creates energy; model a"
            " lossy two-way transfer as two one-way links",
            row=int(rows[n]),
            column="efficiency",
            value=float(v),
        )
        for n, v in links.loc[bad, "efficiency"].items()
    ]
    hydro = net.tables["hydro"]
    rows = hydro.attrs.get("rownum", {})
    bad = hydro["storage_min_hm3"] > hydro["storage_max_hm3"]
    problems += [
        Problem(
            files["hydro"],
            "storage_min_hm3 exceeds storage_max_hm3",
            row=int(rows[n]),
            column="storage_min_hm3",
            value=float(v),
        )
        for n, v in hydro.loc[bad, "storage_min_hm3"].items()
    ]
    init = hydro["storage_initial_hm3"]
    bad = init.notna() & ((init > hydro["storage_max_hm3"]) | (init < hydro["storage_min_hm3"]))
    problems += [
        Problem(
            files["hydro"],
            "storage_initial_hm3 outside [storage_min_hm3, storage_max_hm3]",
            row=int(rows[n]),
            column="storage_initial_hm3",
            value=float(v),
        )
        for n, v in init[bad].items()
    ]
    sto = net.tables["storage_units"]
    rows = sto.attrs.get("rownum", {})
    init = sto["soc_initial_mwh"]
    bad = init.notna() & (init > sto["energy_max_mwh"])
    problems += [
        Problem(
            files["storage_units"],
            "soc_initial_mwh exceeds energy_max_mwh",
            row=int(rows[n]),
            column="soc_initial_mwh",
            value=float(v),
        )
        for n, v in init[bad].items()
    ]
    return problems


def _check_gas(net: Network, files: dict[str, str]) -> list[Problem]:
    """Rules of the gas tables that span columns, and the efficiency of gas-fired plants."""
    problems = []
    gen = net.tables["generators"]
    rows = gen.attrs.get("rownum", {})
    on_gas = gen["gas_node"].notna()
    bad = on_gas & ~(gen["efficiency"] > 0)
    problems += [
        Problem(
            files["generators"],
            "a generator on a gas node needs its efficiency"
            " (MWh_e per MWh_th, above 0) to turn its output into gas burnt",
            row=int(rows.get(n, 0)),
            column="efficiency",
            value=None if pd.isna(v) else float(v),
        )
        for n, v in gen.loc[bad, "efficiency"].items()
    ]
    checks = (
        ("gas_supplies", "p_min_mwth", "p_max_mwth", "p_min_mwth exceeds p_max_mwth"),
        (
            "gas_storage",
            "volume_initial_mwh_th",
            "volume_max_mwh_th",
            "volume_initial_mwh_th exceeds volume_max_mwh_th",
        ),
    )
    for tname, low, high, rule in checks:
        df = net.tables[tname]
        rows = df.attrs.get("rownum", {})
        bad = df[low] > df[high]
        problems += [
            Problem(files[tname], rule, row=int(rows.get(n, 0)), column=low, value=float(v))
            for n, v in df.loc[bad, low].items()
        ]
    pipes = net.tables["pipelines"]
    rows = pipes.attrs.get("rownum", {})
    same = pipes["node0"] == pipes["node1"]
    problems += [
        Problem(
            files["pipelines"],
            "node0 and node1 must differ",
            row=int(rows.get(n, 0)),
            column="node1",
            value=v,
        )
        for n, v in pipes.loc[same, "node1"].items()
    ]
    return problems


def _check_corridors(net: Network, files: dict[str, str]) -> list[Problem]:
    """Rules of the corridor, contract and must-take tables that span columns or tables."""
    problems: list[Problem] = []
    corr = net.tables["corridors"]
    rows = corr.attrs.get("rownum", {})
    bad = corr["poles_available"] > corr["poles"]
    problems += [
        Problem(
            files["corridors"],
            "poles_available exceeds poles",
            row=int(rows.get(n, 0)),
            column="poles_available",
            value=float(v),
        )
        for n, v in corr.loc[bad, "poles_available"].items()
    ]

    def say(table: str, mask: pd.Series, rule: str, column: str) -> list[Problem]:
        df = net.tables[table]
        where = df.attrs.get("rownum", {})
        return [
            Problem(
                files[table],
                rule,
                row=int(where.get(n, 0)),
                column=column,
                value=None if pd.isna(v) else v,
            )
            for n, v in df.loc[mask.to_numpy(dtype=bool), column].items()
        ]

    con = net.tables["contracts"]
    listed = con["corridors"].notna()
    regional = con["from_region"].notna() | con["to_region"].notna()
    problems += say(
        "contracts",
        listed == regional,
        "give either corridors or from_region and to_region",
        "corridors",
    )
    for col in ("from_region", "to_region"):
        problems += say(
            "contracts",
            regional & ~listed & con[col].isna(),
            "a contract between regions needs from_region and to_region",
            col,
        )
    region = net.tables["buses"]["region"]
    for col in ("from_region", "to_region"):
        problems += say(
            "contracts",
            con[col].notna() & ~con[col].isin(set(region)),
            "no bus has this region",
            col,
        )
    problems += say(
        "contracts",
        con["from_region"].notna() & (con["from_region"] == con["to_region"]),
        "from_region and to_region must differ",
        "to_region",
    )
    names = con.loc[listed, "corridors"].astype(str).str.split(";").explode().str.strip()
    rows = con.attrs.get("rownum", {})
    problems += [
        Problem(
            files["contracts"],
            "refers to a corridor that does not exist in corridors",
            row=int(rows.get(n, 0)),
            column="corridors",
            value=v,
        )
        for n, v in names[~names.isin(set(corr.index))].items()
    ]
    r0 = region.reindex(corr["bus0"]).to_numpy()
    r1 = region.reindex(corr["bus1"]).to_numpy()
    joined = set(zip(r0, r1, strict=True)) | set(zip(r1, r0, strict=True))
    pair = pd.Series(
        list(zip(con["from_region"], con["to_region"], strict=True)), index=con.index, dtype=object
    )
    valid = (
        con["from_region"].isin(set(region))
        & con["to_region"].isin(set(region))
        & (con["from_region"] != con["to_region"])
    )
    problems += say(
        "contracts",
        ~listed & valid & ~pair.isin(joined),
        "no corridor runs between from_region and to_region",
        "to_region",
    )
    for table in ("contracts", "must_take"):
        df = net.tables[table]
        problems += say(
            table,
            (df["period"] == "month") & df["month"].isna(),
            "a monthly obligation needs its month (1-12)",
            "month",
        )
    problems += say(
        "contracts",
        con["min_mwh"].isna() & con["max_mwh"].isna(),
        "give min_mwh, max_mwh or both",
        "min_mwh",
    )
    problems += say(
        "contracts", con["min_mwh"] > con["max_mwh"], "min_mwh exceeds max_mwh", "min_mwh"
    )
    take = net.tables["must_take"]
    problems += say(
        "must_take",
        take["generator"].notna() == take["hydro"].notna(),
        "give either generator or hydro",
        "generator",
    )
    problems += say(
        "must_take",
        take["min_mwh"].isna() & take["min_share_pu"].isna(),
        "give min_mwh, min_share_pu or both",
        "min_mwh",
    )
    return problems


def plant_sets(net_tables: dict[str, pd.DataFrame], table: pd.DataFrame) -> pd.DataFrame:
    """The plants each row of an obligation table names (`plants`, or `region` and `carrier`):
    one row per (row name, plant), with the plant's table (`generators` or `hydro`)."""
    buses = net_tables["buses"]["region"]
    parts = []
    for tname in ("generators", "hydro"):
        plants = net_tables[tname]
        frame = pd.DataFrame(
            {
                "plant": plants.index,
                "table": tname,
                "region": buses.reindex(plants["bus"]).to_numpy(),
                "carrier": plants["carrier"].to_numpy(),
            }
        )
        parts.append(frame)
    every = pd.concat(parts, ignore_index=True)
    out = []
    listed = table["plants"].dropna().astype(str).str.split(";").explode().str.strip()
    named = every.drop_duplicates("plant").set_index("plant")
    for owner, plant in listed.items():
        if plant in named.index:
            out.append((owner, plant, named.at[plant, "table"]))
    for owner, row in table[table["plants"].isna()].iterrows():
        mask = np.ones(len(every), dtype=bool)
        if pd.notna(row["region"]):
            mask &= (every["region"] == row["region"]).to_numpy()
        if pd.notna(row["carrier"]):
            wanted = {c.strip() for c in str(row["carrier"]).split(";")}
            mask &= every["carrier"].isin(wanted).to_numpy()
        out += [
            (owner, p, t)
            for p, t in zip(every.loc[mask, "plant"], every.loc[mask, "table"], strict=True)
        ]
    return pd.DataFrame(out, columns=["owner", "plant", "table"])


def _check_obligations(net: Network, files: dict[str, str]) -> list[Problem]:
    """Rules of the energy-obligation, gas-contract and capacity-payment tables."""
    problems: list[Problem] = []

    def say(table: str, mask: pd.Series | np.ndarray, rule: str, column: str) -> None:
        df = net.tables[table]
        where = df.attrs.get("rownum", {})
        problems.extend(
            Problem(
                files[table],
                rule,
                row=int(where.get(n, 0)),
                column=column,
                value=None if pd.isna(v) else v,
            )
            for n, v in df.loc[np.asarray(mask, dtype=bool), column].items()
        )

    known_plants = set(net.tables["generators"].index) | set(net.tables["hydro"].index)
    regions = set(net.tables["buses"]["region"])
    carriers = (
        set(net.tables["carriers"].index)
        | set(net.tables["generators"]["carrier"])
        | set(net.tables["hydro"]["carrier"])
    )
    for tname in ("energy_obligations", "capacity_payments"):
        df = net.tables[tname]
        if df.empty:
            continue
        listed = df["plants"].notna()
        say(
            tname,
            listed & (df["region"].notna() | df["carrier"].notna()),
            "give either plants or region and/or carrier",
            "plants",
        )
        names = df.loc[listed, "plants"].astype(str).str.split(";").explode().str.strip()
        rows = df.attrs.get("rownum", {})
        problems += [
            Problem(
                files[tname],
                "refers to a plant that is neither a generator nor a hydro station",
                row=int(rows.get(n, 0)),
                column="plants",
                value=v,
            )
            for n, v in names[~names.isin(known_plants)].items()
        ]
        say(
            tname,
            df["region"].notna() & ~df["region"].isin(regions),
            "no bus has this region",
            "region",
        )
        wanted = df["carrier"].dropna().astype(str).str.split(";").explode().str.strip()
        problems += [
            Problem(
                files[tname],
                "no generator or hydro station has this carrier",
                row=int(rows.get(n, 0)),
                column="carrier",
                value=v,
            )
            for n, v in wanted[~wanted.isin(carriers)].items()
        ]
        found = plant_sets(net.tables, df)["owner"]
        say(
            tname,
            ~df.index.isin(found) & ~listed,
            "selects no plant (no generator or hydro station of that region and carrier)",
            "region",
        )
    obl = net.tables["energy_obligations"]
    for side in ("min", "max"):
        say(
            "energy_obligations",
            obl[f"{side}_mwh"].notna() & obl[f"{side}_hours"].notna(),
            f"give {side}_mwh or {side}_hours, not both",
            f"{side}_hours",
        )
    say(
        "energy_obligations",
        obl[["min_mwh", "max_mwh", "min_hours", "max_hours"]].isna().all(axis=1),
        "give min_mwh, max_mwh, min_hours or max_hours",
        "min_mwh",
    )
    say("energy_obligations", obl["min_mwh"] > obl["max_mwh"], "min_mwh exceeds max_mwh", "min_mwh")
    say(
        "energy_obligations",
        obl["min_hours"] > obl["max_hours"],
        "min_hours exceeds max_hours",
        "min_hours",
    )
    gas = net.tables["gas_contracts"]
    names = gas["supplies"].dropna().astype(str).str.split(";").explode().str.strip()
    rows = gas.attrs.get("rownum", {})
    problems += [
        Problem(
            files["gas_contracts"],
            "refers to a gas supply that does not exist in gas_supplies",
            row=int(rows.get(n, 0)),
            column="supplies",
            value=v,
        )
        for n, v in names[~names.isin(set(net.tables["gas_supplies"].index))].items()
    ]
    say(
        "gas_contracts",
        gas["min_mwh_th"].isna() & gas["max_mwh_th"].isna(),
        "give min_mwh_th, max_mwh_th or both",
        "min_mwh_th",
    )
    say(
        "gas_contracts",
        gas["min_mwh_th"] > gas["max_mwh_th"],
        "min_mwh_th exceeds max_mwh_th",
        "min_mwh_th",
    )
    for tname in ("energy_obligations", "gas_contracts"):
        df = net.tables[tname]
        say(
            tname,
            (df["period"] == "month") & df["month"].isna(),
            "a monthly obligation needs its month (1-12)",
            "month",
        )
    return problems
