"""Charts of a results folder, drawn as PNG files with matplotlib (Agg backend, no display).

`plot_run(run_dir, out_dir)` reads the result tables of a solved run (from `parquet/`, `csv/`
or `results.xlsx`, in that order of preference) and draws every chart in `CHARTS`:

| chart | file(s) | tables |
|---|---|---|
| dispatch | `dispatch_system.png`, `dispatch_<region>.png` | generation (storage, unserved) |
| corridor_flows | `corridor_flows.png` (corridors, else links, else AC | corridors, flows |
| | lines), `link_flows.png` (the links of a run with corridors) | |
| congestion_rent | `congestion_rent.png` | corridors, flows (prices for the rent of links) |
| reservoir_storage | `reservoir_storage.png` | hydro |
| price_heatmap | `price_heatmap.png` | prices (unserved, for load weights) |
| network_map | `network_map.png` | buses (flows and corridors, for line widths) |
| gas_prices | `gas_prices.png` | gas_prices |
| gas_supply | `gas_supply.png` | gas_supply (gas_burn, gas_prices, gas_storage) |
| gas_pipelines | `gas_pipelines.png` | gas_flows |
| security | `security.png` (`security_2.png`, ... beyond 3 zones) | security |
| future_cost_levels | `future_cost_levels.png` | future_cost_levels (`gridopt future-cost`) |

Each chart declares the tables it needs; when one is missing from the run the chart is skipped
with a one-line note, so a dispatch run without hydro or links still gets the rest.

Drawing only: the tables are read by `gridopt.results.read.RunTables` and shaped by
`gridopt.results.chart_data`, which also holds the one colour table that these charts and the
workbook's native charts share. matplotlib is imported when a chart is drawn.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridopt.progress import steps
from gridopt.results.chart_data import (
    CHECK,
    HOURLY,
    KIND_WORDS,
    MAX_LINES,
    PERIOD,
    SERIES_PALETTE,
    Corridors,
    Dispatch,
    carrier_color,
    congestion_rent,
    corridor_groups,
    dispatch,
    gas_balance,
    gas_node_prices,
    hours_per_snapshot,
    pipelines,
    region_prices,
    reservoirs,
    security_targets,
    store_trajectories,
    transfers,
)
from gridopt.results.read import RunTables

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


# every PNG has the same size: FIG_SIZE_IN * DPI pixels
FIG_SIZE_IN = (10.0, 6.0)
DPI = 150
PNG_SIZE_PX = (round(FIG_SIZE_IN[0] * DPI), round(FIG_SIZE_IN[1] * DPI))  # (width, height)


# ---------------------------------------------------------------------------------------------
# drawing


class ChartSkipped(Exception):
    """A chart cannot be drawn from this run; the message says why, in one line."""


@dataclass(frozen=True)
class Chart:
    """One chart of the registry: the tables it needs and the function that draws it."""

    name: str
    description: str
    needs: tuple[str, ...]
    draw: Callable[[RunTables, Path], list[Path]]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, Any]:
    plt = _pyplot()
    fig, axes = plt.subplots(
        nrows, ncols, figsize=FIG_SIZE_IN, dpi=DPI, layout="constrained", squeeze=False, **kw
    )
    return fig, axes


def _panels(n: int, max_cols: int) -> tuple[Figure, Any]:
    """A figure of n panels in rows of at most `max_cols`; the unused cells are hidden."""
    ncols = min(max_cols, n)
    fig, axes = _figure(math.ceil(n / ncols), ncols)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _save(fig: Figure, path: Path) -> Path:
    """Write the PNG beside its final name, then move it into place (no half-written files)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    finally:
        _pyplot().close(fig)
        tmp.unlink(missing_ok=True)
    return path


def _time_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time")


def _mw_axis(ax: Axes, label: str) -> None:
    import matplotlib.ticker as mticker

    ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel(label)


def _steps(index: pd.Index, hours: float) -> np.ndarray:
    """Snapshot start times plus the end of the last one, for step plots that show every
    snapshot as the block of hours it stands for."""
    stamps = pd.DatetimeIndex(index)
    return np.append(stamps.to_numpy(), (stamps[-1] + pd.Timedelta(hours=hours)).to_datetime64())


def _extend(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values, values[-1:]], axis=0)


def slug(name: str) -> str:
    """A file-name-safe form of a region or chart name."""
    return re.sub(r"[^\w\-]+", "_", str(name)).strip("_") or "unnamed"


def _draw_stack_axes(
    ax: Axes,
    supply: pd.DataFrame,
    uptake: pd.DataFrame,
    lines: Mapping[str, tuple[pd.Series | None, str]],
    colors: Mapping[str, str],
    hours: float,
    title: str,
    unit: str,
    quantity: str,
) -> None:
    """Supply stacked up, uptake (negative) hatched below zero and `lines` ({label: (series,
    line style)}) over them; the legend beside the axes, the stack top-down as it is drawn."""
    x = _steps(supply.index, hours)
    if len(supply.columns):
        ax.stackplot(
            x,
            _extend(supply.to_numpy()).T,
            labels=list(supply.columns),
            colors=[colors[c] for c in supply.columns],
            step="post",
            linewidth=0,
        )
    if len(uptake.columns):
        ax.stackplot(
            x,
            _extend(uptake.to_numpy()).T,
            labels=list(uptake.columns),
            colors=[colors[c] for c in uptake.columns],
            step="post",
            alpha=0.55,
            hatch="//",
            linewidth=0,
        )
    drawn = []
    for label, (series, style) in lines.items():
        if series is not None:
            ax.plot(
                x,
                _extend(series.to_numpy()),
                drawstyle="steps-post",
                color=colors[label],
                linewidth=1.6,
                linestyle=style,
                label=label,
            )
            drawn.append(label)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlim(x[0], x[-1])
    ax.set_title(title)
    _time_axis(ax)
    _mw_axis(ax, f"{quantity} ({unit})")
    by_label = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    order = [*drawn, *reversed(supply.columns), *uptake.columns]
    ax.legend(
        [by_label[k] for k in order],
        order,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title=f"{unit} by series",
    )


def _draw_dispatch_axes(ax: Axes, d: Dispatch, hours: float, title: str) -> None:
    _draw_stack_axes(
        ax,
        d.supply,
        d.uptake,
        {"demand": (d.demand_mw, "-")},
        d.colors,
        hours,
        title,
        "MW",
        "power",
    )


def draw_dispatch(run: RunTables, out_dir: Path) -> list[Path]:
    """Dispatch stack by carrier: one chart for the system, one per region."""
    gen = run.get("generation")
    if gen is None or not len(gen):
        raise ChartSkipped("the generation table is empty")
    storage, unserved, carriers = run.get("storage"), run.get("unserved"), run.get("carriers")
    hours = hours_per_snapshot(gen["snapshot"], run.summary)
    paths = []
    # regions that generate or have load (one importing all its energy has a chart too), in
    # the order of the buses
    active = set(gen["region"].astype(str))
    regions = list(pd.unique(gen["region"].astype(str)))
    if unserved is not None and len(unserved):
        active |= set(unserved.loc[unserved["demand_mw"] > 0, "region"].astype(str))
        regions = [r for r in pd.unique(unserved["region"].astype(str)) if r in active]
    # with one region its chart would repeat the system's
    scopes: list[str | None] = [None, *(regions if len(regions) > 1 else [])]
    used: set[str] = set()
    for region in scopes:
        d = dispatch(gen, storage, unserved, region, carriers)
        fig, axes = _figure()
        where = "whole system" if region is None else f"region {region}"
        _draw_dispatch_axes(axes[0, 0], d, hours, f"{run.case_name}: dispatch by carrier, {where}")
        name = "dispatch_system" if region is None else f"dispatch_{slug(region)}"
        while name in used:  # two region names that differ only in punctuation
            name += "_"
        used.add(name)
        paths.append(_save(fig, out_dir / f"{name}.png"))
    return paths


def draw_corridor_flows(run: RunTables, out_dir: Path) -> list[Path]:
    """Flows over time and utilisation duration curves: the scheduled corridors
    (`corridor_flows.png`), the links (`link_flows.png`, or `corridor_flows.png` in a run
    without scheduled corridors), and the AC lines only when there are neither."""
    groups = corridor_groups(run.get("flows"), run.get("corridors"))
    if not groups:
        raise ChartSkipped("the run has no flows or corridors table with rows")
    paths = []
    for i, c in enumerate(groups):
        name = "corridor_flows" if i == 0 else f"{c.kind}_flows"
        paths.append(
            _draw_flows(
                run,
                c,
                KIND_WORDS[c.kind],
                "flow sent (MW; + is bus0 → bus1)",
                out_dir / f"{name}.png",
            )
        )
    return paths


def draw_congestion_rent(run: RunTables, out_dir: Path) -> list[Path]:
    """Congestion rent over the horizon of each corridor and link (bars), with the hours each
    spent at its rating."""
    flows, corr = run.get("flows"), run.get("corridors")
    stamps = (
        pd.concat([d["snapshot"] for d in (flows, corr) if d is not None and len(d)])
        if any(d is not None and len(d) for d in (flows, corr))
        else None
    )
    if stamps is None:
        raise ChartSkipped("the run has no flows or corridors table with rows")
    hours = hours_per_snapshot(stamps, run.summary)
    rent = congestion_rent(transfers(flows, corr, run.get("prices"), hours), hours)
    rent = rent[rent["congestion_rent_cny"].notna()]
    if not len(rent):
        raise ChartSkipped("no congestion rent: the run has no prices")
    rent = rent.head(2 * MAX_LINES)
    fig, axes = _figure(1, 2, width_ratios=(3, 2))
    ax_r, ax_h = axes[0]
    y = np.arange(len(rent))
    colours = [SERIES_PALETTE[0] if k == "corridor" else SERIES_PALETTE[1] for k in rent["kind"]]
    labels = [
        f"{b} ({b0} → {b1})"
        for b, b0, b1 in rent[["branch", "bus0", "bus1"]].itertuples(index=False)
    ]
    ax_r.barh(y, rent["congestion_rent_cny"] / 1e6, color=colours)
    ax_r.set_yticks(y, labels, fontsize="small")
    ax_r.invert_yaxis()
    ax_r.set_xlabel("congestion rent over the horizon (million CNY)")
    ax_r.grid(axis="x", alpha=0.3)
    ax_h.barh(y, rent["hours_at_rating_h"], color=colours)
    ax_h.set_yticks(y, [""] * len(rent))
    ax_h.invert_yaxis()
    ax_h.set_xlabel("hours at rating (h)")
    ax_h.grid(axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    kinds = list(pd.unique(rent["kind"]))
    fig.legend(
        handles=[
            Patch(
                color=SERIES_PALETTE[0] if k == "corridor" else SERIES_PALETTE[1],
                label=KIND_WORDS[str(k)],
            )
            for k in kinds
        ],
        loc="outside lower center",
        ncols=len(kinds),
        fontsize="small",
    )
    fig.suptitle(
        f"{run.case_name}: congestion rent and hours at rating of the"
        f" {' and '.join(KIND_WORDS[str(k)] for k in kinds)}"
    )
    return [_save(fig, out_dir / "congestion_rent.png")]


def _draw_flows(run: RunTables, c: Corridors, what: str, flow_label: str, path: Path) -> Path:
    """Flows over time and utilisation duration curves of corridors or pipelines."""
    hours = hours_per_snapshot(c.flow_mw.index, run.summary)
    fig, axes = _figure(1, 2, width_ratios=(3, 2))
    ax_flow, ax_dur = axes[0]
    x = _steps(c.flow_mw.index, hours)
    for i, b in enumerate(c.flow_mw.columns):
        colour = SERIES_PALETTE[i % len(SERIES_PALETTE)]
        ax_flow.plot(
            x,
            _extend(c.flow_mw[b].to_numpy()),
            drawstyle="steps-post",
            color=colour,
            linewidth=1.3,
            label=c.labels[b],
        )
        util = np.sort(c.utilisation_pu[b].dropna().to_numpy())[::-1] * 100.0
        # each snapshot stands for `hours` hours: the curve runs to the length of the horizon
        ax_dur.step(
            np.arange(len(util) + 1) * hours,
            _extend(util) if len(util) else [0.0],
            where="post",
            color=colour,
            linewidth=1.3,
        )
    shown = f", busiest {len(c.labels)} of {c.n_total}" if c.n_total > len(c.labels) else ""
    ax_flow.axhline(0.0, color="black", linewidth=0.6)
    ax_flow.set_xlim(x[0], x[-1])
    ax_flow.set_title(f"Flow sent on {what}{shown}")
    _time_axis(ax_flow)
    _mw_axis(ax_flow, flow_label)
    ax_dur.set_title("Utilisation duration curves")
    ax_dur.set_xlabel("hours at or above the level (h)")
    ax_dur.set_ylabel("utilisation (% of rating)")
    ax_dur.set_ylim(
        0, max(100.0, float(np.nanmax(c.utilisation_pu.to_numpy(), initial=0)) * 100 * 1.05)
    )
    ax_dur.set_xlim(0, len(c.flow_mw.index) * hours)
    ax_dur.grid(alpha=0.3)
    fig.suptitle(f"{run.case_name}: {what}")
    fig.legend(
        *ax_flow.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(3, max(1, len(c.labels))),
        fontsize="small",
    )
    return _save(fig, path)


def draw_reservoir_storage(run: RunTables, out_dir: Path) -> list[Path]:
    """Reservoir storage trajectories, one panel per river."""
    hydro = run.get("hydro")
    rivers = reservoirs(hydro) if hydro is not None and len(hydro) else {}
    if hydro is None or not rivers:
        raise ChartSkipped("no hydro station holds water (all run-of-river)")
    hours = hours_per_snapshot(hydro["snapshot"], run.summary)
    n = len(rivers)
    fig, axes = _panels(n, 2)
    for ax, (river, table) in zip(axes.flat, rivers.items(), strict=False):
        # storage is the level at the end of each snapshot; start the line at its start
        x = _steps(table.index, hours)[1:]
        for i, station in enumerate(table.columns[:MAX_LINES]):
            ax.plot(
                x,
                table[station].to_numpy(),
                marker="o" if len(x) <= 48 else None,
                markersize=3,
                color=SERIES_PALETTE[i % len(SERIES_PALETTE)],
                label=str(station),
            )
        ax.set_title(f"river {river}")
        ax.set_ylabel("storage (hm³)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        _time_axis(ax)
        # beside the panel: a cascade's lines fill the panel, a legend inside would hide them
        ax.legend(
            fontsize="x-small",
            title="station",
            title_fontsize="small",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
        )
    fig.suptitle(f"{run.case_name}: reservoir storage at the end of each hour")
    return [_save(fig, out_dir / "reservoir_storage.png")]


def draw_price_heatmap(run: RunTables, out_dir: Path) -> list[Path]:
    """Heat map of regional prices, region x hour."""
    prices = run.get("prices")
    if prices is None or not len(prices):
        raise ChartSkipped("the prices table is empty")
    table = region_prices(prices, run.get("unserved"))
    return [
        _draw_heatmap(
            run,
            table,
            "region",
            "price (CNY/MWh)",
            f"{run.case_name}: regional prices (load-weighted mean of nodal prices)",
            out_dir / "price_heatmap.png",
        )
    ]


def _draw_heatmap(
    run: RunTables, table: pd.DataFrame, what: str, unit_label: str, title: str, path: Path
) -> Path:
    """Heat map of a snapshot x series table: one row per series, time along x."""
    import matplotlib.dates as mdates

    hours = hours_per_snapshot(table.index, run.summary)
    values = table.to_numpy(dtype=float).T
    vmin, vmax, high, low = heatmap_scale(values)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    extend = {
        (False, False): "neither",
        (True, False): "min",
        (False, True): "max",
        (True, True): "both",
    }[(bool(lo < vmin), bool(hi > vmax))]
    plt = _pyplot()
    # cells beyond the scale are marked in colours of their own, not clipped into it
    cmap = plt.get_cmap("viridis").with_extremes(over="#d62728", under="#2b8cbe")
    fig, axes = _figure()
    ax = axes[0, 0]
    x = _steps(table.index, hours)
    image = ax.imshow(
        values,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        extent=(mdates.date2num(x[0]), mdates.date2num(x[-1]), len(table.columns) - 0.5, -0.5),
    )
    means = np.nanmean(values, axis=1)
    labels = [
        f"{r} (off scale: mean {_number(m)})" if h or lw else str(r)
        for r, m, h, lw in zip(table.columns, means, high, low, strict=True)
    ]
    ax.set_yticks(range(len(table.columns)), labels)
    if high.any() or low.any():
        ax.set_title(
            title + "\nred / blue: above / below the colour scale, which follows the other rows",
            fontsize="medium",
        )
    else:
        ax.set_title(title)
    ax.set_ylabel(what)
    ax.xaxis_date()
    _time_axis(ax)
    bar = fig.colorbar(image, ax=ax, extend=extend)
    bar.set_label(unit_label)
    return _save(fig, path)


def heatmap_scale(values: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Colour scale of a heat map (rows: series, columns: times) that shows the variation of
    the typical rows: (vmin, vmax, rows far above, rows far below).

    A row whose median lies far from the other rows' (beyond the Tukey fences, 3 x the
    interquartile range of the row medians, at least 10 % of their median, from the quartiles:
    e.g. Macao's price at 1,800 CNY/MWh beside provinces near 400) is left out of the scale and
    marked; of the other cells, a few extreme hours (e.g. scarcity at the value of lost load)
    are left out when they lie far outside their 1st-99th percentiles.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    high, low = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    med = np.array([np.nanmedian(r) if np.isfinite(r).any() else np.nan for r in values])
    if np.isfinite(med).sum() >= 4:
        q1, q3 = np.nanpercentile(med, [25, 75])
        fence = max(3 * (q3 - q1), 0.1 * abs(float(np.nanmedian(med))), 1e-9)
        high, low = med > q3 + fence, med < q1 - fence
    inner = values[~(high | low)]
    inner = inner[np.isfinite(inner)]
    if not len(inner):
        inner = values[np.isfinite(values)]
    if not len(inner):
        return 0.0, 1.0, high, low
    lo, hi = float(inner.min()), float(inner.max())
    p1, p99 = (float(v) for v in np.percentile(inner, [1, 99]))
    spread = p99 - p1
    vmin = p1 if spread > 0 and lo < p1 - 2 * spread else lo
    vmax = p99 if spread > 0 and hi > p99 + 2 * spread else hi
    if vmax <= vmin:
        vmin, vmax = vmin - 1.0, vmax + 1.0
    return vmin, vmax, high, low


def draw_network_map(run: RunTables, out_dir: Path) -> list[Path]:
    """Buses at their coordinates, lines and corridors between them, width by energy carried."""
    from matplotlib.lines import Line2D

    buses = run.get("buses")
    placed = (
        buses.dropna(subset=["x_lon", "y_lat"])
        if buses is not None and len(buses) and {"x_lon", "y_lat"} <= set(buses.columns)
        else pd.DataFrame()
    )
    if not len(placed):
        raise ChartSkipped("no bus has coordinates (x_lon, y_lat)")
    at = placed.set_index("bus")[["x_lon", "y_lat"]]
    fig, axes = _figure()
    ax = axes[0, 0]
    handles: list[Any] = []
    branches = transfers(run.get("flows"), run.get("corridors"))
    unplaced = 0
    if len(branches):
        hours = hours_per_snapshot(branches["snapshot"], run.summary)
        energy = (
            branches.assign(
                e=branches["sent_mw"].abs() * hours / 1e3, net=branches["sent_mw"] * hours / 1e3
            )
            .groupby(["branch", "kind", "carrier", "bus0", "bus1"], sort=False, dropna=False)[
                ["e", "net"]
            ]
            .sum()
            .reset_index()
        )
        top = max(float(energy["e"].max()), 1e-9)
        lon, lat = placed["x_lon"].astype(float), placed["y_lat"].astype(float)
        span = max(float(lon.max() - lon.min()), float(lat.max() - lat.min()), 1.0)
        pair = energy[["bus0", "bus1"]].astype(str).apply(lambda r: tuple(sorted(r)), axis=1)
        rank, count = pair.groupby(pair).cumcount(), pair.map(pair.value_counts())
        for i, row in enumerate(energy.itertuples(index=False)):
            if row.bus0 not in at.index or row.bus1 not in at.index:
                unplaced += 1
                continue
            colour = carrier_color(
                "AC" if row.kind == "line" else "DC" if pd.isna(row.carrier) else str(row.carrier)
            )
            a, b = at.loc[row.bus0].to_numpy(float), at.loc[row.bus1].to_numpy(float)
            # parallel circuits between the same two buses are drawn side by side
            d = b - a
            normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
            if row.bus0 > row.bus1:
                normal = -normal
            # side by side, but the bundle no wider than a few % of the map
            gap = min(0.02 * span, 0.06 * span / max(count.iloc[i] - 1, 1))
            shift = normal * gap * (rank.iloc[i] - (count.iloc[i] - 1) / 2)
            a, b = a + shift, b + shift
            # scheduled corridors dashed, so that they stand apart from links of one carrier
            ax.plot(
                [a[0], b[0]],
                [a[1], b[1]],
                color=colour,
                linewidth=0.6 + 7.0 * row.e / top,
                alpha=0.8,
                solid_capstyle="round",
                zorder=1,
                linestyle=(0, (4, 1.5)) if row.kind == "corridor" else "-",
            )
            if row.kind != "line" and abs(row.net) > 1e-9:
                # an arrowhead at the middle shows the net direction of a corridor's energy
                mid, step = (a + b) / 2, np.sign(row.net) * d * 0.04
                ax.annotate(
                    "",
                    xy=mid + step,
                    xytext=mid - step,
                    zorder=3,
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": colour,
                        "mutation_scale": 18,
                        "linewidth": 0,
                    },
                )
        kinds = energy.assign(
            c=np.where(energy["kind"] == "line", "AC", energy["carrier"].fillna("DC").astype(str))
        )
        for (c, kind), _rows in kinds.groupby(["c", "kind"], sort=False):
            label = "AC lines" if c == "AC" else f"{c} {KIND_WORDS[str(kind)]}"
            handles.append(
                Line2D(
                    [],
                    [],
                    color=carrier_color(c),
                    linewidth=3,
                    label=label,
                    linestyle="--" if kind == "corridor" else "-",
                )
            )
        if (energy["kind"] != "line").any():
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=">",
                    markersize=8,
                    color="#444444",
                    label="net direction (corridors, links)",
                )
            )
        for share in (1.0, 0.5, 0.1):
            handles.append(
                Line2D(
                    [],
                    [],
                    color="#999999",
                    linewidth=0.6 + 7.0 * share,
                    label=f"{share * top:,.1f} GWh carried",
                )
            )
    regions = list(pd.unique(placed["region"].astype(str)))
    # twenty distinct colours: enough for the PPRD provinces and their neighbours
    region_colors = _pyplot().get_cmap("tab20").colors
    for i, region in enumerate(regions):
        sel = placed[placed["region"].astype(str) == region]
        handles.append(
            ax.scatter(
                sel["x_lon"],
                sel["y_lat"],
                s=60,
                zorder=2,
                color=region_colors[i % len(region_colors)],
                edgecolor="black",
                linewidth=0.5,
                label=f"buses in {region}",
            )
        )
    if len(placed) <= 40:
        for row in placed.itertuples(index=False):
            ax.annotate(
                str(row.bus),
                (row.x_lon, row.y_lat),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize="small",
                zorder=3,
            )
    # degrees of longitude shrink with latitude; this keeps the map's shapes true
    ax.set_aspect(1.0 / max(math.cos(math.radians(float(placed["y_lat"].mean()))), 0.1))
    ax.margins(0.1)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.grid(alpha=0.3)
    missing = (len(buses) if buses is not None else 0) - len(placed)
    note = (f"; {missing} buses without coordinates not shown" if missing else "") + (
        f"; {unplaced} branches to them not shown" if unplaced else ""
    )
    ax.set_title(
        f"{run.case_name}: network, line width by energy carried over the horizon" + note,
        fontsize="medium",
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return [_save(fig, out_dir / "network_map.png")]


def draw_gas_prices(run: RunTables, out_dir: Path) -> list[Path]:
    """Heat map of gas prices, gas node x hour."""
    prices = run.get("gas_prices")
    if prices is None or not len(prices):
        raise ChartSkipped("the gas_prices table is empty")
    return [
        _draw_heatmap(
            run,
            gas_node_prices(prices),
            "gas node (region)",
            "gas price (CNY/MWh_th)",
            f"{run.case_name}: gas prices by gas node",
            out_dir / "gas_prices.png",
        )
    ]


def draw_gas_supply(run: RunTables, out_dir: Path) -> list[Path]:
    """Gas supply stacked by source kind, with the gas demand and the gas burnt for power."""
    supply = run.get("gas_supply")
    if supply is None or not len(supply):
        raise ChartSkipped("the gas_supply table is empty")
    b = gas_balance(supply, run.get("gas_burn"), run.get("gas_prices"), run.get("gas_storage"))
    fig, axes = _figure()
    _draw_stack_axes(
        axes[0, 0],
        b.supply,
        b.uptake,
        {"gas demand": (b.demand_mwth, "-"), "burnt for power": (b.power_mwth, "--")},
        b.colors,
        hours_per_snapshot(b.supply.index, run.summary),
        f"{run.case_name}: gas supply by source kind, whole system",
        "MWth",
        "gas flow",
    )
    return [_save(fig, out_dir / "gas_supply.png")]


def draw_gas_pipelines(run: RunTables, out_dir: Path) -> list[Path]:
    """Gas pipeline flows over time and utilisation duration curves."""
    flows = run.get("gas_flows")
    c = pipelines(flows) if flows is not None else None
    if c is None:
        raise ChartSkipped("the gas_flows table is empty")
    return [
        _draw_flows(
            run,
            c,
            "gas pipelines",
            "gas sent (MWth; + is node0 → node1)",
            out_dir / "gas_pipelines.png",
        )
    ]


# zones in one security chart at most; more continue in security_2.png, ...
SECURITY_ZONES_PER_CHART = 3
_SECURITY_COLORS = {HOURLY: "#1f77b4", PERIOD: "#9467bd", "mean": "#e6550d", "max": "#fdae6b"}


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def draw_security(run: RunTables, out_dir: Path) -> list[Path]:
    """Per zone (one row of panels each): the hours each target binds, and its shadow price
    (mean and max over the hours or periods, log scale, in the unit of the target)."""
    from matplotlib.patches import Patch

    security = run.get("security")
    if security is None or not len(security):
        raise ChartSkipped("the security table is empty")
    stamps = security["snapshot"].dropna()
    gen = run.get("generation")
    if not len(stamps) and gen is not None:
        stamps = gen["snapshot"]
    hours = hours_per_snapshot(stamps, run.summary) if len(stamps) else 1.0
    targets = security_targets(security, stamps, hours)
    zones = list(pd.unique(targets["zone"]))
    paths = []
    for page in range(0, len(zones), SECURITY_ZONES_PER_CHART):
        shown = zones[page : page + SECURITY_ZONES_PER_CHART]
        sizes = [int((targets["zone"] == z).sum()) + 1 for z in shown]
        fig, axes = _figure(len(shown), 2, height_ratios=sizes, width_ratios=(1, 1))
        for (ax_h, ax_p), zone in zip(axes, shown, strict=True):
            _draw_security_zone(
                ax_h, ax_p, targets[targets["zone"] == zone].reset_index(), str(zone)
            )
        axes[-1, 0].set_xlabel("binding hours (h)")
        axes[-1, 1].set_xlabel("shadow price (log scale; unit of each target)")
        kinds = set(targets.loc[targets["zone"].isin(shown), "kind"])
        handles = (
            [Patch(color=_SECURITY_COLORS[HOURLY], label="binding hours")] * (HOURLY in kinds)
            + [
                Patch(
                    facecolor=_SECURITY_COLORS[PERIOD],
                    hatch="//",
                    edgecolor="white",
                    label="target over a period: hours of the periods it binds in",
                )
            ]
            * (PERIOD in kinds)
            + [
                Patch(
                    color=_SECURITY_COLORS["mean"],
                    label="shadow price, mean over the hours (or periods)",
                ),
                Patch(color=_SECURITY_COLORS["max"], label="shadow price, max"),
            ]
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize="small")
        part = (
            f" ({page // SECURITY_ZONES_PER_CHART + 1} of "
            f"{math.ceil(len(zones) / SECURITY_ZONES_PER_CHART)})"
            if len(zones) > SECURITY_ZONES_PER_CHART
            else ""
        )
        fig.suptitle(f"{run.case_name}: supply-security targets{part}")
        name = "security" if page == 0 else f"security_{page // SECURITY_ZONES_PER_CHART + 1}"
        paths.append(_save(fig, out_dir / f"{name}.png"))
    return paths


def _draw_security_zone(ax_h: Axes, ax_p: Axes, t: pd.DataFrame, zone: str) -> None:
    y = np.arange(len(t))
    horizon = max(float(t["horizon_h"].max()), 1.0)
    for i, row in t.iterrows():
        if row["kind"] == CHECK:
            text = (
                "check: met"
                if row["met"]
                else (f"check: NOT met, short by {_number(row['short'])} {row['unit']}")
            )
        else:
            period = row["kind"] == PERIOD
            ax_h.barh(
                i,
                row["binding_h"],
                color=_SECURITY_COLORS[row["kind"]],
                height=0.6,
                hatch="//" if period else None,
                edgecolor="white" if period else None,
            )
            text = (
                f"{row['binding_h']:,.0f} of {horizon:,.0f} h"
                if not period
                else f"binds in {row['binding']} of {row['periods']} ({row['period']})"
                if len(row["period"]) <= 24
                else f"binds in {row['binding']} of {row['periods']} periods"
            )
        ax_h.annotate(
            text,
            (row["binding_h"] if row["kind"] != CHECK else 0.0, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize="x-small",
        )
    ax_h.set_yticks(y, [str(v) for v in t["target"]], fontsize="small")
    ax_h.set_ylim(len(t) - 0.4, -0.6)
    # room on the right for the notes beside the bars
    ax_h.set_xlim(0, horizon * 1.6)
    ax_h.set_title(f"{zone}: binding hours", fontsize="medium", loc="left")
    ax_h.grid(axis="x", alpha=0.3)

    priced = t[(t["kind"] != CHECK) & (t["shadow_max"] > 0)]
    top = float(priced["shadow_max"].max()) if len(priced) else 1.0
    low = (
        float(priced[["shadow_mean", "shadow_max"]].where(lambda v: v > 0).min().min())
        if len(priced)
        else 1.0
    )
    lo = 10 ** (math.floor(math.log10(low)) - 1)
    # the bars take the left part of the panel, the values beside them the rest
    hi = 10 ** (math.log10(lo) + max(math.log10(top / lo), 1.0) / 0.45)
    for i, row in t.iterrows():
        if row["kind"] == CHECK:
            text = "no shadow price (a check of the data)"
        elif not row["shadow_max"] > 0:
            text = f"0 {row['price_unit']}".strip()
        else:
            ax_p.barh(
                i - 0.15, row["shadow_max"], left=lo, height=0.3, color=_SECURITY_COLORS["max"]
            )
            if row["shadow_mean"] > 0:
                ax_p.barh(
                    i + 0.15,
                    row["shadow_mean"],
                    left=lo,
                    height=0.3,
                    color=_SECURITY_COLORS["mean"],
                )
            text = (
                f"mean {_number(row['shadow_mean'])}, max {_number(row['shadow_max'])}"
                f" {row['price_unit']}"
            )
        at = max(float(row["shadow_max"]), lo) if row["kind"] != CHECK else lo
        ax_p.annotate(
            text,
            (at if np.isfinite(at) else lo, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize="x-small",
        )
    ax_p.set_xscale("log")
    ax_p.set_xlim(lo, hi)
    ax_p.set_yticks(y, [""] * len(t))
    ax_p.set_ylim(len(t) - 0.4, -0.6)
    ax_p.set_title(f"{zone}: shadow prices", fontsize="medium", loc="left")
    ax_p.grid(axis="x", alpha=0.3)


def draw_future_cost_levels(run: RunTables, out_dir: Path) -> list[Path]:
    """Each reservoir's level at the end of every stage of a future-cost run, one line per
    forward path, against its range (shaded) and the least level from which the stages after
    can still make the case's end (dashed, where there is one)."""
    levels = run.get("future_cost_levels")
    stores = store_trajectories(levels, limit=12) if levels is not None else {}
    if not stores:
        raise ChartSkipped("no reservoir can move between its levels")
    n = len(stores)
    fig, axes = _panels(n, 3)
    for ax, (store, t) in zip(axes.flat, stores.items(), strict=False):
        x = pd.to_datetime(t.levels.index)
        ax.axhspan(t.lower, t.upper, color="#1f78b4", alpha=0.08, label="range")
        for i, path in enumerate(t.levels.columns[:MAX_LINES]):
            ax.plot(
                x,
                t.levels[path].to_numpy(),
                marker="o" if len(x) <= 60 else None,
                markersize=3,
                lw=1.6 if i == 0 else 1.0,
                color=SERIES_PALETTE[i % len(SERIES_PALETTE)],
                label=str(path),
            )
        if t.keep_at_least is not None:
            ax.plot(
                pd.to_datetime(t.keep_at_least.index),
                t.keep_at_least.to_numpy(),
                ls="--",
                lw=1.0,
                color="#e31a1c",
                label="keep at least",
            )
        ax.set_title(str(store), fontsize="medium")
        ax.set_ylabel(f"level ({t.unit})")
        ax.grid(alpha=0.3)
        _time_axis(ax)
    axes.flat[0].legend(fontsize="x-small", title="path", title_fontsize="small")
    fig.suptitle(f"{run.case_name}: reservoir levels at the end of each stage")
    return [_save(fig, out_dir / "future_cost_levels.png")]


# The chart registry. Later result tables (capacity expansion) add entries here.
CHARTS: tuple[Chart, ...] = (
    Chart(
        "dispatch",
        "dispatch stack by carrier, system and each region",
        ("generation",),
        draw_dispatch,
    ),
    Chart(
        "corridor_flows",
        "corridor and link flows and utilisation duration curves",
        (),
        draw_corridor_flows,
    ),
    Chart(
        "congestion_rent",
        "congestion rent and hours at rating of corridors and links",
        (),
        draw_congestion_rent,
    ),
    Chart("reservoir_storage", "reservoir storage per river", ("hydro",), draw_reservoir_storage),
    Chart(
        "price_heatmap", "regional price heat map, region x hour", ("prices",), draw_price_heatmap
    ),
    Chart("network_map", "buses, lines and corridors by coordinates", ("buses",), draw_network_map),
    Chart("gas_prices", "gas price heat map, gas node x hour", ("gas_prices",), draw_gas_prices),
    Chart(
        "gas_supply",
        "gas supply by source kind against the gas demand",
        ("gas_supply",),
        draw_gas_supply,
    ),
    Chart(
        "gas_pipelines",
        "gas pipeline flows and utilisation duration curves",
        ("gas_flows",),
        draw_gas_pipelines,
    ),
    Chart(
        "security",
        "binding hours and shadow prices of the supply-security targets",
        ("security",),
        draw_security,
    ),
    Chart(
        "future_cost_levels",
        "reservoir levels at the end of each stage of a future-cost run, against their range",
        ("future_cost_levels",),
        draw_future_cost_levels,
    ),
)


def _stderr_note(message: str) -> None:
    print(f"gridopt: {message}", file=sys.stderr, flush=True)


def plot_run(
    run_dir: Path | str,
    out_dir: Path | str | None = None,
    note: Callable[[str], None] = _stderr_note,
    charts: Iterable[Chart] = CHARTS,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Draw every chart the run's tables allow into `out_dir` (default `RUN_DIR/plots`).

    Returns the PNG files written. A chart whose tables are missing, or which has nothing to
    show, is skipped with one line to `note`; `progress` counts the charts drawn (with the
    time left). Raises FileNotFoundError when `run_dir` holds no results tables.
    """
    charts = list(charts)
    with RunTables(run_dir) as run, steps(progress, "charts", len(charts)) as counted:
        out = Path(out_dir) if out_dir is not None else run.run_dir / "plots"
        out.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        for chart in charts:
            missing = [t for t in chart.needs if not run.has(t)]
            if missing:
                note(
                    f"skipping {chart.name}: the run has no {', '.join(missing)} table"
                    + ("s" if len(missing) > 1 else "")
                )
            else:
                try:
                    paths += chart.draw(run, out)
                except ChartSkipped as why:
                    note(f"skipping {chart.name}: {why}")
            counted.advance(chart.name)
    return paths
