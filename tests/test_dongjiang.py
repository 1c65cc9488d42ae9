"""The Dongjiang: river intakes, water supply obligations and their cost in power terms.

tiny_water (hand-checked): a dam (1 MW per m3/s, 0.072 hm3 = 20 (m3/s)h of water, no inflow)
above a city's intake that withdraws 10 m3/s in the second hour, when there is no load to
turbine for; load 20 MW in the first hour, thermal at 100 CNY/MWh. Without the withdrawal the
dam turbines all its water in hour 1 (cost 0); with it, 10 (m3/s)h must be spilled for the
city in hour 2, so thermal makes 10 MWh in hour 1: the water supply costs 1,000 CNY, i.e.
1,000 / 36,000 m3 = 1/36 CNY/m3, which is also the water value at the intake in hour 2 (one
more m3 there is one m3 less turbined in hour 1: 100 CNY/MWh / 3,600 m3 per MWh).

PPRD (networks/pprd, build/dongjiang.py): Xinfengjiang, Fengshuba and Baipenzhu above the
Taiyuan intakes of Hong Kong (820 Mm3/yr by month) and of Shenzhen and Dongguan; a normal year
and the 1-in-100-year drought, at weekly resolution here so that each solve takes seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridopt.inputs.case import load_case
from gridopt.model.hydro import HM3_PER_M3S_H
from gridopt.studies.security import cost_of_security
from tests.conftest import CASES, ROOT, solve

HK_INTAKE = "Dongjiang at Taiyuan (Hong Kong intake)"
RESERVOIRS = ["Xinfengjiang", "Fengshuba", "Baipenzhu"]
WEEKLY = {"horizon.snapshots": 52, "horizon.resolution_h": 168}
# only Hong Kong's water supply, so that a cost-of-security study solves four times
WATER_ONLY = [
    "Hong Kong: n_1",
    "Hong Kong: gas_n_1",
    "Hong Kong: import_share",
    "Hong Kong: fuel_mix",
    "Hong Kong: reserve_margin",
    "Macao",
]


def test_tiny_water_supply_costs_the_hydropower_given_up_for_it():
    run = solve("tiny_water")
    assert run.solution.objective_cny == pytest.approx(1000.0, abs=1e-6)
    h = run.tables["hydro"].set_index(["station", "snapshot"])
    value = h.loc[("Intake", pd.Timestamp("2025-01-01 01:00")), "water_value_cny_per_m3"]
    assert value == pytest.approx(100 / 3600, rel=1e-9)
    assert h.loc[("Dam", pd.Timestamp("2025-01-01 01:00")), "spilled_m3s"] == pytest.approx(10)
    sec = run.tables["security"]
    assert (sec["target"] == "water supply").all() and sec["met"].all()
    assert sec["shadow_price"].tolist() == pytest.approx([0.0, 100 / 3600])
    study = cost_of_security(load_case(CASES / "tiny_water.yaml")).table.set_index("target")
    row = study.loc["water supply"]
    assert row["cost_cny"] == pytest.approx(1000.0, abs=1e-6)
    assert row["water_mm3"] == pytest.approx(0.036, rel=1e-12)
    assert row["cost_cny_per_m3"] == pytest.approx(1 / 36, rel=1e-9)
    assert row["water_value_cny_per_m3"] == pytest.approx(1 / 36, rel=1e-9)


def _water_balance_residual_hm3(run, stations: list[str]) -> float:
    """Largest |V[t] - V[t-1] - k w (inflow + arrivals - turbined - spilled - withdrawal)| over
    the stations, from the result tables and the initial storage of the input."""
    h = run.tables["hydro"]
    w = pd.Series(run.data.weights_h, index=run.data.snapshots)
    hydro = run.data.tables["hydro"]
    worst = 0.0
    for s in stations:
        d = h[h["station"] == s].sort_values("snapshot")
        level = d["storage_hm3"].to_numpy()
        before = np.concatenate([[hydro.at[s, "storage_initial_hm3"]], level[:-1]])
        flow = (
            d["inflow_m3s"]
            + d["arrivals_m3s"]
            - d["turbined_m3s"]
            - d["spilled_m3s"]
            - d["withdrawal_m3s"]
        ).to_numpy()
        change = HM3_PER_M3S_H * w[d["snapshot"]].to_numpy() * flow
        worst = max(worst, float(np.abs(level - before - change).max()))
    return worst


@pytest.fixture(scope="module")
def years():
    runs = {
        year: solve("pprd_dongjiang_drought", inflow_year=year, **WEEKLY)
        for year in ("normal", "drought")
    }
    for run in runs.values():
        assert run.solution.status == "optimal", run.solution.message
    return runs


def test_hong_kong_withdrawal_is_the_agreement_by_month():
    """The series file's monthly profile times the intake's mean withdrawal adds up to the
    ceiling of 820 Mm3 over the year, with more in the dry season than in the wet."""
    hydro = load_case(CASES / "pprd_week.yaml").tables["hydro"]
    pu = pd.read_csv(
        ROOT / "networks" / "pprd" / "timeseries" / "withdrawal_pu.csv",
        index_col="timestamp",
        parse_dates=True,
    )[HK_INTAKE]
    m3 = pu * hydro.at[HK_INTAKE, "withdrawal_m3s"] * 3600.0
    assert m3.sum() == pytest.approx(820e6, rel=1e-6)
    monthly = m3.groupby(m3.index.month).sum()
    assert monthly[[1, 2, 12]].min() > monthly[[5, 6, 7]].max()


def test_water_balance_closes_per_reservoir_and_intake(years):
    for run in years.values():
        nodes = [*RESERVOIRS, HK_INTAKE, "Dongjiang at Taiyuan (Shenzhen-Dongguan intake)"]
        assert _water_balance_residual_hm3(run, nodes) < 1e-6


def test_normal_year_delivers_the_obligation_and_ends_at_the_rule_levels(years):
    run = years["normal"]
    h = run.tables["hydro"]
    w = pd.Series(run.data.weights_h, index=run.data.snapshots)
    hk = h[h["station"] == HK_INTAKE]
    delivered = (hk["withdrawal_m3s"] * w[hk["snapshot"]].to_numpy() * 3600.0).sum()
    # the profile's hours in the horizon (52 weeks: all of the year but 31 December)
    pu = pd.read_csv(
        ROOT / "networks" / "pprd" / "timeseries" / "withdrawal_pu.csv",
        index_col="timestamp",
        parse_dates=True,
    )[HK_INTAKE].iloc[: 52 * 168]
    hydro = run.data.tables["hydro"]
    assert delivered == pytest.approx(
        pu.sum() * hydro.at[HK_INTAKE, "withdrawal_m3s"] * 3600, rel=1e-9
    )
    sec = run.tables["security"]
    water = sec[(sec["zone"] == "Hong Kong") & (sec["target"] == "water supply")]
    assert len(water) == 52 and water["met"].all()
    for s in RESERVOIRS:
        d = h[h["station"] == s].sort_values("snapshot")
        active = hydro.at[s, "storage_max_hm3"]
        # the fixed end rule: back at the start, the rule level of 60 % of active storage
        # (rounded to 0.1 hm3 in the table)
        assert d["storage_hm3"].iloc[-1] == pytest.approx(
            hydro.at[s, "storage_initial_hm3"], abs=1e-6
        )
        assert d["storage_hm3"].iloc[-1] == pytest.approx(0.6 * active, abs=0.1)
        assert d["storage_hm3"].between(-1e-6, active + 1e-6).all()


def test_drought_meets_hong_kong_and_costs_more_water(years):
    normal, drought = years["normal"], years["drought"]
    sec = drought.tables["security"]
    water = sec[(sec["zone"] == "Hong Kong") & (sec["target"] == "water supply")]
    assert water["met"].all()
    assert drought.summary["unserved_mwh"] == pytest.approx(0.0, abs=1e-6)

    def dongjiang(run, column):
        h = run.tables["hydro"]
        return h[h["station"].isin(RESERVOIRS)].groupby("station")[column].mean()

    # less hydropower: the drought costs the power system more
    assert (dongjiang(drought, "p_mw") < dongjiang(normal, "p_mw")).all()
    assert drought.solution.objective_cny > normal.solution.objective_cny
    # the reservoirs are small beside Guangdong's system: their water is worth the power it
    # makes at Guangdong's price in either year, value = price x k / 3,600 s
    for run in (normal, drought):
        h = run.tables["hydro"]
        x = h[h["station"] == "Xinfengjiang"].set_index("snapshot")
        p = run.tables["prices"]
        gd = p[p["bus"] == "GD"].set_index("snapshot")["price_cny_per_mwh"]
        k = run.data.tables["hydro"].at["Xinfengjiang", "mw_per_m3s"]
        inside = (x["storage_hm3"] > 1e-3) & (x["spilled_m3s"] < 1e-6)
        np.testing.assert_allclose(
            x.loc[inside, "water_value_cny_per_m3"].mean(),
            (gd[inside[inside].index] * k / 3600).mean(),
            rtol=0.05,
        )


def test_security_study_prices_hong_kongs_water_in_the_drought():
    data = load_case(CASES / "pprd_dongjiang_drought.yaml", {**WEEKLY, "security_off": WATER_ONLY})
    study = cost_of_security(data)
    row = study.table.set_index("target").loc["water supply"]
    assert row["status"] == "optimal"
    assert row["water_mm3"] == pytest.approx(820 * 52 * 168 / 8760, rel=0.01)
    # the power system gives up hydropower (and storage timing) for the water: never negative
    assert row["cost_cny"] >= -1e-6 * abs(row["objective_cny"])
    assert np.isfinite(row["cost_cny_per_m3"]) and np.isfinite(row["water_value_cny_per_m3"])
