"""Small cases solved by hand: objective, flows and prices asserted exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import solve
from tests.invariants import nodal_balance_residual

TOL = 1e-6


def _flows(run, branch):
    f = run.tables["flows"]
    return f.loc[f["branch"] == branch, "p0_mw"].to_numpy()


def _prices(run, bus):
    p = run.tables["prices"]
    return p.loc[p["bus"] == bus, "price_cny_per_mwh"].to_numpy()


def test_two_bus_congested_line():
    """A cheap unit behind a 100 MW line: it sends 100 MW every hour, the dear unit tops up.

    cost = 4 h x 100 MW x 200 + (50 + 150 + 200 + 100) MWh x 600 = 380 000 CNY;
    prices are the local marginal costs, 200 and 600 CNY/MWh.
    """
    run = solve("tiny_two_bus")
    assert run.solution.objective_cny == pytest.approx(380_000, rel=TOL)
    np.testing.assert_allclose(_flows(run, "A-B"), [100, 100, 100, 100], atol=TOL)
    np.testing.assert_allclose(_prices(run, "A"), 200, atol=TOL)
    np.testing.assert_allclose(_prices(run, "B"), 600, atol=TOL)
    assert np.abs(nodal_balance_residual(run)).max() < TOL


def test_three_bus_loop_kirchhoff_split():
    """Equal reactances: 2/3 of A's output takes the direct line A-C, 1/3 goes via B.

    A-C is rated 100 MW, so A can give only 150 MW; C's own unit serves the other 150 MW.
    cost = 150 x 100 + 150 x 500 = 90 000. Serving 1 MW more at B without moving the A-C
    flow takes half from A and half from C: price B = (100 + 500) / 2 = 300.
    """
    run = solve("tiny_kvl_loop")
    assert run.solution.objective_cny == pytest.approx(90_000, rel=TOL)
    assert _flows(run, "A-C") == pytest.approx([100.0], abs=TOL)
    assert _flows(run, "A-B") == pytest.approx([50.0], abs=TOL)
    assert _flows(run, "B-C") == pytest.approx([50.0], abs=TOL)
    assert _prices(run, "A") == pytest.approx([100.0], abs=TOL)
    assert _prices(run, "B") == pytest.approx([300.0], abs=TOL)
    assert _prices(run, "C") == pytest.approx([500.0], abs=TOL)


def test_storage_arbitrage():
    """Charge 50 MW of spare cheap energy in hour 0, discharge it in hour 1.

    Stored 50 x 0.9 = 45 MWh, delivered 45 x 0.9 = 40.5 MW, displacing the dear unit:
    cost = 100 x 10 + 100 x 10 + (150 - 100 - 40.5) x 100 = 2 950 CNY.
    Hour 0 price: one MWh less charged loses 0.81 MWh at 100 CNY = 81 CNY/MWh; hour 1: 100.
    The stored energy is worth 0.9 x 100 = 90 CNY/MWh.
    """
    run = solve("tiny_storage")
    assert run.solution.objective_cny == pytest.approx(2_950, rel=TOL)
    s = run.tables["storage"]
    np.testing.assert_allclose(s["charge_mw"], [50, 0], atol=TOL)
    np.testing.assert_allclose(s["discharge_mw"], [0, 40.5], atol=TOL)
    np.testing.assert_allclose(s["energy_mwh"], [45, 0], atol=TOL)
    np.testing.assert_allclose(s["energy_value_cny_per_mwh"], [90, 90], atol=TOL)
    np.testing.assert_allclose(_prices(run, "X"), [81, 100], atol=TOL)


def test_load_shedding_is_opt_in():
    """Load above all supply: infeasible without shedding; with it, the shortfall costs VOLL."""
    run = solve("tiny_two_bus", **{"scale.demand": 5.0})
    assert run.solution.status == "infeasible"
    run = solve(
        "tiny_two_bus",
        **{
            "scale.demand": 5.0,
            "load_shedding.enabled": True,
            "load_shedding.voll_cny_per_mwh": 10_000,
        },
    )
    assert run.solution.status == "optimal"
    unserved = run.tables["unserved"]
    short = (unserved["demand_mw"] - 600).clip(lower=0)  # 100 MW over the line + 500 MW local
    short = short.where(unserved["bus"] == "B", 0.0)
    np.testing.assert_allclose(unserved["unserved_mw"], short, atol=TOL)
    assert _prices(run, "B").max() == pytest.approx(10_000, abs=TOL)


def test_ramp_limit_binds():
    """The cheap unit may rise only 60 MW/h behind an unconstrained line; the dear one fills in.

    Load 150, 250, 300, 200: cheap gives 150, 210, 270, 200 (its ramp-down is free), dear
    gives 0, 40, 30, 0. cost = 830 x 200 + 70 x 600 = 208 000 CNY.
    """
    from gridopt.inputs.case import load_case
    from gridopt.model.registry import build_model
    from gridopt.solver.solve import solve as highs_solve
    from tests.conftest import CASES

    data = load_case(CASES / "tiny_two_bus.yaml")
    data.tables["generators"].loc["cheap", "ramp_up_mw_per_h"] = 60.0
    data.tables["lines"].loc["A-B", "s_max_mw"] = 1000.0
    sol = highs_solve(build_model(data))
    assert sol.objective_cny == pytest.approx(208_000, rel=TOL)
    np.testing.assert_allclose(sol.value("gen_p")[0], [150, 210, 270, 200], atol=TOL)
    np.testing.assert_allclose(sol.value("gen_p")[1], [0, 40, 30, 0], atol=TOL)


def test_two_station_cascade_with_two_hour_delay():
    """Upper holds 100 (m3/s)h of water (0.36 hm3), turbines at most 30 m3/s at 1 MW per m3/s;
    Lower, 2 h downstream, makes 0.5 MW per m3/s. Load is 0, 0, 60, 60 MW; thermal costs 500.

    Upper turbines 30 + 30 in hours 2-3 (its water then reaches Lower after the horizon) and
    spills the other 40 (m3/s)h in hours 0-1, which Lower turns into 20 MWh in hours 2-3.
    Thermal makes 120 - 60 - 20 = 40 MWh: cost 20 000 CNY. One more (m3/s)h at Upper would be
    spilled to Lower and save 0.5 x 500 CNY: water value 250 CNY/MWh at Upper (1 MWh per
    (m3/s)h), 250 / 3600 CNY/m3.
    """
    run = solve("tiny_hydro_cascade")
    assert run.solution.objective_cny == pytest.approx(20_000, rel=TOL)
    h = run.tables["hydro"].set_index(["station", "snapshot"]).sort_index()
    upper, lower = h.loc["Upper"], h.loc["Lower"]
    np.testing.assert_allclose(upper["turbined_m3s"], [0, 0, 30, 30], atol=TOL)
    assert upper["spilled_m3s"].iloc[:2].sum() == pytest.approx(40, abs=TOL)
    # Lower receives Upper's release of two hours before
    release = (upper["turbined_m3s"] + upper["spilled_m3s"]).to_numpy()
    np.testing.assert_allclose(lower["arrivals_m3s"].to_numpy()[2:], release[:2], atol=TOL)
    assert lower["p_mw"].iloc[2:].sum() == pytest.approx(20, abs=TOL)
    np.testing.assert_allclose(upper["water_value_cny_per_mwh"], 250, atol=1e-6)
    np.testing.assert_allclose(upper["water_value_cny_per_m3"], 250 / 3600, atol=1e-9)
    assert upper["storage_hm3"].iloc[-1] == pytest.approx(0.0, abs=TOL)
