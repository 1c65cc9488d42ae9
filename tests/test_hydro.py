"""Hydro cascades: routing with fractional delay, initial releases, withdrawals, conservation."""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.inputs.case import load_case
from gridopt.model.registry import build_model, families
from gridopt.results.tables import collect
from gridopt.solver.solve import solve
from gridopt.studies.run import RunResult
from tests.conftest import CASES
from tests.invariants import station_storage_residual_hm3, water_balance_residual_hm3


def _run(data) -> RunResult:
    model = build_model(data)
    sol = solve(model)
    assert sol.status == "optimal", sol.message
    return RunResult(data, model, sol, collect(sol, families(data)), {})


def _toy(changes: dict[tuple[str, str], object] | None = None):
    data = load_case(CASES / "tiny_hydro_cascade.yaml")
    hydro = data.tables["hydro"]
    for (station, column), value in (changes or {}).items():
        hydro.loc[station, column] = value
    return data


def test_fractional_delay_splits_release_between_two_hours():
    """A 1.5 h travel time: half of a release arrives 1 h later, half 2 h later."""
    data = _toy({("Upper", "travel_time_h"): 1.5, ("Upper", "release_initial_m3s"): 10.0})
    run = _run(data)
    h = run.tables["hydro"].set_index(["station", "snapshot"]).sort_index()
    release = (h.loc["Upper", "turbined_m3s"] + h.loc["Upper", "spilled_m3s"]).to_numpy()
    before = np.concatenate([[10.0, 10.0], release])  # releases at t = -2, -1, 0, 1, 2, 3
    expected = 0.5 * before[1:5] + 0.5 * before[0:4]
    np.testing.assert_allclose(h.loc["Lower", "arrivals_m3s"].to_numpy(), expected, atol=1e-9)
    assert np.abs(water_balance_residual_hm3(run)).max() < 1e-9
    assert station_storage_residual_hm3(run) < 1e-9


def test_withdrawal_obligation_is_honoured_and_costs_energy():
    """Taking 5 m3/s for water supply from Upper leaves 80 (m3/s)h instead of 100."""
    base = _run(_toy())
    data = _toy({("Upper", "withdrawal_m3s"): 5.0})
    run = _run(data)
    # 20 (m3/s)h less water, each worth 0.5 MWh at Lower at 500 CNY/MWh (it was being spilled)
    assert run.solution.objective_cny - base.solution.objective_cny == pytest.approx(5_000)
    assert np.abs(water_balance_residual_hm3(run)).max() < 1e-9
    assert station_storage_residual_hm3(run) < 1e-9


def test_withdrawal_beyond_the_water_available_is_infeasible():
    data = _toy({("Upper", "withdrawal_m3s"): 40.0})
    assert solve(build_model(data)).status == "infeasible"


def test_cyclic_and_environmental_minimum():
    """Cyclic storage ends where it starts; an environmental minimum forces releases."""
    data = _toy({("Upper", "end_rule"): "cyclic", ("Upper", "q_env_min_m3s"): 3.0})
    data.inflow_m3s["Upper"] = 20.0
    run = _run(data)
    h = run.tables["hydro"].set_index(["station", "snapshot"]).sort_index()
    upper = h.loc["Upper"]
    assert (upper["turbined_m3s"] + upper["spilled_m3s"]).min() >= 3.0 - 1e-9
    assert np.abs(water_balance_residual_hm3(run)).max() < 1e-9
    assert station_storage_residual_hm3(run) < 1e-9


WEST = {"YN", "YN_hub", "GZ", "SC", "SC_hub"}


def west_to_east_mwh(run: RunResult) -> float:
    """Energy delivered into Guangdong and Guangxi by transfers from the western provinces."""
    parts = []
    for sheet, sent, delivered in (
        ("flows", "bus0", "p1_mw"),
        ("corridors", "bus0", "delivered_mw"),
    ):
        t = run.tables.get(sheet)
        if t is not None and delivered in t:
            into_east = t["bus1"].isin({"GD", "GX"}) & t[sent].isin(WEST)
            parts.append(float(t.loc[into_east, delivered].sum()))
    return sum(parts)


@pytest.fixture(scope="module")
def inflow_years(pprd_week):
    from tests.conftest import solve as solve_case

    runs = {year: solve_case("pprd_week", inflow_year=year) for year in ("dry", "wet")}
    runs["normal"] = pprd_week  # the case's own inflow year
    for run in runs.values():
        assert run.solution.status == "optimal"
    return runs


def test_dry_year_sends_less_west_to_east_and_raises_guangdong_prices(inflow_years):
    def gd_price(run):
        p = run.tables["prices"]
        return p.loc[p["bus"] == "GD", "price_cny_per_mwh"].mean()

    dry, normal = inflow_years["dry"], inflow_years["normal"]
    assert west_to_east_mwh(dry) < west_to_east_mwh(normal)
    assert gd_price(dry) > gd_price(normal)


def test_wet_year_spills_more(inflow_years):
    def spilled_hm3(run):
        return float((run.tables["hydro"]["spilled_m3s"] * 0.0036).sum())

    assert spilled_hm3(inflow_years["wet"]) > spilled_hm3(inflow_years["normal"])


def test_inflow_years_conserve_water(inflow_years):
    for run in inflow_years.values():
        assert np.abs(water_balance_residual_hm3(run)).max() < 1e-6


def test_a_reservoir_that_cannot_deliver_is_diagnosed_by_name():
    from gridopt.solver.diagnose import diagnose_infeasibility

    data = _toy({("Upper", "withdrawal_m3s"): 40.0})
    model = build_model(data)
    assert solve(model).status == "infeasible"
    words = [c.message for c in diagnose_infeasibility(model)]
    assert any(
        "water balance of hydro station Upper" in w and "short of water" in w for w in words
    ), words


def test_implied_minimum_releases_are_left_out_and_change_nothing(monkeypatch):
    """Run-of-river stations below stations with minimum releases get their minimum from
    upstream and their own inflow; their rows are left out, and the optimum is the same with
    and without them (two days of the PPRD week, 13 such stations: 11 on the cascades and the
    two Dongjiang intakes, which hold no water and release no less than reaches them)."""
    import gridopt.model.hydro as hydro

    data = load_case(CASES / "pprd_week.yaml", {"horizon.snapshots": 48})
    model = build_model(data)
    dropped = data.tables["hydro"].index[hydro.implied_minimum(model)]
    ror = data.tables["hydro"]["storage_max_hm3"] == 0
    assert set(dropped) == set(data.tables["hydro"].index[ror]) and len(dropped) == 13
    kept = model.row_blocks["hydro_min_release"].components
    assert not set(dropped) & set(kept)
    lean = solve(model)
    monkeypatch.setattr(
        hydro, "implied_minimum", lambda m: np.zeros(len(m.data.tables["hydro"]), dtype=bool)
    )
    full_model = build_model(data)
    full = solve(full_model)
    # a station without a minimum release (Hong Kong's intake) had no row to leave out
    with_row = data.tables["hydro"].loc[dropped, "q_env_min_m3s"] > 0
    assert full_model.n_rows - model.n_rows == int(with_row.sum()) * 48
    assert lean.objective_cny == pytest.approx(full.objective_cny, rel=1e-9)
    # and the dropped minimums hold in the solution all the same
    release = lean.value("hydro_turbine") + lean.value("hydro_spill")
    q_env = data.tables["hydro"]["q_env_min_m3s"].to_numpy()[:, None]
    pos = data.tables["hydro"].index.get_indexer(dropped)
    assert (release[pos] >= q_env[pos] - 1e-6).all()
