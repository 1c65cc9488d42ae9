"""Hydro cascades: routing with fractional delay, initial releases, withdrawals, conservation."""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.case import load_case
from gridopt.model import build_model, families
from gridopt.results import collect
from gridopt.run import RunResult
from gridopt.solve import solve
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
