"""A PPRD winter day as a slice of its year (cases/pprd_year_day1.yaml): no load shed.

1 January 2025, hourly, rolled as one window against a seasonal plan of the whole of 2025
(`rolling.plan_span: year`). Solved over the day alone, every fixed reservoir must end the day
at its start level, so the day turbines no more than flows in, and 441 GWh are shed, 279 GWh
of them in Sichuan (2,459 GWh over the week from 1 January). Planned over the year, the day
starts at the case's levels and ends at the plan's levels for 2 January: the winter draw-down
the year's plan makes serves the day's demand in full.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridopt.studies.rolling import solve_rolling
from tests.conftest import CASES

CASE = CASES / "pprd_year_day1.yaml"


@pytest.fixture(scope="module")
def day():
    run = solve_rolling(CASE)
    assert run.status.has_solution, run.summary.get("diagnosis")
    return run


def test_a_winter_day_planned_over_its_year_sheds_no_load(day):
    assert day.summary["seasonal_plan"]["span"] == "year"
    assert day.summary["unserved_mwh"] <= 0.05, day.summary.get("unserved_by_region_mwh")


def test_its_reservoirs_end_the_day_at_the_plan_of_the_year(day):
    """At least at the plan's level for 2 January 00:00 (`target: at_least`), or the miss is
    reported; the first snapshots of the plan's sheet are those of 1 January."""
    plan = day.plan
    assert plan is not None and plan.offset_h == 0
    assert day.tables["seasonal_plan"]["time"].min() == np.datetime64("2025-01-01")
    ends = day.tables["window_ends"]
    ends = ends[(ends["table"] == "hydro") & ends["target"].notna()].set_index("store")
    planned = plan.level_at("hydro", 24)
    assert len(planned) and ends["target"].reindex(planned.index).to_numpy() == pytest.approx(
        planned.to_numpy()
    )
    reached = ends["level"] + ends["target_missed"]
    assert (reached >= ends["target"] - 1e-4 * np.maximum(1.0, ends["target"].abs())).all()


def test_hong_kong_fuel_mix_holds_on_the_day(day):
    sec = day.tables["security"]
    mix = sec[(sec["zone"] == "Hong Kong") & (sec["unit"] == "pu of demand")]
    coal = mix[mix["element"].str.startswith("max 25")]
    gas = mix[mix["element"].str.startswith("min 50")]
    assert (coal["lhs"] <= 0.25 + 1e-6).all() and (gas["lhs"] >= 0.5 - 1e-6).all()
