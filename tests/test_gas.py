"""The gas network: hand-checked toys, gas balance closure on the PPRD week, a pipeline outage.

The toy (`cases/tiny_gas.yaml`) has two hours of coastal load, 400 and 700 MW. A CCGT on the
coast (500 MW, efficiency 0.5, 10 CNY/MWh O&M) burns gas from the node `Coast gas`, which gets
at most 200 MWth of pipeline gas (150 CNY/MWh_th at `Border`, through the `trunk`) and LNG (300
CNY/MWh_th); 100 MWth of city gas is drawn there every hour. An import of 700 CNY/MWh reaches the
coast over a 300 MW corridor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.model.registry import build_model
from tests.conftest import CASES, copy_case, solve
from tests.invariants import gas_balance_residual

TOL = 1e-6


def _series(run, sheet: str, key: str, name: str, column: str) -> np.ndarray:
    t = run.tables[sheet]
    return t.loc[t[key] == name, column].to_numpy()


def test_lng_cargo_price_shifts_dispatch_from_the_gas_plant_to_the_corridor():
    """LNG at 300 CNY/MWh_th, then at 390 (scale.gas_price lng: 1.3).

    The trunk is full (200 MWth) either way: 100 MWth of it serves the city gas, 100 MWth lets
    the CCGT make 50 MW at 150 / 0.5 + 10 = 310 CNY/MWh; beyond that it burns LNG.

    LNG 300: CCGT on LNG costs 300 / 0.5 + 10 = 610 < 700, so it runs first: 400 MW in hour 0,
    500 MW (its rating) in hour 1 with 200 MW imported. Burn 800 and 1000 MWth, LNG 700 and 900.
    Cost 2 x 200 x 150 + 1600 x 300 + 900 x 10 + 200 x 700 = 689 000 CNY. Gas price at the
    coast 300 (LNG at the margin), 150 at the border (the trunk is full); power price at the
    coast 610 in hour 0 (the CCGT) and 700 in hour 1 (the import).

    LNG 390: the CCGT on LNG costs 790 > 700, so the corridor fills first (300 MW both hours)
    and the CCGT makes the rest: 100 and 400 MW (50 MW of each on pipeline gas). LNG 100 and
    700 MWth. Cost 60 000 + 800 x 390 + 500 x 10 + 600 x 700 = 797 000 CNY; gas price 390,
    power price 790 both hours.

    Shift: 400 MWh from the gas plant to the corridor (300 MWh in hour 0, 100 MWh in hour 1).
    """
    base = solve("tiny_gas")
    dear = solve("tiny_gas", **{"scale.gas_price": {"lng": 1.3}})
    assert base.solution.objective_cny == pytest.approx(689_000, rel=TOL)
    assert dear.solution.objective_cny == pytest.approx(797_000, rel=TOL)
    ccgt = [_series(r, "generation", "generator", "CCGT", "p_mw") for r in (base, dear)]
    imp = [_series(r, "generation", "generator", "import", "p_mw") for r in (base, dear)]
    np.testing.assert_allclose(ccgt[0], [400, 500], atol=TOL)
    np.testing.assert_allclose(imp[0], [0, 200], atol=TOL)
    np.testing.assert_allclose(ccgt[1], [100, 400], atol=TOL)
    np.testing.assert_allclose(imp[1], [300, 300], atol=TOL)
    np.testing.assert_allclose(ccgt[0] - ccgt[1], [300, 100], atol=TOL)
    np.testing.assert_allclose(
        _series(base, "gas_supply", "supply", "LNG", "supply_mwth"), [700, 900], atol=TOL
    )
    np.testing.assert_allclose(
        _series(dear, "gas_supply", "supply", "LNG", "supply_mwth"), [100, 700], atol=TOL
    )
    np.testing.assert_allclose(
        _series(base, "gas_burn", "generator", "CCGT", "burn_mwth"), [800, 1000], atol=TOL
    )
    for run, lng in ((base, 300), (dear, 390)):
        np.testing.assert_allclose(
            _series(run, "gas_prices", "gas_node", "Coast gas", "price_cny_per_mwh_th"),
            lng,
            atol=TOL,
        )
        np.testing.assert_allclose(
            _series(run, "gas_prices", "gas_node", "Border", "price_cny_per_mwh_th"), 150, atol=TOL
        )
        np.testing.assert_allclose(
            _series(run, "gas_flows", "pipeline", "trunk", "utilisation_pu"), 1.0, atol=TOL
        )
        assert np.abs(gas_balance_residual(run).to_numpy()).max() < TOL
        assert run.tables["costs"]["cost_cny"].sum() == pytest.approx(
            run.solution.objective_cny, rel=1e-9
        )
    np.testing.assert_allclose(
        _series(base, "prices", "bus", "Coast", "price_cny_per_mwh"), [610, 700], atol=TOL
    )
    np.testing.assert_allclose(
        _series(dear, "prices", "bus", "Coast", "price_cny_per_mwh"), [790, 790], atol=TOL
    )
    # the generator's own cost line is its O&M only; the fuel is the gas purchases
    costs = base.tables["costs"].set_index(["component", "name"])["cost_cny"]
    assert costs[("generator", "CCGT")] == pytest.approx(900 * 10, rel=TOL)
    assert costs[("gas_supply", "LNG")] == pytest.approx(1600 * 300, rel=TOL)


def _with_tank(tmp_path, injection_mwth: float):
    """tiny_gas with no LNG in hour 1 (supply profile 1, 0; LNG rating raised to 2000 MWth)
    and a tank of 2000 MWh_th at the coast that keeps 90 % of what it takes in (withdrawal up
    to 2000 MWth, cyclic)."""
    case = copy_case(tmp_path, "tiny_gas")
    net = tmp_path / "networks" / "tiny_gas"
    supplies = pd.read_csv(net / "gas_supplies.csv")
    supplies.loc[supplies["name"] == "LNG", "p_max_mwth"] = 2000
    supplies["profile"] = np.where(supplies["name"] == "LNG", "LNG shipments", "")
    supplies.to_csv(net / "gas_supplies.csv", index=False)
    (net / "timeseries" / "gas_supply_pu.csv").write_text(
        "timestamp,LNG shipments\n2025-01-01 00:00,1\n2025-01-01 01:00,0\n"
    )
    (net / "gas_storage.csv").write_text(
        "name,gas_node,injection_max_mwth,withdrawal_max_mwth,volume_max_mwh_th,efficiency\n"
        f"tank,Coast gas,{injection_mwth:g},2000,2000,0.9\n"
    )
    return case


def test_gas_storage_carries_lng_into_an_hour_without_it(tmp_path):
    """No LNG in hour 1 (supply profile 1, 0; LNG rating raised to 2000 MWth) and a tank of
    2000 MWh_th that keeps 90 % of what it takes in (injection and withdrawal up to 2000 MWth,
    cyclic).

    Stored LNG costs 300 / 0.9 = 333.3 CNY/MWh_th, so the CCGT on it (676.7 CNY/MWh) still
    beats the import: 500 MW in hour 1, burning 1000 MWth; with 100 MWth of city gas and 200
    from the trunk, the tank gives 900 MWth, for which it takes in 1000 MWth of LNG in hour 0
    (LNG 800 + 100 - 200 + 1000 = 1700 MWth). Cost 1700 x 300 + 60 000 + 900 x 10 + 200 x 700
    = 719 000 CNY. Gas price 300 in hour 0, 333.3 in hour 1; the stored gas is worth 333.3.
    """
    case = _with_tank(tmp_path, injection_mwth=2000)
    run = solve(case)
    assert run.solution.objective_cny == pytest.approx(719_000, rel=TOL)
    s = run.tables["gas_storage"]
    np.testing.assert_allclose(s["injection_mwth"], [1000, 0], atol=TOL)
    np.testing.assert_allclose(s["withdrawal_mwth"], [0, 900], atol=TOL)
    vol = s["volume_mwh_th"].to_numpy()
    assert vol[0] - vol[1] == pytest.approx(900, abs=TOL)  # the level itself is free (cyclic)
    np.testing.assert_allclose(s["gas_value_cny_per_mwh_th"], 300 / 0.9, atol=TOL)
    np.testing.assert_allclose(
        _series(run, "gas_supply", "supply", "LNG", "available_mwth"), [2000, 0], atol=TOL
    )
    np.testing.assert_allclose(
        _series(run, "gas_prices", "gas_node", "Coast gas", "price_cny_per_mwh_th"),
        [300, 300 / 0.9],
        atol=TOL,
    )
    np.testing.assert_allclose(
        _series(run, "generation", "generator", "CCGT", "p_mw"), [400, 500], atol=TOL
    )
    assert np.abs(gas_balance_residual(run).to_numpy()).max() < TOL


def test_a_gas_storage_fills_no_faster_than_gas_reaches_its_node(tmp_path):
    """The tank of the test above, able to take in 3000 MWth. The most gas that can reach
    `Coast gas` is LNG (2000 MWth in hour 0, none in hour 1) plus the trunk (200 MWth), less
    the city gas (100 MWth, which must be served: no gas shedding), so the tank can rise by at
    most 0.9 x 2100 = 1890 MWh_th in hour 0 and 0.9 x 100 = 90 in hour 1, not 0.9 x 3000; it
    can fall by its withdrawal rate, 2000 MWh_th. The known levels of a future-cost function
    are built on these moves."""
    case = _with_tank(tmp_path, injection_mwth=3000)
    model = build_model(load_case(case))
    motion = model.store_kinds["gas_storage"].motion
    assert motion is not None
    moves = motion(model)
    np.testing.assert_allclose(moves.rise, [[1890, 90]], atol=TOL)
    np.testing.assert_allclose(moves.fall, [[2000, 2000]], atol=TOL)


def test_gas_rows_equal_pyomo_standard_form():
    """The gas family's bulk rows are what Pyomo compiles from the same model."""
    from gridopt.solver.matrix import matrix_from_blocks, matrix_from_pyomo
    from tests.test_formulation import _same_matrix

    model = build_model(load_case(CASES / "tiny_gas.yaml", {"gas_shedding.enabled": True}))
    assert {"gas_balance", "gas_supply", "gas_shed"} <= set(model.row_blocks) | set(model.variables)
    _same_matrix(matrix_from_blocks(model), matrix_from_pyomo(model))


def test_a_network_without_gas_builds_no_gas_rows():
    model = build_model(load_case(CASES / "tiny_two_bus.yaml"))
    assert not any(name.startswith("gas") for name in model.row_blocks)
    assert not any(name.startswith("gas") for name in model.variables)


@pytest.mark.parametrize(
    ("file", "edit", "words"),
    [
        (
            "generators.csv",
            lambda t: t.replace("Coast gas,0.5", "Coast gas,"),
            "a generator on a gas node needs its efficiency",
        ),
        (
            "generators.csv",
            lambda t: t.replace("Coast gas,0.5", "Harbour,0.5"),
            "refers to a gas node that does not exist in gas_nodes",
        ),
        (
            "pipelines.csv",
            lambda t: t.replace("Border,Coast gas", "Border,Border"),
            "node0 and node1 must differ",
        ),
        (
            "gas_supplies.csv",
            lambda t: t.replace("lng,1000", "lpg,1000"),
            "must be one of pipeline_import, lng, domestic, coal_to_gas",
        ),
    ],
)
def test_bad_gas_input_is_named(tmp_path, file, edit, words):
    case = copy_case(tmp_path, "tiny_gas")
    path = tmp_path / "networks" / "tiny_gas" / file
    path.write_text(edit(path.read_text()))
    with pytest.raises(InputError) as err:
        load_case(case)
    assert words in str(err.value)


def test_unknown_gas_price_key_is_named():
    with pytest.raises(InputError) as err:
        load_case(CASES / "tiny_gas.yaml", {"scale.gas_price": {"lpg": 2.0}})
    assert "no gas supply of that kind or name" in str(err.value)


# ---- PPRD ------------------------------------------------------------------------------------
def test_gas_balance_closes_every_node_and_hour_of_the_pprd_week(pprd_week):
    """supply + pipeline inflow - outflow + withdrawal - injection = demand + burn, 1e-6 MWth."""
    residual = gas_balance_residual(pprd_week)
    assert residual.shape == (len(pprd_week.data.tables["gas_nodes"]), 168)
    assert np.abs(residual.to_numpy()).max() < 1e-6
    burn = pprd_week.tables["gas_burn"]
    np.testing.assert_allclose(burn["burn_mwth"], burn["p_mw"] / burn["efficiency"], rtol=1e-12)
    gen = pprd_week.tables["generation"].set_index(["generator", "snapshot"])["p_mw"]
    np.testing.assert_allclose(
        burn.set_index(["generator", "snapshot"])["p_mw"],
        gen.reindex(burn.set_index(["generator", "snapshot"]).index),
    )


def test_pprd_week_gas_prices_and_costs_are_plausible(pprd_week):
    """Nodal gas prices lie between the pipeline and the LNG price; Guangdong's is LNG's."""
    sup = pprd_week.data.tables["gas_supplies"]
    lng = sup.loc[sup["kind"] == "lng", "price_cny_per_mwh_th"].max()
    cheap = sup.loc[sup["kind"] != "lng", "price_cny_per_mwh_th"].min()
    prices = pprd_week.tables["gas_prices"]
    assert prices["price_cny_per_mwh_th"].between(cheap - TOL, lng + TOL).all()
    gd = prices.loc[prices["gas_node"] == "GD", "price_cny_per_mwh_th"]
    np.testing.assert_allclose(gd, lng, atol=1e-6)
    assert pprd_week.tables["unserved"]["unserved_mw"].sum() == pytest.approx(0.0, abs=1e-6)
    assert (pprd_week.tables["gas_flows"]["utilisation_pu"] <= 1 + 1e-9).all()
    costs = pprd_week.tables["costs"]
    assert costs["cost_cny"].sum() == pytest.approx(pprd_week.solution.objective_cny, rel=1e-9)
    assert costs.loc[costs["component"] == "gas_supply", "cost_cny"].sum() > 0


def test_macao_pipeline_outage_raises_its_gas_price_and_moves_its_power(tmp_path):
    """The Zhuhai-Macao line out (p_max_mwth 0 by override), as in the 2016-17 supply halt,
    over two days with gas shedding allowed (Macao's city gas would otherwise be infeasible).

    Before, Macao's gas costs Guangdong's LNG price and Coloane B runs; after, Macao has no
    gas: its price is the value of unserved gas, Coloane B stops, and Coloane A (oil) and the
    lines from Guangdong make up its output.
    """
    settings = {"horizon.snapshots": 48, "gas_shedding.enabled": True}
    base = solve("pprd_week", **settings)
    out = solve(
        "pprd_week",
        **settings,
        overrides=[
            {"table": "pipelines", "name": "Zhuhai-Macao", "column": "p_max_mwth", "value": 0}
        ],
    )
    for run in (base, out):
        assert run.solution.status == "optimal", run.solution.message
        assert np.abs(gas_balance_residual(run).to_numpy()).max() < 1e-6
    price = [
        _series(r, "gas_prices", "gas_node", "MO", "price_cny_per_mwh_th") for r in (base, out)
    ]
    assert (price[1] > price[0] + 1.0).all()
    # each station's units are generator rows of their own ("Coloane B GT1", ...)
    energy = []
    for r in (base, out):
        gen = r.tables["generation"]
        station = gen["generator"].str.extract(r"^(Coloane [AB]) ", expand=False)
        energy.append(gen.groupby(station)["energy_mwh"].sum())
    assert energy[0]["Coloane B"] > 1.0
    assert energy[1]["Coloane B"] == pytest.approx(0.0, abs=1e-6)
    into_mo = []
    for r in (base, out):
        f = pd.concat([r.tables[s] for s in ("flows", "corridors") if s in r.tables])
        into_mo.append(
            f.loc[f["bus1"] == "MO", "p1_mw"].sum() - f.loc[f["bus0"] == "MO", "p0_mw"].sum()
        )
    assert energy[1]["Coloane A"] + into_mo[1] > energy[0]["Coloane A"] + into_mo[0] + 1.0
    mo_power = [_series(r, "prices", "bus", "MO", "price_cny_per_mwh").mean() for r in (base, out)]
    assert mo_power[1] >= mo_power[0] - 1e-6
