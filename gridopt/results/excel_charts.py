"""Native Excel charts in the results workbook, so the picture is there when the file is opened.

`add_native_charts(workbook, worksheets, tables)` runs after the tables are written and before
the xlsxwriter workbook is closed. Excel chart series need one column per line, which the tidy
tables do not have, so it first writes a sheet `chart_data` with the pivots the charts plot
(one row per snapshot, a header row with the quantity and unit, a row of series names), then
places each chart beside the table it summarises:

| chart | placed on | series (chart_data block) |
|---|---|---|
| dispatch | summary, generation | system MW by carrier (stacked area), demand (line) |
| regional_prices | prices | load-weighted regional price, CNY/MWh |
| corridor_utilisation | corridors (else flows) | utilisation of the corridors (else links, lines) |
| link_utilisation | flows | utilisation of the busiest links, beside scheduled corridors, pu |
| congestion_rent | corridors (else flows) | rent of each corridor and link so far, million CNY |
| reservoir_storage | hydro | storage of the largest reservoirs, hm3 |
| gas_prices | gas_prices | gas price of each gas node, CNY/MWh_th |
| security_binding_hours | security | hours each hourly target has bound so far, h |

Security targets over a period (horizon, month) and checks have no series in time, so only the
targets with a row per snapshot (N-1 infeed, gas N-1) are charted; `gridopt plot` draws all.

Series are shaped by the same functions as the PNG charts (`gridopt.plot`) and carriers take
the same colours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridopt.results.bulk import SheetData
from gridopt.results.chart_data import (
    CARRIER_COLORS,
    KIND_WORDS,
    MAX_LINES,
    SERIES_PALETTE,
    corridor_groups,
    dispatch,
    gas_node_prices,
    hours_per_snapshot,
    region_prices,
    reservoirs,
    transfers,
)

CHART_DATA_SHEET = "chart_data"
# one header row ("<series> | <what, unit>"), so the sheet reads back as a plain table
_NAME_ROW, _FIRST_ROW = 0, 1
_EXCEL_MAX_ROWS = 1_048_576
_CHART_SIZE_PX = {"width": 960, "height": 420}
# Excel has a limit of 255 series per chart; regions beyond this are left to the sheet
_MAX_SERIES = 60


@dataclass
class _Block:
    """Columns of chart_data holding one chart's series."""

    title: str
    names: list[str]
    first_col: int
    colors: list[str | None]

    def col(self, k: int) -> int:
        return self.first_col + k


def _num(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


class _ChartData:
    """The chart_data sheet: a snapshot column and blocks of series written side by side.

    With `bulk` (the rows that `gridopt.results.bulk.fill_workbook` streams in after the workbook
    is closed) only the header row is written here and the values go to `bulk` as one table;
    without it every cell is written through xlsxwriter.
    """

    def __init__(
        self,
        workbook: Any,
        snapshots: pd.DatetimeIndex,
        bulk: dict[str, SheetData] | None = None,
        date_format: Any = None,
    ):
        self.workbook = workbook
        self.sheet = workbook.add_worksheet(CHART_DATA_SHEET)
        self.n = len(snapshots)
        self.next_col = 1
        head = workbook.add_format({"bold": True})
        self.sheet.write_string(_NAME_ROW, 0, "snapshot", head)
        stamp = date_format or workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.bulk = bulk
        self.columns: dict[str, Any] = {"snapshot": snapshots}
        if bulk is None:
            for i, t in enumerate(snapshots):
                self.sheet.write_datetime(_FIRST_ROW + i, 0, t.to_pydatetime(), stamp)
            self.sheet.set_column(0, 0, 18)
        else:
            self.sheet.set_column(0, 0, 18, stamp)
        self.sheet.freeze_panes(_FIRST_ROW, 1)
        self.head = head
        self.index = snapshots

    @property
    def last_row(self) -> int:
        return _FIRST_ROW + self.n - 1

    def add(self, title: str, table: pd.DataFrame, colors: list[str | None]) -> _Block:
        """Write `table` (snapshot rows, one column per series) as a block; return its place."""
        table = table.reindex(self.index)
        block = _Block(title, [str(c) for c in table.columns], self.next_col, colors)
        for k, name in enumerate(block.names):
            col = block.col(k)
            header = f"{name} | {title}"
            self.sheet.write_string(_NAME_ROW, col, header, self.head)
            if self.bulk is None:
                # write() turns None into an empty cell: a gap in the line, not a false zero
                self.sheet.write_column(_FIRST_ROW, col, [_num(v) for v in table.iloc[:, k]])
            else:
                # a missing value is an absent cell, as above
                self.columns[f"{col}"] = pd.to_numeric(table.iloc[:, k], errors="coerce").to_numpy(
                    dtype=float
                )
            self.sheet.set_column(col, col, max(10, min(30, len(name) + 2)))
        self.next_col += len(block.names)
        return block

    def finish(self) -> None:
        """Hand the values to the bulk writer (nothing to do when written cell by cell)."""
        if self.bulk is not None:
            self.bulk[CHART_DATA_SHEET] = SheetData(
                pd.DataFrame(self.columns), first_row=_FIRST_ROW + 1
            )

    def series(self, block: _Block, k: int) -> dict[str, Any]:
        col = block.col(k)
        return {
            "name": [CHART_DATA_SHEET, _NAME_ROW, col],
            "categories": [CHART_DATA_SHEET, _FIRST_ROW, 0, self.last_row, 0],
            "values": [CHART_DATA_SHEET, _FIRST_ROW, col, self.last_row, col],
        }


def _style(chart: Any, title: str, y_name: str, n: int, y_format: str | None = None) -> None:
    chart.set_title({"name": title, "name_font": {"size": 12}})
    # a category axis, not a date axis: Excel's date axes step in whole days, hours would merge
    chart.set_x_axis(
        {
            "name": "time",
            "num_format": "dd mmm hh:mm",
            "num_font": {"rotation": -45},
            "interval_unit": max(1, n // 12),
            "interval_tick": max(1, n // 12),
        }
    )
    y_axis: dict[str, Any] = {"name": y_name, "major_gridlines": {"visible": True}}
    if y_format:
        y_axis["num_format"] = y_format
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "right"})
    chart.set_size(_CHART_SIZE_PX)


def _line_chart(
    workbook: Any,
    data: _ChartData,
    block: _Block,
    title: str,
    y_name: str,
    y_format: str | None = None,
) -> Any:
    chart = workbook.add_chart({"type": "line"})
    for k in range(len(block.names)):
        colour = block.colors[k] or SERIES_PALETTE[k % len(SERIES_PALETTE)]
        chart.add_series({**data.series(block, k), "line": {"color": colour, "width": 1.5}})
    _style(chart, title, y_name, data.n, y_format)
    return chart


def _case_name(tables: Mapping[str, pd.DataFrame]) -> str:
    summary = tables.get("summary")
    if summary is not None and {"item", "value"} <= set(summary.columns):
        names = summary.loc[summary["item"] == "case_name", "value"]
        if len(names):
            return f"{names.iloc[0]}: "
    return ""


def _summary(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The summary table's items as a dict ({} without one)."""
    summary = tables.get("summary")
    if summary is None or not {"item", "value"} <= set(summary.columns):
        return {}
    return dict(zip(summary["item"].astype(str), summary["value"], strict=True))


def _placement(tables: Mapping[str, pd.DataFrame], sheet: str) -> tuple[int, int]:
    """Row and column beside the table on `sheet` (one empty column after its last)."""
    table = tables.get(sheet)
    return 1, (len(table.columns) + 1) if table is not None else 1


def add_native_charts(
    workbook: Any,
    worksheets: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    bulk: dict[str, SheetData] | None = None,
    date_format: Any = None,
) -> dict[str, list[str]]:
    """Add the chart_data sheet and native charts to an open xlsxwriter workbook.

    `worksheets` maps sheet names to the workbook's worksheets (pandas' `ExcelWriter.sheets`),
    `tables` the tables written to them. A chart whose table is missing or empty is left out.
    `bulk`, if given, receives chart_data's values to be streamed in after the workbook is
    closed (`gridopt.results.bulk.fill_workbook`; its snapshots in `date_format`), so only the
    sheet's header row is written here. Returns, for each chart added, the sheets it was
    placed on.
    """
    if _summary(tables).get("study") == "comparison":
        return add_comparison_charts(workbook, worksheets, tables)

    def table(name: str) -> pd.DataFrame | None:
        df = tables.get(name)
        return df if df is not None and len(df) else None

    gen, prices, flows, hydro, gas_prices, corridor_rows = (
        table(n) for n in ("generation", "prices", "flows", "hydro", "gas_prices", "corridors")
    )
    security = table("security")
    if security is not None:
        # the targets with a row per snapshot; the others have no place on a time axis
        hourly = security.groupby(["zone", "target"], sort=False)["snapshot"].transform(
            lambda s: s.notna().all()
        )
        security = security[hourly.astype(bool)]
        security = security if len(security) else None
    # the snapshots of every charted table, in order (in bulk: a year has millions of rows)
    stamps = pd.DatetimeIndex(
        pd.unique(
            pd.concat(
                [
                    df["snapshot"]
                    for df in (gen, prices, flows, hydro, gas_prices, security, corridor_rows)
                    if df is not None
                ]
                or [pd.Series([], dtype="datetime64[ns]")],
                ignore_index=True,
            ).dropna()
        )
    ).sort_values()
    if not len(stamps) or len(stamps) > _EXCEL_MAX_ROWS - _FIRST_ROW:
        return {}
    data = _ChartData(workbook, stamps, bulk, date_format)
    case = _case_name(tables)
    placed: dict[str, list[str]] = {}

    def place(name: str, make: Callable[[], Any], sheets: tuple[str, ...]) -> None:
        for sheet in sheets:
            if sheet in worksheets:
                row, col = _placement(tables, sheet)
                # charts of one sheet one below the other (a chart is 420 px: 21 rows)
                row += 22 * sum(sheet in where for where in placed.values())
                # one chart object per placement: Excel cannot show one chart twice
                worksheets[sheet].insert_chart(row, col, make())
                placed.setdefault(name, []).append(sheet)

    d = (
        dispatch(gen, table("storage"), table("unserved"), None, table("carriers"))
        if gen is not None
        else None
    )
    if d is not None and len(d.supply.columns):
        supply = data.add(
            "system dispatch by series, MW", d.supply, [d.colors[c] for c in d.supply.columns]
        )
        lines = pd.DataFrame(index=d.supply.index)
        if d.demand_mw is not None:
            lines["demand"] = d.demand_mw
            if len(d.uptake.columns):
                lines["demand + storage charging"] = d.demand_mw - d.uptake.sum(axis=1)
        demand = (
            data.add("system demand, MW", lines, [CARRIER_COLORS["demand"], "#7f7f7f"])
            if len(lines.columns)
            else None
        )

        def dispatch_chart() -> Any:
            area = workbook.add_chart({"type": "area", "subtype": "stacked"})
            for k in range(len(supply.names)):
                area.add_series(
                    {
                        **data.series(supply, k),
                        "fill": {"color": supply.colors[k]},
                        "border": {"none": True},
                    }
                )
            if demand is not None:
                line = workbook.add_chart({"type": "line"})
                for k, name in enumerate(demand.names):
                    line.add_series(
                        {
                            **data.series(demand, k),
                            "line": {
                                "color": demand.colors[k],
                                "width": 2.0,
                                "dash_type": "solid" if name == "demand" else "dash",
                            },
                        }
                    )
                area.combine(line)
            _style(area, f"{case}dispatch by carrier, whole system", "power (MW)", data.n, "#,##0")
            return area

        place("dispatch", dispatch_chart, ("summary", "generation"))

    if prices is not None:
        by_region = region_prices(prices, table("unserved")).iloc[:, :_MAX_SERIES]
        block = data.add(
            "regional price (load-weighted mean of buses), CNY/MWh",
            by_region,
            [None] * len(by_region.columns),
        )
        place(
            "regional_prices",
            lambda: _line_chart(
                workbook, data, block, f"{case}regional prices", "price (CNY/MWh)", "#,##0"
            ),
            ("prices",),
        )

    corr = table("corridors")
    groups = corridor_groups(flows, corr)
    for i, c in enumerate(groups):
        util = c.utilisation_pu.rename(columns=c.labels)
        what = KIND_WORDS[c.kind]
        block = data.add(f"{what} utilisation, pu of rating", util, [None] * len(util.columns))
        shown = f", busiest {len(c.labels)} of {c.n_total}" if c.n_total > len(c.labels) else ""
        place(
            "corridor_utilisation" if i == 0 else f"{c.kind}_utilisation",
            lambda block=block, what=what, shown=shown: _line_chart(  # type: ignore[misc]
                workbook,
                data,
                block,
                f"{case}{what} utilisation{shown}",
                "utilisation (% of rating)",
                "0%",
            ),
            ("corridors",) if c.kind == "corridor" else ("flows",),
        )

    if groups and prices is not None:
        hours = hours_per_snapshot(data.index, _summary(tables))
        t = transfers(flows, corr, prices, hours)
        t = t[t["kind"].isin([g.kind for g in groups]) & t["kind"].ne("line")]
        if len(t):
            t = t.assign(
                label=t["branch"].astype(str)
                + " ("
                + t["bus0"].astype(str)
                + " → "
                + t["bus1"].astype(str)
                + ")"
            )
            rent = t.pivot_table(
                index="snapshot",
                columns="label",
                values="congestion_rent_cny",
                aggfunc="sum",
                sort=False,
            )
            # the branches that earn most, corridors before links
            order = t.groupby("label", sort=False)["congestion_rent_cny"].sum().abs()
            keep = list(order.sort_values(ascending=False, kind="stable").index[:MAX_LINES])
            so_far = rent.reindex(columns=keep).fillna(0.0).cumsum() / 1e6
            block = data.add(
                "congestion rent so far, million CNY", so_far, [None] * len(so_far.columns)
            )
            place(
                "congestion_rent",
                lambda: _line_chart(
                    workbook,
                    data,
                    block,
                    f"{case}congestion rent of corridors and links so far",
                    "congestion rent so far (million CNY)",
                    "#,##0.0",
                ),
                ("corridors",) if corr is not None else ("flows",),
            )

    rivers = reservoirs(hydro, limit=MAX_LINES) if hydro is not None else {}
    if rivers:
        storage = pd.concat({r: t for r, t in rivers.items()}, axis=1)
        storage.columns = [f"{station} ({river})" for river, station in storage.columns]
        block = data.add(
            "reservoir storage at the end of each snapshot, hm3",
            storage,
            [None] * len(storage.columns),
        )
        place(
            "reservoir_storage",
            lambda: _line_chart(
                workbook, data, block, f"{case}reservoir storage", "storage (hm³)", "#,##0.0"
            ),
            ("hydro",),
        )

    if gas_prices is not None:
        by_node = gas_node_prices(gas_prices).iloc[:, :_MAX_SERIES]
        block = data.add("gas price, CNY/MWh_th", by_node, [None] * len(by_node.columns))
        place(
            "gas_prices",
            lambda: _line_chart(
                workbook,
                data,
                block,
                f"{case}gas prices by gas node",
                "gas price (CNY/MWh_th)",
                "#,##0",
            ),
            ("gas_prices",),
        )

    if security is not None:
        hours = hours_per_snapshot(data.index, _summary(tables))
        binding = security.groupby(["zone", "target", "snapshot"], sort=False)["binding"].any()
        binding = binding.unstack(["zone", "target"], fill_value=False).reindex(
            data.index, fill_value=False
        )
        so_far = binding.astype(float).cumsum() * hours
        so_far.columns = [f"{zone}: {target}" for zone, target in so_far.columns]
        so_far = so_far.iloc[:, :_MAX_SERIES]
        block = data.add(
            "hours the security target has bound so far, h", so_far, [None] * len(so_far.columns)
        )
        place(
            "security_binding_hours",
            lambda: _line_chart(
                workbook,
                data,
                block,
                f"{case}binding hours of the hourly security targets",
                "binding hours so far (h)",
                "#,##0",
            ),
            ("security",),
        )
    data.finish()
    return placed


# sheets of a comparison of runs (`gridopt compare`) charted as bars: sheet -> label column
COMPARISON_CHARTS = {
    "energy_by_carrier": "carrier",
    "price_by_region": "region",
    "co2_by_region": "region",
    "corridor_energy": "branch",
    "costs": "cost_type",
}
_MAX_BARS = 60


def add_comparison_charts(
    workbook: Any, worksheets: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]
) -> dict[str, list[str]]:
    """Bar charts beside each table of a comparison of runs: the runs side by side, and their
    differences against the base. Tables are found by name (`COMPARISON_CHARTS`); the run
    columns are the numeric ones, a difference's name holds " - "."""
    placed: dict[str, list[str]] = {}
    for sheet, label in COMPARISON_CHARTS.items():
        df = tables.get(sheet)
        if df is None or not len(df) or sheet not in worksheets or label not in df:
            continue
        numeric = [
            j
            for j, c in enumerate(df.columns)
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        ]
        runs = [j for j in numeric if " - " not in str(df.columns[j])]
        diffs = [j for j in numeric if " - " in str(df.columns[j])]
        n = min(len(df), _MAX_BARS)
        lab = df.columns.get_loc(label)
        for k, (cols, what) in enumerate(
            ((runs, "by run"), (diffs, "difference against the base"))
        ):
            if not cols:
                continue
            chart = workbook.add_chart({"type": "bar" if n > 12 else "column"})
            for i, j in enumerate(cols):
                chart.add_series(
                    {
                        "name": [sheet, 0, j],
                        "categories": [sheet, 1, lab, n, lab],
                        "values": [sheet, 1, j, n, j],
                        "fill": {"color": SERIES_PALETTE[i % len(SERIES_PALETTE)]},
                        "border": {"none": True},
                    }
                )
            unit = str(df.columns[cols[0]]).rpartition("(")[2].rstrip(")")
            chart.set_title(
                {"name": f"{sheet.replace('_', ' ')}, {what}", "name_font": {"size": 12}}
            )
            chart.set_legend({"position": "bottom"})
            axis = {"name": unit, "major_gridlines": {"visible": True}, "num_format": "#,##0"}
            if n > 12:
                chart.set_x_axis(axis)
                chart.set_y_axis({"reverse": True})
            else:
                chart.set_y_axis(axis)
            height = (
                max(_CHART_SIZE_PX["height"], 18 * n + 120) if n > 12 else _CHART_SIZE_PX["height"]
            )
            chart.set_size({"width": _CHART_SIZE_PX["width"], "height": height})
            worksheets[sheet].insert_chart(1 + k * (height // 20 + 2), len(df.columns) + 1, chart)
            placed.setdefault(f"{sheet}_{'runs' if k == 0 else 'differences'}", []).append(sheet)
    return placed
