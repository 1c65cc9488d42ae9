"""Capacity expansion: hand-solved builds, blocks, periods, policies, and PyPSA's optimum."""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.investment import discounted_years
from gridopt.model.expansion import crf
from tests.conftest import CASES, copy_case, solve

REL = 1e-9
BLOCK_BASE = {
    "overrides": [{"table": "candidates", "name": "new base", "column": "block_size", "value": 500}]
}


def _capacity(run, component: str, rating: str | None = None) -> np.ndarray:
    cap = run.tables["capacity"]
    mask = cap["component"] == component
    if rating is not None:
        mask &= cap["rating"] == rating
    return cap.loc[mask, "total"].to_numpy()


def _built(run, component: str) -> np.ndarray:
    cap = run.tables["capacity"]
    return cap.loc[cap["component"] == component, "built"].to_numpy()


def test_capital_recovery_factor():
    """CRF = r (1+r)^n / ((1+r)^n - 1): the annuity that repays 1 CNY over n years at r.

    Its present value at r must be the 1 CNY lent; at r = 0 it is 1/n.
    """
    for r, n in ((0.05, 20), (0.08, 25), (0.1, 40)):
        a = float(crf(r, n))
        assert sum(a / (1 + r) ** y for y in range(1, n + 1)) == pytest.approx(1.0, rel=1e-12)
    assert float(crf(0.0, 20)) == pytest.approx(0.05, rel=1e-15)
    assert float(crf(0.05, 20)) == pytest.approx(0.0802425872, rel=1e-9)


def test_discounted_years():
    """F = sum over the period's years of (1+r)^-(year - first year of the first period)."""
    f = discounted_years(np.array([2030, 2035]), np.array([5.0, 5.0]), 0.1)
    assert f[0] == pytest.approx(sum(1.1**-y for y in range(5)), rel=1e-12)
    assert f[1] == pytest.approx(sum(1.1**-y for y in range(5, 10)), rel=1e-12)


def test_screening_curve_two_buses():
    """Base plant at A (annuity 100,000 CNY/MW/yr, 100 CNY/MWh) needs the line A-B (20,000
    CNY/MW/yr); the peaker at B costs 30,000 CNY/MW/yr and 400 CNY/MWh. A MW of base plus
    line costs 90,000 more a year than a MW of peaker and saves 300 CNY per hour it runs: it
    pays where the load lasts more than 90,000 / 300 = 300 h. The load (at B) is 1000 MW for
    100 h, 600 MW for 2,900 h and 300 MW for 5,760 h: 600 MW last 3,000 h > 300, the band
    600-1000 MW only 100 h < 300. So base = line = 600 MW, peaker 400 MW, and

        cost = 600 x 120,000 + 400 x 30,000                              =  84.0 M
             + 100 x (600 x 100 + 2,900 x 600 + 5,760 x 300)  [base]     = 352.8 M
             + 400 x 100 x 400                                [peaker]   =  16.0 M
             = 452.8 M CNY.

    In the peak hours the peaker is at its capacity: the price at B is its running cost plus
    its annuity spread over the 100 h it earns it, 400 + 30,000 / 100 = 700 CNY/MWh.
    """
    run = solve("tiny_expansion")
    assert run.solution.objective_cny == pytest.approx(452.8e6, rel=REL)
    assert _capacity(run, "base") == pytest.approx([600.0], rel=REL)
    assert _capacity(run, "A-B") == pytest.approx([600.0], rel=REL)
    assert _capacity(run, "peaker") == pytest.approx([400.0], rel=REL)
    prices = run.tables["prices"]
    peak = prices[(prices["bus"] == "B")]["price_cny_per_mwh"].to_numpy()[0]
    assert peak == pytest.approx(700.0, rel=1e-9)
    inv = run.tables["investment"].set_index("candidate")
    assert inv.at["new base", "annual_cost_cny_per_yr"] == pytest.approx(60e6, rel=REL)
    split = run.tables["expansion_costs"].iloc[0]
    assert split["investment_cny"] == pytest.approx(84e6, rel=REL)
    assert split["operation_cny"] == pytest.approx(352.8e6 + 16e6, rel=REL)
    assert split["total_cny"] == pytest.approx(run.solution.objective_cny, rel=1e-12)


def test_blocks_integer_optimum_differs_from_rounded_lp():
    """The same case with the base plant built in blocks of 500 MW (a MIP).

    The LP optimum is 600 MW = 1.2 blocks; rounded to the nearest whole block it is 1 block.
    With K MW of base (and of line; the peaker covers 1000 - K), the cost falls by
    300 x 3,000 - 90,000 = 810,000 CNY per MW on 300 < K < 600 (each MW runs 3,000 h) and
    rises by 90,000 - 300 x 100 = 60,000 CNY per MW on 600 < K < 1000 (100 h). So

        cost(500 MW)  = 452.8 M + 100 x 810,000 = 533.8 M   (the rounded LP)
        cost(1000 MW) = 452.8 M + 400 x  60,000 = 476.8 M   (2 blocks: the integer optimum)

    and the relaxation (solver.relax) is the LP again, 1.2 blocks at 452.8 M.
    """
    run = solve("tiny_expansion", **BLOCK_BASE)
    assert run.solution.objective_cny == pytest.approx(476.8e6, rel=REL)
    assert _capacity(run, "base") == pytest.approx([1000.0], rel=REL)
    assert _capacity(run, "peaker") == pytest.approx([0.0], abs=1e-6)
    inv = run.tables["investment"].set_index("candidate")
    assert inv.at["new base", "blocks"] == pytest.approx(2.0)

    relaxed = solve("tiny_expansion", **BLOCK_BASE, **{"solver.relax": True})
    assert relaxed.solution.objective_cny == pytest.approx(452.8e6, rel=REL)
    inv = relaxed.tables["investment"].set_index("candidate")
    assert inv.at["new base", "blocks"] == pytest.approx(1.2, rel=1e-9)

    rounded = solve(
        "tiny_expansion",
        overrides=[
            *BLOCK_BASE["overrides"],
            {"table": "candidates", "name": "new base", "column": "build_max", "value": 500},
        ],
    )
    assert rounded.solution.objective_cny == pytest.approx(533.8e6, rel=REL)
    assert rounded.solution.objective_cny > run.solution.objective_cny


def test_periods_lifetime_and_retirement():
    """100 MW of constant demand in 2030 and 2035 (5 years each, undiscounted: F = 5, 5).

    The existing 100 MW retire in 2035; new capacity (annuity 10,000 CNY/MW/yr, 10 years)
    built for 2030 would be paid in both periods but is not needed before 2035, so 100 MW
    are built for 2035: cost = 2 x 5 x 100 x 8760 x 50 + 100 x 10,000 x 5 = 443 M CNY.
    In 2035 the new plant sets the price: 50 + 10,000 / 8760 CNY/MWh (undiscounted, per MWh
    of the year, its annuity spread over the hours it runs).
    """
    run = solve("tiny_expansion_periods")
    assert run.solution.objective_cny == pytest.approx(443e6, rel=REL)
    assert _built(run, "new") == pytest.approx([0.0, 100.0], abs=1e-6)
    cap = run.tables["capacity"]
    old = cap[cap["component"] == "old"]
    assert old["total"].to_numpy() == pytest.approx([100.0, 0.0], abs=1e-9)
    assert old["retired"].to_numpy() == pytest.approx([0.0, 100.0], abs=1e-9)
    assert old["existing"].to_numpy() == pytest.approx([100.0, 0.0], abs=1e-9)
    prices = run.tables["prices"]["price_cny_per_mwh"].to_numpy()
    assert prices[1] == pytest.approx(50 + 10_000 / 8760, rel=1e-9)


def test_periods_discounted():
    """The same case at a 10 % discount rate: F[2030] = sum_{y=0..4} 1.1^-y, F[2035] =
    sum_{y=5..9} 1.1^-y; cost = 100 x 8760 x 50 x (F0 + F1) + 100 x 10,000 x F1."""
    run = solve("tiny_expansion_periods", **{"expansion.discount_rate": 0.1})
    f0 = sum(1.1**-y for y in range(5))
    f1 = sum(1.1**-y for y in range(5, 10))
    assert run.solution.objective_cny == pytest.approx(
        100 * 8760 * 50 * (f0 + f1) + 100 * 10_000 * f1, rel=REL
    )
    # prices stay undiscounted CNY per MWh of the year
    prices = run.tables["prices"]["price_cny_per_mwh"].to_numpy()
    assert prices[1] == pytest.approx(50 + 10_000 / 8760, rel=1e-9)


def test_co2_cap_and_its_shadow_price():
    """A cap of 438,000 t/yr in 2030 halves the old plant's (1 t/MWh) emissions: 50 MW of new
    capacity is built for 2030 (and 50 more for 2035). Cost: 443 M + 50 x 10,000 x 5.
    A tonne less a year in 2030 takes 1/8760 MW more built for 2030 instead of 2035, which pays
    its annuity 5 years earlier: 10,000 x 5 / 8760 over the period, 10,000 / 8760 CNY/t a year.
    """
    run = solve(
        "tiny_expansion_periods", **{"expansion.policy": {"co2_cap_t_per_yr": {2030: 438_000}}}
    )
    assert run.solution.objective_cny == pytest.approx(445.5e6, rel=REL)
    assert _built(run, "new") == pytest.approx([50.0, 50.0], abs=1e-6)
    co2 = run.tables["co2"].set_index("period")
    assert co2.at[2030, "co2_t_per_yr"] == pytest.approx(438_000, rel=1e-9)
    assert co2.at[2030, "cap_shadow_price_cny_per_t"] == pytest.approx(10_000 / 8760, rel=1e-9)
    policy = run.tables["policy"]
    assert bool(policy["binding"].iloc[0])


def test_co2_price():
    """A CO2 price of 20 CNY/t in 2030 only. New capacity is needed for 2035 anyway (annuity
    10,000 x 5 per MW); built for 2030 instead it is paid for both periods (10,000 x 10), 50,000
    CNY per MW more, but each MW then saves 8760 t a year of the old plant's CO2 in 2030:
    8760 x 20 x 5 = 876,000 CNY. So all 100 MW are built for 2030, nothing pays the price:
    cost = 2 x 5 x 100 x 8760 x 50 + 100 x 10,000 x 10 = 448 M CNY."""
    run = solve(
        "tiny_expansion_periods", **{"expansion.policy": {"co2_price_cny_per_t": {2030: 20}}}
    )
    assert _built(run, "new") == pytest.approx([100.0, 0.0], abs=1e-6)
    assert run.solution.objective_cny == pytest.approx(438e6 + 10e6, rel=REL)


def test_share_and_build_rate_shadow_prices():
    """A 75 % renewable share of 2030's demand makes 75 MW of new (renewable) capacity run in
    2030; building it early costs its annuity 5 years more, 10,000 x 5 per MW, or 10,000 /
    8760 CNY per MWh and year (the share's price). A build rate of 10 MW/yr (50 MW per
    period) in 2035 then forces 50 MW into 2030: its price is the cost of a MW built a
    period early, 10,000 x 5 = 50,000 CNY (discounted as the objective)."""
    share = solve(
        "tiny_expansion_periods",
        **{"expansion.policy": {"shares": [{"name": "RPS", "share_min": 0.75, "periods": [2030]}]}},
    )
    assert _built(share, "new") == pytest.approx([75.0, 25.0], abs=1e-6)
    row = share.tables["policy"].set_index("constraint").loc["RPS 2030"]
    assert row["shadow_price"] == pytest.approx(10_000 / 8760, rel=1e-9)
    assert row["lhs"] == pytest.approx(0.75 * 100 * 8760, rel=1e-9)

    rate = solve(
        "tiny_expansion_periods",
        **{
            "expansion.policy": {
                "build_rates": [{"name": "solar rate", "carriers": ["solar"], "max_mw_per_yr": 10}]
            }
        },
    )
    assert _built(rate, "new") == pytest.approx([50.0, 50.0], abs=1e-6)
    row = rate.tables["policy"].set_index("constraint").loc["solar rate 2035"]
    assert row["shadow_price"] == pytest.approx(50_000, rel=1e-9)
    assert rate.solution.objective_cny == pytest.approx(443e6 + 50 * 50_000, rel=REL)


def test_share_ceiling_and_its_shadow_price():
    """Coal at most half of 2030's demand is the CO2 cap above in other words (the old plant
    emits 1 t/MWh): 50 MW of new capacity for 2030, cost 443 M + 50 x 10,000 x 5, and one more
    MWh a year of coal allowed saves 10,000 / 8760 CNY."""
    run = solve(
        "tiny_expansion_periods",
        **{
            "expansion.policy": {
                "shares": [
                    {
                        "name": "coal ceiling",
                        "carriers": ["coal"],
                        "share_max": 0.5,
                        "periods": [2030],
                    }
                ]
            }
        },
    )
    assert run.solution.objective_cny == pytest.approx(445.5e6, rel=REL)
    assert _built(run, "new") == pytest.approx([50.0, 50.0], abs=1e-6)
    row = run.tables["policy"].set_index("constraint").loc["coal ceiling 2030"]
    assert row["kind"] == "share max" and bool(row["binding"])
    assert row["lhs"] == pytest.approx(0.5 * 100 * 8760, rel=1e-9)
    assert row["shadow_price"] == pytest.approx(10_000 / 8760, rel=1e-9)


def test_same_optimum_as_pypsa():
    """Three buses on an AC loop (Kirchhoff), an HVDC link, extendable coal, solar, a battery
    (energy at 4 h of its power), a line and the link: PyPSA's optimize() with
    p_nom_extendable / s_nom_extendable and the exported capital costs reaches the same
    objective and the same capacities (within 1e-6 relative)."""
    pytest.importorskip("pypsa")
    from gridopt.interop.pypsa import _quiet, to_pypsa

    run = solve("tiny_expansion_loop")
    n, _notes = to_pypsa(load_case(CASES / "tiny_expansion_loop.yaml"))
    with _quiet():
        status, _ = n.optimize(solver_name="highs", solver_options={"output_flag": False})
    assert status == "ok"
    assert n.objective == pytest.approx(run.solution.objective_cny, rel=1e-6)
    cap = run.tables["capacity"]
    total = dict(zip(cap["component"] + "/" + cap["rating"], cap["total"], strict=True))
    ours = {"coal A": total["coal A/p_max_mw"], "solar B": total["solar B/p_max_mw"]}
    for name, value in ours.items():
        assert n.c["Generator"].static.at[name, "p_nom_opt"] == pytest.approx(value, rel=1e-6)
    assert n.c["StorageUnit"].static.at["battery B", "p_nom_opt"] == pytest.approx(
        total["battery B/p_max_mw"], rel=1e-6
    )
    assert total["battery B/energy_max_mwh"] == pytest.approx(
        4 * total["battery B/p_max_mw"], rel=1e-9
    )
    assert n.c["Line"].static.at["A-B", "s_nom_opt"] == pytest.approx(
        total["A-B/s_max_mw"], rel=1e-6, abs=1e-6
    )
    assert n.c["Link"].static.at["A-C DC", "p_nom_opt"] == pytest.approx(
        total["A-C DC/p_max_mw"], rel=1e-6
    )
    # something was built, so the comparison is not one of empty candidates
    assert total["solar B/p_max_mw"] > 0 and total["battery B/p_max_mw"] > 0


def test_disabled_expansion_is_dispatch():
    """With expansion off the candidates are ignored: the model is the dispatch of the existing
    capacity, with the same objective as a case without any expansion setting."""
    off = solve(
        "tiny_expansion_loop", **{"expansion.enabled": False, "load_shedding.enabled": True}
    )
    plain = solve("tiny_expansion_loop", expansion=None, **{"load_shedding.enabled": True})
    assert "capacity" not in off.tables
    assert off.solution.objective_cny == pytest.approx(plain.solution.objective_cny, rel=1e-12)


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        ("new base,generators,nowhere,2000000,20,0,x", "component", "no component of that name"),
        (
            "new base,generators,base,2000000,20,0,x\nagain,generators,base,1,20,0,x",
            "component",
            "a second candidate",
        ),
    ],
)
def test_bad_candidates(tmp_path, row, column, rule):
    """Candidates that cannot work are named with their file, row and column."""
    path = copy_case(tmp_path, "tiny_expansion")
    net = tmp_path / "networks" / "tiny_expansion" / "candidates.csv"
    net.write_text(
        f"name,table,component,overnight_cost_cny_per_unit,lifetime_yr,discount_rate,note\n{row}\n"
    )
    with pytest.raises(InputError) as err:
        load_case(path)
    hits = [p for p in err.value.problems if p.column == column and rule in p.rule]
    assert hits and hits[0].file.endswith("candidates.csv") and hits[0].row is not None


def test_bad_rating_and_max_hours(tmp_path):
    path = copy_case(tmp_path, "tiny_expansion")
    net = tmp_path / "networks" / "tiny_expansion" / "candidates.csv"
    net.write_text(
        "name,table,component,rating,overnight_cost_cny_per_unit,lifetime_yr,"
        "max_hours\nx,lines,A-B,p_max_mw,1,20,\ny,generators,base,,1,20,4\n"
    )
    with pytest.raises(InputError) as err:
        load_case(path)
    rules = {(p.column, p.row) for p in err.value.problems}
    assert ("rating", 2) in rules and ("max_hours", 3) in rules


def test_bad_periods(tmp_path):
    """Period years must increase; a cap for a year without a period is refused."""
    with pytest.raises(InputError) as err:
        solve(
            "tiny_expansion_periods",
            **{
                "expansion.periods": [{"year": 2035}, {"year": 2030}],
                "expansion.policy": {"co2_cap_t_per_yr": {2040: 1.0}},
            },
        )
    columns = {p.column for p in err.value.problems}
    assert {"expansion.periods", "expansion.policy.co2_cap_t_per_yr"} <= columns


def test_pipeline_loop_on_the_gas_network(tmp_path):
    """tiny_gas over a year (its two hours as samples of 4,380 h each): pipeline gas (150
    CNY/MWh_th, 250 MWth at the border) reaches the coast through a 200 MWth trunk, the rest of
    the coast's gas is LNG (300 CNY/MWh_th), and the coast burns more than 250 MWth every hour.
    Looping the trunk (annuity 10 M / 20 yr = 500,000 CNY per MWth and year) saves 150 CNY per
    MWh_th for 8,760 h = 1,314,000 CNY per MWth and year: it grows to the supply's 250 MWth,
    and the cost falls by 50 x (1,314,000 - 500,000) = 40.7 M CNY."""
    samples = {
        "expansion": {
            "discount_rate": 0,
            "periods": [
                {
                    "year": 2025,
                    "samples": [
                        {"start": "2025-01-01 00:00", "hours": 1, "weight": 4380},
                        {"start": "2025-01-01 01:00", "hours": 1, "weight": 4380},
                    ],
                }
            ],
        }
    }
    path = copy_case(tmp_path, "tiny_gas")
    net = tmp_path / "networks" / "tiny_gas"
    base = solve(path, **samples)
    assert "capacity" not in base.tables  # no candidates: the table is empty
    (net / "candidates.csv").write_text(
        "name,table,component,overnight_cost_cny_per_unit,lifetime_yr,discount_rate\n"
        "trunk loop,pipelines,trunk,10000000,20,0\n"
    )
    run = solve(path, **samples)
    assert _capacity(run, "trunk") == pytest.approx([250.0], rel=1e-9)
    assert base.solution.objective_cny - run.solution.objective_cny == pytest.approx(
        50 * (150 * 8760 - 500_000), rel=1e-9
    )
    flows = run.tables["gas_flows"]
    assert flows["utilisation_pu"].to_numpy() == pytest.approx([1.0, 1.0], rel=1e-9)


def test_pprd_expansion_cases_build():
    """The PPRD expansion cases read and build: the continuous one is an LP, the discrete one
    has whole blocks for the UHVDC corridor and the pipeline loop only."""
    from gridopt.model.registry import build_model

    lp = build_model(load_case(CASES / "pprd_expansion_2030.yaml"))
    assert not lp.integrality().any()
    mip = build_model(load_case(CASES / "pprd_expansion_2030_discrete.yaml"))
    blocks = mip.variables["exp_blocks"]
    assert blocks.components.tolist() == [
        "Yunnan-Guangdong UHVDC 2030",
        "WEPP II Jiangxi-Guangdong loop 2030",
    ]
    assert mip.integrality().sum() == 2
    # the four weeks stand for the year: sample weights sum to 8760 h
    weight = mip.investment.sample_weight * mip.w
    assert weight.sum() == pytest.approx(8760.0, rel=1e-9)


def test_period_demand_by_region():
    """Demand growth per region and period: 2035's demand in region West is 1.2 x 100 MW, so
    120 MW are built for 2035 (the existing plant has retired); a region not named keeps its
    demand, and an unknown region is refused."""
    periods = [
        {"year": 2030, "samples": [{"start": "2025-01-01 00:00", "hours": 1, "weight": 8760}]},
        {
            "year": 2035,
            "demand": {"West": 1.2},
            "samples": [{"start": "2025-01-01 00:00", "hours": 1, "weight": 8760}],
        },
    ]
    run = solve("tiny_expansion_periods", **{"expansion.periods": periods})
    assert _built(run, "new") == pytest.approx([0.0, 120.0], abs=1e-6)
    periods[1]["demand"] = {"Atlantis": 1.2}
    with pytest.raises(InputError) as err:
        solve("tiny_expansion_periods", **{"expansion.periods": periods})
    assert any(p.column == "expansion.periods[1].demand" for p in err.value.problems)
