"""PyPSA exchange: exported cases solve to gridopt's optimum in PyPSA, imports round-trip,
and what gridopt cannot represent is refused or named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pypsa
import pytest
from typer.testing import CliRunner

from gridopt.cli import app
from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.inputs.synthetic import write_synthetic
from gridopt.interop.pypsa import (
    _quiet,
    export_pypsa,
    from_pypsa,
    import_pypsa,
    to_pypsa,
)
from gridopt.interop.scope import to_export_scope
from gridopt.model.hydro import arrivals_m3s
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from gridopt.solver.types import Solution
from tests.conftest import CASES

REL = 1e-6
PPRD = CASES / "pprd_week.yaml"


# ---- helpers shared with the property tests -------------------------------------------------


def pypsa_optimum(n: pypsa.Network) -> tuple[str, float, pd.DataFrame]:
    """PyPSA's own optimize() with HiGHS: (termination condition, objective, prices)."""
    with _quiet():
        _, condition = n.optimize(
            solver_name="highs", include_objective_constant=False, output_flag=False
        )
    if str(condition) != "optimal":
        return str(condition), np.nan, pd.DataFrame()
    return str(condition), float(n.objective), n.buses_t.marginal_price


def gridopt_optimum(data: CaseData) -> tuple[Solution, pd.DataFrame]:
    """gridopt's solve of prepared case data: the solution and prices (snapshot x bus)."""
    model = build_model(data)
    sol = solve(model)
    prices = pd.DataFrame(sol.dual("bus_balance").T, index=data.snapshots, columns=model.buses)
    return sol, prices


def _objective_with_extra_demand(data: CaseData, bus: str, t: int, delta_mw: float) -> float:
    """gridopt's optimum with `delta_mw` more demand at `bus` in snapshot `t` (a probe load)."""
    probe = "probe load"
    tables = dict(data.tables)
    tables["loads"] = pd.concat(
        [
            data.tables["loads"],
            pd.DataFrame({"bus": [bus], "profile": [None], "scale": [1.0]}, index=[probe]),
        ]
    )
    load_mw = data.load_mw.assign(**{probe: 0.0})
    load_mw.iloc[t, load_mw.columns.get_loc(probe)] = delta_mw
    sol = solve(build_model(dataclasses.replace(data, tables=tables, load_mw=load_mw)))
    return sol.objective_cny if sol.status == "optimal" else np.nan


def price_slopes(data: CaseData, bus: str, t: int, step_mw: float = 0.5) -> tuple[float, float]:
    """Cost of one MWh less and one MWh more demand at (bus, t), by re-solving gridopt.

    The optimal cost is piecewise linear in demand: the nodal price is unique exactly where
    the two slopes agree (the prices of all optimal duals lie between them).
    """
    base = _objective_with_extra_demand(data, bus, t, 0.0)
    up = _objective_with_extra_demand(data, bus, t, step_mw)
    down = _objective_with_extra_demand(data, bus, t, -step_mw)
    hours = data.weights_h[t]
    return (base - down) / step_mw / hours, (up - base) / step_mw / hours


def assert_prices_between_slopes(
    data: CaseData, prices: pd.DataFrame, theirs: pd.DataFrame, objective: float
) -> None:
    """Prices equal where unique. Where they differ, both must lie between the one-sided
    slopes of the optimal cost (so the price is not unique there, and both are optimal)."""
    scale = max(1.0, float(np.abs(prices.to_numpy()).max()))
    ours, other = prices.to_numpy(), theirs[prices.columns].to_numpy()
    differ = np.argwhere(~np.isclose(ours, other, rtol=REL, atol=1e-6 * scale))
    for t, b in differ:
        below, above = price_slopes(data, prices.columns[b], int(t))
        # the slopes come from differences of optimal costs: allow for the solver's precision
        tol = 1e-6 * scale + 1e-8 * abs(objective) / data.weights_h[t]
        below = -np.inf if np.isnan(below) else below
        above = np.inf if np.isnan(above) else above
        for who, price in (("gridopt", ours[t, b]), ("PyPSA", other[t, b])):
            assert below - tol <= price <= above + tol, (
                f"{who} price {price} at {prices.columns[b]}, snapshot {t} is outside"
                f" [{below}, {above}] (gridopt {ours[t, b]}, PyPSA {other[t, b]})"
            )


def assert_same_answer(data: CaseData, n: pypsa.Network, check_prices: bool = True) -> None:
    """Objective within REL; prices equal wherever the price is unique (checked by re-solving)."""
    sol, prices = gridopt_optimum(data)
    condition, objective, pypsa_prices = pypsa_optimum(n)
    if sol.status != "optimal":
        assert condition != "optimal", (sol.status, condition)
        return
    assert condition == "optimal"
    assert objective == pytest.approx(sol.objective_cny, rel=REL, abs=1e-6)
    if check_prices:
        assert_prices_between_slopes(data, prices, pypsa_prices, sol.objective_cny)


def compare_tables(original: CaseData, back: CaseData) -> None:
    """Same components and values; profiles compared by their values on the snapshots."""
    skip = {"profile", "scale", "availability_profile", "inflow_profile"}
    for name, a in original.tables.items():
        b = back.tables[name]
        assert sorted(a.index) == sorted(b.index), name
        if a.empty:
            continue
        cols = [c for c in a.columns if c not in skip]
        pd.testing.assert_frame_equal(
            a[cols].sort_index(),
            b.loc[a.index, cols].sort_index(),
            check_dtype=False,
            check_index_type=False,
            rtol=1e-12,
            obj=name,
        )
    for attr in ("load_mw", "availability_pu", "inflow_m3s"):
        a, b = getattr(original, attr), getattr(back, attr)
        np.testing.assert_allclose(
            b[a.columns].to_numpy(), a.to_numpy(), rtol=1e-12, atol=1e-12, err_msg=attr
        )
    np.testing.assert_array_equal(back.snapshots, original.snapshots)
    np.testing.assert_array_equal(back.weights_h, original.weights_h)


def _hydro_case(rule: str) -> CaseData:
    """The toy river without its cascade: two reservoirs with inflow, a floor and a withdrawal."""
    data = load_case(CASES / "tiny_hydro_cascade.yaml")
    hydro = data.tables["hydro"]
    hydro["downstream"] = np.nan
    hydro["end_rule"] = rule
    hydro.loc["Upper", ["storage_min_hm3", "withdrawal_m3s"]] = [0.1, 2.0]
    hydro.loc["Lower", ["storage_max_hm3", "storage_initial_hm3"]] = [0.2, 0.05]
    hydro.loc["Lower", "marginal_cost_cny_per_mwh"] = 5.0
    data.inflow_m3s.loc[:, :] = np.array([[20.0, 0.0], [5.0, 40.0], [0.0, 10.0], [30.0, 0.0]])
    data.load_mw.loc[:, :] = np.array([[10.0], [80.0], [60.0], [40.0]])
    return data


# ---- export: PyPSA finds gridopt's optimum -------------------------------------------------


@pytest.mark.parametrize("case", ["tiny_two_bus", "tiny_kvl_loop", "tiny_storage"])
def test_hand_cases_solve_to_the_same_optimum_in_pypsa(case):
    data = load_case(CASES / f"{case}.yaml")
    n, notes = to_pypsa(data)
    assert notes == []
    assert_same_answer(data, n)


@pytest.mark.parametrize("rule", ["fixed", "cyclic", "free"])
def test_hydro_reservoirs_solve_to_the_same_optimum_in_pypsa(rule):
    data = _hydro_case(rule)
    n, notes = to_pypsa(data)
    assert notes == []
    su = n.storage_units
    # 1 hm3 through 1 MW/(m3/s) is 1e6 / 3600 MWh; the state of charge counts above the floor
    assert su.at["Upper", "max_hours"] * su.at["Upper", "p_nom"] == pytest.approx(
        (0.72 - 0.1) * 1e6 / 3600
    )
    assert n.storage_units_t.inflow.loc[:, "Upper"].iloc[0] == pytest.approx(20.0 - 2.0)
    fixed_set = n.storage_units_t.state_of_charge_set
    assert (rule == "fixed") == ("Upper" in fixed_set.columns)
    assert_same_answer(data, n)


def test_ramps_must_run_links_storage_and_two_hour_snapshots_match_pypsa(tmp_path):
    case = write_synthetic(tmp_path / "syn", n_buses=6, hours=24, seed=3, case_snapshots=24)
    for resolution in (1, 2):
        data = load_case(
            case, {"horizon.resolution_h": resolution, "horizon.snapshots": 24 // resolution}
        )
        n, notes = to_pypsa(data)
        assert any("load shedding" in note for note in notes)
        gens = data.tables["generators"]
        limited = gens["ramp_up_mw_per_h"].notna()
        assert limited.any()
        # PyPSA's ramp limit is per snapshot in p.u. of p_nom
        np.testing.assert_allclose(
            n.generators.loc[gens.index[limited], "ramp_limit_up"],
            gens.loc[limited, "ramp_up_mw_per_h"] * resolution / gens.loc[limited, "p_max_mw"],
        )
        assert (n.snapshot_weightings["objective"] == resolution).all()
        sol, _ = gridopt_optimum(data)
        assert "gen_ramp_up" in sol.model.row_blocks
        assert_same_answer(data, n)


def test_a_cascade_is_exported_with_a_warning_naming_its_stations():
    data = load_case(CASES / "tiny_hydro_cascade.yaml")
    n, notes = to_pypsa(data)
    assert len(notes) == 1
    assert "'Upper', 'Lower'" in notes[0] and "cascade" in notes[0]
    assert set(n.storage_units.index) == {"Upper", "Lower"}


def test_a_curtailment_penalty_is_refused(tmp_path):
    case = write_synthetic(tmp_path / "syn", n_buses=3, hours=4, seed=0, case_snapshots=4)
    data = load_case(case, {"curtailment_penalty_cny_per_mwh": 10.0})
    with pytest.raises(InputError, match="curtailment penalty"):
        to_pypsa(data)


# ---- round trip: gridopt -> PyPSA -> gridopt ------------------------------------------------


@pytest.mark.parametrize("suffix", [".nc", "_csv"])
def test_round_trip_keeps_tables_series_and_optimum(tmp_path, suffix):
    case = write_synthetic(tmp_path / "syn", n_buses=6, hours=24, seed=5, case_snapshots=12)
    data = load_case(case)
    out = tmp_path / f"net{suffix}"
    export_pypsa(case, out)
    assert out.is_file() if suffix == ".nc" else (out / "generators.csv").is_file()
    notes = import_pypsa(out, tmp_path / "back")
    assert any("load shedding" in note for note in notes)
    back = load_case(tmp_path / "back" / "case.yaml")
    compare_tables(data, back)
    assert back.case.load_shedding == data.case.load_shedding
    assert gridopt_optimum(back)[0].objective_cny == pytest.approx(
        gridopt_optimum(data)[0].objective_cny, rel=1e-12
    )


def test_round_trip_restores_a_cascade_and_reports_it(tmp_path):
    data = load_case(CASES / "tiny_hydro_cascade.yaml")
    export_pypsa(data, tmp_path / "toy.nc")
    notes = import_pypsa(tmp_path / "toy.nc", tmp_path / "back")
    assert any("'Upper'" in note and "restored" in note for note in notes)
    back = load_case(tmp_path / "back" / "case.yaml")
    compare_tables(data, back)
    assert gridopt_optimum(back)[0].objective_cny == pytest.approx(
        gridopt_optimum(data)[0].objective_cny, rel=1e-12
    )


@pytest.mark.parametrize("rule", ["fixed", "cyclic", "free"])
def test_round_trip_of_reservoir_units_and_end_rules(tmp_path, rule):
    data = _hydro_case(rule)
    n, _ = to_pypsa(data)
    imported = from_pypsa(n)
    assert imported.tables["hydro"]["end_rule"].tolist() == [rule, rule]
    # the storage floor, withdrawal and water units come back exactly
    hydro = imported.tables["hydro"]
    assert hydro.at["Upper", "storage_min_hm3"] == pytest.approx(0.1)
    assert hydro.at["Upper", "withdrawal_m3s"] == pytest.approx(2.0)
    assert hydro.at["Lower", "mw_per_m3s"] == pytest.approx(0.5)
    assert hydro.at["Lower", "storage_max_hm3"] == pytest.approx(0.2)


# ---- import of networks written by PyPSA users ----------------------------------------------


def _native_network() -> pypsa.Network:
    """A network as a PyPSA user writes it: numbered snapshots of 3 h, a line type, a simple
    transformer, a reservoir with inflow, a cyclic battery, a lossy reversible link."""
    n = pypsa.Network()
    with _quiet():
        n.set_snapshots(range(4))
        n.snapshot_weightings.loc[:, :] = 3.0
        n.add("Carrier", ["gas", "wind", "hydro", "battery"], co2_emissions=[0.2, 0, 0, 0])
        n.add("Bus", ["a", "b", "c"], v_nom=380.0, x=[113.0, 114.0, 113.5], y=[23.0, 22.5, 22.0])
        n.add("Bus", "a lv", v_nom=220.0)
        n.add(
            "Line",
            "ab",
            bus0="a",
            bus1="b",
            type="Al/St 240/40 4-bundle 380.0",
            length=80.0,
            s_nom=300.0,
        )
        n.add(
            "Line",
            ["bc", "ca"],
            bus0=["b", "c"],
            bus1=["c", "a"],
            x=[20.0, 30.0],
            s_nom=[400.0, 150.0],
            s_max_pu=0.9,
        )
        n.add("Transformer", "a-lv", bus0="a", bus1="a lv", x=0.1, s_nom=500.0)
        n.add("Link", "ac dc", bus0="a lv", bus1="c", p_nom=120.0, p_min_pu=-1.0, marginal_cost=1.0)
        n.add("Link", "import", bus0="c", bus1="b", p_nom=80.0, efficiency=0.95)
        n.add(
            "Generator",
            "gas a",
            bus="a",
            carrier="gas",
            p_nom=400.0,
            marginal_cost=60.0,
            efficiency=0.5,
            p_min_pu=0.1,
            ramp_limit_up=0.5,
        )
        n.add("Generator", "gas c", bus="c", carrier="gas", p_nom=300.0, marginal_cost=80.0)
        n.add(
            "Generator",
            "wind b",
            bus="b",
            carrier="wind",
            p_nom=250.0,
            p_max_pu=pd.Series([0.9, 0.2, 0.6, 0.1], index=n.snapshots),
        )
        n.add(
            "StorageUnit",
            "dam",
            bus="a lv",
            carrier="hydro",
            p_nom=100.0,
            max_hours=12,
            p_min_pu=0.0,
            efficiency_dispatch=0.9,
            state_of_charge_initial=400.0,
            inflow=pd.Series([30.0, 0.0, 10.0, 50.0], index=n.snapshots),
        )
        n.add(
            "StorageUnit",
            "battery",
            bus="b",
            carrier="battery",
            p_nom=50.0,
            max_hours=2,
            efficiency_store=0.95,
            efficiency_dispatch=0.95,
            cyclic_state_of_charge=True,
        )
        n.add(
            "Load",
            ["load b", "load c"],
            bus=["b", "c"],
            p_set=pd.DataFrame(
                {"load b": [200.0, 350.0, 250.0, 300.0], "load c": [150.0, 180.0, 120.0, 200.0]},
                index=n.snapshots,
            ),
        )
    return n


def test_a_native_pypsa_network_imports_to_the_same_optimum(tmp_path):
    n = _native_network()
    src = tmp_path / "native.nc"
    with _quiet():
        n.export_to_netcdf(src)
    notes = import_pypsa(src, tmp_path / "case")
    assert any("not dates and times" in note for note in notes)
    data = load_case(tmp_path / "case" / "case.yaml")
    assert data.case.horizon.resolution_h == 3
    assert data.n_snapshots == 4
    t = data.tables
    assert set(t["lines"].index) == {"ab", "bc", "ca", "a-lv"}
    assert t["hydro"].index.tolist() == ["dam"]
    assert t["storage_units"].index.tolist() == ["battery"]
    assert np.isnan(t["storage_units"].at["battery", "soc_initial_mwh"])  # cyclic
    assert t["generators"].at["gas a", "co2_t_per_mwh"] == pytest.approx(0.4)
    assert t["generators"].at["gas a", "ramp_up_mw_per_h"] == pytest.approx(0.5 * 400 / 3)
    assert t["buses"].at["a", "x_lon"] == 113.0 and np.isnan(t["buses"].at["a lv", "x_lon"])
    assert_same_answer(data, read_back(src))


def read_back(src: Path) -> pypsa.Network:
    with _quiet():
        return pypsa.Network(src)


def test_csv_folder_and_a_non_empty_output_folder(tmp_path):
    n = _native_network()
    with _quiet():
        n.export_to_csv_folder(tmp_path / "native")
    import_pypsa(tmp_path / "native", tmp_path / "case")
    # an imported case may have been edited since: not replaced unless asked
    (tmp_path / "case" / "case.yaml").write_text(
        (tmp_path / "case" / "case.yaml").read_text() + "# edited\n"
    )
    with pytest.raises(InputError, match="not empty"):
        import_pypsa(tmp_path / "native", tmp_path / "case")
    assert (tmp_path / "case" / "case.yaml").read_text().endswith("# edited\n")
    import_pypsa(tmp_path / "native", tmp_path / "case", overwrite=True)
    assert not (tmp_path / "case" / "case.yaml").read_text().endswith("# edited\n")
    assert load_case(tmp_path / "case" / "case.yaml").n_snapshots == 4
    # a folder gridopt did not write is never written into, even when asked
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    for overwrite in (False, True):
        with pytest.raises(InputError, match="did not write"):
            import_pypsa(tmp_path / "native", tmp_path / "mine", overwrite=overwrite)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def _refused(edit) -> str:
    n = _native_network()
    with _quiet():
        edit(n)
    with pytest.raises(InputError) as err:
        from_pypsa(n, source="net.nc")
    return str(err.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda n: n.generators.__setitem__("p_nom_extendable", [True, False, False]),
            "Generator 'gas a': an extendable generator with p_min_pu or ramp limits",
        ),
        (
            lambda n: (
                n.generators.__setitem__("committable", [False, True, False]),
                n.generators.__setitem__("p_nom_extendable", [False, True, False]),
            ),
            "Generator 'gas c': a generator both extendable and committable is not supported",
        ),
        (
            lambda n: n.add("Store", "h2 tank", bus="c", e_nom=100.0, marginal_cost=2.0),
            "Store 'h2 tank': marginal_cost=2.0 is not supported yet (costs of a Store's flow",
        ),
        (
            lambda n: n.add(
                "GlobalConstraint",
                "co2 floor",
                carrier_attribute="co2_emissions",
                type="primary_energy",
                sense=">=",
                constant=1000.0,
            ),
            "GlobalConstraint 'co2 floor': sense '>=' is not supported",
        ),
        (
            lambda n: n.add(
                "GlobalConstraint",
                "wind cap",
                type="tech_capacity_expansion_limit",
                carrier_attribute="wind",
                sense="<=",
                constant=10.0,
            ),
            "GlobalConstraint 'wind cap': type 'tech_capacity_expansion_limit' is not supported",
        ),
        (
            lambda n: n.add("Link", "chp", bus0="c", bus1="b", bus2="a", p_nom=10.0),
            "Link 'chp': bus2 is set, but links with more than two buses are not supported",
        ),
        (
            lambda n: n.links.__setitem__("committable", [True, False]),
            "Link 'ac dc': committable=True is not supported yet (unit commitment of links)",
        ),
        (
            lambda n: n.generators_t.marginal_cost.__setitem__(
                "gas c", pd.Series([1.0, 2.0, 3.0, 4.0], index=n.snapshots)
            ),
            "Generator 'gas c': time-varying marginal_cost is not supported",
        ),
        (
            lambda n: n.transformers.__setitem__("phase_shift_max", 10.0),
            "Transformer 'a-lv': phase_shift_max=10.0 is not supported yet"
            " (optimised phase shifts)",
        ),
        (
            lambda n: n.c["Line"].static.loc.__setitem__(("bc", "x"), 0.0),
            "Line 'bc': the series reactance (resistance on DC buses) must not be 0",
        ),
    ],
)
def test_what_gridopt_cannot_represent_is_refused_by_name(edit, expected):
    assert expected in _refused(edit)


def test_all_refusals_are_reported_together():
    def edit(n):
        n.add("Link", "chp", bus0="c", bus1="b", bus2="a", p_nom=10.0)
        n.add("Store", "tank", bus="c", e_nom=10.0, marginal_cost=1.0)

    text = _refused(edit)
    assert "bus2 is set" in text and "Store 'tank'" in text


def test_unused_attributes_inactive_components_and_extra_columns_are_named():
    n = _native_network()
    with _quiet():
        n.generators.loc["gas c", "active"] = False
        n.loads["q_set"] = 5.0  # reactive power: no effect on a DC dispatch, silently fine
        n.generators.loc["gas a", "e_sum_max"] = np.inf
        n.buses["owner"] = "grid co"
        n.lines.loc["bc", "s_nom_min"] = 10.0  # an expansion bound of a fixed line: ignored
        n.generators["min_up_time"] = 2  # a commitment setting of a unit that is not committed
        n.add("ShuntImpedance", "shunt", bus="a", b=0.01)
        n.carriers.loc["gas", "max_growth"] = 100.0
    notes = from_pypsa(n).warnings
    text = "\n".join(notes)
    assert "Generator 'gas c': inactive, left out" in text
    assert "Bus 'a', 'b', 'c', 'a lv': extra column 'owner'" in text
    assert "ShuntImpedance 'shunt': ignored" in text
    assert "q_set" not in text and "s_nom_min" not in text and "min_up_time" not in text
    assert "gas c" not in from_pypsa(n).tables["generators"].index


def test_load_shedding_generators_that_do_not_match_demand_stay_generators():
    n = _native_network()
    with _quiet():
        n.add(
            "Generator",
            "b load shedding",
            bus="b",
            carrier="load shedding",
            p_nom=10.0,
            marginal_cost=9000.0,
        )
    imported = from_pypsa(n)
    assert imported.case["load_shedding"] == {"enabled": False}
    assert "b load shedding" in imported.tables["generators"].index


# ---- command line -------------------------------------------------------------------------


def test_cli_export_import_and_refusal(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app, ["export", "pypsa", str(CASES / "tiny_hydro_cascade.yaml"), str(tmp_path / "toy.nc")]
    )
    assert res.exit_code == 0, res.output
    assert "warning" in res.output and "'Upper', 'Lower'" in res.output
    res = runner.invoke(app, ["import", "pypsa", str(tmp_path / "toy.nc"), str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c" / "case.yaml").is_file()
    n = _native_network()
    with _quiet():
        n.add("Store", "tank", bus="c", e_nom=10.0, marginal_cost=1.0)
        n.export_to_netcdf(tmp_path / "store.nc")
    res = runner.invoke(app, ["import", "pypsa", str(tmp_path / "store.nc"), str(tmp_path / "d")])
    assert res.exit_code == 2
    assert "problem" in res.output and "Store 'tank'" in res.output
    assert not (tmp_path / "d" / "case.yaml").exists()


# ---- the PPRD week --------------------------------------------------------------------------


def pprd_in_export_scope(routing: bool = False) -> CaseData:
    """The PPRD week reduced to what the PyPSA export maps (`gridopt.interop.scope`). Without
    `routing`, each station's arrivals from upstream at gridopt's optimum of the full case
    become part of its own inflow, so the reduction is exact at that optimum; with it, river
    routing is kept (exported with a warning, restored on import)."""
    data = load_case(PPRD)
    if routing:
        return to_export_scope(data, keep_routing=True)
    model = build_model(data)
    sol = solve(model)
    assert sol.status == "optimal"
    assert data.tables["hydro"]["downstream"].notna().any()
    return to_export_scope(
        data, arrivals_m3s(model, sol.value("hydro_turbine") + sol.value("hydro_spill"))
    )


def test_pprd_week_is_refused_whole_with_every_unexported_part_named():
    with pytest.raises(InputError) as err:
        to_pypsa(load_case(PPRD))
    text = str(err.value)
    for part in ("table 'contracts'", "daily delivery shapes"):
        assert part in text
    # the gas network and its plants export now
    assert "table 'gas_nodes' (" not in text and "burn gas" not in text


def test_gas_networks_and_corridors_solve_to_the_same_optimum_in_pypsa():
    """The gas network (supplies, pipelines, storage, demand, gas-fired plants as two-bus
    links) exports exactly: the tiny gas case, and a day of the PPRD network reduced only by
    its river routing, contracts and corridor shapes, with its whole gas network and the
    corridors as links with their no-load losses."""
    data = load_case(CASES / "tiny_gas.yaml")
    n, notes = to_pypsa(data)
    assert notes == []
    assert n.buses.at["Coast gas", "carrier"] == "gas" and "CCGT" in n.links.index
    assert n.links.at["CCGT", "efficiency"] == 0.5 and n.links.at["CCGT", "p_nom"] == 1000.0
    assert_same_answer(data, n)
    pprd = load_case(PPRD, {"horizon.snapshots": 24})
    corridors = pprd.tables["corridors"]
    corridors["daily_profile"] = np.nan
    corridors["peak_valley_ratio_max"] = np.nan
    two_way = corridors["p_max_reverse_mw"] > 0
    corridors.loc[two_way, ["min_transfer_pu"]] = 0.0
    corridors.loc[two_way, "ramp_mw_per_h"] = np.nan
    data = to_export_scope(pprd, keep_gas=True)
    data.tables["corridors"] = corridors
    data.tables["links"] = load_case(PPRD, {"horizon.snapshots": 24}).tables["links"]
    n, _ = to_pypsa(data)
    assert len(n.stores) and (n.buses["carrier"] == "gas").sum() == len(pprd.tables["gas_nodes"])
    assert {
        f"{k} no-load loss bus0" for k in corridors.index[corridors["loss_noload_mw"] > 0]
    } <= set(n.loads.index)
    sol, _ = gridopt_optimum(data)
    condition, objective, _ = pypsa_optimum(n)
    assert sol.status == condition == "optimal"
    assert objective == pytest.approx(sol.objective_cny, rel=REL)


def test_pprd_week_round_trip_keeps_tables_and_optimum(tmp_path):
    data = pprd_in_export_scope(routing=True)
    notes = export_pypsa(data, tmp_path / "pprd.nc")
    assert any("cascade" in note for note in notes)
    notes = import_pypsa(tmp_path / "pprd.nc", tmp_path / "back")
    assert any("restored" in note for note in notes)
    back = load_case(tmp_path / "back" / "case.yaml")
    compare_tables(data, back)
    assert gridopt_optimum(back)[0].objective_cny == pytest.approx(
        gridopt_optimum(data)[0].objective_cny, rel=1e-9
    )


def test_pprd_week_solves_to_the_same_optimum_in_pypsa():
    data = pprd_in_export_scope()
    n, notes = to_pypsa(data)
    assert not any("cascade" in note for note in notes)
    sol, prices = gridopt_optimum(data)
    condition, objective, theirs = pypsa_optimum(n)
    assert sol.status == condition == "optimal"
    assert objective == pytest.approx(sol.objective_cny, rel=REL)
    differ = ~np.isclose(
        prices.to_numpy(),
        theirs[prices.columns].to_numpy(),
        rtol=REL,
        atol=1e-6 * float(np.abs(prices.to_numpy()).max()),
    )
    assert differ.sum() <= 5, f"{differ.sum()} of {prices.size} prices differ"
    assert_prices_between_slopes(data, prices, theirs, sol.objective_cny)
