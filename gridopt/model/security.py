"""Supply security of zones (Hong Kong, Macao, ...): N-1 infeed, shares, fuel mix, gas N-1.

The zones and their targets are the case's (`gridopt.inputs.zones`). For a zone Z: B the buses, G
the
local units (generators), E the import lines and links crossing its boundary, C the contracted
units outside it (a share s_c of their output is the zone's, e.g. Daya Bay for Hong Kong), D[t]
the zone's demand (MW) and w[t] the snapshot length (h).

Import of element e into Z (MW, as delivered at the zone's end) and its import rating:

    line l:  I_l[t] = sigma_l f[l,t],  Cap_l = s_max[l]    (sigma_l = +1 if bus1 is in Z, else -1)
    link k:  I_k[t] = eta_k p[k,t], Cap_k = eta_k p_max[k]        (bus1 in Z)
             I_k[t] = -p[k,t],      Cap_k = -p_min_pu[k] p_max[k]  (bus0 in Z)

so Cap_e - I_e[t] >= 0 is its spare import capacity. Headroom of local unit g (MW):

    available:        h[g,t] = P[g] a[g,t] - p[g,t]
    uc, committable:  h[g,t] = cap[g,t] u[g,t] - p[g,t]   (committed units only; exact)
    spinning:         a variable with  h[g,t] >= 0,  h[g,t] + p[g,t] <= P[g] a[g,t]   (cap rows)
                      and  m_g h[g,t] <= (1 - m_g) p[g,t]                          (online rows)

where m_g is the unit's stable minimum (p_min_stable_pu, or the zone's min_stable_pu of its
carrier): a plant producing p can have at most p / m_g of capacity online, so only that counts
(the LP relaxation of commitment; a unit producing nothing is taken to be off). Fast-start units,
units with m_g = 0 and, in a uc case, committable units use the rule above them instead.

Contingencies. A line or link of n_e identical circuits loses one, lambda_e = 1 / n_e; a plant
row g (local, or contracted) loses its largest unit U_g (`unit_mw`, else p_max / units),
lambda_g = U_g / P[g], carrying its share of the plant's output (units loaded alike; in a uc
case a cluster with fewer units on than it has loads each more, p / u, which this linear rule
understates: give such plants one row per unit for an exact N-1). Every import element is a
contingency; units are when U_g >= the zone's unit threshold.

(1) N-1 infeed, per zone, contingency k and snapshot t (rows `security_n1_<zone>`):

        lost_k[t] + margin <= cover_k[t]

    element e:     lost = lambda_e I_e,     cover = (1 - lambda_e)(Cap_e - I_e)
                                                    + sum_{e' != e} (Cap_e' - I_e') + sum_g h_g
    local unit g:  lost = lambda_g p_g,     cover = (1 - lambda_g) h_g + sum_{g' != g} h_g'
                                                    + sum_e (Cap_e - I_e)
    contracted c:  lost = s_c lambda_c p_c, cover = sum_g h_g + sum_e (Cap_e - I_e)

    The remaining circuits of a line take over its flow; the spare capacity of an element is
    counted whole (a transport view: for a zone fed radially, as Hong Kong and Macao are, it is
    exact; in a meshed zone the flows after an outage follow Kirchhoff's laws and this is an
    upper bound). With `available` headroom and a radial zone without storage, (1) reduces to
    D[t] <= the zone's capacity after the loss, whatever the dispatch: N-1 then costs nothing
    unless demand must be shed; `spinning` makes it bind on the dispatch. The lost output of a
    contracted unit must be replaced by the zone's own headroom or spare import capacity (it
    shares the interties with the other imports). Dual: CNY per MW more cover, per hour.

(2) Capacity reserve margin (planning): with d_c the firm share of carrier c and f_e of e,

        sum_g d_c(g) P[g] + sum_e f_e Cap_e - max_k (largest element) >= peak (1 + margin)

    (largest: U_g or Cap_e / n_e). Capacities are data in gridopt, so this is a reported check
    with its slack, not a row; it becomes a row once capacities are variables.

(3) Shares, per period W (the horizon, or each calendar month; in a window of a rolling run
    each split into the hours it keeps and its look-ahead, unless carried: below),
    E_W = sum_{t in W} w D:

        local:   min E_W <= sum_{t in W} w sum_g p[g,t]  <= max E_W
        import:  min E_W <= sum_{t in W} w sum_e I_e[t]  <= max E_W

(4) Fuel mix of carriers K: the same with sum_{g: carrier in K} p[g,t] + sum_{c: carrier in K}
    s_c p[c,t] (unattributed grid imports count for no carrier). Duals of (3), (4): CNY per MWh
    of the row, reported per percentage point of share (x E_W / 100).

    In a piece of a longer horizon valued by a future-cost function (`CaseData.delivered`
    given: a stage of one, a window of a rolling run under `seasonal: future_cost`) (3) and (4)
    are carried as the energy of contracts is (`gridopt.model.periods`): with Q_W the energy
    the target counts in the piece's snapshots of W, Q0_W what it counted before the piece
    (rows `security_<target>_<zone>_delivered_start`) and E_W the demand of the whole period
    (the horizon's part of it, `carried_share_entries`),

        Q0_W + Q_W >= min E_W     only in the piece where W is due (it ends there)
        Q0_W + Q_W <= max E_W     in every piece

    rows `security_<target>_<zone>_min`, `_max`. Q0_W + Q_W is an entry of the state the piece
    ends in, so the cuts say what counting a MWh now rather than later is worth, and Hong
    Kong's yearly gas floor is met in the hours where gas is cheapest rather than in every
    window alike. The results report (Q0_W + Q_W) / E_W, the share of the period's whole
    demand counted so far.

(5) Gas N-1, per gas source k of the zone's gas nodes N and snapshot t (rows
    `security_gas_n1_<zone>`): sources are the listed pipelines into N (rating into N times
    efficiency), the gas supplies at N (rating x availability) and gas storage at N (withdrawal
    rating), Cap_j[t]:

        sum_{g in G on N} p[g,t] / eta_g + D_gas[t] <= sum_{j != k} Cap_j[t]

    with D_gas the non-power gas demand at N (if included). Dual: CNY per MWth, per hour.

(6) Water supply (`water_supply`): the withdrawals of the named river nodes (data of the hydro
    table, rows of the hydro family) are reported per snapshot with the water reaching the node
    and its water value (CNY/m3, from the hydro water balance); `gridopt security` prices them
    by solving without them.

Shadow prices are reported as the cost of tightening a target (positive when it binds); a row is
binding when its slack is within 1e-6 of its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.inputs.settings import SecurityZone, ShareBound
from gridopt.inputs.zones import local_units, slug, target_label
from gridopt.model import generation, periods
from gridopt.model.core import INF, LinearModel
from gridopt.model.periods import LOOK_AHEAD, look_ahead

if TYPE_CHECKING:
    from gridopt.solver.types import Solution

NAME = "security"
COLUMNS = (
    "zone",
    "target",
    "element",
    "snapshot",
    "period",
    "lhs",
    "rhs",
    "unit",
    "slack",
    "met",
    "binding",
    "shadow_price",
    "shadow_price_unit",
    "note",
)


@dataclass
class Term:
    """A linear expression per snapshot: sum of coef * x[cols] plus a constant (each (T,))."""

    parts: list[tuple[np.ndarray, np.ndarray]]
    const: np.ndarray

    def value(self, x: np.ndarray) -> np.ndarray:
        out = self.const.astype(float).copy()
        for cols, coef in self.parts:
            out = out + coef * x[cols]
        return out


@dataclass
class Import:
    kind: str
    name: str
    flow: Term  # I_e[t]
    cap_mw: float
    circuits: int


@dataclass
class Plan:
    """What the rows of one zone are made of (derived from the data, the same at build and
    results time)."""

    zone: SecurityZone
    slug: str
    demand_mw: np.ndarray  # (T,)
    units: pd.Index
    unit_pos: np.ndarray  # positions in the generator table
    unit_frac: np.ndarray  # lambda_g
    imports: list[Import]
    contracted: list[tuple[str, int, float, float]]  # name, position, share, lambda


def zones(data: CaseData) -> list[SecurityZone]:
    return list(getattr(data, "security_zones", None) or [])


def zone_demand_mw(data: CaseData, zone: SecurityZone) -> np.ndarray:
    """The zone's demand per snapshot (MW)."""
    loads = data.tables["loads"]
    inside = loads.index[loads["bus"].isin(zone.buses).to_numpy()]
    return (
        data.load_mw[inside].sum(axis=1).to_numpy() if len(inside) else np.zeros(data.n_snapshots)
    )


def unit_fraction(data: CaseData, zone: SecurityZone, names: pd.Index | list[str]) -> np.ndarray:
    """lambda_g = U_g / P_g: the share of a plant row lost with its largest unit."""
    gens = data.tables["generators"].loc[list(names)]
    p_max = gens["p_max_mw"].to_numpy(dtype=float)
    size = p_max / pd.to_numeric(gens["units"]).to_numpy(dtype=float)
    given = np.array([zone.unit_mw.get(n, np.nan) for n in gens.index], dtype=float)
    size = np.where(np.isnan(given), size, given)
    return np.divide(size, p_max, out=np.ones_like(p_max), where=p_max > 0)


def plan(model: LinearModel, zone: SecurityZone) -> Plan:
    data = model.data
    T = model.T
    zeros = np.zeros(T)
    gens = data.tables["generators"]
    units = local_units(zone, data.tables)
    pos = gens.index.get_indexer(units)
    inside = set(zone.buses)
    imports = []
    for el in zone.imports:
        if el.kind == "line":
            line = data.tables["lines"].loc[el.name]
            i = data.tables["lines"].index.get_loc(el.name)
            sigma = 1.0 if line["bus1"] in inside else -1.0
            flow = Term([(model.variables["line_p"].cols[i], np.full(T, sigma))], zeros)
            cap = float(line["s_max_mw"])
        elif el.kind == "link":
            link = data.tables["links"].loc[el.name]
            i = data.tables["links"].index.get_loc(el.name)
            if link["bus1"] in inside:
                coef, cap = float(link["efficiency"]), float(link["efficiency"] * link["p_max_mw"])
            else:
                coef, cap = -1.0, float(-link["p_min_pu"] * link["p_max_mw"])
            flow = Term([(model.variables["link_p"].cols[i], np.full(T, coef))], zeros)
        else:
            continue
        imports.append(Import(el.kind, el.name, flow, cap, el.circuits))
    contracted = [el for el in zone.imports if el.kind == "generator"]
    frac_c = unit_fraction(data, zone, [el.name for el in contracted])
    return Plan(
        zone=zone,
        slug=slug(zone.name),
        demand_mw=zone_demand_mw(data, zone),
        units=units,
        unit_pos=pos,
        unit_frac=unit_fraction(data, zone, units),
        imports=imports,
        contracted=[
            (el.name, gens.index.get_loc(el.name), el.share_pu, float(f))
            for el, f in zip(contracted, frac_c, strict=True)
        ],
    )


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


# ---- (1) N-1 infeed ----------------------------------------------------------------------------
def _headroom_terms(model: LinearModel, pl: Plan, build: bool) -> list[Term]:
    """h[g,t] of each local unit (see the module doc); adds its variables and rows if `build`."""
    data = model.data
    n1 = pl.zone.n_1
    assert n1 is not None  # built for zones with an N-1 target only
    gens = data.tables["generators"].iloc[pl.unit_pos]
    p = model.variables["gen_p"].cols[pl.unit_pos]
    avail = generation.available_mw(model)[pl.unit_pos]
    T = model.T
    com_row: dict[int, int] = {}
    cap_u = u_cols = np.zeros((0, T))
    if model.has("uc_on"):
        from gridopt.model import commitment

        fl = commitment.fleet(model)
        com_row = {int(r): i for i, r in enumerate(fl.rows)}
        cap_u, u_cols = fl.cap_mw, model.variables["uc_on"].cols
    stable = gens["p_min_stable_pu"].to_numpy(dtype=float)
    by_carrier = gens["carrier"].map(n1.min_stable_pu).to_numpy(dtype=float)
    m = np.where(stable > 0, stable, np.nan_to_num(by_carrier, nan=0.0))
    terms: list[Term | None] = []
    spin = []
    for i, (name, g) in enumerate(zip(pl.units, pl.unit_pos, strict=True)):
        if int(g) in com_row:
            k = com_row[int(g)]
            terms.append(Term([(u_cols[k], cap_u[k]), (p[i], -np.ones(T))], np.zeros(T)))
        elif n1.headroom == "available" or name in n1.fast_start or m[i] <= 0:
            terms.append(Term([(p[i], -np.ones(T))], avail[i]))
        else:
            terms.append(None)
            spin.append(i)
    if spin:
        idx = np.array(spin)
        names = pl.units[idx]
        var = f"security_headroom_{pl.slug}"
        if build:
            h = model.add_variables(var, names)
            zone = _escape(pl.zone.name)
            model.rows(
                f"security_headroom_cap_{pl.slug}",
                names,
                meaning=f"headroom of {{}} counted for {zone} N-1 security, within its"
                " available capacity",
                unit="MW",
            ).add(h.cols, 1.0).add(p[idx], 1.0).less(avail[idx])
            model.rows(
                f"security_headroom_online_{pl.slug}",
                names,
                meaning=f"headroom of {{}} counted for {zone} N-1 security, on its"
                " capacity online (output / stable minimum)",
                unit="MW",
            ).add(h.cols, m[idx, None]).add(p[idx], -(1.0 - m[idx, None])).less(0.0)
        h = model.variables[var]
        for j, i in enumerate(spin):
            terms[i] = Term([(h.cols[j], np.ones(T))], np.zeros(T))
    return [t for t in terms if t is not None]


def _n1_system(
    model: LinearModel, pl: Plan, build: bool
) -> tuple[list[str], list[Term], np.ndarray, np.ndarray]:
    """Contingency labels, terms and the matrices L (lost) and C (cover) over the terms."""
    n1 = pl.zone.n_1
    assert n1 is not None  # built for zones with an N-1 target only
    T = model.T
    gen_p = model.variables["gen_p"].cols
    heads = _headroom_terms(model, pl, build)
    flows = [e.flow for e in pl.imports]
    spares = [Term([(c, -k) for c, k in e.flow.parts], np.full(T, e.cap_mw)) for e in pl.imports]
    outputs = [Term([(gen_p[g], np.ones(T))], np.zeros(T)) for g in pl.unit_pos]
    bought = [Term([(gen_p[g], np.full(T, s))], np.zeros(T)) for _, g, s, _ in pl.contracted]
    terms = flows + spares + heads + outputs + bought
    nE, nG = len(flows), len(heads)
    I_, S_, H_, P_, Q_ = (0, nE, 2 * nE, 2 * nE + nG, 2 * nE + 2 * nG)
    gens = model.data.tables["generators"]
    labels: list[str] = []
    L_rows, C_rows = [], []

    def new() -> tuple[np.ndarray, np.ndarray]:
        lost, cover = np.zeros(len(terms)), np.zeros(len(terms))
        cover[S_ : S_ + nE] = 1.0
        cover[H_ : H_ + nG] = 1.0
        return lost, cover

    for j, e in enumerate(pl.imports):
        lam = 1.0 / e.circuits
        lost, cover = new()
        lost[I_ + j] = lam
        cover[S_ + j] = 1.0 - lam
        L_rows.append(lost)
        C_rows.append(cover)
        labels.append(e.name if e.circuits == 1 else f"{e.name} (one of {e.circuits} circuits)")
    p_max = gens["p_max_mw"]
    for j, (name, lam) in enumerate(zip(pl.units, pl.unit_frac, strict=True)):
        size = lam * p_max[name]
        if size < n1.unit_threshold_mw or size <= 0:
            continue
        lost, cover = new()
        lost[P_ + j] = lam
        cover[H_ + j] = 1.0 - lam
        L_rows.append(lost)
        C_rows.append(cover)
        labels.append(name if lam >= 1.0 else f"{name} (one {size:g} MW unit)")
    for j, (name, _g, share, lam) in enumerate(pl.contracted):
        size = lam * p_max[name]
        if size < n1.unit_threshold_mw or size <= 0:
            continue
        lost, cover = new()
        lost[Q_ + j] = lam
        L_rows.append(lost)
        C_rows.append(cover)
        unit = "" if lam >= 1.0 else f"one {size:g} MW unit, "
        labels.append(f"{name} ({unit}{share:.0%} contracted)")
    return (
        labels,
        terms,
        np.array(L_rows).reshape(-1, len(terms)),
        np.array(C_rows).reshape(-1, len(terms)),
    )


def _build_n1(model: LinearModel, pl: Plan) -> None:
    """The rows (1), written sparsely: every contingency's cover is the zone's whole cover
    less a part of its own element, so the whole cover is one variable per snapshot,

        W[t] = sum_e (Cap_e - I_e[t]) + sum_g h_g[t]         (row security_n1_cover_<zone>)

    and a contingency's row is lost_k - (W - own_k) <= -margin with own_k = lambda_e (Cap_e -
    I_e) for an import element, lambda_g h_g for a unit, 0 for a contracted unit: a few terms
    each instead of every import and unit of the zone. Same rows, same duals."""
    labels, terms, L, C = _n1_system(model, pl, build=True)
    if not labels:
        return
    T = model.T
    base = C.max(axis=0)  # the whole cover: every spare and headroom term, weight 1
    own = L - (C - base)  # lost_k + own_k, over the terms
    assert pl.zone.n_1 is not None  # built for zones with an N-1 target only
    margin = pl.zone.n_1.margin_mw
    const = np.array([t.const for t in terms])  # (J, T)
    part_term = np.array([j for j, t in enumerate(terms) for _ in t.parts])
    part_cols = np.array([c for t in terms for c, _ in t.parts])
    part_coef = np.array([k for t in terms for _, k in t.parts])
    zone = _escape(pl.zone.name)
    cover = model.add_variables(
        f"security_n1_total_cover_{pl.slug}", pd.Index([pl.zone.name]), -INF, INF
    )
    on = np.flatnonzero(base[part_term] != 0)
    rows = model.rows(
        f"security_n1_cover_{pl.slug}",
        pd.Index([pl.zone.name]),
        meaning=f"{zone} N-1 cover (headroom and spare import capacity) of {{}}",
        unit="MW",
    )
    rows.add(cover.cols, 1.0)
    rows.scatter(
        np.broadcast_to(np.arange(T)[None, :], (len(on), T)),
        part_cols[on],
        -base[part_term[on]][:, None] * part_coef[on],
    )
    rows.equal((base @ const)[None, :], definition=True)
    k_idx, p_idx = np.nonzero(own[:, part_term])
    rows = model.rows(
        f"security_n1_{pl.slug}",
        pd.Index(labels),
        meaning=f"{zone} N-1 security against the loss of {{}}",
        unit="MW",
        above="lost infeed exceeds the cover (headroom and spare import capacity) by",
    )
    rows.scatter(
        k_idx[:, None] * T + np.arange(T)[None, :],
        part_cols[p_idx],
        own[k_idx, part_term[p_idx]][:, None] * part_coef[p_idx],
    )
    rows.add(np.broadcast_to(cover.cols, (len(labels), T)), -1.0)
    rows.less(-margin - own @ const, per_weight=True)


# ---- (3), (4) energy shares ----------------------------------------------------------------
def _periods(model: LinearModel, share: ShareBound) -> tuple[np.ndarray, list[str], pd.Index]:
    """Period of each snapshot, the period labels and their first snapshots.

    A period is the horizon or a calendar month; in a window of a rolling run
    (`CaseData.kept_snapshots` = K < T) each is split into its kept part (t < K) and its
    look-ahead part (t >= K, labels ending in "look-ahead"), as the rows of obligations over
    calendar periods are (`gridopt.model.periods.look_ahead`), so that a share holds on the
    hours the run keeps: over the whole window the discarded look-ahead could carry the share
    while the kept hours miss it.
    """
    snaps = pd.DatetimeIndex(model.snapshots)
    if share.period == "horizon":
        key = np.full(model.T, "horizon", dtype=object)
    else:
        key = np.asarray(snaps.to_period("M").astype(str), dtype=object)
    ahead = look_ahead(model)
    key[ahead] += LOOK_AHEAD
    # kept parts before the look-ahead
    period, labels, first = _in_time_order(key)
    return period, labels, pd.DatetimeIndex(snaps[first])


def _in_time_order(key: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Number the periods of the snapshots' keys in time order: each snapshot's period, the
    periods' keys and the position of each period's first snapshot."""
    labels, first, idx = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[idx].astype(np.int64), [str(x) for x in labels[order]], first[order]


def _share_parts(model: LinearModel, pl: Plan, target: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (cols, coef) parts of the energy a share target counts (MW; weighted later)."""
    T = model.T
    gen_p = model.variables["gen_p"].cols
    if target == "local_share":
        return [(gen_p[g], np.ones(T)) for g in pl.unit_pos]
    if target == "import_share":
        return [part for e in pl.imports for part in e.flow.parts]
    i = int(target.removeprefix("fuel_mix[").removesuffix("]"))
    carriers = set(pl.zone.fuel_mix[i].carriers)
    gens = model.data.tables["generators"]
    parts = [(gen_p[g], np.ones(T)) for g in pl.unit_pos if gens["carrier"].iloc[g] in carriers]
    return parts + [
        (gen_p[g], np.full(T, s))
        for _, g, s, _ in pl.contracted
        if gens["carrier"].iloc[g] in carriers
    ]


def _share_of(zone: SecurityZone, target: str) -> ShareBound:
    if target.startswith("fuel_mix["):
        return zone.fuel_mix[int(target.removeprefix("fuel_mix[").removesuffix("]"))]
    return getattr(zone, target)


def _share_targets(zone: SecurityZone) -> list[str]:
    return [
        t
        for t in zone.targets()
        if t in ("local_share", "import_share") or t.startswith("fuel_mix[")
    ]


def _share_row_name(pl: Plan, target: str, side: str) -> str:
    return f"security_{slug(target)}_{side}_{pl.slug}"


def _build_share(model: LinearModel, pl: Plan, target: str) -> None:
    share = _share_of(pl.zone, target)
    period, labels, starts = _periods(model, share)
    energy = np.bincount(period, model.w * pl.demand_mw, minlength=len(labels))
    parts = _share_parts(model, pl, target)
    words = f"{pl.zone.name} {target_label(pl.zone, target)}"
    for side, bound in (("min", share.min_pu), ("max", share.max_pu)):
        if bound is None:
            continue
        rows = model.rows(
            _share_row_name(pl, target, side), pd.Index([words]), starts, meaning="{}", unit="MWh"
        )
        for cols, coef in parts:
            rows.scatter(period, cols, coef * model.w)
        if side == "min":
            rows.greater(bound * energy[None, :])
        else:
            rows.less(bound * energy[None, :])


# ---- (3), (4) carried from piece to piece (`CaseData.delivered`) ----------------------------
def _carried_prefix(zone: SecurityZone, target: str) -> str:
    """The prefix of a carried share's rows and state entries: `security_<target>_<zone>`."""
    return f"security_{slug(target)}_{slug(zone.name)}"


def _period_keys(snapshots: pd.Index, share: ShareBound) -> np.ndarray:
    """The period of each snapshot, whole (never split into kept hours and look-ahead)."""
    if share.period == "horizon":
        return np.full(len(snapshots), "horizon", dtype=object)
    return np.asarray(pd.DatetimeIndex(snapshots).to_period("M").astype(str), dtype=object)


def _carried_words(zone: SecurityZone, target: str) -> str:
    return f"{zone.name} {target_label(zone, target)}"


def carried_share_entries(data: CaseData) -> pd.DataFrame:
    """The entries of `CaseData.delivered` for the energy shares of `data`'s zones (module
    doc): per zone, share target and period of the horizon, by label `<prefix>: <zone>
    <target> <period>`, the energy counted before it (`before`, 0), `share_pu` 1, when the
    period ends (`due`: the month's end, or the horizon's) and the period's demand over the
    horizon (`demand_mwh`, E_W), which the pieces' bounds are a share of."""
    snaps = pd.DatetimeIndex(data.snapshots)
    w = np.asarray(data.weights_h, dtype=float)
    end = snaps[-1] + pd.Timedelta(hours=float(w[-1]))
    parts = []
    for zone in zones(data):
        demand = zone_demand_mw(data, zone)
        for target in _share_targets(zone):
            key = _period_keys(snaps, _share_of(zone, target))
            energy = pd.Series(w * demand).groupby(key, sort=False).sum()
            ends = pd.DatetimeIndex(
                [
                    end if k == "horizon" else (pd.Period(k, "M") + 1).start_time
                    for k in energy.index
                ]
            )
            parts.append(
                pd.DataFrame(
                    {
                        "before": 0.0,
                        "share_pu": 1.0,
                        "due": np.minimum(ends.to_numpy(), end.to_datetime64()),
                        "demand_mwh": energy.to_numpy(),
                    },
                    index=pd.Index(
                        f"{_carried_prefix(zone, target)}: {_carried_words(zone, target)} "
                        + energy.index.astype(str),
                        dtype=object,
                    ),
                )
            )
    if not parts:
        return pd.DataFrame({"before": [], "share_pu": [], "due": pd.to_datetime([])})
    return pd.concat(parts)


@dataclass
class _CarriedShare:
    """One carried share target in a piece: its periods (`periods.Windows`, bounds in MWh),
    the energy it counts (`periods.Terms`) and each period's E_W and whether it is due here."""

    prefix: str
    win: periods.Windows
    terms: periods.Terms
    energy_mwh: np.ndarray
    due: np.ndarray


def _carried_share(model: LinearModel, pl: Plan, target: str) -> _CarriedShare:
    """The periods of a carried share over `model`'s snapshots: the minimum min E_W only where
    the period is due by the piece's end, the maximum max E_W in every piece (what is counted
    can only grow towards it: a piece that passed it could not be undone later)."""
    share = _share_of(pl.zone, target)
    prefix = _carried_prefix(pl.zone, target)
    period, names, first = _in_time_order(_period_keys(model.snapshots, share))
    labels = pd.Index([f"{_carried_words(pl.zone, target)} {n}" for n in names], dtype=object)
    given = model.data.delivered
    assert given is not None  # a carried share is built only where the piece carries
    whole = given.reindex(f"{prefix}: " + labels.astype(str))
    # a period the entries do not list: this piece's own demand, due at the piece's end
    own = np.bincount(period, model.w * pl.demand_mw, minlength=len(labels))
    listed = whole.get("demand_mwh", pd.Series(np.nan, index=whole.index))
    energy = np.where(listed.isna(), own, listed.to_numpy(dtype=float))
    snaps = pd.DatetimeIndex(model.snapshots)
    end = snaps[-1] + pd.Timedelta(hours=float(model.w[-1]))
    due = (pd.to_datetime(whole["due"]).fillna(end) <= end).to_numpy()
    bound = {
        side: np.full(len(labels), np.nan) if b is None else b * energy
        for side, b in (("min", share.min_pu), ("max", share.max_pu))
    }
    bound["min"][~due] = np.nan
    table = pd.DataFrame(
        {
            "owner": 0,
            "label": labels,
            "period": labels,
            "first": snaps[first],
            "closes": due,
            "share_pu": 1.0,
            "min": bound["min"],
            "max": bound["max"],
            "penalty": np.nan,
        }
    )
    mask = period[None, :] == np.arange(len(labels))[:, None]
    parts = [
        periods.Terms(period, cols.astype(np.int64), coef * model.w)
        for cols, coef in _share_parts(model, pl, target)
    ]
    return _CarriedShare(
        prefix, periods.Windows(table, mask, carried=True), periods.join_terms(parts), energy, due
    )


def _build_carried_share(model: LinearModel, pl: Plan, target: str) -> None:
    """(3), (4) carried: Q0_W + Q_W >= min E_W where W is due, Q0_W + Q_W <= max E_W, with Q_W
    the energy the target counts in the piece, Q0_W before it (module doc)."""
    c = _carried_share(model, pl, target)
    periods.bound_rows(model, c.prefix, c.win, c.terms, "energy counted by {} so far")


def _carried_share_frames(sol: Solution, pl: Plan, target: str) -> list[pd.DataFrame]:
    """Results of a carried share: per period, the share of its whole demand E_W counted so far
    ((Q0 + Q) / E_W) against each bound; a minimum not due in the piece is reported with no
    slack (met, not binding)."""
    share = _share_of(pl.zone, target)
    c = _carried_share(sol.model, pl, target)
    got = periods.outcome(sol, c.prefix, c.win, c.terms)
    achieved = np.divide(
        got.before + got.quantity,
        c.energy_mwh,
        out=np.zeros_like(c.energy_mwh),
        where=c.energy_mwh > 0,
    )
    words = _carried_words(pl.zone, target) + " "
    labels = [str(x).removeprefix(words) for x in c.win.table["label"]]
    frames = []
    for side, bound, dual in (
        ("min", share.min_pu, got.min_dual),
        ("max", share.max_pu, got.max_dual),
    ):
        if bound is None:
            continue
        slack = achieved - bound if side == "min" else bound - achieved
        if side == "min":
            slack = np.where(c.due, slack, np.nan)
        frames.append(
            _share_frame(
                pl.zone,
                target,
                side,
                bound,
                labels,
                achieved,
                slack,
                np.nan_to_num(dual) + 0.0,
                c.energy_mwh,
                "carried: share of the period's whole demand counted so far (minimum checked"
                " where the period ends); ",
            )
        )
    return frames


def _share_frame(
    zone: SecurityZone,
    target: str,
    side: str,
    bound: float,
    periods_: list[str],
    achieved: np.ndarray,
    slack: np.ndarray,
    per_mwh: np.ndarray,
    energy_mwh: np.ndarray,
    note: str = "",
) -> pd.DataFrame:
    """Result rows of one side of a share target, per period: the share achieved against the
    bound, its price per percentage point (per MWh x E_W / 100)."""
    return _frame(
        zone.name,
        target_label(zone, target),
        [f"{side} {100 * bound:g} %"],
        None,
        periods_,
        achieved[None, :],
        np.full((1, len(periods_)), bound),
        "pu of demand",
        slack[None, :],
        (per_mwh * energy_mwh / 100.0)[None, :],
        "CNY/pp",
        note
        + "shadow price per percentage point of share; per MWh: "
        + ", ".join(f"{v:,.4g}" for v in per_mwh)
        + " CNY/MWh",
    )


# ---- (5) gas N-1 -----------------------------------------------------------------------------
def _gas_system(
    model: LinearModel, pl: Plan
) -> tuple[list[str], np.ndarray, list[tuple[np.ndarray, np.ndarray]], np.ndarray, str]:
    """Gas sources (labels, capacity (k, T)), the burn parts and the non-power demand (T,);
    or a note saying why gas N-1 is skipped."""
    from gridopt.model import gas

    data = model.data
    T = model.T
    tables = data.tables
    nodes = tables["gas_nodes"]
    zone = pl.zone
    empty: tuple[list[str], np.ndarray, list[tuple[np.ndarray, np.ndarray]], np.ndarray] = (
        [],
        np.zeros((0, T)),
        [],
        np.zeros(T),
    )
    if nodes.empty or "gas_balance" not in model.row_blocks:
        return (*empty, "skipped: the network has no gas system")
    inside = set(zone.gas_nodes)
    gens = tables["generators"]
    burners = [g for g in pl.unit_pos if gens["gas_node"].iloc[g] in inside]
    if not burners:
        return (*empty, "skipped: no local unit burns gas from the zone's gas nodes")
    labels, caps = [], []
    pipes = tables["pipelines"]
    for el in zone.imports:
        if el.kind != "pipeline":
            continue
        pipe = pipes.loc[el.name]
        rating = pipe["p_max_mwth"] if pipe["node1"] in inside else pipe["p_max_reverse_mwth"]
        labels.append(el.name)
        caps.append(np.full(T, float(rating * pipe["efficiency"])))
    sup = tables["gas_supplies"]
    at = np.flatnonzero(sup["gas_node"].isin(inside).to_numpy())
    if len(at):
        labels += list(sup.index[at])
        caps += list(gas.available_mwth(model)[at])
    sto = tables["gas_storage"]
    for name in sto.index[sto["gas_node"].isin(inside).to_numpy()]:
        labels.append(f"{name} (withdrawal)")
        caps.append(np.full(T, float(sto.at[name, "withdrawal_max_mwth"])))
    gen_p = model.variables["gen_p"].cols
    parts = [(gen_p[g], np.full(T, 1.0 / float(gens["efficiency"].iloc[g]))) for g in burners]
    demand = np.zeros(T)
    if zone.gas_n_1 is not None and zone.gas_n_1.include_non_power_demand:
        demand = gas.demand_mwth(model)[nodes.index.get_indexer(list(inside))].sum(axis=0)
    return labels, np.array(caps).reshape(len(labels), T), parts, demand, ""


def _build_gas(model: LinearModel, pl: Plan) -> None:
    labels, caps, parts, demand, note = _gas_system(model, pl)
    if note or not labels:
        return
    T = model.T
    k = np.arange(len(labels))[:, None] * T + np.arange(T)[None, :]
    rows = model.rows(
        f"security_gas_n1_{pl.slug}",
        pd.Index(labels),
        meaning=f"{_escape(pl.zone.name)} gas N-1 security against the loss of {{}}",
        unit="MWth",
        above="gas for its plants and demand exceeds what the remaining sources deliver by",
    )
    for cols, coef in parts:
        rows.scatter(k, np.broadcast_to(cols, k.shape), coef[None, :])
    rows.less(caps.sum(axis=0)[None, :] - caps - demand[None, :], per_weight=True)


def build(model: LinearModel) -> None:
    carried = model.data.delivered is not None
    for zone in zones(model.data):
        pl = plan(model, zone)
        if zone.n_1 is not None:
            _build_n1(model, pl)
        for target in _share_targets(zone):
            if carried:
                _build_carried_share(model, pl, target)
            else:
                _build_share(model, pl, target)
        if zone.gas_n_1 is not None:
            _build_gas(model, pl)


# ---- results -------------------------------------------------------------------------------
def _frame(
    zone: str,
    target: str,
    elements: list[str],
    snapshots: pd.Index | None,
    periods: list[str] | None,
    lhs: np.ndarray,
    rhs: np.ndarray,
    unit: str,
    slack: np.ndarray,
    price: np.ndarray,
    price_unit: str,
    note: str = "",
) -> pd.DataFrame:
    """Tidy rows for (element x time) arrays; time is snapshots or periods."""
    k, n = lhs.shape
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(lhs), np.abs(rhs)))
    price = np.where(np.abs(price) < 1e-7, 0.0, price)  # the solver's round-off, not a price
    snaps = (
        np.tile(np.asarray(snapshots), k)
        if snapshots is not None
        else np.full(k * n, np.datetime64("NaT"), dtype="datetime64[ns]")
    )
    return pd.DataFrame(
        {
            "zone": zone,
            "target": target,
            "element": np.repeat(np.asarray(elements, object), n),
            "snapshot": snaps,
            "period": np.tile(np.asarray(periods or [""] * n, object), k),
            "lhs": lhs.ravel() + 0.0,
            "rhs": rhs.ravel() + 0.0,
            "unit": unit,
            "slack": slack.ravel() + 0.0,
            # no slack (NaN): nothing to meet here (a carried minimum not yet due)
            "met": ((slack >= -tol) | np.isnan(slack)).ravel(),
            "binding": (np.abs(slack) <= tol).ravel(),
            "shadow_price": price.ravel() + 0.0,
            "shadow_price_unit": price_unit,
            "note": note,
        }
    )


def _water_frame(sol: Solution, zone: SecurityZone) -> pd.DataFrame:
    """(6) Water supply: per river node of the zone and snapshot, the water reaching it (own
    inflow and arrivals from upstream, m3/s) against the zone's withdrawal there; the shadow
    price is the water value at the node, CNY/m3 (minus the dual of its water balance): what
    one more m3 withdrawn costs the power system."""
    from gridopt.model import hydro as hydro_family  # its functions; imported on use

    model = sol.model
    table = model.data.tables["hydro"]
    assert zone.water_supply is not None  # a frame of zones with a water supply target only
    pos = table.index.get_indexer(zone.water_supply.hydro)
    reach = hydro_family.reaching_m3s(sol)[pos]
    need = hydro_family.withdrawal_m3s(model.data)[pos]
    value = hydro_family.water_value_cny_per_m3(sol)[pos]
    return _frame(
        zone.name,
        target_label(zone, "water_supply"),
        list(table.index[pos]),
        model.snapshots,
        None,
        reach,
        need,
        "m3/s",
        reach - need,
        value,
        "CNY/m3",
        "water reaching the intake against the zone's withdrawal; shadow price: the"
        " water value at the intake",
    )


def reserve_margin_check(data: CaseData, zone: SecurityZone) -> dict[str, float | str]:
    """(2): firm capacity minus the largest element against peak demand x (1 + margin)."""
    rm = zone.reserve_margin
    assert rm is not None  # checked for zones with a reserve margin only
    tables = data.tables
    gens = tables["generators"]
    units = local_units(zone, tables)
    p_max = gens.loc[units, "p_max_mw"].to_numpy(dtype=float)
    derate = gens.loc[units, "carrier"].map(rm.derating_pu).fillna(1.0).to_numpy(dtype=float)
    firm_local = float((derate * p_max).sum())
    firm_import, largest = 0.0, [("", 0.0)]
    inside = set(zone.buses)
    for el in zone.imports:
        if el.kind == "line":
            cap = float(tables["lines"].at[el.name, "s_max_mw"])
        elif el.kind == "link":
            link = tables["links"].loc[el.name]
            cap = float(
                link["efficiency"] * link["p_max_mw"]
                if link["bus1"] in inside
                else -link["p_min_pu"] * link["p_max_mw"]
            )
        else:
            continue
        firm_import += el.firm_pu * cap
        largest.append(
            (
                el.name if el.circuits == 1 else f"{el.name} (one of {el.circuits} circuits)",
                cap / el.circuits,
            )
        )
    frac = unit_fraction(data, zone, units)
    largest += [(str(n), float(f * p)) for n, f, p in zip(units, frac, p_max, strict=True)]
    element, size = max(largest, key=lambda x: x[1])
    peak = (
        rm.peak_demand_mw
        if rm.peak_demand_mw is not None
        else float(zone_demand_mw(data, zone).max())
    )
    return {
        "firm_local_mw": firm_local,
        "firm_import_mw": firm_import,
        "largest": element,
        "largest_mw": size,
        "lhs_mw": firm_local + firm_import - size,
        "rhs_mw": peak * (1.0 + rm.margin_pu),
        "peak_mw": peak,
    }


def results(sol: Solution) -> dict[str, pd.DataFrame]:
    model = sol.model
    frames = []
    x = sol.x
    for zone in zones(model.data):
        pl = plan(model, zone)
        name = zone.name
        if zone.n_1 is not None:
            labels, terms, L, C = _n1_system(model, pl, build=False)
            if labels:
                values = np.array([t.value(x) for t in terms])
                lhs = L @ values + zone.n_1.margin_mw
                rhs = C @ values
                price = -sol.dual(f"security_n1_{pl.slug}")
                frames.append(
                    _frame(
                        name,
                        target_label(zone, "n_1"),
                        labels,
                        model.snapshots,
                        None,
                        lhs,
                        rhs,
                        "MW",
                        rhs - lhs,
                        price,
                        "CNY/MW/h",
                        f"headroom: {zone.n_1.headroom}",
                    )
                )
        if zone.reserve_margin is not None:
            rm = reserve_margin_check(model.data, zone)
            frames.append(
                _frame(
                    name,
                    target_label(zone, "reserve_margin"),
                    [f"largest: {rm['largest']}"],
                    None,
                    ["planning"],
                    np.array([[rm["lhs_mw"]]]),
                    np.array([[rm["rhs_mw"]]]),
                    "MW",
                    np.array([[float(rm["lhs_mw"]) - float(rm["rhs_mw"])]]),
                    np.array([[np.nan]]),
                    "",
                    f"check (capacities are data): firm local {rm['firm_local_mw']:,.1f} MW + firm"
                    f" import {rm['firm_import_mw']:,.1f} MW - largest {rm['largest_mw']:,.1f} MW"
                    f" vs peak {rm['peak_mw']:,.1f} MW x (1 + {zone.reserve_margin.margin_pu:g})",
                )
            )
        for target in _share_targets(zone):
            if model.data.delivered is not None:
                frames.extend(_carried_share_frames(sol, pl, target))
                continue
            share = _share_of(zone, target)
            period, labels, _starts = _periods(model, share)
            w = model.w
            energy = np.bincount(period, w * pl.demand_mw, minlength=len(labels))
            got = np.zeros(len(labels))
            for cols, coef in _share_parts(model, pl, target):
                got += np.bincount(period, w * coef * x[cols], minlength=len(labels))
            achieved = np.divide(got, energy, out=np.zeros_like(got), where=energy > 0)
            for side, bound in (("min", share.min_pu), ("max", share.max_pu)):
                if bound is None:
                    continue
                dual = sol.dual(_share_row_name(pl, target, side))[0]
                per_mwh = (dual if side == "min" else -dual) + 0.0
                slack = achieved - bound if side == "min" else bound - achieved
                frames.append(
                    _share_frame(
                        zone, target, side, bound, labels, achieved, slack, per_mwh, energy
                    )
                )
        if zone.water_supply is not None and "hydro_water_balance" in model.row_blocks:
            frames.append(_water_frame(sol, zone))
        if zone.gas_n_1 is not None:
            labels, caps, parts, demand, note = _gas_system(model, pl)
            if note or not labels:
                frames.append(
                    _frame(
                        name,
                        target_label(zone, "gas_n_1"),
                        [""],
                        None,
                        [""],
                        np.full((1, 1), np.nan),
                        np.full((1, 1), np.nan),
                        "MWth",
                        np.full((1, 1), np.nan),
                        np.full((1, 1), np.nan),
                        "",
                        note or "skipped: the zone has no gas source",
                    )
                )
                continue
            burn = sum(coef * x[cols] for cols, coef in parts) + demand
            lhs = np.broadcast_to(burn, caps.shape)
            rhs = caps.sum(axis=0)[None, :] - caps
            price = -sol.dual(f"security_gas_n1_{pl.slug}")
            frames.append(
                _frame(
                    name,
                    target_label(zone, "gas_n_1"),
                    labels,
                    model.snapshots,
                    None,
                    lhs,
                    rhs,
                    "MWth",
                    rhs - lhs,
                    price,
                    "CNY/MWth/h",
                    "gas burnt by the zone's plants"
                    + (" plus non-power demand" if demand.any() else ""),
                )
            )
    if not frames:
        return {}
    table = pd.concat(frames, ignore_index=True)
    return {"security": table[list(COLUMNS)]}


@dataclass
class Removal:
    """How a built model becomes the model without some targets: rows `free` left without
    bounds, and the bounds of rows `shifted` moved by `shift` (both sides, one value each)."""

    free: np.ndarray
    shifted: np.ndarray
    shift: np.ndarray

    @staticmethod
    def combine(parts: list[Removal]) -> Removal:
        """The removal of all these targets together."""
        if not parts:
            return Removal(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        return Removal(
            np.unique(np.concatenate([r.free for r in parts])),
            np.concatenate([r.shifted for r in parts]),
            np.concatenate([r.shift for r in parts]),
        )

    def bounds(self, row_lb: np.ndarray, row_ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds of the model without the targets."""
        lb, ub = row_lb.copy(), row_ub.copy()
        np.add.at(lb, self.shifted, self.shift)
        np.add.at(ub, self.shifted, self.shift)
        lb[self.free], ub[self.free] = -np.inf, np.inf
        return lb, ub


def target_removal(model: LinearModel, zone: SecurityZone, target: str) -> Removal:
    """How the built model drops one target of a zone (a key of `SecurityZone.targets()`;
    nothing for the reserve margin, a check). Its rows are left free (bounds -inf, +inf): the
    headroom rows left behind bound only the headroom variables, never the dispatch. A water
    supply is not a row but a withdrawal in the water balance: its rows' right-hand sides
    gain the water back (`gridopt.model.hydro.withdrawal_rows`). Studies of the cost of
    security solve every variant of the targets on one matrix this way."""
    s = slug(zone.name)
    if target == "water_supply" and zone.water_supply is not None:
        from gridopt.model import hydro as hydro_family  # its functions; imported on use

        rows, shift = hydro_family.withdrawal_rows(model, list(zone.water_supply.hydro))
        return Removal(np.zeros(0, dtype=np.int64), rows, shift)
    if target == "n_1":
        names = [f"security_n1_{s}"]
    elif target == "gas_n_1":
        names = [f"security_gas_n1_{s}"]
    elif target in ("local_share", "import_share") or target.startswith("fuel_mix["):
        # per piece, or carried (`_carried_prefix`)
        names = [
            f"security_{slug(target)}_{side}_{s}"
            if model.data.delivered is None
            else f"{_carried_prefix(zone, target)}_{side}"
            for side in ("min", "max")
        ]
    else:
        names = []
    blocks = [model.row_blocks[n] for n in names if n in model.row_blocks]
    free = (
        np.concatenate(
            [
                np.arange(b.first_row, b.first_row + int(np.prod(b.shape)), dtype=np.int64)
                for b in blocks
            ]
        )
        if blocks
        else np.zeros(0, dtype=np.int64)
    )
    return Removal(free, np.zeros(0, dtype=np.int64), np.zeros(0))
