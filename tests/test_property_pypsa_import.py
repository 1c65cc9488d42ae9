"""Random PyPSA networks, written as PyPSA users write them, imported: gridopt's optimum of the
imported case is PyPSA's own optimum (HiGHS, MIPs at a zero gap), to 1e-6 relative.

Each example draws 2-3 AC buses on a spanning tree plus extra lines (some extendable, with a
capital cost and a length), generators (some extendable, with availability profiles; some with
quadratic costs, or, in a unit-commitment example, committable single units with stable
minimum, minimum up and down times, start-up, shut-down and stand-by costs and an initial
state), pumped storage with natural inflow, an extendable battery, a hydrogen bus with an
electrolyser, a fuel cell and a Store (sometimes extendable), a CO2 limit (a primary_energy
GlobalConstraint) and expensive backup generators so that every example is feasible.
Capacities are compared too: where they differ, PyPSA's capacities fixed in gridopt must reach
the same optimum (so the optimal capacities are not unique, and both are optimal).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pypsa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gridopt.inputs.case import load_case
from gridopt.interop import write_case
from gridopt.interop.pypsa import _quiet, from_pypsa
from gridopt.model.expansion import candidates as candidate_table
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve

REL = 1e-6


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Values on a grid of 1/100 of the range (data-like numbers)."""
    return st.integers(0, 100).map(lambda k: lo + (hi - lo) * k / 100)


@st.composite
def networks(draw: st.DrawFn) -> tuple[pypsa.Network, bool]:
    uc = draw(st.booleans())
    T = draw(st.integers(2, 3))
    n_bus = draw(st.integers(2, 3))
    buses = [f"b{i}" for i in range(n_bus)]
    n = pypsa.Network()
    sns = pd.date_range("2025-03-01", periods=T, freq="h")
    series = st.lists(_floats(0.0, 1.0), min_size=T, max_size=T)
    with _quiet():
        n.set_snapshots(sns)
        n.add(
            "Carrier",
            ["gas", "coal", "wind", "solar", "battery", "hydro", "H2", "backup"],
            co2_emissions=[0.2, 0.34, 0, 0, 0, 0, 0, 0],
        )
        n.add("Bus", buses, v_nom=380.0)
        edges = [(draw(st.integers(0, i - 1)), i) for i in range(1, n_bus)]
        edges += draw(
            st.lists(
                st.tuples(st.integers(0, n_bus - 1), st.integers(0, n_bus - 1)).filter(
                    lambda e: e[0] != e[1]
                ),
                max_size=2,
            )
        )
        for k, (a, b) in enumerate(edges):
            extendable = draw(st.booleans())
            n.add(
                "Line",
                f"line {k}",
                bus0=buses[a],
                bus1=buses[b],
                x=draw(_floats(5.0, 50.0)),
                s_nom=draw(_floats(20.0, 300.0)),
                s_nom_extendable=extendable,
                s_nom_max=draw(_floats(100.0, 500.0)) if extendable else np.inf,
                capital_cost=draw(_floats(1.0, 50.0)),
                length=draw(_floats(10.0, 300.0)),
            )
        for b in buses:
            n.add(
                "Load",
                f"{b} load",
                bus=b,
                p_set=pd.Series([50 + 300 * v for v in draw(series)], index=sns),
            )
            n.add(
                "Generator",
                f"{b} backup",
                bus=b,
                carrier="backup",
                p_nom=1000.0,
                marginal_cost=1000.0,
            )
            for k in range(draw(st.integers(0, 2))):
                kind = draw(st.sampled_from(["gas", "coal", "wind", "solar"]))
                name = f"{b} {kind} {k}"
                variable = kind in ("wind", "solar")
                extendable = draw(st.booleans())
                attrs = dict(
                    bus=b,
                    carrier=kind,
                    p_nom=draw(_floats(50.0, 400.0)),
                    marginal_cost=0.0 if variable else draw(_floats(10.0, 80.0)),
                    efficiency=1.0 if variable else draw(_floats(0.35, 0.6)),
                )
                if variable:
                    attrs["p_max_pu"] = pd.Series(draw(series), index=sns)
                if extendable:  # built from p_nom on, or from 0 (then all of it is charged)
                    attrs.update(
                        p_nom_extendable=True,
                        capital_cost=draw(_floats(5.0, 60.0)),
                        p_nom_max=draw(_floats(400.0, 600.0)),
                        p_nom_min=draw(st.sampled_from([0.0, attrs["p_nom"]])),
                    )
                elif uc and not variable:
                    attrs.update(
                        committable=True,
                        p_min_pu=draw(_floats(0.1, 0.6)),
                        min_up_time=draw(st.integers(1, 3)),
                        min_down_time=draw(st.integers(1, 3)),
                        start_up_cost=draw(_floats(0.0, 2000.0)),
                        shut_down_cost=draw(_floats(0.0, 500.0)),
                        stand_by_cost=draw(_floats(0.0, 100.0)),
                        up_time_before=draw(st.integers(0, 2)),
                        down_time_before=draw(st.integers(0, 2)),
                    )
                elif not uc and not variable:
                    attrs["marginal_cost_quadratic"] = draw(_floats(0.0, 0.2))
                n.add("Generator", name, **attrs)
        if draw(st.booleans()):
            n.add(
                "StorageUnit",
                "pumped hydro",
                bus=draw(st.sampled_from(buses)),
                carrier="hydro",
                p_nom=draw(_floats(10.0, 100.0)),
                max_hours=4.0,
                p_min_pu=-1.0,
                efficiency_store=0.85,
                efficiency_dispatch=0.9,
                inflow=pd.Series([60 * v for v in draw(series)], index=sns),
                cyclic_state_of_charge=draw(st.booleans()),
                state_of_charge_initial=draw(_floats(0.0, 40.0)),
            )
        if draw(st.booleans()):
            n.add(
                "StorageUnit",
                "battery",
                bus=draw(st.sampled_from(buses)),
                carrier="battery",
                p_nom_extendable=True,
                capital_cost=draw(_floats(1.0, 30.0)),
                max_hours=2.0,
                p_min_pu=-1.0,
                p_nom_max=200.0,
                efficiency_store=0.95,
                efficiency_dispatch=0.95,
                cyclic_state_of_charge=True,
            )
        if draw(st.booleans()):
            n.add("Bus", "h2", carrier="H2")
            n.add(
                "Link",
                "electrolyser",
                bus0=draw(st.sampled_from(buses)),
                bus1="h2",
                p_nom=100.0,
                efficiency=0.7,
            )
            n.add(
                "Link",
                "fuel cell",
                bus0="h2",
                bus1=draw(st.sampled_from(buses)),
                p_nom=100.0,
                efficiency=0.5,
                marginal_cost=1.0,
            )
            extendable = draw(st.booleans())
            e_nom = draw(_floats(0.0, 300.0))
            n.add(
                "Store",
                "tank",
                bus="h2",
                carrier="H2",
                e_nom=e_nom,
                e_nom_extendable=extendable,
                e_nom_min=draw(st.sampled_from([0.0, e_nom])),
                e_nom_max=500.0,
                capital_cost=0.5,
                e_cyclic=draw(st.booleans()),
                e_initial=0.0 if extendable else e_nom * draw(_floats(0.0, 1.0)),
            )
        if draw(st.booleans()):
            n.add(
                "GlobalConstraint",
                "co2 limit",
                type="primary_energy",
                carrier_attribute="co2_emissions",
                sense="<=",
                constant=draw(_floats(50.0, 600.0)),
            )
    return n, uc


def pypsa_solve(n: pypsa.Network) -> tuple[str, float]:
    """PyPSA's optimize() with HiGHS at a zero MIP gap. Its QPs go unregularised, as gridopt's:
    with HiGHS' default regularisation (1e-7) its active-set QP solver stalled on a drawn
    network with an extendable line whose s_nom_max is below s_nom (time limit at 20 s,
    against 4 s unregularised or with HiPO)."""
    with _quiet():
        _, condition = n.optimize(
            solver_name="highs", mip_rel_gap=0.0, output_flag=False, qp_regularization_value=0.0
        )
    return str(condition), float(n.objective) if str(condition) == "optimal" else np.nan


def gridopt_solve(case: Path, fixed: dict[str, float] | None = None):
    data = load_case(case, {"solver.mip_gap": 0.0})
    if fixed:
        cand = data.tables["candidates"]
        for name, total in fixed.items():
            existing = data.tables[cand.at[name, "table"]].at[
                cand.at[name, "component"], cand.at[name, "rating"]
            ]
            cand.loc[name, ["build_min", "build_max"]] = total - existing
    model = build_model(data)
    return model, solve(model, data.case.solver)


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=networks())
def test_imported_networks_reach_pypsas_optimum(drawn):
    n, _uc = drawn
    imported = from_pypsa(n.copy(), source="drawn.nc")
    assert imported.case["model"] == ("uc" if n.generators["committable"].any() else "dispatch")
    with tempfile.TemporaryDirectory() as tmp:
        case = write_case(imported, tmp)
        model, sol = gridopt_solve(case)
        condition, objective = pypsa_solve(n)
        assert condition == "optimal", condition  # backup generators make every draw feasible
        assert sol.status == "optimal", sol.message
        # PyPSA charges capital_cost x (p_nom_opt - p_nom); where p_nom_min < p_nom gridopt
        # charges all of p_nom_opt (the import says so): its objective is higher by this
        charged = sum(
            float(
                (df["capital_cost"] * df[nom])[
                    df[f"{nom}_extendable"].astype(bool) & (df[f"{nom}_min"] < df[nom])
                ].sum()
            )
            for df, nom in (
                (n.generators, "p_nom"),
                (n.lines, "s_nom"),
                (n.storage_units, "p_nom"),
                (n.stores, "e_nom"),
            )
        )
        assert sol.objective_cny == pytest.approx(objective + charged, rel=REL, abs=1e-6)
        cand = candidate_table(model)
        if cand.empty:
            return
        built = pd.Series(
            sol.x[model.variables["exp_build"].cols[:, 0]] + cand["existing"], index=cand.index
        )
        theirs = pd.Series({name: _pypsa_capacity(n, row) for name, row in cand.iterrows()})
        differ = ~np.isclose(built, theirs, rtol=1e-6, atol=1e-5)
        if differ.any():
            # not unique: PyPSA's capacities are optimal in gridopt too
            _, again = gridopt_solve(case, theirs.to_dict())
            assert again.objective_cny == pytest.approx(objective + charged, rel=REL, abs=1e-6)


def _pypsa_capacity(n: pypsa.Network, row: pd.Series) -> float:
    """PyPSA's optimal capacity of the component a candidate extends, as gridopt rates it."""
    component = row["component"]
    if row["table"] == "lines":
        return float(n.lines.at[component, "s_nom_opt"] * n.lines.at[component, "s_max_pu"])
    if row["table"] == "generators":
        return float(n.generators.at[component, "p_nom_opt"])
    if row["table"] == "storage_units" and row["rating"] == "energy_max_mwh":
        return float(n.stores.at[component, "e_nom_opt"])
    return float(n.storage_units.at[component, "p_nom_opt"])
