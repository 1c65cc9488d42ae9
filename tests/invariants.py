"""Checks recomputed from result tables alone, applied after solves in the test suite."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridopt.run import RunResult


def by_snapshot(df: pd.DataFrame, column: str) -> pd.Series:
    return df.groupby("snapshot")[column].sum()


def energy_balance_residual(run: RunResult) -> pd.Series:
    """Per snapshot: generation + storage net output - losses - (demand - unserved), MW."""
    t = run.tables
    snaps = pd.Index(run.data.snapshots, name="snapshot")
    gen = by_snapshot(t["generation"], "p_mw").reindex(snaps, fill_value=0.0)
    sto = (by_snapshot(t["storage"], "net_output_mw").reindex(snaps, fill_value=0.0)
           if "storage" in t else 0.0)
    loss = by_snapshot(t["flows"], "loss_mw").reindex(snaps, fill_value=0.0) if "flows" in t \
        else 0.0
    served = by_snapshot(t["unserved"], "served_mw").reindex(snaps)
    return gen + sto - loss - served


def nodal_balance_residual(run: RunResult) -> np.ndarray:
    """Per bus and snapshot, from the tables: injections - served demand (MW)."""
    t = run.tables
    buses = run.data.tables["buses"].index
    parts = [t["generation"].rename(columns={"p_mw": "mw"})[["snapshot", "bus", "mw"]]]
    if "storage" in t:
        parts.append(t["storage"].rename(columns={"net_output_mw": "mw"})[["snapshot", "bus",
                                                                           "mw"]])
    if "flows" in t:
        f = t["flows"]
        parts.append(pd.DataFrame({"snapshot": f["snapshot"], "bus": f["bus0"],
                                   "mw": -f["p0_mw"]}))
        parts.append(pd.DataFrame({"snapshot": f["snapshot"], "bus": f["bus1"],
                                   "mw": f["p1_mw"]}))
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
        net = (g["inflow_m3s"] + g["arrivals_m3s"] - g["turbined_m3s"] - g["spilled_m3s"]
               - g["withdrawal_m3s"])
        resid = v - prev - HM3_PER_M3S_H * w * net.to_numpy()
        worst = max(worst, float(np.abs(resid).max()))
    return worst
