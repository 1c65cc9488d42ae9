"""AC lines in a linear (DC) power flow, and controllable links (HVDC corridors).

Lines: flow f[l,t] (MW, positive bus0 -> bus1), |f[l,t]| <= s_max[l]. Kirchhoff's voltage law
is imposed on a cycle basis of the AC network (no voltage angles): for every independent cycle
C with orientation o[l] = +1 if C runs bus0 -> bus1 along line l, else -1,

    sum_{l in C} o[l] * x[l] / v_nom[l]^2 * f[l,t] = 0

The basis has (lines - buses + islands) cycles, fewer rows than the angle formulation's one
variable per bus, and gives the same flows (x / v_nom^2 is the per-unit reactance up to a
constant base, as PyPSA uses). A negative reactance (series compensation) is allowed.

Phase shifters and angle limits. In radians, the angle across line l is

    theta[bus0] - theta[bus1] = x_eff[l] * f[l,t] + phi[l],     x_eff = x / v_nom^2 (ohm/kV^2)

with phi the line's `phase_shift_deg` (MATPOWER's SHIFT, its DC model), so the cycle rows read
sum_{l in C} o[l] x_eff[l] f[l,t] = -sum_{l in C} o[l] phi[l], and a limit on the angle
difference, `angle_min_deg` <= theta[bus0] - theta[bus1] <= `angle_max_deg` (MATPOWER's
ANGMIN, ANGMAX), is a limit on the line's own flow:

    (angle_min - phi) / x_eff <= f[l,t] <= (angle_max - phi) / x_eff      (x_eff > 0;
                                                                            swapped if < 0)

which joins the rating as the bounds of f.

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
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

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
    g.add_edges_from(
        (b0, b1, i) for i, (b0, b1) in enumerate(zip(lines["bus0"], lines["bus1"], strict=True))
    )
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


def cycle_basis(lines: pd.DataFrame) -> sp.csr_matrix:
    """The cycle basis of `cycle_matrix` as a sparse matrix, built in bulk for networks of
    tens of thousands of buses (its rows hold a line and the tree path between its ends,
    so a dense matrix would not fit).

    A breadth-first spanning forest gives every bus its parent, the line to it and its depth;
    each line outside the forest closes one cycle, whose path back from bus1 to bus0 climbs
    from both ends to their common ancestor, one level per step for all cycles at once.
    """
    n_lines = len(lines)
    buses = pd.Index(
        pd.unique(np.concatenate([lines["bus0"].to_numpy(), lines["bus1"].to_numpy()]))
    )
    b0 = buses.get_indexer(lines["bus0"].to_numpy())
    b1 = buses.get_indexer(lines["bus1"].to_numpy())
    nb = len(buses)
    if not n_lines:
        return sp.csr_matrix((0, 0))
    graph = sp.coo_matrix((np.ones(n_lines), (b0, b1)), shape=(nb, nb)).tocsr()
    n_comp, label = connected_components(graph, directed=False)
    parent = np.full(nb, -1)
    depth = np.zeros(nb, dtype=np.int64)
    for comp in range(n_comp):  # one search per island
        root = int(np.flatnonzero(label == comp)[0])
        order, pred = breadth_first_order(graph, root, directed=False, return_predecessors=True)
        parent[order[1:]] = pred[order[1:]]
        for node in order[1:]:  # in breadth-first order: a parent's depth is known
            depth[node] = depth[parent[node]] + 1
    # the line joining each bus to its parent: the first line of that pair of buses
    lo, hi = np.minimum(b0, b1), np.maximum(b0, b1)
    pair = pd.Series(np.arange(n_lines), index=lo.astype(np.int64) * nb + hi)
    first = pair[~pair.index.duplicated()]
    child = np.flatnonzero(parent >= 0)
    key = np.minimum(child, parent[child]).astype(np.int64) * nb + np.maximum(child, parent[child])
    up_line = np.full(nb, -1)
    up_line[child] = first.reindex(key).to_numpy()
    tree = np.zeros(n_lines, dtype=bool)
    tree[up_line[child]] = True
    closing = np.flatnonzero(~tree)
    rows, cols, vals = [np.arange(len(closing))], [closing], [np.ones(len(closing))]
    a, b = b1[closing].copy(), b0[closing].copy()  # climb from bus1 (a) and bus0 (b)
    cyc = np.arange(len(closing))
    while True:
        open_ = a != b
        if not open_.any():
            break
        up_a = open_ & (depth[a] >= depth[b])
        up_b = open_ & ~up_a
        for side, sign in ((up_a, 1.0), (up_b, -1.0)):
            node = a[side] if sign > 0 else b[side]
            line = up_line[node]
            # along the path from bus1 back to bus0: +1 where it runs bus0 -> bus1 of the line
            rows.append(cyc[side])
            cols.append(line)
            vals.append(np.where(b0[line] == node, sign, -sign))
        a[up_a] = parent[a[up_a]]
        b[up_b] = parent[b[up_b]]
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(closing), n_lines),
    )


def _tree_edges(sub: nx.MultiGraph) -> list[tuple[str, str, int]]:
    """Edges of a spanning tree of a connected multigraph, one line per bus pair."""
    tree = nx.minimum_spanning_tree(
        nx.Graph(
            (u, v, {"key": k}) for u, v, k in sorted(sub.edges(keys=True), key=lambda e: -e[2])
        )
    )
    return [(u, v, d["key"]) for u, v, d in tree.edges(data=True)]


def phase_shift_rad(lines: pd.DataFrame) -> np.ndarray:
    """Each line's phase shift phi, radians (0 where none)."""
    if "phase_shift_deg" not in lines:
        return np.zeros(len(lines))
    return np.deg2rad(lines["phase_shift_deg"].fillna(0.0).to_numpy(dtype=float))


def angle_limits_mw(buses: pd.DataFrame, lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on each line's flow (MW) from its angle-difference limits (module docstring):
    (lower, upper), infinite where a line has no limit or no reactance."""
    low = np.full(len(lines), -np.inf)
    high = np.full(len(lines), np.inf)
    if "angle_min_deg" not in lines or not len(lines):
        return low, high
    v_nom = buses["v_nom_kv"].reindex(lines["bus0"]).to_numpy(dtype=float)
    x_eff = lines["x_ohm"].to_numpy(dtype=float) / v_nom**2
    phi = phase_shift_rad(lines)
    a_min = np.deg2rad(lines["angle_min_deg"].to_numpy(dtype=float))
    a_max = np.deg2rad(lines["angle_max_deg"].to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        at_min = (a_min - phi) / x_eff
        at_max = (a_max - phi) / x_eff
    pos, neg = x_eff > 0, x_eff < 0
    low = np.where(pos & ~np.isnan(a_min), at_min, low)
    high = np.where(pos & ~np.isnan(a_max), at_max, high)
    low = np.where(neg & ~np.isnan(a_max), at_max, low)
    high = np.where(neg & ~np.isnan(a_min), at_min, high)
    return low, high


def build(model: LinearModel) -> None:
    lines = model.data.tables["lines"]
    links = model.data.tables["links"]
    w = model.w[None, :]
    if not lines.empty:
        s_max = model.rating("lines", "s_max_mw")[:, None]
        low, high = angle_limits_mw(model.data.tables["buses"], lines)
        f = model.add_variables(
            "line_p",
            lines.index,
            np.maximum(-s_max, low[:, None]),
            np.minimum(s_max, high[:, None]),
        )
        model.limit_by_rating(f, "lines", "s_max_mw")
        model.limit_by_rating(f, "lines", "s_max_mw", -1.0, lower=True)
        model.add_injection(NAME, lines["bus0"], f.cols, -1.0)
        model.add_injection(NAME, lines["bus1"], f.cols, 1.0)
        C = cycle_basis(lines)
        if C.shape[0]:
            v_nom = model.data.tables["buses"]["v_nom_kv"].reindex(lines["bus0"]).to_numpy()
            x_eff = lines["x_ohm"].to_numpy() / v_nom**2
            K = C @ sp.diags(x_eff)
            # a cycle's right side: minus its phase shifts, in radians
            shift = -(C @ phase_shift_rad(lines))
            # scaling a cycle's equation to unit size keeps the matrix well conditioned
            # (reactances over kV^2 are of order 1e-4); its right side scales with it
            size = np.asarray(abs(K).max(axis=1).todense()).ravel()
            size[size == 0] = 1.0
            K = (sp.diags(1.0 / size) @ K).tocoo()
            keep = K.data != 0
            cyc, line, coef = K.row[keep], K.col[keep], K.data[keep]
            T = model.T
            rows = model.rows(
                "line_kvl",
                pd.Index([f"cycle {i}" for i in range(C.shape[0])]),
                meaning="Kirchhoff's voltage law around AC {}",
                unit="MW (reactance-weighted, scaled)",
            )
            rows.scatter(cyc[:, None] * T + np.arange(T)[None, :], f.cols[line], coef[:, None])
            rows.equal((shift / size)[:, None])
    if not links.empty:
        p_max = model.rating("links", "p_max_mw")[:, None]
        p_min_pu = links["p_min_pu"].to_numpy()[:, None]
        # an extendable link's floor p_min_pu x K is a row: its column floor is the lowest
        # the floor can be, min(0, p_min_pu x most K)
        floor = np.multiply(p_min_pu, p_max, out=np.zeros(p_max.shape), where=p_min_pu != 0)
        if ("links", "p_max_mw") in model.capacities:
            floor[model.capacities["links", "p_max_mw"].positions] = np.minimum(
                floor[model.capacities["links", "p_max_mw"].positions], 0.0
            )
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
        tables.append(
            tidy(
                model.snapshots,
                lines.index,
                "branch",
                {
                    "p0_mw": f,
                    "p1_mw": f,
                    "loss_mw": np.zeros_like(f),
                    "rating_mw": rating,
                    "utilisation_pu": np.abs(f) / np.where(rating > 0, rating, np.nan),
                },
                pd.DataFrame(
                    {
                        "kind": "line",
                        "carrier": lines["carrier"],
                        "bus0": lines["bus0"],
                        "bus1": lines["bus1"],
                    },
                    index=lines.index,
                ),
            )
        )
    if not links.empty:
        p = sol.value("link_p")
        eff = links["efficiency"].to_numpy()[:, None]
        rating = model.rating_per_snapshot("links", "p_max_mw", sol.x)
        tables.append(
            tidy(
                model.snapshots,
                links.index,
                "branch",
                {
                    "p0_mw": p,
                    "p1_mw": eff * p,
                    "loss_mw": np.abs(p - eff * p),
                    "rating_mw": rating,
                    "utilisation_pu": np.abs(p) / np.where(rating > 0, rating, np.nan),
                },
                pd.DataFrame(
                    {
                        "kind": "link",
                        "carrier": links["carrier"],
                        "bus0": links["bus0"],
                        "bus1": links["bus1"],
                    },
                    index=links.index,
                ),
            )
        )
        costs.append(
            pd.DataFrame(
                {
                    "component": "link",
                    "name": links.index,
                    "region": "",
                    "carrier": links["carrier"].to_numpy(),
                    "cost_type": "wheeling",
                    "cost_cny": (
                        links["marginal_cost_cny_per_mwh"].to_numpy()[:, None] * p * w
                    ).sum(1),
                }
            )
        )
    out: dict[str, pd.DataFrame] = {}
    if tables:
        out["flows"] = pd.concat(tables, ignore_index=True)
    if costs:
        out["costs"] = pd.concat(costs, ignore_index=True)
    return out
