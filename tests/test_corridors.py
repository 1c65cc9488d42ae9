"""Corridors, contracts and must-take: hand-checked toy cases and the PPRD week's schedules.

tiny_corridor: buses A and B, each with a 300 MW unit at 100 CNY/MWh, a 500 MW unit at 500 and
300 MW of wind (available in hours 4-5 only, curtailment penalised at 200 CNY/MWh); loads
A 400, 400, 100, 100, 50, 50 and B 100, 100, 400, 400, 60, 60 MW. The corridor A-B sends up to
100 MW A -> B and 80 MW B -> A, loses 5 % of what it sends plus 2 MW while energised (1 MW at
each end), and charges 2 CNY per MWh sent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridopt.errors import InputError
from tests.conftest import copy_case, solve
from tests.invariants import (
    corridor_rule_violations,
    energy_balance_residual,
    nodal_balance_residual,
)

TOL = 1e-6
LOSS = 0.05
NOLOAD = 2.0
WHEEL = 2.0
# hours 4-5: B can absorb at most its load + its half of the no-load loss
DUMP_MW = 61 / (1 - LOSS)


def _override(name: str, column: str, value: object, table: str = "corridors") -> dict:
    return {"table": table, "name": name, "column": column, "value": value}


def _prices(run, bus: str) -> np.ndarray:
    p = run.tables["prices"]
    return p.loc[p["bus"] == bus, "price_cny_per_mwh"].to_numpy()


def _conserved(run) -> None:
    assert np.abs(nodal_balance_residual(run)).max() < 1e-6
    assert np.abs(energy_balance_residual(run)).max() < 1e-6
    c = run.tables["corridors"]
    # what a corridor gives at bus1 never exceeds what it draws at bus0: it creates no energy
    assert (c["p1_mw"] <= c["p0_mw"] + 1e-9).all()
    np.testing.assert_allclose(c["p0_mw"] - c["p1_mw"], c["loss_mw"], atol=1e-9)


def test_two_way_corridor_follows_opposite_prices_without_circulating():
    """Hours 0-1: A is short, B sends its 80 MW reverse rating (A gets 76; A's dear unit makes
    the rest of 400 + 1 no-load - 300 - 76 = 25 MW; B's cheap unit 100 + 80 + 1 = 181 MW).
    Hours 2-3: the mirror, A sends 100 MW (B's dear unit makes 400 + 1 - 300 - 95 = 6 MW).
    Hours 4-5: both curtail wind (price -200 at A): sending forward dumps 5 % of it in losses,
    worth 0.05 x 200 - 2 = 8 CNY per MWh sent, so A sends all B can absorb, 61 / 0.95 MW.

    cost = 2 x (30000 + 12500 + 18100 + 2 x 80)          hours 0-1
         + 2 x (20100 + 30000 + 3000 + 2 x 100)          hours 2-3
         + 2 x (200 x (600 - 51 - 61/0.95) + 2 x 61/0.95) hours 4-5 (curtailed MWh x penalty)

    Congested hours: the value of one more MW of rating is 0.95 x 500 - 100 - 2 = 373 CNY/MWh
    and the rent (price at the receiving end x delivered - price at the sending end x sent)
    is (wheeling + 373) x sent.
    """
    run = solve("tiny_corridor")
    assert run.solution.status == "optimal"
    hand = (
        2 * (30000 + 12500 + 18100 + 2 * 80)
        + 2 * (20100 + 30000 + 3000 + 2 * 100)
        + 2 * (200 * (600 - 51 - DUMP_MW) + WHEEL * DUMP_MW)
    )
    assert run.solution.objective_cny == pytest.approx(hand, rel=1e-9)
    c = run.tables["corridors"]
    np.testing.assert_allclose(c["schedule_mw"], [-80, -80, 100, 100, DUMP_MW, DUMP_MW], atol=TOL)
    assert list(c["direction"]) == ["reverse"] * 2 + ["forward"] * 4
    assert c["circulating_mw"].max() == 0.0
    # losses exactly as stated: 5 % of what is sent plus the 2 MW no-load loss
    np.testing.assert_allclose(c["loss_mw"], LOSS * c["sent_mw"] + NOLOAD, atol=TOL)
    np.testing.assert_allclose(c["delivered_mw"], (1 - LOSS) * c["sent_mw"], atol=TOL)
    np.testing.assert_allclose(_prices(run, "A")[:4], [500, 500, 100, 100], atol=TOL)
    np.testing.assert_allclose(_prices(run, "B")[:4], [100, 100, 500, 500], atol=TOL)
    np.testing.assert_allclose(c["capacity_value_reverse_cny_per_mwh"].iloc[:2], 373, atol=TOL)
    np.testing.assert_allclose(c["capacity_value_cny_per_mwh"].iloc[2:4], 373, atol=TOL)
    np.testing.assert_allclose(
        c["congestion_rent_cny"].iloc[:4], (WHEEL + 373) * c["sent_mw"].iloc[:4], atol=1e-6
    )
    _conserved(run)
    assert corridor_rule_violations(run)["energy_created"] <= 0


def test_negative_prices_do_not_make_the_corridor_circulate():
    """Hours 4-5 have negative prices: every MWh lost is curtailment avoided. Flow both ways
    at once would dump more energy into losses; the direction binaries forbid it. The LP
    relaxation of those binaries (capacity shared, f+/100 + f-/80 <= 1) does circulate, which
    is why two-way corridors are binary: it is cheaper, yet still creates no energy."""
    exact = solve("tiny_corridor")
    prices = exact.tables["prices"]
    assert (prices.groupby("snapshot")["price_cny_per_mwh"].max().iloc[4:] < 0).all()
    assert exact.tables["corridors"]["circulating_mw"].max() == 0.0

    relaxed = solve("tiny_corridor", **{"solver.relax": True})
    assert relaxed.solution.status == "optimal"
    c = relaxed.tables["corridors"]
    assert c["circulating_mw"].iloc[4:].min() > 1.0
    assert set(c["direction"].iloc[4:]) == {"both"}
    assert relaxed.solution.objective_cny < exact.solution.objective_cny - 100
    # circulation wastes energy, it never makes any: both runs balance every bus
    _conserved(relaxed)
    _conserved(exact)


def test_taking_one_pole_out_halves_the_usable_rating():
    """With one of two poles out, both ratings and the no-load loss halve: 40 MW back in hours
    0-1, 50 MW forward in hours 2-5, 1 MW of no-load loss."""
    full = solve("tiny_corridor").tables["corridors"]
    run = solve("tiny_corridor", overrides=[_override("A-B", "poles_available", 1)])
    c = run.tables["corridors"]
    np.testing.assert_allclose(c["rating_mw"], full["rating_mw"] / 2)
    np.testing.assert_allclose(c["rating_reverse_mw"], full["rating_reverse_mw"] / 2)
    np.testing.assert_allclose(c["schedule_mw"], [-40, -40, 50, 50, 50, 50], atol=TOL)
    np.testing.assert_allclose(c["noload_loss_mw"], NOLOAD / 2, atol=TOL)
    # hours 4-5 are now capacity-bound: the rating is worth the dumping margin 0.05 x 200 - 2
    np.testing.assert_allclose(c["capacity_value_cny_per_mwh"].iloc[4:], 8.0, atol=TOL)
    assert corridor_rule_violations(run)["capacity"] <= TOL
    out = solve("tiny_corridor", overrides=[_override("A-B", "poles_available", 0)])
    assert out.tables["corridors"]["sent_mw"].abs().max() == 0.0
    assert out.tables["corridors"]["loss_mw"].max() == 0.0


def test_operating_rules_hold_on_a_one_way_corridor():
    """A one-way A-B with a 20 % minimum, a 30 MW/h ramp, a peak/valley ratio of at most 3 and
    the 'evening peak' shape within +-50 %: every rule holds in the results, and each costs."""
    one_way = [_override("A-B", "p_max_reverse_mw", 0)]
    free = solve("tiny_corridor", overrides=one_way)
    assert free.solution.price_basis == "lp"  # no two-way corridor: an LP
    rules = [
        _override("A-B", c, v)
        for c, v in (
            ("min_transfer_pu", 0.2),
            ("ramp_mw_per_h", 30),
            ("peak_valley_ratio_max", 3),
            ("daily_profile", "evening peak"),
            ("shape_tolerance_pu", 0.5),
        )
    ]
    run = solve("tiny_corridor", overrides=one_way + rules)
    assert run.solution.status == "optimal"
    c = run.tables["corridors"]
    worst = corridor_rule_violations(run)
    assert max(worst.values()) <= 1e-6, worst
    assert (c["sent_mw"] >= 20 - TOL).all()
    assert np.abs(np.diff(c["schedule_mw"])).max() <= 30 + TOL
    assert run.solution.objective_cny > free.solution.objective_cny + 1
    _conserved(run)


def test_uc_may_de_energise_a_switchable_corridor_dispatch_keeps_it_energised():
    """One-way A-B with a 30 % minimum, marked switchable: in hours 0-1 sending A -> B only
    costs (A is short). A dispatch case keeps the corridor energised and sends the 30 MW minimum
    (paying its no-load loss); unit commitment switches it off those hours instead."""
    overrides = [
        _override("A-B", "p_max_reverse_mw", 0),
        _override("A-B", "min_transfer_pu", 0.3),
        _override("A-B", "switchable", True),
    ]
    lp = solve("tiny_corridor", overrides=overrides)
    c = lp.tables["corridors"]
    np.testing.assert_allclose(c["energised"], 1.0)
    np.testing.assert_allclose(c["sent_mw"].iloc[:2], 30, atol=TOL)
    # a uc case needs a committable unit: B's dear one (no start cost or stable minimum)
    committable = _override("B dear", "committable", True, "generators")
    uc = solve("tiny_corridor", model="uc", overrides=[*overrides, committable])
    c = uc.tables["corridors"]
    np.testing.assert_allclose(c["energised"], [0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(c["sent_mw"].iloc[:2], 0, atol=TOL)
    np.testing.assert_allclose(c["noload_loss_mw"].iloc[:2], 0, atol=TOL)
    assert uc.solution.objective_cny < lp.solution.objective_cny
    assert max(corridor_rule_violations(uc).values()) <= 1e-6
    _conserved(uc)
    # not switchable: a uc case keeps it energised, as a dispatch case does, with no binary
    kept = solve("tiny_corridor", model="uc", overrides=[*overrides[:2], committable])
    np.testing.assert_allclose(kept.tables["corridors"]["energised"], 1.0)
    assert not kept.model.variables["corridor_on"].var[0].is_integer()
    assert kept.solution.objective_cny == pytest.approx(lp.solution.objective_cny, rel=1e-9)


# ---- contracts and must-take (tiny_contract) -------------------------------------------------
def _contract(run, name: str) -> pd.Series:
    c = run.tables["contracts"]
    return c[c["contract"] == name].iloc[0]


def test_monthly_obligation_binds_and_its_dual_is_the_extra_cost_of_a_delivered_mwh():
    """S (Yunnan) makes power at 150 CNY/MWh, R (Guangdong) at 100, and the S-R corridor loses
    4 %: without the contract nothing flows. The January contract asks for 37,200 MWh at R
    (50 MW on average). One more MWh delivered costs 150 / 0.96 = 156.25 at S and saves 100 at
    R: the dual is 56.25 CNY/MWh. cost = (200 x 1416 - 37200) x 100 + 37200 / 0.96 x 150.
    The annual contract (max 1 TWh) covers 1,416 of 8,760 hours: its limit is prorated."""
    run = solve("tiny_contract")
    assert run.solution.status == "optimal"
    assert run.solution.objective_cny == pytest.approx(
        (200 * 1416 - 37200) * 100 + 37200 / 0.96 * 150, rel=1e-12
    )
    jan = _contract(run, "S-R January")
    assert jan["energy_mwh"] == pytest.approx(37200, abs=1e-6)
    assert jan["min_dual_cny_per_mwh"] == pytest.approx(150 / 0.96 - 100, abs=1e-9)
    annual = _contract(run, "Yunnan-Guangdong annual")
    assert annual["period_share_pu"] == pytest.approx(1416 / 8760)
    assert annual["max_mwh"] == pytest.approx(1e6 * 1416 / 8760)
    assert annual["energy_mwh"] == pytest.approx(37200, abs=1e-6)
    # the corridor's own table tells the same story
    c = run.tables["corridors"]
    jan_days = c["snapshot"] < pd.Timestamp("2025-02-01")
    assert (c.loc[jan_days, "delivered_mw"] * 24).sum() == pytest.approx(37200, abs=1e-6)
    assert c.loc[~jan_days, "sent_mw"].abs().max() < TOL
    _conserved(run)


def test_soft_obligation_falls_short_at_its_penalty():
    """At a 40 CNY/MWh shortfall penalty (below 56.25) the contract is not worth meeting; only
    the must-take of 5 % of S plant's January energy (18,600 MWh) still flows, and its dual is
    what one more forced MWh costs: 150 - 0.96 x (100 + 40) = 15.6 CNY/MWh."""
    run = solve(
        "tiny_contract",
        overrides=[_override("S-R January", "shortfall_penalty_cny_per_mwh", 40, "contracts")],
    )
    jan = _contract(run, "S-R January")
    delivered = 0.96 * 18600
    assert jan["energy_mwh"] == pytest.approx(delivered, abs=1e-6)
    assert jan["shortfall_mwh"] == pytest.approx(37200 - delivered, abs=1e-6)
    assert jan["min_dual_cny_per_mwh"] == pytest.approx(40, abs=1e-9)
    take = _contract(run, "S plant January")
    assert take["kind"] == "must-take" and take["min_mwh"] == pytest.approx(18600)
    assert take["min_dual_cny_per_mwh"] == pytest.approx(150 - 0.96 * 140, abs=1e-9)
    costs = run.tables["costs"]
    assert costs.loc[costs["cost_type"] == "shortfall penalty", "cost_cny"].sum() == (
        pytest.approx(40 * (37200 - delivered))
    )
    assert costs["cost_cny"].sum() == pytest.approx(run.solution.objective_cny, rel=1e-12)


def test_maximum_and_must_take_bind_with_hand_derived_duals():
    """S at 50 CNY/MWh: the corridor runs full (96 MW delivered) except where the February
    maximum of 33,600 MWh caps it; one more MWh allowed saves 100 - 50 / 0.96 = 47.92.
    At 150 CNY/MWh with a must-take of 44,640 MWh from S plant in January, S must export it all:
    one more MWh taken costs 150 - 0.96 x 100 = 54 CNY/MWh."""
    cheap = solve(
        "tiny_contract",
        overrides=[_override("S plant", "marginal_cost_cny_per_mwh", 50, "generators")],
    )
    feb = _contract(cheap, "S-R February")
    assert feb["energy_mwh"] == pytest.approx(33600, abs=1e-6)
    assert feb["max_dual_cny_per_mwh"] == pytest.approx(100 - 50 / 0.96, abs=1e-9)
    assert _contract(cheap, "S-R January")["energy_mwh"] == pytest.approx(96 * 744, abs=1e-6)
    forced = solve(
        "tiny_contract", overrides=[_override("S plant January", "min_mwh", 44640, "must_take")]
    )
    take = _contract(forced, "S plant January")
    assert take["energy_mwh"] == pytest.approx(44640, abs=1e-6)
    assert take["min_dual_cny_per_mwh"] == pytest.approx(54, abs=1e-9)
    assert _contract(forced, "S-R January")["min_dual_cny_per_mwh"] == pytest.approx(0, abs=1e-9)
    assert forced.solution.objective_cny == pytest.approx(
        (200 * 1416 - 0.96 * 44640) * 100 + 44640 * 150, rel=1e-12
    )


@pytest.mark.parametrize(
    ("table", "text", "rule"),
    [
        (
            "contracts.csv",
            "bad,Nowhere,,,year,,1,,,receiving",
            "refers to a corridor that does not exist",
        ),
        ("contracts.csv", "bad,S-R,,,month,,1,,,receiving", "needs its month"),
        ("contracts.csv", "bad,,Yunnan,Tibet,year,,1,,,receiving", "no bus has this region"),
        (
            "contracts.csv",
            "bad,S-R,Yunnan,Guangdong,year,,1,,,receiving",
            "give either corridors or from_region and to_region",
        ),
        ("contracts.csv", "bad,S-R,,,year,,2,1,,receiving", "min_mwh exceeds max_mwh"),
        ("must_take.csv", "bad,S plant,month,,0.1", "needs its month"),
        ("corridors.csv", "bad,S,R,HVDC,100,2,0.04,", None),
    ],
)
def test_bad_obligations_are_reported(tmp_path, table, text, rule):
    case = copy_case(tmp_path, "tiny_contract")
    path = tmp_path / "networks" / "tiny_contract" / table
    if rule is None:  # a corridor with more poles out than it has
        path.write_text(
            "name,bus0,bus1,carrier,p_max_mw,poles,poles_available,loss_pu\n"
            "S-R,S,R,HVDC,100,2,3,0.04\n"
        )
        rule = "poles_available exceeds poles"
    else:
        path.write_text(path.read_text() + text + "\n")
    with pytest.raises(InputError) as err:
        solve(case)
    assert rule in str(err.value)


# ---- the PPRD week ---------------------------------------------------------------------------
def test_pprd_corridor_schedules_respect_their_rules(pprd_week):
    """Ramp, minimum transfer, daily shape band, ratings and losses, recomputed from the
    results and the input tables; no circulation, no energy created, none unserved."""
    worst = corridor_rule_violations(pprd_week)
    assert max(worst.values()) <= 1e-5, worst
    corr = pprd_week.data.tables["corridors"]
    assert len(corr) == 11 and not corr.index.isin(pprd_week.data.tables["links"].index).any()
    c = pprd_week.tables["corridors"]
    assert (c["energised"] == 1).all() and (c["direction"] == "forward").all()
    assert pprd_week.tables["unserved"]["unserved_mw"].sum() == pytest.approx(0.0, abs=1e-6)
    assert np.abs(nodal_balance_residual(pprd_week)).max() < 1e-4


def test_pprd_contracts_carry_the_weeks_share_of_the_annual_energy(pprd_week):
    contracts = pprd_week.tables["contracts"]
    # the table also holds the network's energy obligations (gridopt.model.obligations)
    contracts = contracts[contracts["kind"] == "contract"].set_index("contract")
    annual = pprd_week.data.tables["contracts"]["min_mwh"]
    np.testing.assert_allclose(contracts["min_mwh"], annual[contracts.index] * 168 / 8760)
    met = contracts["energy_mwh"] + contracts["shortfall_mwh"]
    assert (met >= contracts["min_mwh"] * (1 - 1e-9)).all()
    # the Kunliulong contract counts both legs, at the receiving ends
    c = pprd_week.tables["corridors"]
    legs = c[c["corridor"].str.startswith("Kunliulong")]
    assert contracts.at["Kunliulong annual", "energy_mwh"] == pytest.approx(
        legs["delivered_mw"].sum(), rel=1e-9
    )


def test_must_take_on_a_hydro_station_counts_its_power(tmp_path):
    """tiny_hydro_cascade (Upper 1 MW per m3/s, Lower 0.5, two hours apart; load 0, 0, 60, 60
    MW; thermal at 500). Lower must give 30 MWh: January's 5,580 MWh prorated to the 4 of its
    744 hours in the horizon. Upper then spills 60 (m3/s)h in hours 0-1 and turbines only 40 in
    hours 2-3: thermal makes 120 - 40 - 30 = 50 MWh. One more MWh from Lower takes 2 (m3/s)h of
    Upper's water (2 MWh there) to save 1 MWh of thermal: the dual is 500 CNY/MWh."""
    case = copy_case(tmp_path, "tiny_hydro_cascade")
    (tmp_path / "networks" / "tiny_hydro_cascade" / "must_take.csv").write_text(
        "name,hydro,period,month,min_mwh\nLower January,Lower,month,1,5580\n"
    )
    run = solve(case)
    assert run.solution.objective_cny == pytest.approx(50 * 500, rel=1e-9)
    take = _contract(run, "Lower January")
    assert take["period_share_pu"] == pytest.approx(4 / 744)
    assert take["energy_mwh"] == pytest.approx(30, abs=1e-6)
    assert take["min_dual_cny_per_mwh"] == pytest.approx(500, abs=1e-6)
    h = run.tables["hydro"]
    assert h.loc[h["station"] == "Lower", "p_mw"].sum() == pytest.approx(30, abs=1e-6)
