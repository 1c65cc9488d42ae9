"""Energy obligations, gas take-or-pay and capacity payments: hand-checked on tiny_obligation.

tiny_obligation: one bus with 100 MW of load for the 96 hours from 30 January 2025 (48 in
January, 48 in February); a coal plant (100 MW, 200 CNY/MWh) and a gas plant (100 MW,
efficiency 0.5, 10 CNY/MWh O&M) that burns pipeline gas (100 CNY/MWh_th) or LNG (150). A gas
MWh costs 2 x 100 + 10 = 210 on pipeline gas: without obligations coal serves everything.

- January plan of the gas plant: 651 full-load hours in January, 100 x 651 x 48 / 744 = 4,200
  MWh in the horizon's January hours;
- LNG take-or-pay: 547,500 MWh_th a year, 547,500 x 96 / 8,760 = 6,000 MWh_th in the horizon,
  gas not taken paid at the LNG price (150 CNY/MWh_th);
- capacity tariff of Guangdong's gas plants: 100,000 CNY/MW/yr, 100 x 100,000 x 96 / 8,760 =
  109,589.04 CNY over the horizon.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.errors import InputError
from tests.conftest import copy_case, solve

PAYMENT = 100 * 100_000 * 96 / 8760


def _row(run, table: str, name: str):
    t = run.tables[table]
    return t[t["contract"] == name].iloc[0]


def _override(table: str, name: str, column: str, value: object) -> dict:
    return {"table": table, "name": name, "column": column, "value": value}


def _costs(run, cost_type: str) -> float:
    c = run.tables["costs"]
    return float(c.loc[c["cost_type"] == cost_type, "cost_cny"].sum())


def test_plan_and_take_or_pay_bind_with_hand_derived_duals():
    """The plan makes the gas plant run 4,200 MWh (8,400 MWh_th): 6,000 MWh_th of LNG (paid for
    either way, so free at the margin) and 2,400 of pipeline gas. One more MWh of plan costs
    210 - 200 = 10; one more MWh_th of take-or-pay replaces pipeline gas by LNG: 150 - 100 = 50.
    cost = 5,400 x 200 + 4,200 x 10 + 6,000 x 150 + 2,400 x 100 + the capacity payment."""
    run = solve("tiny_obligation")
    assert run.solution.status == "optimal"
    expected = 5400 * 200 + 4200 * 10 + 6000 * 150 + 2400 * 100 + PAYMENT
    assert run.solution.objective_cny == pytest.approx(expected, rel=1e-12)
    plan = _row(run, "contracts", "gas plan January")
    assert plan["kind"] == "energy obligation"
    assert plan["period_share_pu"] == pytest.approx(48 / 744)
    assert plan["min_mwh"] == pytest.approx(4200, rel=1e-12)
    assert plan["energy_mwh"] == pytest.approx(4200, abs=1e-6)
    assert plan["min_dual_cny_per_mwh"] == pytest.approx(10, abs=1e-9)
    top = _row(run, "gas_contracts", "LNG take-or-pay")
    assert top["min_mwh_th"] == pytest.approx(6000, rel=1e-12)
    assert top["gas_mwh_th"] == pytest.approx(6000, abs=1e-6)
    assert top["not_taken_mwh_th"] == pytest.approx(0, abs=1e-6)
    assert top["min_dual_cny_per_mwh_th"] == pytest.approx(50, abs=1e-9)
    # the plant's own output says the same, in January only
    g = run.tables["generation"]
    gas = g[g["generator"] == "gas plant"]
    assert gas.loc[gas["snapshot"].dt.month == 1, "energy_mwh"].sum() == pytest.approx(
        4200, abs=1e-6
    )
    assert gas.loc[gas["snapshot"].dt.month == 2, "energy_mwh"].sum() == pytest.approx(0, abs=1e-6)
    # the capacity payment is a reported fixed cost, and the costs add up to the objective
    assert _costs(run, "capacity payment") == pytest.approx(PAYMENT, rel=1e-12)
    assert run.tables["costs"]["cost_cny"].sum() == pytest.approx(
        run.solution.objective_cny, rel=1e-12
    )


def test_capacity_payment_does_not_move_dispatch():
    free = solve(
        "tiny_obligation",
        overrides=[
            _override("capacity_payments", "gas capacity tariff", "payment_cny_per_mw_yr", 0)
        ],
    )
    paid = solve("tiny_obligation")
    assert paid.solution.objective_cny - free.solution.objective_cny == pytest.approx(
        PAYMENT, rel=1e-9
    )
    np.testing.assert_allclose(
        paid.tables["generation"]["p_mw"], free.tables["generation"]["p_mw"], atol=1e-6
    )


def test_hour_cap_on_a_region_and_carrier_binds(tmp_path):
    """Guangdong's coal capped at 4,380 full-load hours a year: 100 x 4,380 x 96 / 8,760 =
    4,800 MWh. Gas makes the other 4,800 MWh (9,600 MWh_th: 6,000 LNG, 3,600 pipeline); one
    more MWh of coal allowed saves 210 - 200 = 10, and the January plan, met in passing, is
    worth nothing."""
    case = copy_case(tmp_path, "tiny_obligation")
    path = tmp_path / "networks" / "tiny_obligation" / "energy_obligations.csv"
    path.write_text(path.read_text() + "coal cap,,Guangdong,coal,year,,,4380,,\n")
    run = solve(case)
    cap = _row(run, "contracts", "coal cap")
    assert cap["on"] == "Guangdong, coal"
    assert cap["max_mwh"] == pytest.approx(4800, rel=1e-12)
    assert cap["energy_mwh"] == pytest.approx(4800, abs=1e-6)
    assert cap["max_dual_cny_per_mwh"] == pytest.approx(10, abs=1e-9)
    assert _row(run, "contracts", "gas plan January")["min_dual_cny_per_mwh"] == pytest.approx(
        0, abs=1e-9
    )
    assert run.solution.objective_cny == pytest.approx(
        4800 * 200 + 4800 * 10 + 6000 * 150 + 3600 * 100 + PAYMENT, rel=1e-12
    )


def test_take_or_pay_gas_runs_the_plant_before_coal():
    """Take-or-pay raised to 10,000 MWh_th in the horizon: gas paid for anyway costs the plant
    only its O&M, 10 < 200, so it burns all of it (5,000 MWh). One more MWh_th of contract costs
    150 and saves half a MWh of coal net of O&M: 150 - 0.5 x (200 - 10) = 55."""
    run = solve(
        "tiny_obligation",
        overrides=[_override("gas_contracts", "LNG take-or-pay", "min_mwh_th", 10_000 * 8760 / 96)],
    )
    top = _row(run, "gas_contracts", "LNG take-or-pay")
    assert top["gas_mwh_th"] == pytest.approx(10_000, abs=1e-6)
    assert top["min_dual_cny_per_mwh_th"] == pytest.approx(55, abs=1e-9)
    g = run.tables["generation"]
    assert g.loc[g["generator"] == "gas plant", "energy_mwh"].sum() == pytest.approx(5000, abs=1e-6)
    assert run.solution.objective_cny == pytest.approx(
        4600 * 200 + 5000 * 10 + 10_000 * 150 + PAYMENT, rel=1e-12
    )


def test_take_or_pay_below_its_worth_is_paid_and_not_taken():
    """With 40 CNY/MWh_th paid for gas not taken, LNG costs 150 - 40 = 110 net against pipeline
    gas at 100: none is taken, all 10,000 MWh_th are paid for (400,000 CNY), and one more
    MWh_th of contract costs the 40."""
    run = solve(
        "tiny_obligation",
        overrides=[
            _override("gas_contracts", "LNG take-or-pay", "min_mwh_th", 10_000 * 8760 / 96),
            _override("gas_contracts", "LNG take-or-pay", "shortfall_penalty_cny_per_mwh_th", 40),
        ],
    )
    top = _row(run, "gas_contracts", "LNG take-or-pay")
    assert top["gas_mwh_th"] == pytest.approx(0, abs=1e-6)
    assert top["not_taken_mwh_th"] == pytest.approx(10_000, abs=1e-6)
    assert top["take_or_pay_cny"] == pytest.approx(400_000, rel=1e-12)
    assert top["min_dual_cny_per_mwh_th"] == pytest.approx(40, abs=1e-9)
    assert _costs(run, "take-or-pay (gas paid, not taken)") == pytest.approx(400_000, rel=1e-12)
    assert run.solution.objective_cny == pytest.approx(
        5400 * 200 + 4200 * 10 + 8400 * 100 + 400_000 + PAYMENT, rel=1e-12
    )
    assert run.tables["costs"]["cost_cny"].sum() == pytest.approx(
        run.solution.objective_cny, rel=1e-12
    )


def test_monthly_must_take_gas_contract(tmp_path):
    """A hard February contract of 28,000 MWh_th of LNG a month: 28,000 x 48 / 672 = 2,000
    MWh_th in the horizon, burnt by the gas plant in February (1,000 MWh). One more MWh_th
    forced costs 150 - 0.5 x (200 - 10) = 55."""
    case = copy_case(tmp_path, "tiny_obligation")
    path = tmp_path / "networks" / "tiny_obligation" / "gas_contracts.csv"
    path.write_text("name,supplies,period,month,min_mwh_th\nLNG February,LNG,month,2,28000\n")
    run = solve(case)
    feb = _row(run, "gas_contracts", "LNG February")
    assert feb["period"] == "2025-02" and feb["period_share_pu"] == pytest.approx(48 / 672)
    assert feb["gas_mwh_th"] == pytest.approx(2000, abs=1e-6)
    assert feb["min_dual_cny_per_mwh_th"] == pytest.approx(55, abs=1e-9)
    g = run.tables["generation"]
    gas = g[(g["generator"] == "gas plant") & (g["snapshot"].dt.month == 2)]
    assert gas["energy_mwh"].sum() == pytest.approx(1000, abs=1e-6)


def test_energy_obligation_on_a_hydro_station_counts_its_power(tmp_path):
    """As the must-take test of tests/test_corridors.py, now an energy obligation: Lower (0.5
    MW per m3/s) must give 5,580 MWh in January, prorated to 4 of 744 hours: 30 MWh, and one
    more MWh there costs 500 CNY (2 MWh of Upper's water that would have saved thermal)."""
    case = copy_case(tmp_path, "tiny_hydro_cascade")
    (tmp_path / "networks" / "tiny_hydro_cascade" / "energy_obligations.csv").write_text(
        "name,plants,period,month,min_mwh\nLower January,Lower,month,1,5580\n"
    )
    run = solve(case)
    assert run.solution.objective_cny == pytest.approx(50 * 500, rel=1e-9)
    row = _row(run, "contracts", "Lower January")
    assert row["energy_mwh"] == pytest.approx(30, abs=1e-6)
    assert row["min_dual_cny_per_mwh"] == pytest.approx(500, abs=1e-6)


def test_hour_cap_of_a_plant_being_built_follows_its_capacity(tmp_path):
    """tiny_expansion: the base plant (built, not given) capped at 4,380 full-load hours a
    year. Its cap is 4,380 x (3 / 8,760) x the capacity built: the row holds on the capacity
    the optimum builds."""
    case = copy_case(tmp_path, "tiny_expansion")
    (tmp_path / "networks" / "tiny_expansion" / "energy_obligations.csv").write_text(
        "name,plants,max_hours\nbase cap,base,4380\n"
    )
    run = solve(case)
    assert run.solution.status == "optimal"
    cap = _row(run, "contracts", "base cap")
    built = run.tables["capacity"]
    k = built.loc[built["component"] == "base", "total"].iloc[0]
    assert k > 0
    assert cap["max_mwh"] == pytest.approx(4380 * 3 / 8760 * k, rel=1e-9)
    assert cap["energy_mwh"] <= cap["max_mwh"] * (1 + 1e-9)


@pytest.mark.parametrize(
    ("table", "text", "rule"),
    [
        ("energy_obligations.csv", "bad,nowhere,,,year,,10,,,", "neither a generator nor a hydro"),
        ("energy_obligations.csv", "bad,gas plant,Guangdong,,year,,10,,,", "give either plants"),
        ("energy_obligations.csv", "bad,,Tibet,,year,,10,,,", "no bus has this region"),
        ("energy_obligations.csv", "bad,,,wind,year,,10,,,", "no generator or hydro station has"),
        ("energy_obligations.csv", "bad,gas plant,,,month,,10,,,", "needs its month"),
        ("energy_obligations.csv", "bad,gas plant,,,year,,,,,", "give min_mwh, max_mwh"),
        ("energy_obligations.csv", "bad,gas plant,,,year,,20,10,,", "min_hours exceeds max_hours"),
        ("gas_contracts.csv", "bad,Qatar,year,10,,", "gas supply that does not exist"),
        ("gas_contracts.csv", "bad,LNG,year,,,", "give min_mwh_th, max_mwh_th"),
        ("capacity_payments.csv", "bad,,Guangdong,nuclear,1", "no generator or hydro station has"),
    ],
)
def test_bad_obligations_are_reported(tmp_path, table, text, rule):
    case = copy_case(tmp_path, "tiny_obligation")
    path = tmp_path / "networks" / "tiny_obligation" / table
    path.write_text(path.read_text() + text + "\n")
    with pytest.raises(InputError) as err:
        solve(case)
    assert rule in str(err.value)
    assert table in str(err.value)


def test_the_last_window_of_a_future_cost_run_may_miss_a_hard_minimum_and_says_by_how_much(
    tmp_path,
):
    """The January plan raised to 1,000 full-load hours: 100 x 1,000 x 48 / 744 = 6,451.6 MWh
    in the horizon's January hours, more than the gas plant can make in them (100 x 48 = 4,800
    MWh). Hard (no shortfall penalty), the case has no solution. As the last window of a
    `future_cost` rolling run sees it, the minimum is missable at the value of lost load: the
    plant runs flat out through January, the plan falls 1,651.6 MWh short, and the miss is
    named in words."""
    from gridopt.inputs.case import load_case
    from gridopt.studies.rolling import _minimums_missable, _minimums_missed
    from gridopt.studies.run import solve_data

    case = copy_case(tmp_path, "tiny_obligation")
    net = tmp_path / "networks" / "tiny_obligation"
    plans = net / "energy_obligations.csv"
    plans.write_text(plans.read_text().replace(",651,", ",1000,"))
    data = load_case(case)
    hard = solve_data(data, str(case), {}, diagnose=False)
    assert hard.solution.status in ("infeasible", "infeasible_or_unbounded")
    missable, names = _minimums_missable(data)
    assert names == {"contracts": ["gas plan January"]}
    assert np.isnan(data.tables["energy_obligations"]["shortfall_penalty_cny_per_mwh"]).all()
    run = solve_data(missable, str(case), {}, diagnose=False)
    assert run.solution.status == "optimal"
    short = 100 * 1000 * 48 / 744 - 100 * 48
    assert _row(run, "contracts", "gas plan January")["shortfall_mwh"] == pytest.approx(
        short, rel=1e-9
    )
    g = run.tables["generation"]
    gas = g[(g["generator"] == "gas plant") & (g["snapshot"].dt.month == 1)]
    np.testing.assert_allclose(gas["p_mw"], 100, atol=1e-6)
    assert _minimums_missed(run, names) == [f"gas plan January (2025-01) short by {short:,.6g} MWh"]


def test_energy_carried_to_the_next_piece_never_exceeds_the_periods_maximum(tmp_path):
    """A rolling run under future-cost functions carries each period's energy so far from
    piece to piece. Guangdong's coal capped at 4,380 full-load hours a year, 4,800 MWh in the
    horizon (the share of the year it covers; test above), binds. A solution meets the cap
    to within the solver's tolerance; 1e-7 MWh more coal in one hour must not reach the next
    piece, which could make no less coal and would be infeasible by that much: the energy
    carried is 4,800 MWh."""
    import dataclasses

    from gridopt.inputs.case import load_case
    from gridopt.model.periods import delivered_at
    from gridopt.model.registry import build_model, carried_entries
    from gridopt.solver.solve import solve as solve_model

    case = copy_case(tmp_path, "tiny_obligation")
    path = tmp_path / "networks" / "tiny_obligation" / "energy_obligations.csv"
    path.write_text(path.read_text() + "coal cap,,Guangdong,coal,year,,,4380,,\n")
    data = load_case(case)
    given = carried_entries(data)
    label = "energy_obligation: coal cap 2025"
    assert given.loc[label, "before"] == 0
    model = build_model(dataclasses.replace(data, delivered=given))
    sol = solve_model(model)
    assert sol.status == "optimal"
    coal = model.variables["gen_p"]
    x = sol.x.copy()
    made = x[coal.cols[0]].sum()  # the coal plant, the first generator
    assert made == pytest.approx(4_800, abs=1e-6)
    x[coal.cols[0, 0]] += 1e-7
    carried = delivered_at(model, x, model.T)
    assert carried is not None
    assert carried.loc[label, "before"] == pytest.approx(4_800, rel=1e-12)
    assert carried.loc[label, "before"] <= 100 * 4_380 * 96 / 8_760
