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
