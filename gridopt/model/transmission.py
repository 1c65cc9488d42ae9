"""AC lines in a linear (DC) power flow, and controllable links (HVDC corridors).

Lines: flow f[l,t] (MW, positive bus0 -> bus1), |f[l,t]| <= s_max[l]. Kirchhoff's voltage law
is imposed on a cycle basis of the AC network (no voltage angles): for every independent cycle
C with orientation o[l] = +1 if C runs bus0 -> bus1 along line l, else -1,

    sum_{l in C} o[l] * x[l] / v_nom[l]^2 * f[l,t] = 0

The basis has (lines - buses + islands) cycles, fewer rows than the angle formulation's one
variable per bus, and gives the same flows (x / v_nom^2 is the per-unit reactance up to a
constant base, as PyPSA uses).

Links: p[k,t] (MW sent at bus0), p_min_pu[k] * p_max[k] <= p[k,t] <= p_max[k]; bus1 receives
efficiency[k] * p[k,t]; cost w[t] * c[k] * p[k,t].

In an expansion case s_max of a line and p_max of a link with a candidate are the capacities
built in the snapshot's period (`LinearModel.rating`); a line's reactance stays as given.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from gridopt.model.core import LinearModel
from gridopt.model.tables import tidy

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "transmission"


def cycle_matrix(lines: pd.DataFrame) -> np.ndarray:
    """(cycles x lines) orientation matrix of a cycle basis of the AC line graph.

    A spanning forest is grown over the buses; every line outside it closes one cycle with the
    forest path between its ends. Parallel lines are handled (each extra one is a cycle).
    """
    g = nx.MultiGraph()
    g.add_edges_from((b0, b1, i) for i, (b0, b1) in enumerate(zip(lines["bus0"], lines["bus1"],
                                                                    strict=True)))
    forest = nx.Graph()
    tree_line: dict[frozenset, int] = {}
    for component in nx.connected_components(g):
        sub = g.subgraph(component)
        for u, v, key in _tree_edges(sub):
            forest.add_edge(u, v)
            tree_line[frozenset((u, v))] = key
    cycles = []
    bus0 = lines["bus0"].to_numpy()
    for i, (u, v) in enumerate(zip(bus0, lines["bus1"].to_numpy(), strict=True)):
        if tree_line.get(frozenset((u, v))) == i:
            continue
        row = np.zeros(len(lines))
        row[i] = 1.0
        path = nx.shortest_path(forest, v, u)  # back from bus1 to bus0 through the forest
        for a, b in itertools.pairwise(path):
            j = tree_line[frozenset((a, b))]
            row[j] += 1.0 if bus0[j] == a else -1.0
        cycles.append(row)
    return np.array(cycles).reshape(len(cycles), len(lines))


def _tree_edges(sub: nx.MultiGraph) -> list[tuple[str, str, int]]:
    """Edges of a spanning tree of a connected multigraph, one line per bus pair."""
    tree = nx.minimum_spanning_tree(nx.Graph(
        (u, v, {"key": k}) for u, v, k in sorted(sub.edges(keys=True), key=lambda e: -e[2])))
    return [(u, v, d["key"]) for u, v, d in tree.edges(data=True)]


def build(model: LinearModel) -> None:
    lines = model.data.tables["lines"]
    links = model.data.tables["links"]
    w = model.w[None, :]
    if not lines.empty:
        s_max = model.rating("lines", "s_max_mw")[:, None]
        f = model.add_variables("line_p", lines.index, -s_max, s_max)
        model.limit_by_rating(f, "lines", "s_max_mw")
        model.limit_by_rating(f, "lines", "s_max_mw", -1.0, lower=True)
        model.add_injection(NAME, lines["bus0"], f.cols, -1.0)
        model.add_injection(NAME, lines["bus1"], f.cols, 1.0)
        C = cycle_matrix(lines)
        if len(C):
            v_nom = model.data.tables["buses"]["v_nom_kv"].reindex(lines["bus0"]).to_numpy()
            x_eff = lines["x_ohm"].to_numpy() / v_nom**2
            K = C * x_eff[None, :]
            # each cycle's equation is homogeneous, so scaling it to unit size is free and keeps
            # the matrix well conditioned (reactances over kV^2 are of order 1e-4)
            K = K / np.abs(K).max(axis=1, keepdims=True)
            cyc, line = np.nonzero(K)
            T = model.T
            rows = model.rows("line_kvl", pd.Index([f"cycle {i}" for i in range(len(C))]),
                              meaning="Kirchhoff's voltage law around AC {}",
                              unit="MW (reactance-weighted, scaled)")
            rows.scatter(cyc[:, None] * T + np.arange(T)[None, :], f.cols[line],
                         K[cyc, line][:, None])
            rows.equal(0.0)
    if not links.empty:
        p_max = model.rating("links", "p_max_mw")[:, None]
        p_min_pu = links["p_min_pu"].to_numpy()[:, None]
        # an extendable link's floor p_min_pu x K is a row: its column floor is the lowest
        # the floor can be, min(0, p_min_pu x most K)
        floor = np.multiply(p_min_pu, p_max, out=np.zeros(p_max.shape), where=p_min_pu != 0)
        if ("links", "p_max_mw") in model.capacities:
            floor[model.capacities["links", "p_max_mw"].positions] = np.minimum(
                floor[model.capacities["links", "p_max_mw"].positions], 0.0)
        p = model.add_variables("link_p", links.index, floor, p_max)
        model.limit_by_rating(p, "links", "p_max_mw")
        model.limit_by_rating(p, "links", "p_max_mw", p_min_pu, lower=True)
        model.add_injection(NAME, links["bus0"], p.cols, -1.0)
        model.add_injection(NAME, links["bus1"], p.cols, links["efficiency"].to_numpy()[:, None])
        model.add_cost(p.cols, links["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * w)


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    lines = model.data.tables["lines"]
    links = model.data.tables["links"]
    w = model.w[None, :]
    tables = []
    costs = []
    if not lines.empty:
        f = sol.value("line_p")
        rating = model.rating_per_snapshot("lines", "s_max_mw", sol.x)
        tables.append(tidy(model.snapshots, lines.index, "branch", {
            "p0_mw": f, "p1_mw": f, "loss_mw": np.zeros_like(f),
            "rating_mw": rating,
            "utilisation_pu": np.abs(f) / np.where(rating > 0, rating, np.nan),
        }, pd.DataFrame({"kind": "line", "carrier": lines["carrier"], "bus0": lines["bus0"],
                         "bus1": lines["bus1"]}, index=lines.index)))
    if not links.empty:
        p = sol.value("link_p")
        eff = links["efficiency"].to_numpy()[:, None]
        rating = model.rating_per_snapshot("links", "p_max_mw", sol.x)
        tables.append(tidy(model.snapshots, links.index, "branch", {
            "p0_mw": p, "p1_mw": eff * p, "loss_mw": np.abs(p - eff * p),
            "rating_mw": rating,
            "utilisation_pu": np.abs(p) / np.where(rating > 0, rating, np.nan),
        }, pd.DataFrame({"kind": "link", "carrier": links["carrier"], "bus0": links["bus0"],
                         "bus1": links["bus1"]}, index=links.index)))
        costs.append(pd.DataFrame({
            "component": "link", "name": links.index, "region": "",
            "carrier": links["carrier"].to_numpy(), "cost_type": "wheeling",
            "cost_cny": (links["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * p * w).sum(1),
        }))
    out: dict[str, pd.DataFrame] = {}
    if tables:
        out["flows"] = pd.concat(tables, ignore_index=True)
    if costs:
        out["costs"] = pd.concat(costs, ignore_index=True)
    return out
