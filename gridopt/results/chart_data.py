"""The data behind the charts: one colour table, and result tables shaped for drawing.

Shared by the PNG charts (`gridopt.plot`) and the workbook's native charts
(`gridopt.results.excel_charts`); pandas only, so the writers never load matplotlib.

Colours: `CARRIER_COLORS` is the one colour table for carriers (and for the non-carrier series
of the dispatch stack); a carrier it does not name takes the colour set in the run's `carriers`
table, else a fixed colour derived from its name. The same carrier therefore has the same
colour in every chart and in the workbook. Gas source kinds take their colours from it too.

Shaping: `dispatch`, `region_prices`, `transfers` (lines, links and the scheduled corridors in
one frame), `corridor_groups`, `congestion_rent`, `pipelines`, `reservoirs`,
`gas_node_prices`, `gas_balance` and `security_targets` turn tidy result tables into the wide
frames a chart draws.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Carrier colours, in stacking order (bottom of the dispatch stack first): firm and must-run
# output at the bottom, variable renewables above it, storage, imports and unserved on top.
# Keys are matched after lower-casing and turning "_" and "-" into spaces. The colours of the
# carriers the PPRD network declares are those of its carriers.csv.
CARRIER_COLORS: dict[str, str] = {
    "nuclear": "#9b59b6",
    "coal": "#4d4d4d",
    "lignite": "#826837",
    "gas": "#e07b39",
    "ccgt": "#e07b39",
    "ocgt": "#f0a35e",
    "oil": "#8c564b",
    "biomass": "#6b8e23",
    "geothermal": "#ba4a00",
    "import": "#7f7f7f",  # supply bought from outside the modelled region
    "hydro": "#1f78b4",
    "ror": "#4fa3d8",
    "run of river": "#4fa3d8",
    "pumped hydro": "#17becf",
    "phs": "#17becf",
    "wind": "#2ca02c",
    "onwind": "#2ca02c",
    "offwind": "#98df8a",
    "solar": "#f1c40f",
    "battery": "#e377c2",
    # series of the dispatch stack that are not carriers
    "net imports": "#c7d0d6",
    "net exports": "#c7d0d6",
    "unserved": "#d62728",
    "demand": "#000000",
    # branch carriers (network map)
    "ac": "#8c8c8c",
    "ac interface": "#fa8072",
    "dc": "#6a1b9a",
    "hvdc": "#6a1b9a",
    "uhvdc": "#08306b",
    # gas supply by source kind (gas supply chart), in stacking order, then gas storage
    "domestic": "#a6761d",
    "pipeline import": "#1b9e77",
    "coal to gas": "#666666",
    "lng": "#7570b3",
    "gas storage": "#e7298a",
}


# for carriers neither table names: picked by a hash of the name, so stable across runs
FALLBACK_PALETTE = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#17becf",
    "#e377c2",
)


# the schema's default carrier colour: a carrier left at it has no colour of its own
UNSET_COLOR = "#999999"


# colours of the lines of one chart that are not carriers (corridors, stations, regions)
SERIES_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
)


# corridors and reservoirs shown in one chart at most (the busiest / largest), for legibility
MAX_LINES = 12


_NEAR_ZERO_MW = 1e-6


def _key(name: str) -> str:
    return re.sub(r"[_\-]+", " ", str(name).strip().lower())


def carrier_color(carrier: str, carriers: pd.DataFrame | None = None) -> str:
    """Hex colour of a carrier: `CARRIER_COLORS`, else the run's carriers table, else hashed."""
    key = _key(carrier)
    if key in CARRIER_COLORS:
        return CARRIER_COLORS[key]
    if carriers is not None and len(carriers) and "color" in carriers:
        match = carriers.loc[carriers["carrier"].map(_key) == key, "color"]
        colour = str(match.iloc[0]).strip() if len(match) else ""
        if re.fullmatch(r"#[0-9a-fA-F]{6}", colour) and colour.lower() != UNSET_COLOR:
            return colour.lower()
    return FALLBACK_PALETTE[zlib.crc32(key.encode()) % len(FALLBACK_PALETTE)]


def carrier_order(carriers: Iterable[str]) -> list[str]:
    """Carriers in stacking order: as listed in `CARRIER_COLORS`, then the others by name."""
    rank = {k: i for i, k in enumerate(CARRIER_COLORS)}
    return sorted(dict.fromkeys(carriers), key=lambda c: (rank.get(_key(c), len(rank)), str(c)))


def hours_per_snapshot(snapshots: Iterable[Any], summary: Mapping[str, Any] | None = None) -> float:
    """Hours each snapshot stands for: `resolution_h` of the summary, else the snapshot step."""
    if summary and summary.get("resolution_h"):
        return float(summary["resolution_h"])
    stamps = pd.DatetimeIndex(pd.unique(pd.Series(list(snapshots)))).sort_values()
    if len(stamps) < 2:
        return 1.0
    # in seconds whatever the resolution of the stamps (pandas 3 keeps microseconds)
    steps = np.diff(stamps.to_numpy()).astype("timedelta64[s]").astype(float)
    return float(np.median(steps) / 3600.0)


@dataclass
class Dispatch:
    """Power balance of the system or a region by series, MW, one row per snapshot.

    `supply` stacks upward (generation by carrier, storage discharge, net imports, unserved),
    `uptake` downward as negative MW (storage charging, net exports); `demand_mw` is the load.
    """

    supply: pd.DataFrame
    uptake: pd.DataFrame
    demand_mw: pd.Series | None
    colors: dict[str, str] = field(default_factory=dict)


def dispatch(
    generation: pd.DataFrame,
    storage: pd.DataFrame | None = None,
    unserved: pd.DataFrame | None = None,
    region: str | None = None,
    carriers: pd.DataFrame | None = None,
) -> Dispatch:
    """Dispatch by carrier for the whole system (`region` None) or one region.

    For a region, what its own sources do not cover is shown as net imports (and surplus as net
    exports), from the region's balance: served load + charging - generation - discharge.
    For the system that remainder is the transmission losses, left as the gap to the demand.
    """

    def pick(df: pd.DataFrame | None) -> pd.DataFrame | None:
        if df is None or not len(df):
            return None
        return df if region is None else df[df["region"] == region]

    gen, sto, uns = pick(generation), pick(storage), pick(unserved)
    # unique over arrays, not Python sets of timestamps: a year has a million rows
    found = [d["snapshot"] for d in (gen, sto, uns) if d is not None]
    stamps = pd.unique(pd.concat(found, ignore_index=True)) if found else []
    index = pd.DatetimeIndex(stamps, name="snapshot").sort_values()

    def by(df: pd.DataFrame | None, col: str, key: str | None) -> pd.DataFrame:
        if df is None or not len(df):
            return pd.DataFrame(index=index)
        if key is None:
            return df.groupby("snapshot")[col].sum().reindex(index, fill_value=0.0).to_frame(col)
        return (
            df.groupby(["snapshot", key])[col]
            .sum()
            .unstack(fill_value=0.0)
            .reindex(index, fill_value=0.0)
        )

    by_carrier = by(gen, "p_mw", "carrier")
    by_carrier = by_carrier[carrier_order(by_carrier.columns)]
    supply = by_carrier.copy()
    uptake = pd.DataFrame(index=index)
    colors = {c: carrier_color(c, carriers) for c in supply.columns}
    discharge = by(sto, "discharge_mw", "carrier")
    charge = by(sto, "charge_mw", "carrier")
    for c in carrier_order(discharge.columns):
        supply[f"{c} discharge"] = discharge[c]
        uptake[f"{c} charging"] = -charge[c]
        colors[f"{c} discharge"] = colors[f"{c} charging"] = carrier_color(c, carriers)
    demand = None
    if uns is not None:
        demand = by(uns, "demand_mw", None)["demand_mw"]
        unserved_mw = by(uns, "unserved_mw", None)["unserved_mw"]
        if region is not None:
            rest = (
                demand
                - unserved_mw
                + charge.sum(axis=1)
                - by_carrier.sum(axis=1)
                - discharge.sum(axis=1)
            )
            supply["net imports"] = rest.clip(lower=0.0)
            uptake["net exports"] = rest.clip(upper=0.0)
        supply["unserved"] = unserved_mw
    for name in ("net imports", "net exports", "unserved"):
        colors[name] = CARRIER_COLORS[name]
    colors["demand"] = CARRIER_COLORS["demand"]
    # series that never leave zero only clutter the legend
    supply = supply.loc[:, (supply.abs() > _NEAR_ZERO_MW).any()]
    uptake = uptake.loc[:, (uptake.abs() > _NEAR_ZERO_MW).any()]
    return Dispatch(supply, uptake, demand, colors)


def region_prices(prices: pd.DataFrame, unserved: pd.DataFrame | None = None) -> pd.DataFrame:
    """Price of each region and snapshot (CNY/MWh): the mean of its buses' nodal prices,
    weighted by their load where the region has load (an unweighted mean where it has none).

    Rows are snapshots, columns regions in the order the buses list them.
    """
    df = prices[["snapshot", "bus", "region", "price_cny_per_mwh"]].copy()
    df["weight"] = 0.0
    if unserved is not None and len(unserved):
        load = unserved.set_index(["snapshot", "bus"])["demand_mw"]
        df["weight"] = (
            load.reindex(pd.MultiIndex.from_frame(df[["snapshot", "bus"]])).fillna(0.0).to_numpy()
        )
    df["weighted"] = df["price_cny_per_mwh"] * df["weight"]
    g = df.groupby(["snapshot", "region"], sort=False)
    den = g["weight"].sum()
    out = (g["weighted"].sum() / den).where(den > 0, g["price_cny_per_mwh"].mean())
    regions = list(pd.unique(df["region"]))
    return out.unstack("region").reindex(columns=regions).sort_index()


@dataclass
class Corridors:
    """The busiest branches of one kind: flow sent (MW; MWth for gas pipelines) and
    utilisation (pu) by snapshot, and labels."""

    # "corridor" (scheduled corridors, table `corridors`), "link" (HVDC and other
    # controllable transfers), "line" (AC) or "pipeline" (gas)
    kind: str
    flow_mw: pd.DataFrame
    utilisation_pu: pd.DataFrame
    labels: dict[str, str]
    n_total: int


# how charts name the branches of each kind
KIND_WORDS = {
    "corridor": "corridors",
    "link": "links",
    "line": "AC lines",
    "pipeline": "gas pipelines",
}


def transfers(
    flows: pd.DataFrame | None,
    corridor_table: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    hours: float = 1.0,
) -> pd.DataFrame:
    """Every transfer branch of a run in one tidy frame: AC lines and links (table `flows`)
    and the scheduled corridors (table `corridors`), one row per branch and snapshot.

    Columns: snapshot, branch, kind (line, link, corridor), carrier, bus0, bus1, `sent_mw`
    (net power sent, + is bus0 -> bus1: a corridor's schedule), `utilisation_pu` and
    `congestion_rent_cny` in the snapshot. A corridor's rent is its own column; a line's or
    link's is what it earns buying at one end and selling at the other, from the nodal
    prices: (pi1 p1 - pi0 p0) x hours (blank without `prices`).
    """
    parts = []
    if flows is not None and len(flows):
        f = flows
        rent = pd.Series(np.nan, index=f.index)
        if prices is not None and len(prices):
            price = prices.set_index(["snapshot", "bus"])["price_cny_per_mwh"]
            price = price[~price.index.duplicated()]
            pi0 = price.reindex(pd.MultiIndex.from_arrays([f["snapshot"], f["bus0"]])).to_numpy()
            pi1 = price.reindex(pd.MultiIndex.from_arrays([f["snapshot"], f["bus1"]])).to_numpy()
            rent = pd.Series(
                (pi1 * f["p1_mw"].to_numpy() - pi0 * f["p0_mw"].to_numpy()) * hours, index=f.index
            )
        parts.append(
            pd.DataFrame(
                {
                    "snapshot": f["snapshot"],
                    "branch": f["branch"],
                    "kind": f["kind"],
                    "carrier": f["carrier"],
                    "bus0": f["bus0"],
                    "bus1": f["bus1"],
                    "sent_mw": f["p0_mw"],
                    "utilisation_pu": f["utilisation_pu"],
                    "congestion_rent_cny": rent,
                }
            )
        )
    if corridor_table is not None and len(corridor_table):
        c = corridor_table
        parts.append(
            pd.DataFrame(
                {
                    "snapshot": c["snapshot"],
                    "branch": c["corridor"],
                    "kind": "corridor",
                    "carrier": c["carrier"],
                    "bus0": c["bus0"],
                    "bus1": c["bus1"],
                    "sent_mw": c["schedule_mw"],
                    "utilisation_pu": c["utilisation_pu"],
                    "congestion_rent_cny": c["congestion_rent_cny"],
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=[
                "snapshot",
                "branch",
                "kind",
                "carrier",
                "bus0",
                "bus1",
                "sent_mw",
                "utilisation_pu",
                "congestion_rent_cny",
            ]
        )
    return pd.concat(parts, ignore_index=True)


def corridor_groups(
    flows: pd.DataFrame | None, corridor_table: pd.DataFrame | None = None, limit: int = MAX_LINES
) -> list[Corridors]:
    """The transfer charts of a run: its scheduled corridors (table `corridors`), its links,
    and its AC lines only when it has neither; each at most `limit`, the busiest by energy
    carried first."""
    t = transfers(flows, corridor_table)
    kinds = [k for k in ("corridor", "link") if (t["kind"] == k).any()] or (
        ["line"] if (t["kind"] == "line").any() else []
    )
    return [
        _busiest(k, t[t["kind"] == k], "branch", ("bus0", "bus1"), "sent_mw", limit) for k in kinds
    ]


def corridors(
    flows: pd.DataFrame, limit: int = MAX_LINES, corridor_table: pd.DataFrame | None = None
) -> Corridors | None:
    """The first transfer chart of a run (see `corridor_groups`): its scheduled corridors if it
    has any, else its links, else its AC lines. None when there are no transfers at all."""
    groups = corridor_groups(flows, corridor_table, limit)
    return groups[0] if groups else None


def congestion_rent(transfer: pd.DataFrame, hours: float = 1.0) -> pd.DataFrame:
    """Per corridor and link (lines too when there are neither): congestion rent over the
    horizon (CNY), energy sent (MWh, both directions), hours at rating and mean utilisation,
    corridors first, each kind by rent."""
    kinds = [k for k in ("corridor", "link") if (transfer["kind"] == k).any()] or ["line"]
    t = transfer[transfer["kind"].isin(kinds)].assign(
        energy=lambda d: d["sent_mw"].abs() * hours,
        at_rating=lambda d: (d["utilisation_pu"].fillna(0.0) >= 1 - 1e-6) * hours,
    )
    out = (
        t.groupby(["kind", "branch", "bus0", "bus1"], sort=False)
        .agg(
            congestion_rent_cny=("congestion_rent_cny", lambda v: v.sum(min_count=1)),
            energy_sent_mwh=("energy", "sum"),
            hours_at_rating_h=("at_rating", "sum"),
            mean_utilisation_pu=("utilisation_pu", "mean"),
        )
        .reset_index()
    )
    out["rank"] = out["kind"].map({k: i for i, k in enumerate(kinds)})
    out = out.sort_values(
        ["rank", "congestion_rent_cny"], ascending=[True, False], kind="stable"
    ).drop(columns="rank")
    return out.reset_index(drop=True)


def pipelines(gas_flows: pd.DataFrame, limit: int = MAX_LINES) -> Corridors | None:
    """The busiest gas pipelines (by gas carried), at most `limit`: gas taken out at node0
    (MWth, negative when it flows node1 -> node0) and utilisation. None when there are none."""
    if not len(gas_flows):
        return None
    return _busiest("pipeline", gas_flows, "pipeline", ("node0", "node1"), "p0_mwth", limit)


def _busiest(
    kind: str, sel: pd.DataFrame, name: str, ends: tuple[str, str], flow: str, limit: int
) -> Corridors:
    energy = sel.assign(a=sel[flow].abs()).groupby(name, sort=False)["a"].sum()
    names = list(energy.sort_values(ascending=False, kind="stable").index[:limit])
    total = int(sel[name].nunique())
    sel = sel[sel[name].isin(names)]
    at = sel.drop_duplicates(name).set_index(name)
    labels = {b: f"{b} ({at.at[b, ends[0]]} → {at.at[b, ends[1]]})" for b in names}
    values = sel.pivot_table(index="snapshot", columns=name, values=flow, aggfunc="sum")
    util = sel.pivot_table(
        index="snapshot", columns=name, values="utilisation_pu", aggfunc="max", dropna=False
    )
    return Corridors(
        kind, values.reindex(columns=names), util.reindex(columns=names), labels, total
    )


def reservoirs(hydro: pd.DataFrame, limit: int | None = None) -> dict[str, pd.DataFrame]:
    """Storage (hm3) of the stations that hold water, by river: snapshot x station.

    Run-of-river stations (storage always zero) are left out; with `limit`, only the `limit`
    stations of largest storage are kept.
    """
    peak = hydro.groupby("station", sort=False)["storage_hm3"].max()
    keep = peak[peak > 1e-9].sort_values(ascending=False, kind="stable")
    if limit is not None:
        keep = keep.iloc[:limit]
    sel = hydro[hydro["station"].isin(keep.index)].copy()
    sel["river"] = sel["river"].fillna("(no river)").astype(str).replace("", "(no river)")
    out = {}
    for river, df in sel.groupby("river", sort=False):
        table = df.pivot_table(
            index="snapshot", columns="station", values="storage_hm3", aggfunc="sum"
        )
        out[str(river)] = table.reindex(columns=list(pd.unique(df["station"])))
    return out


@dataclass
class Trajectory:
    """A store's level at the end of each stage of a future-cost run, per forward path."""

    levels: pd.DataFrame  # time x path
    lower: float
    upper: float
    unit: str
    # by time, the least level the stages after can start from (NaN: any); None: not given
    keep_at_least: pd.Series | None = None


def store_trajectories(
    levels: pd.DataFrame, table: str = "hydro", limit: int | None = None
) -> dict[str, Trajectory]:
    """Sheet `future_cost_levels` by store of `table` (reservoirs by default), those that can
    move (upper > lower), the widest ranges first up to `limit`."""
    sel = levels[levels["table"] == table]
    ranges = sel.groupby("store", sort=False)[["lower", "upper"]].first()
    ranges = ranges[ranges["upper"] > ranges["lower"]]
    order = (ranges["upper"] - ranges["lower"]).sort_values(ascending=False, kind="stable")
    if limit is not None:
        order = order.iloc[:limit]
    out = {}
    for store in order.index:
        df = sel[sel["store"] == store]
        least = None
        if "keep_at_least" in df and df["keep_at_least"].notna().any():
            least = df.groupby("time", sort=False)["keep_at_least"].max()
        out[str(store)] = Trajectory(
            df.pivot_table(index="time", columns="path", values="level", sort=False).reindex(
                columns=list(pd.unique(df["path"]))
            ),
            float(ranges.at[store, "lower"]),
            float(ranges.at[store, "upper"]),
            str(df["unit"].iloc[0]),
            least,
        )
    return out


def gas_node_prices(gas_prices: pd.DataFrame) -> pd.DataFrame:
    """Gas price of each gas node and snapshot (CNY/MWh_th): snapshot rows, one column per node
    in the order of the table, named "node (region)" where the region has another name."""
    df = gas_prices[["snapshot", "gas_node", "region", "price_cny_per_mwh_th"]]
    ends = df.drop_duplicates("gas_node")
    labels = {
        n: str(n) if pd.isna(r) or str(r) == str(n) else f"{n} ({r})"
        for n, r in zip(ends["gas_node"], ends["region"], strict=True)
    }
    table = df.pivot_table(
        index="snapshot",
        columns="gas_node",
        values="price_cny_per_mwh_th",
        aggfunc="mean",
        dropna=False,
    )
    return table.reindex(columns=list(labels)).rename(columns=labels).sort_index()


@dataclass
class GasBalance:
    """Gas balance of the whole system, MWth, one row per snapshot.

    `supply` stacks upward (supply by source kind, storage withdrawal, non-power demand left
    unserved), `uptake` downward as negative MWth (storage injection); `demand_mwth` is the gas
    demand (burnt for power plus non-power demand), `power_mwth` the part burnt for power. What
    the supply exceeds the demand by is the gas pipelines use as fuel (their losses).
    """

    supply: pd.DataFrame
    uptake: pd.DataFrame
    demand_mwth: pd.Series | None
    power_mwth: pd.Series | None
    colors: dict[str, str] = field(default_factory=dict)


def gas_kind_label(kind: str) -> str:
    """Legend name of a gas source kind: "pipeline_import" -> "pipeline import", "lng" -> LNG."""
    key = _key(kind)
    return "LNG" if key == "lng" else key


def gas_balance(
    supply: pd.DataFrame,
    burn: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    storage: pd.DataFrame | None = None,
) -> GasBalance:
    """Gas supply by source kind against the gas demand, for the whole system.

    The demand line needs both `burn` (gas burnt for power) and `prices` (the non-power demand
    and what of it is unserved, per gas node); without them only what they give is shown.
    """
    frames = [d for d in (supply, burn, prices, storage) if d is not None and len(d)]
    index = pd.DatetimeIndex(
        sorted(set().union(*(set(d["snapshot"]) for d in frames))), name="snapshot"
    )

    def total(df: pd.DataFrame | None, col: str) -> pd.Series | None:
        if df is None or not len(df):
            return None
        return df.groupby("snapshot")[col].sum().reindex(index, fill_value=0.0)

    kinds = supply.assign(kind=supply["kind"].fillna("other").map(gas_kind_label))
    by_kind = (
        kinds.groupby(["snapshot", "kind"])["supply_mwth"]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index, fill_value=0.0)
    )
    out = by_kind[carrier_order(by_kind.columns)].copy()
    colors = {k: carrier_color(k) for k in out.columns}
    uptake = pd.DataFrame(index=index)
    withdrawal, injection = total(storage, "withdrawal_mwth"), total(storage, "injection_mwth")
    if withdrawal is not None and injection is not None:
        out["gas storage withdrawal"] = withdrawal
        uptake["gas storage injection"] = -injection
        colors["gas storage withdrawal"] = colors["gas storage injection"] = CARRIER_COLORS[
            "gas storage"
        ]
    unserved = total(prices, "unserved_mwth")
    if unserved is not None:
        out["unserved gas"] = unserved
        colors["unserved gas"] = CARRIER_COLORS["unserved"]
    power = total(burn, "burn_mwth")
    other = total(prices, "non_power_demand_mwth")
    demand = power + other if power is not None and other is not None else None
    colors["gas demand"] = CARRIER_COLORS["demand"]
    colors["burnt for power"] = CARRIER_COLORS["gas"]
    out = out.loc[:, (out.abs() > _NEAR_ZERO_MW).any()]
    uptake = uptake.loc[:, (uptake.abs() > _NEAR_ZERO_MW).any()]
    return GasBalance(out, uptake, demand, power, colors)


# how security_targets names the kinds of target
HOURLY, PERIOD, CHECK = "hourly", "period", "check"


def security_targets(
    security: pd.DataFrame, snapshots: Iterable[Any] | None = None, hours: float = 1.0
) -> pd.DataFrame:
    """One row per zone and target of the `security` table, in its order.

    A target is `HOURLY` (a row per snapshot and element), `PERIOD` (a row per period, such as
    the horizon or a month) or a `CHECK` (no shadow price: a test of the data, not a
    constraint). Per target: `horizon_h` the hours of the horizon (`snapshots`, else those of
    the table), `binding_h` the hours in which it binds (for a period target, the hours of the
    periods in which it binds), `binding`/`periods` the count of binding times and of times,
    `period` the periods it binds in (all its periods when none; empty for hourly targets),
    `shadow_mean`/`shadow_max` the shadow price over the times (summed over the elements of
    one time, so the cost of tightening the target), in `price_unit`; `met` whether it is met
    everywhere, `short` the largest shortfall in `unit` when it is not.
    """
    sec = security.copy()
    stamps = pd.DatetimeIndex(
        pd.unique(
            pd.Series(list(snapshots) if snapshots is not None else list(sec["snapshot"].dropna()))
        )
    )
    stamps = stamps.dropna().sort_values()
    horizon_h = len(stamps) * hours
    period = sec["period"].map(lambda v: "" if pd.isna(v) else str(v)).astype(object)
    sec["time"] = sec["snapshot"].astype(object).where(sec["snapshot"].notna(), period)
    rows = []
    for (zone, target), df in sec.groupby(["zone", "target"], sort=False):
        hourly = bool(df["snapshot"].notna().all())
        price = pd.to_numeric(df["shadow_price"], errors="coerce")
        kind = HOURLY if hourly else CHECK if price.isna().all() else PERIOD
        g = df.assign(shadow_price=price).groupby("time", sort=False)
        binding = g["binding"].any()
        per_time = g["shadow_price"].sum(min_count=1)
        if hourly:
            binding_h = float(binding.sum()) * hours
        else:
            binding_h = sum(_period_hours(str(t), stamps) for t in binding.index[binding]) * hours
        units = df["shadow_price_unit"].dropna().astype(str)
        slack = pd.to_numeric(df["slack"], errors="coerce")
        rows.append(
            {
                "zone": str(zone),
                "target": str(target),
                "kind": kind,
                "horizon_h": horizon_h,
                "binding_h": binding_h,
                "binding": int(binding.sum()),
                "periods": len(binding),
                "period": ""
                if hourly
                else ", ".join(
                    map(str, binding.index[binding] if binding.any() else binding.index)
                ),
                "shadow_mean": float(per_time.mean()) if kind != CHECK else math.nan,
                "shadow_max": float(per_time.max()) if kind != CHECK else math.nan,
                "price_unit": units.iloc[0] if len(units) else "",
                "met": bool(df["met"].astype(bool).all()),
                "short": float(max(0.0, -slack.min())) if slack.notna().any() else math.nan,
                "unit": str(df["unit"].iloc[0]),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "zone",
            "target",
            "kind",
            "horizon_h",
            "binding_h",
            "binding",
            "periods",
            "period",
            "shadow_mean",
            "shadow_max",
            "price_unit",
            "met",
            "short",
            "unit",
        ],
    )


def _period_hours(period: str, stamps: pd.DatetimeIndex) -> int:
    """Snapshots of the horizon in a period named "horizon", "YYYY" or "YYYY-MM" (else 0)."""
    if period == "horizon":
        return len(stamps)
    if re.fullmatch(r"\d{4}", period):
        return int((stamps.year == int(period)).sum())
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return int((stamps.strftime("%Y-%m") == period).sum())
    return 0
