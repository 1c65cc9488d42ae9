"""Unit commitment exported to PyPSA: committable generators reach gridopt's MIP optimum.

On the tiny case (`cases/tiny_uc.yaml`: three single units whose start-up and shut-down
capabilities lie within ramp + stable minimum, where PyPSA's committable rows describe the same
schedules as gridopt's) both tools solve to a zero gap and must agree; clusters are expanded
into single units first, and what PyPSA cannot express is refused by name. The MIP's gap
trace (used by benchmarks/test_uc.py for the time to a gap) is checked here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pypsa
import pytest

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.interop.pypsa import _quiet, to_pypsa
from gridopt.interop.units import expand_units, unit_names
from gridopt.model.registry import build_model
from gridopt.solver.highs import run_highs
from gridopt.solver.solve import solve
from gridopt.solver.types import GapPoint, seconds_to_gap
from tests.conftest import CASES

TINY = CASES / "tiny_uc.yaml"


def pypsa_mip(n: pypsa.Network) -> float:
    """PyPSA's optimize() with HiGHS to a zero gap: the objective (NaN unless optimal)."""
    with _quiet():
        _, condition = n.optimize(solver_name="highs", mip_rel_gap=0.0, output_flag=False)
    return float(n.objective) if str(condition) == "optimal" else np.nan


def gridopt_mip(data: CaseData) -> float:
    sol = solve(build_model(data))
    assert sol.status == "optimal", sol.message
    assert sol.mip_gap == pytest.approx(0.0, abs=1e-9)
    return sol.objective_cny


def _initial(data: CaseData, state: dict[str, tuple[int, int | None]]) -> CaseData:
    g = data.tables["generators"]
    for name, (on, held) in state.items():
        g.loc[name, ["units_on_initial", "hours_in_state_initial"]] = [on, held]
    return data


@pytest.mark.parametrize(
    ("resolution", "state"),
    [
        (1, {}),  # the case as it is: coal on for 10 h, CCGT off for 5 h, peaker off long
        # coal on for 3 h (5 more to serve), CCGT off for 1 h (3 more), peaker on long
        (1, {"coal A": (1, 3), "ccgt B": (0, 1), "ocgt C": (1, None)}),
        # 2-hour snapshots: minimum times of 8 and 4 h are 4 and 2 snapshots; 3 h on leaves
        # ceil(5 / 2) = 3 snapshots on (1 served), 2 h off leaves 1 snapshot off (1 served)
        (2, {"coal A": (1, 3), "ccgt B": (0, 2)}),
    ],
)
def test_tiny_uc_reaches_the_same_mip_optimum_in_pypsa(resolution, state):
    data = _initial(
        load_case(
            TINY, {"horizon.resolution_h": resolution, "horizon.snapshots": 24 // resolution}
        ),
        state,
    )
    n, notes = to_pypsa(data)
    assert notes == []
    g = n.generators
    assert g["committable"].all()
    assert g.at["coal A", "min_up_time"] == 8 // resolution
    assert g.at["ocgt C", "start_up_cost"] == 500.0
    # the must-run floor of a committable unit is its stable minimum while it is on
    np.testing.assert_allclose(n.generators_t.p_min_pu["ccgt B"], 0.7)
    assert gridopt_mip(data) == pytest.approx(pypsa_mip(n), rel=1e-9)


def test_the_initial_state_binds_in_both_tools():
    """500 MW all day: the CCGT (with the coal unit) is cheaper than the peaker. Stopped an
    hour ago it must stay off 3 more hours and the peaker fills in: dearer than when it has
    been off long enough to start at once, in both tools alike."""
    recent = _initial(load_case(TINY), {"ccgt B": (0, 1)})
    long_off = _initial(load_case(TINY), {"ccgt B": (0, None)})
    recent.load_mw.iloc[:, 0] = long_off.load_mw.iloc[:, 0] = 500.0
    costs = [(gridopt_mip(d), pypsa_mip(to_pypsa(d)[0])) for d in (recent, long_off)]
    for ours, theirs in costs:
        assert ours == pytest.approx(theirs, rel=1e-9)
    assert costs[0][0] > costs[1][0] + 1.0


def test_clusters_are_refused_then_expanded_to_the_same_optimum(tmp_path):
    """ccgt B as a cluster of three 100 MW units: PyPSA commits one unit per Generator, so the
    export refuses the cluster by name; expanded into three rows it exports, and gridopt's
    clustered optimum, its expanded optimum and PyPSA's agree."""
    data = load_case(
        TINY,
        {
            "overrides": [
                {"table": "generators", "name": "ccgt B", "column": "units", "value": 3},
                {"table": "generators", "name": "ccgt B", "column": "units_on_initial", "value": 2},
            ]
        },
    )
    with pytest.raises(InputError, match=r"'ccgt B' are clusters .*expand_units"):
        to_pypsa(data)
    expanded = expand_units(data)
    names = unit_names("ccgt B", 3)
    g = expanded.tables["generators"]
    assert "ccgt B" not in g.index and set(names) <= set(g.index)
    assert g.loc[names, "p_max_mw"].tolist() == [100.0] * 3
    assert g.loc[names, "ramp_up_mw_per_h"].tolist() == [50.0] * 3
    assert g.loc[names, "units_on_initial"].tolist() == [1, 1, 0]
    pd.testing.assert_series_equal(
        expanded.availability_pu[names[2]], data.availability_pu["ccgt B"], check_names=False
    )
    n, _ = to_pypsa(expanded)
    clustered = gridopt_mip(data)
    assert gridopt_mip(expanded) == pytest.approx(clustered, rel=1e-9)
    assert pypsa_mip(n) == pytest.approx(clustered, rel=1e-9)


def test_what_pypsa_cannot_commit_is_refused_or_named():
    with pytest.raises(InputError, match="spinning reserve has no PyPSA equivalent"):
        to_pypsa(load_case(TINY, {"reserve.enabled": True}))
    # on since the start of the first snapshot with 8 h to serve: PyPSA counts >= 1 snapshot
    data = _initial(load_case(TINY), {"coal A": (1, 0)})
    with pytest.raises(InputError, match="'coal A' have been in their initial state for less"):
        to_pypsa(data)
    # a start-up capability above ramp + stable minimum: PyPSA's rows cut off more
    data = load_case(TINY)
    data.tables["generators"].loc["coal A", "ramp_up_mw_per_h"] = 10.0
    data.tables["generators"].loc["coal A", "startup_ramp_pu"] = 0.6
    _, notes = to_pypsa(data)
    assert len(notes) == 1 and "'coal A'" in notes[0] and "can start" in notes[0]


def test_gap_trace_and_pypsas_model_solved_with_the_same_options():
    """The gap trace follows the MIP to its end in both tools: incumbents never rise, bounds
    never fall, the last point is the optimum with gap 0, the times to 1 % and 0 % follow each
    other. PyPSA's own model (linopy's HiGHS hand-off) solved by `run_highs` reaches gridopt's
    optimum with one binary status, start-up and shut-down per unit and snapshot."""
    data = load_case(TINY)
    trace: list[GapPoint] = []
    sol = solve(build_model(data), gap_trace=trace)
    with _quiet():
        m = to_pypsa(data)[0].optimize.create_model()
        h = m.to_highspy()
    theirs: list[GapPoint] = []
    run = run_highs(h, data.case.solver, gap_trace=theirs)
    assert run.status == "optimal" and run.mip_gap == pytest.approx(0.0, abs=1e-9)
    assert run.objective_cny == pytest.approx(sol.objective_cny, rel=1e-9)
    assert run.n_integer == 3 * 3 * 24
    for points, optimum in ((trace, sol.objective_cny), (theirs, run.objective_cny)):
        incumbents = np.array([p.objective_cny for p in points])
        bounds = np.array([p.bound_cny for p in points])
        assert (incumbents[1:] <= incumbents[:-1] + 1e-6).all()
        assert (bounds[1:] >= bounds[:-1] - 1e-6).all()
        assert points[-1].objective_cny == pytest.approx(optimum, rel=1e-9)
        assert points[-1].gap == pytest.approx(0.0, abs=1e-9)
        assert 0 < seconds_to_gap(points, 0.01) <= seconds_to_gap(points, 0.0)
    assert seconds_to_gap([GapPoint(1.0, np.inf, -np.inf, np.inf)], 0.01) is None
