"""Checks recomputed from result tables alone, applied after solves in the test suite."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridopt.studies.run import RunResult


def by_snapshot(df: pd.DataFrame, column: str) -> pd.Series:
    return df.groupby("snapshot")[column].sum()


def energy_balance_residual(run: RunResult) -> pd.Series:
    """Per snapshot: generation + storage net output - losses - (demand - unserved), MW."""
    t = run.tables
    snaps = pd.Index(run.data.snapshots, name="snapshot")
    gen = by_snapshot(t["generation"], "p_mw").reindex(snaps, fill_value=0.0)
    sto = (
        by_snapshot(t["storage"], "net_output_mw").reindex(snaps, fill_value=0.0)
        if "storage" in t
        else 0.0
    )
    loss = (
        by_snapshot(t["flows"], "loss_mw").reindex(snaps, fill_value=0.0) if "flows" in t else 0.0
    )
    if "corridors" in t:  # corridor losses, the no-load loss included
        loss = loss + by_snapshot(t["corridors"], "loss_mw").reindex(snaps, fill_value=0.0)
    served = by_snapshot(t["unserved"], "served_mw").reindex(snaps)
    return gen + sto - loss - served


def nodal_balance_residual(run: RunResult) -> np.ndarray:
    """Per bus and snapshot, from the tables: injections - served demand (MW)."""
    t = run.tables
    buses = run.data.tables["buses"].index
    parts = [t["generation"].rename(columns={"p_mw": "mw"})[["snapshot", "bus", "mw"]]]
    if "storage" in t:
        parts.append(
            t["storage"].rename(columns={"net_output_mw": "mw"})[["snapshot", "bus", "mw"]]
        )
    for sheet in ("flows", "corridors"):  # p0 drawn at bus0, p1 given at bus1
        if sheet not in t:
            continue
        f = t[sheet]
        parts.append(pd.DataFrame({"snapshot": f["snapshot"], "bus": f["bus0"], "mw": -f["p0_mw"]}))
        parts.append(pd.DataFrame({"snapshot": f["snapshot"], "bus": f["bus1"], "mw": f["p1_mw"]}))
    u = t["unserved"]
    parts.append(pd.DataFrame({"snapshot": u["snapshot"], "bus": u["bus"], "mw": -u["served_mw"]}))
    net = pd.concat(parts).groupby(["bus", "snapshot"])["mw"].sum()
    return net.unstack("snapshot").reindex(buses).to_numpy()


def water_balance_residual_hm3(run: RunResult) -> pd.Series:
    """Per basin (a river with its tributaries), from the result tables alone (hm3):

    initial storage + natural inflow + water in transit at the start
      = final storage + outflow past the last station + water still in transit at the end

    where "in transit" is release that has left a station but not reached the next one. The
    transit terms are recovered from the tables: total arrivals at a station minus the
    releases of its upstream stations counted within the horizon.
    """
    from gridopt.model.hydro import HM3_PER_M3S_H, initial_storage_hm3

    h = run.tables["hydro"].copy()
    stations = run.data.tables["hydro"]
    w = pd.Series(run.data.weights_h, index=pd.Index(run.data.snapshots, name="snapshot"))
    h["w"] = h["snapshot"].map(w)
    k = HM3_PER_M3S_H
    h["release_hm3"] = k * h["w"] * (h["turbined_m3s"] + h["spilled_m3s"])
    h["inflow_hm3"] = k * h["w"] * (h["inflow_m3s"] - h["withdrawal_m3s"])
    h["arrivals_hm3"] = k * h["w"] * h["arrivals_m3s"]
    per = h.groupby("station")[["release_hm3", "inflow_hm3", "arrivals_hm3"]].sum()
    per["final_hm3"] = h.groupby("station")["storage_hm3"].last()
    per["initial_hm3"] = pd.Series(initial_storage_hm3(stations), index=stations.index)
    cyclic = stations["end_rule"] == "cyclic"
    per.loc[cyclic[cyclic].index, "initial_hm3"] = per.loc[cyclic[cyclic].index, "final_hm3"]
    per["river"] = basins(stations)
    down = stations["downstream"]
    has_down = down.notna()
    # water sent down by the stations above each station within the horizon
    sent_to = per["release_hm3"][has_down].groupby(down[has_down]).sum()
    per["sent_from_upstream_hm3"] = sent_to.reindex(per.index, fill_value=0.0)
    # arrivals = (sent from upstream) - (in transit at end) + (in transit at start)
    per["transit_change_hm3"] = per["arrivals_hm3"] - per["sent_from_upstream_hm3"]
    per["outflow_hm3"] = per["release_hm3"].where(~has_down.reindex(per.index), 0.0)
    r = per.groupby("river").sum(numeric_only=True)
    lhs = r["initial_hm3"] + r["inflow_hm3"] + r["transit_change_hm3"]
    rhs = r["final_hm3"] + r["outflow_hm3"]
    return lhs - rhs


def basins(stations: pd.DataFrame) -> pd.Series:
    """Each station's basin: the river of the last station its water reaches (a tributary
    such as the Yalong counts with the river it joins)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(stations.index)
    g.add_edges_from(stations["downstream"].dropna().items())
    out = {}
    for members in nx.weakly_connected_components(g):
        mouth = next(n for n in members if g.out_degree(n) == 0)
        river = stations.at[mouth, "river"]
        out.update(dict.fromkeys(members, river if isinstance(river, str) else mouth))
    return pd.Series(out).reindex(stations.index)


def station_storage_residual_hm3(run: RunResult) -> float:
    """Largest violation of each station's storage recursion, recomputed from the tables."""
    from gridopt.model.hydro import HM3_PER_M3S_H, initial_storage_hm3

    h = run.tables["hydro"]
    stations = run.data.tables["hydro"]
    v0 = pd.Series(initial_storage_hm3(stations), index=stations.index)
    worst = 0.0
    w = run.data.weights_h
    for name, g in h.groupby("station"):
        v = g["storage_hm3"].to_numpy()
        rule = stations.at[name, "end_rule"]
        prev = np.concatenate([[v[-1] if rule == "cyclic" else v0[name]], v[:-1]])
        net = (
            g["inflow_m3s"]
            + g["arrivals_m3s"]
            - g["turbined_m3s"]
            - g["spilled_m3s"]
            - g["withdrawal_m3s"]
        )
        resid = v - prev - HM3_PER_M3S_H * w * net.to_numpy()
        worst = max(worst, float(np.abs(resid).max()))
    return worst


def corridor_rule_violations(run: RunResult) -> dict[str, float]:
    """Worst breach of each corridor rule (MW unless named), recomputed from the `corridors`
    result table and the input tables alone (not from the formulation's code):

    capacity (sent above the usable rating of its direction), min_transfer (sent below the
    minimum while energised), ramp (schedule change beyond the limit), shape (schedule outside
    the daily band), peak_valley (a day's peak above ratio x its valley), circulation (flow both
    ways at once), loss (losses differing from loss_pu x sent + the no-load loss while
    energised) and energy_created (power given at bus1 above that drawn at bus0). The shape is
    read hour by hour, so the shape check is for hourly cases.
    """
    c = run.tables["corridors"]
    corr = run.data.tables["corridors"]
    w = pd.Series(run.data.weights_h, index=pd.DatetimeIndex(run.data.snapshots))
    share = (corr["poles_available"].fillna(corr["poles"]) / corr["poles"]).reindex(c["corridor"])
    rule = corr.reindex(c["corridor"]).reset_index(drop=True)
    share = share.to_numpy()
    fwd, rev = rule["p_max_mw"] * share, rule["p_max_reverse_mw"] * share
    back = c["schedule_mw"].to_numpy() < 0
    rating = np.where(back, rev, fwd)
    out = {
        "capacity": float((c["sent_mw"] - rating).max()),
        "min_transfer": float(
            (rule["min_transfer_pu"] * rating * c["energised"] - c["sent_mw"]).max()
        ),
        "circulation": float(c["circulating_mw"].max()),
        "loss": float(
            (
                c["loss_mw"]
                - rule["loss_pu"] * c["sent_mw"]
                - rule["loss_noload_mw"] * share * c["energised"]
            )
            .abs()
            .max()
        ),
    }
    out["energy_created"] = float((c["p1_mw"] - c["p0_mw"]).max())
    sched = c.pivot(index="snapshot", columns="corridor", values="schedule_mw")
    ramp = corr["ramp_mw_per_h"].dropna()
    step = sched[ramp.index].diff().iloc[1:].abs()
    out["ramp"] = float((step - np.outer(w.iloc[1:], ramp)).max().max()) if len(ramp) else 0.0
    days = sched.index.normalize()
    hours = w.groupby(days).sum()
    shaped = corr["daily_profile"].dropna()
    worst = 0.0
    if len(shaped):
        series = run.data.network.series["corridor_shape_pu"]
        a = pd.DataFrame(
            series.reindex(sched.index)[shaped.to_numpy()].to_numpy(),
            index=sched.index,
            columns=shaped.index,
        )
        a = (
            a
            / (a.mul(w, axis=0).groupby(days).sum() / hours.to_numpy()[:, None])
            .reindex(days)
            .to_numpy()
        )
        s = sched[shaped.index]
        mean = (
            (s.mul(w, axis=0).groupby(days).sum() / hours.to_numpy()[:, None])
            .reindex(days)
            .to_numpy()
        )
        tol = corr.loc[shaped.index, "shape_tolerance_pu"].to_numpy()
        worst = float(np.maximum(s - (1 + tol) * a * mean, (1 - tol) * a * mean - s).max().max())
    out["shape"] = worst
    ratio = corr["peak_valley_ratio_max"].dropna()
    if len(ratio):
        by_day = sched[ratio.index].groupby(days)
        out["peak_valley"] = float((by_day.max() - ratio * by_day.min()).max().max())
    else:
        out["peak_valley"] = 0.0
    return out


def gas_balance_residual(run: RunResult) -> pd.DataFrame:
    """Per gas node and snapshot, from the gas sheets alone (MWth; gas node x snapshot):

    supply + pipeline deliveries - pipeline sendings + storage withdrawal - injection
      - (non-power demand - unserved) - burn of gas-fired plants
    """
    t = run.tables
    parts = (
        [t["gas_supply"].rename(columns={"supply_mwth": "mwth"})[["snapshot", "gas_node", "mwth"]]]
        if "gas_supply" in t
        else []
    )
    if "gas_flows" in t:  # p0 taken out at node0, p1 delivered at node1
        f = t["gas_flows"]
        parts.append(
            pd.DataFrame({"snapshot": f["snapshot"], "gas_node": f["node0"], "mwth": -f["p0_mwth"]})
        )
        parts.append(
            pd.DataFrame({"snapshot": f["snapshot"], "gas_node": f["node1"], "mwth": f["p1_mwth"]})
        )
    if "gas_storage" in t:
        s = t["gas_storage"]
        parts.append(
            pd.DataFrame(
                {
                    "snapshot": s["snapshot"],
                    "gas_node": s["gas_node"],
                    "mwth": s["withdrawal_mwth"] - s["injection_mwth"],
                }
            )
        )
    if "gas_burn" in t:
        b = t["gas_burn"]
        parts.append(
            pd.DataFrame(
                {"snapshot": b["snapshot"], "gas_node": b["gas_node"], "mwth": -b["burn_mwth"]}
            )
        )
    p = t["gas_prices"]
    parts.append(
        pd.DataFrame(
            {
                "snapshot": p["snapshot"],
                "gas_node": p["gas_node"],
                "mwth": p["unserved_mwth"] - p["non_power_demand_mwth"],
            }
        )
    )
    net = pd.concat(parts).groupby(["gas_node", "snapshot"])["mwth"].sum()
    return net.unstack("snapshot").reindex(run.data.tables["gas_nodes"].index)
