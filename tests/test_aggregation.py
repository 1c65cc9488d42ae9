"""Typical periods (gridopt.inputs.aggregation): weights, exactness on periodic series, stores
cyclic
per period or chained through the year, commitment cyclic per period, and bad settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.synthetic import write_synthetic
from gridopt.model.hydro import HM3_PER_M3S_H
from gridopt.model.registry import build_model
from gridopt.studies.run import solve_case
from tests.conftest import CASES


def _network(
    folder: Path, days: int, periodic: bool, seasonal_inflow: bool = False, cascade: bool = False
) -> Path:
    """One bus with coal, gas, solar, a lossy battery and a hydro reservoir (and, with
    `cascade`, a run-of-river station 3 h below it). `periodic`: every day the same."""
    (folder / "timeseries").mkdir(parents=True)
    hours = 24 * days
    h = np.arange(hours)
    rng = np.random.default_rng(7)
    day_noise = np.ones(days) if periodic else rng.uniform(0.8, 1.2, days)
    load = (480 + 200 * np.sin(2 * np.pi * (h % 24 - 12) / 24)) * np.repeat(day_noise, 24)
    sun = np.clip(np.sin(np.pi * (h % 24 - 6) / 12), 0, None)
    sun = sun * (1.0 if periodic else np.repeat(rng.uniform(0.3, 1.0, days), 24))
    season = np.sin(np.pi * h / hours) ** 4 if seasonal_inflow else np.full(hours, 0.5)
    inflow = 20 + 160 * season
    stamps = pd.date_range("2025-01-01", periods=hours, freq="h").strftime("%Y-%m-%d %H:%M")
    pd.DataFrame({"timestamp": stamps, "X load": load}).to_csv(
        folder / "timeseries" / "load_mw.csv", index=False
    )
    pd.DataFrame({"timestamp": stamps, "X solar": sun}).to_csv(
        folder / "timeseries" / "availability_pu.csv", index=False
    )
    pd.DataFrame({"timestamp": stamps, "Dam": inflow}).to_csv(
        folder / "timeseries" / "inflow_m3s.csv", index=False
    )
    pd.DataFrame({"name": ["X"], "region": ["R"]}).to_csv(folder / "buses.csv", index=False)
    pd.DataFrame(
        {
            "name": ["coal", "gas", "solar", "hydro", "battery"],
            "renewable": [False, False, True, True, False],
            "fossil": [True, True, False, False, False],
        }
    ).to_csv(folder / "carriers.csv", index=False)
    pd.DataFrame(
        {
            "name": ["coal", "gas", "solar"],
            "bus": "X",
            "carrier": ["coal", "gas", "solar"],
            "p_max_mw": [300.0, 600.0, 250.0],
            "marginal_cost_cny_per_mwh": [300.0, 700.0, 0.0],
            "co2_t_per_mwh": [0.85, 0.37, 0.0],
            "availability_profile": ["", "", "X solar"],
        }
    ).to_csv(folder / "generators.csv", index=False)
    pd.DataFrame({"name": ["X load"], "bus": ["X"]}).to_csv(folder / "loads.csv", index=False)
    pd.DataFrame(
        {
            "name": ["battery"],
            "bus": ["X"],
            "carrier": ["battery"],
            "p_max_mw": [60.0],
            "energy_max_mwh": [240.0],
            "efficiency_charge": [0.9],
            "efficiency_discharge": [0.92],
            "standing_loss_per_h": [0.002],
        }
    ).to_csv(folder / "storage_units.csv", index=False)
    dam = {
        "name": "Dam",
        "bus": "X",
        "carrier": "hydro",
        "river": "R1",
        "p_max_mw": 150.0,
        "mw_per_m3s": 1.0,
        "storage_max_hm3": 12.0 if seasonal_inflow else 2.0,
        "storage_min_hm3": 0.5,
        "storage_initial_hm3": 1.0,
        "end_rule": "cyclic",
        "inflow_profile": "Dam",
        "downstream": "Below" if cascade else "",
        "travel_time_h": 3.0 if cascade else 0.0,
    }
    rows = [dam]
    if cascade:
        rows.append(
            {
                "name": "Below",
                "bus": "X",
                "carrier": "hydro",
                "river": "R1",
                "p_max_mw": 60.0,
                "mw_per_m3s": 0.4,
                "storage_max_hm3": 0.0,
                "storage_min_hm3": 0.0,
                "end_rule": "free",
                "inflow_profile": "",
                "downstream": "",
                "travel_time_h": 0.0,
            }
        )
    pd.DataFrame(rows).to_csv(folder / "hydro.csv", index=False)
    return folder


def _case(
    tmp_path: Path, days: int, aggregation: dict | None = None, name: str = "case", **network: bool
) -> Path:
    net = tmp_path / "net"
    if not net.exists():
        _network(net, days, **network)
    horizon = {"start": "2025-01-01 00:00", "snapshots": 24 * days}
    if aggregation is not None:
        horizon["aggregation"] = aggregation
    (tmp_path / "cases").mkdir(exist_ok=True)
    case = tmp_path / "cases" / f"{name}.yaml"
    # the project is stated: tmp_path holds cases/ and net/, not networks/
    case.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "network": "../net",
                "project": "..",
                "horizon": horizon,
                "model": "dispatch",
            },
            sort_keys=False,
        )
    )
    return case


def _energy_by_carrier(run) -> pd.Series:
    return run.tables["generation"].groupby("carrier")["energy_mwh"].sum()


def test_weights_sum_to_the_horizon_and_typical_periods_are_real_periods(tmp_path):
    case = write_synthetic(tmp_path / "syn", n_buses=4, hours=24 * 21, seed=3)
    full = load_case(case)
    data = load_case(
        case,
        {
            "horizon.aggregation": {
                "periods": 4,
                "period_h": 24,
                "extreme_periods": ["peak_load"],
                "preserve_means": False,
            }
        },
    )
    typ = data.typical
    assert data.weights_h.sum() == pytest.approx(24 * 21)
    assert typ.n_original == 21 and data.n_snapshots == 24 * typ.n_periods
    assert np.array_equal(np.bincount(typ.period_order, minlength=typ.n_periods), typ.period_weight)
    # each typical period is its medoid: the original period's dates and (unscaled) series
    for k, o in enumerate(typ.representative):
        hours = full.snapshots[24 * o : 24 * (o + 1)]
        assert typ.period_order[o] == k
        assert (data.snapshots[24 * k : 24 * (k + 1)] == hours).all()
        # (tsam scales to [0, 1] and back: equal to the last bit or two)
        np.testing.assert_allclose(
            data.load_mw.iloc[24 * k : 24 * (k + 1)].to_numpy(),
            full.load_mw.loc[hours].to_numpy(),
            rtol=1e-13,
        )
    # the peak hour's day is a typical period of its own
    peak_day = int(np.argmax(full.load_mw.sum(axis=1).to_numpy())) // 24
    assert typ.period_weight[typ.period_order[peak_day]] == 1


def test_means_preserved_by_rescaling(tmp_path):
    case = write_synthetic(tmp_path / "syn", n_buses=4, hours=24 * 21, seed=3)
    full = load_case(case)
    data = load_case(case, {"horizon.aggregation": {"periods": 4, "period_h": 24}})
    energy = (data.load_mw.to_numpy() * data.weights_h[:, None]).sum(axis=0)
    np.testing.assert_allclose(energy, full.load_mw.to_numpy().sum(axis=0), rtol=1e-6)
    assert (
        data.availability_pu.to_numpy() <= full.availability_pu.to_numpy().max(axis=0) + 1e-12
    ).all()
    err = data.typical.error.set_index("series")
    assert err.loc["load_mw", "total_error_pu"] == pytest.approx(0.0, abs=1e-6)
    assert 0 < err.loc["availability_pu", "nrmse_mean_pu"] < 0.5


@pytest.mark.parametrize("linking", ["seasonal", "periodic"])
def test_periodic_series_reproduce_the_full_horizon_optimum(tmp_path, linking):
    """Every day the same: one typical day of weight 7 has the optimum of the whole week."""
    full = solve_case(_case(tmp_path, 7, periodic=True))
    agg = solve_case(
        _case(tmp_path, 7, {"periods": 1, "period_h": 24, "linking": linking}, name="agg")
    )
    assert agg.data.n_snapshots == 24 and agg.data.typical.period_weight.tolist() == [7.0]
    assert agg.solution.objective_cny == pytest.approx(full.solution.objective_cny, rel=1e-9)
    pd.testing.assert_series_equal(
        _energy_by_carrier(agg), _energy_by_carrier(full), rtol=1e-6, atol=1e-3
    )
    # storage and water move within the day: the typical day is not trivial
    assert agg.tables["storage"]["discharge_mw"].max() > 1.0
    gen = agg.tables["generation"]
    np.testing.assert_allclose(gen["energy_mwh"], gen["p_mw"] * gen["weight_h"], rtol=1e-12)


def test_storage_is_cyclic_in_each_typical_period(tmp_path):
    """Periodic linking, read from the result tables alone: in each typical period the
    recursion holds hour by hour, wrapping from the period's last hour to its first."""
    run = solve_case(
        _case(tmp_path, 14, {"periods": 4, "period_h": 24, "linking": "periodic"}, periodic=False)
    )
    sto = run.tables["storage"]
    e = sto["energy_mwh"].to_numpy().reshape(-1, 24)
    c = sto["charge_mw"].to_numpy().reshape(-1, 24)
    d = sto["discharge_mw"].to_numpy().reshape(-1, 24)
    before = np.roll(e, 1, axis=1)  # the hour before each hour, inside its period
    expected = (1 - 0.002) * before + 0.9 * c - d / 0.92
    np.testing.assert_allclose(e, expected, atol=1e-6)
    assert (d.max(axis=1) > 1.0).all()  # each typical day uses the battery
    assert sorted(sto["weight_h"].unique()) == sorted(set(run.data.weights_h))


def test_seasonal_reservoir_conserves_water_over_the_year(tmp_path):
    """Seasonal linking: the reservoir fills in the wet season and empties after it; the level
    chained through the year obeys the water balance in every hour of the horizon, across
    period boundaries, and stays within its bounds; periodic linking cannot do that and costs
    more."""
    days = 30
    seasonal = solve_case(
        _case(
            tmp_path,
            days,
            {"periods": 5, "period_h": 24},
            periodic=False,
            seasonal_inflow=True,
            cascade=True,
        )
    )
    periodic = solve_case(
        _case(
            tmp_path, days, {"periods": 5, "period_h": 24, "linking": "periodic"}, name="periodic"
        )
    )
    typ = seasonal.data.typical
    year = seasonal.tables["hydro_year"]
    level = year[year["station"] == "Dam"]["storage_hm3"].to_numpy()
    assert len(level) == 24 * days
    hydro = seasonal.tables["hydro"].set_index("station")
    dam = hydro.loc["Dam"]
    net = (dam["inflow_m3s"] - dam["turbined_m3s"] - dam["spilled_m3s"]).to_numpy()
    # the change of level in every hour of the year is that hour's net inflow (its typical
    # period's hour), the first hour of each period following the last of the period before
    change = HM3_PER_M3S_H * typ.expand(net)
    np.testing.assert_allclose(np.diff(level), change[1:], atol=1e-7)
    np.testing.assert_allclose(level[0] - level[-1], change[0], atol=1e-7)  # cyclic year
    assert level.min() >= 0.5 - 1e-7 and level.max() <= 12.0 + 1e-7
    # water moves between seasons: far more than a day's worth of swing
    assert level.max() - level.min() > 5.0
    # over the year, inflow = turbined + spilled (cyclic): weighted sums of the typical hours
    w = seasonal.data.weights_h
    assert (net * w).sum() == pytest.approx(0.0, abs=1e-6)
    # the run-of-river station below gets every release (routing wraps inside a period)
    below = hydro.loc["Below"]
    assert (below["arrivals_m3s"] * w).sum() == pytest.approx(
        ((dam["turbined_m3s"] + dam["spilled_m3s"]) * w).sum()
    )
    assert periodic.solution.objective_cny > seasonal.solution.objective_cny * 1.001


def test_commitment_is_cyclic_in_each_typical_period():
    """A uc case on typical periods of 6 h: units on at a period's first hour follow its last
    hour, and no period starts or stops units that it does not stop or start again."""
    run = solve_case(
        CASES / "tiny_uc.yaml", changes={"horizon.aggregation": {"periods": 2, "period_h": 6}}
    )
    assert run.solution.status == "optimal"
    com = run.tables["commitment"]
    for _, unit in com.groupby("generator", sort=False):
        u = unit["units_on"].to_numpy().reshape(-1, 6)
        v = unit["units_started"].to_numpy().reshape(-1, 6)
        z = unit["units_stopped"].to_numpy().reshape(-1, 6)
        np.testing.assert_allclose(u - np.roll(u, 1, axis=1), v - z, atol=1e-9)


def test_chronological_case_is_built_as_before():
    """Without aggregation the time structure is the horizon itself: ramps from the second
    snapshot on, stores with their initial levels, no linking rows, no weight column."""
    data = load_case(CASES / "tiny_storage.yaml")
    model = build_model(data)
    now, before = model.transitions()
    assert now.tolist() == list(range(1, model.T)) and before.tolist() == list(range(model.T - 1))
    assert model.dt is model.w and not model.levels and data.typical is None
    assert not [n for n in model.row_blocks if n.endswith(("_chain", "_hi", "_lo"))]


@pytest.mark.parametrize(
    ("setting", "column", "words"),
    [
        ({"periods": 2, "period_h": 5}, "horizon.aggregation.period_h", "divide the horizon"),
        ({"periods": 8, "period_h": 24}, "horizon.aggregation.periods", "outnumber"),
        (
            {"periods": 2, "period_h": 24, "extreme_periods": ["min_inflow"]},
            "horizon.aggregation.extreme_periods",
            "no series",
        ),
    ],
)
def test_bad_aggregation_settings_are_named(tmp_path, setting, column, words):
    case = write_synthetic(tmp_path / "syn", n_buses=3, hours=24 * 7, seed=1)
    with pytest.raises(InputError) as err:
        load_case(case, {"horizon.aggregation": setting})
    assert any(p.column == column and words in p.rule for p in err.value.problems)


def test_monthly_contracts_need_the_chronological_horizon():
    with pytest.raises(InputError) as err:
        load_case(
            CASES / "tiny_contract.yaml", {"horizon.aggregation": {"periods": 2, "period_h": 24}}
        )
    assert any(p.column == "horizon.aggregation" for p in err.value.problems)
