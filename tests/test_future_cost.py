"""Future-cost functions by dual dynamic programming (gridopt.studies.future_cost) on a small
two-reservoir cascade over four weekly stages (cases/tiny_cascade_stages.yaml): the bounds meet
at the optimum of the same four weeks as one LP, the windows that use the cuts reproduce it,
the cut slopes are subgradients of the cost to the end, and the cuts over inflow scenarios are
valid for the expected cost of the stage after them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridopt.cli import app
from gridopt.inputs.case import load_case
from gridopt.results.chart_data import store_trajectories
from gridopt.studies.future_cost import (
    PULL_FLOOR,
    Cuts,
    Reach,
    StageTask,
    build_stage,
    coarse_case,
    end_rules,
    future_cost_function,
    horizon_lp,
    solve_stage,
    stage_bounds,
    stage_data,
    start_levels,
    with_cuts,
    within_tolerance,
)
from gridopt.studies.pieces import State, Window, piece_data
from gridopt.studies.rolling import solve_rolling
from tests.conftest import CASES, ROOT, solve

CASE = CASES / "tiny_cascade_stages.yaml"


@pytest.fixture(scope="module")
def data():
    return load_case(CASE)


@pytest.fixture(scope="module")
def ddp(data):
    return future_cost_function(data, stages="week", resolution_h=24, gap=1e-9)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1.0)


def test_deterministic_ddp_converges_to_the_one_piece_lp(data, ddp):
    status, lp = horizon_lp(data, 24)
    assert status == "optimal"
    # the case is daily: the same horizon as one LP is the case itself, solved as usual
    assert _rel(lp, solve(CASE).solution.objective_cny) < 1e-9
    assert ddp.converged, ddp.bounds
    assert _rel(ddp.lower_bound_cny, lp) < 1e-6
    assert _rel(ddp.upper_bound_cny, lp) < 1e-6
    lower = ddp.bounds["lower_bound_cny"].to_numpy()
    # cuts are only added: the lower bound never falls, and never passes the optimum
    assert (np.diff(lower) >= -1e-6 * abs(lp)).all()
    assert (lower <= lp * (1 + 1e-9)).all()
    # the state holds both reservoirs and the water of Upper still on its way (30 h at 24 h
    # steps: the releases of the last two days)
    assert sorted(ddp.keys.tolist()) == [
        ("hydro", "Lower"),
        ("hydro", "Upper"),
        ("hydro_transit", "Upper release t-1"),
        ("hydro_transit", "Upper release t-2"),
    ]


def test_every_kind_of_store_in_the_state_of_daily_stages():
    """tiny_rolling in daily stages: a battery and a gas tank without a start level (they
    start, and end, at the middle of their range), a pumped store, a reservoir that must end
    where it started and water that reaches the pondage below within the day it is released
    (5.5 h at 24 h steps: one step in transit). The bounds meet at the one-piece LP."""
    rolling = load_case(CASES / "tiny_rolling.yaml")
    result = future_cost_function(rolling, stages="day", resolution_h=24, gap=1e-7)
    assert set(result.keys.get_level_values(0)) == {
        "storage_units",
        "hydro",
        "hydro_transit",
        "gas_storage",
    }
    assert ("hydro_transit", "Upper release t-1") in result.keys
    assert ("hydro_transit", "Upper release t-2") not in result.keys
    assert result.converged, result.bounds.tail()
    _status, lp = horizon_lp(rolling, 24)
    assert _rel(result.lower_bound_cny, lp) < 1e-6
    assert _rel(result.upper_bound_cny, lp) < 1e-6


def test_a_remainder_shorter_than_the_travel_time_joins_the_last_stage():
    # 22 days: three weeks and a day; the day cannot hold the water in transit (two steps)
    short = load_case(CASE, {"horizon.snapshots": 22})
    result = future_cost_function(short, stages="week", resolution_h=24, gap=1e-9)
    assert len(result.stages) == 3
    assert result.stages[-1] == (pd.Timestamp("2025-01-20"), pd.Timestamp("2025-01-27"))
    assert result.converged
    assert _rel(result.lower_bound_cny, horizon_lp(short, 24)[1]) < 1e-6


def test_rolling_windows_with_the_cuts_equal_the_lp_when_windows_are_the_stages(data, ddp):
    _status, lp = horizon_lp(data, 24)
    run = solve_rolling(CASE, window_h=168, overlap_h=0, seasonal="future_cost", future_cost=ddp)
    assert run.status == "optimal"
    assert len(run.windows) == 4
    assert _rel(run.objective_cny, lp) < 1e-6
    # no targets: nothing is reported missed, and the run's costs are the kept hours' only
    assert run.summary.get("targets_missed", 0) == 0
    assert "future_cost" not in set(run.tables["costs"]["component"])
    # built inside the run from the case's rolling settings: the same
    again = solve_rolling(CASE, window_h=168, overlap_h=0, seasonal="future_cost")
    assert _rel(again.objective_cny, lp) < 1e-6
    assert again.summary["future_cost"]["status"] == "converged"


def _cost_to_end(coarse, bounds, stage: int, start: np.ndarray) -> float:
    """The cost from the start of stage `stage` (0-based) to the end, as one LP from
    `start` (the same entries as the stages' state)."""
    a, n = bounds[stage][0], coarse.n_snapshots
    levels = start_levels(coarse)
    piece = piece_data(coarse, Window(1, a, n, n), State(levels), end_rules(coarse, levels))
    import dataclasses

    rest = build_stage(dataclasses.replace(piece, stage_state=True), stage + 1, "normal", 24)
    out = solve_stage(
        StageTask(rest.matrix, rest.start_rows, start, rest.end, None, coarse.case.solver)
    )
    assert out.status == "optimal" and not out.penalised
    return out.objective_cny


def test_marginal_values_are_subgradients_of_the_cost_to_the_end(data, ddp):
    """At the converged trial state x of a stage's end, the cut slope beta_i bounds the
    finite differences of the cost from there to the end: (V(x - h e_i) - V(x)) / -h <=
    beta_i <= (V(x + h e_i) - V(x)) / h, and equals both where V is smooth."""
    coarse = coarse_case(data, 24)
    bounds = stage_bounds(coarse.snapshots, "week", 24)
    values = ddp.values
    checked = 0
    for stage in (1, 2):
        rows = values[values["stage"] == stage]
        x = rows["level"].to_numpy()
        slope = rows["slope_cny_per_unit"].to_numpy()
        v0 = _cost_to_end(coarse, bounds, stage, x)
        for i, (lo, hi) in enumerate(zip(ddp.ranges["lower"], ddp.ranges["upper"], strict=True)):
            h = 1e-3 * max(1.0, abs(x[i]))
            e = np.zeros(len(x))
            e[i] = h
            right = (
                (_cost_to_end(coarse, bounds, stage, x + e) - v0) / h if x[i] + h <= hi else None
            )
            left = (v0 - _cost_to_end(coarse, bounds, stage, x - e)) / h if x[i] - h >= lo else None
            tol = 1e-6 * max(1.0, abs(slope[i])) + 1e-6 * abs(v0) / h
            if right is not None:
                assert slope[i] <= right + tol, (stage, rows.iloc[i]["store"], slope[i], right)
            if left is not None:
                assert left <= slope[i] + tol, (stage, rows.iloc[i]["store"], left, slope[i])
            if left is not None and right is not None and abs(right - left) < tol:
                assert _rel(slope[i], right) < 1e-5
                checked += 1
    # the reservoirs' levels are inside their ranges at the weeks' ends: smooth there
    assert checked >= 2


def test_stochastic_cuts_are_valid_for_the_expected_cost_of_the_next_stage(data):
    years = ["dry", "normal", "wet"]
    sto = future_cost_function(
        data,
        stages="week",
        resolution_h=24,
        scenarios=years,
        max_iterations=8,
        gap=1e-9,
        pull=0.0,
    )
    assert sto.status == "max_iterations" or sto.converged
    # a dry last week cannot bring Upper back to its start from every level: the stages keep
    # it within reach of its end under the driest year from the start (`within_reach`), so no
    # pass needs a start moved
    assert not any("infeasible" in note for note in sto.notes), sto.notes
    assert sto.bounds["upper_bound_valid"].iloc[-1]
    dry = within_reach_of(sto, "dry")
    upper = sto.keys.get_loc(("hydro", "Upper"))
    assert sto.reach[-1].low[upper] == pytest.approx(dry, rel=1e-9)
    lower = sto.bounds["lower_bound_cny"].to_numpy()
    assert (np.diff(lower) >= -1e-6 * abs(lower[-1])).all()
    # each year's own path is a schedule of that year: it costs at least its perfect-foresight
    # optimum (the same four weeks as one LP, that year's inflows)
    foresight = {}
    for year in years:
        one = load_case(CASE, {"inflow_year": year})
        foresight[year] = horizon_lp(one, 24)[1]
    assert foresight["dry"] > foresight["normal"] > foresight["wet"]
    # the cuts of stage t bound the expected cost of stage t + 1 (with its final cuts) from
    # below at any state: here the trial states of every path
    coarse = {y: coarse_case(data, 24, y) for y in years}
    bounds = stage_bounds(coarse["normal"].snapshots, "week", 24)
    trials = sto.trials
    for t in (1, 2):
        stage = {
            y: build_stage(stage_data(coarse[y], bounds[t], t + 1, False, 24), t + 1, y, 24)
            for y in years
        }
        cuts = sto.cuts[t]
        cut_frame = sto.cuts[t - 1].frame(sto.keys)
        for path in years:
            x = trials[(trials["path"] == path) & (trials["stage"] == t)]["level"].to_numpy()
            expected = 0.0
            for y in years:
                m = with_cuts(stage[y], cuts)
                out = solve_stage(
                    StageTask(
                        m,
                        stage[y].start_rows,
                        x,
                        stage[y].end,
                        stage[y].theta,
                        coarse[y].case.solver,
                    )
                )
                assert out.status == "optimal"
                expected += out.objective_cny / len(years)
            value = (
                cut_frame.assign(
                    term=cut_frame["slope_cny_per_unit"]
                    * (np.tile(x, len(sto.cuts[t - 1])) - cut_frame["at_level"])
                )
                .groupby("cut")
                .agg(alpha=("intercept_cny", "first"), term=("term", "sum"))
            )
            best = float((value["alpha"] + value["term"]).max())
            assert best <= expected * (1 + 1e-7), (t, path, best, expected)


def test_a_dry_year_with_normal_year_cuts_and_with_scenario_cuts(data, ddp):
    """Dry-year stress: the windows of a dry year valued by the normal year's cuts alone (no
    tie-break) draw Upper down in the first weeks and the last week cannot bring it back
    (it misses the end level at a penalty, reported); valued by cuts over dry, normal and
    wet years they keep the water and the year is run. With the pull toward the normal
    year's path (the default, `rolling.future_cost_pull`) the normal year's cuts keep enough
    too: Upper stays near a path that keeps water."""
    sto = future_cost_function(
        data, stages="week", resolution_h=24, scenarios=["dry", "normal", "wet"], max_iterations=8
    )
    plain = future_cost_function(data, stages="week", resolution_h=24, gap=1e-9, pull=0.0)
    dry = {"inflow_year": "dry"}
    with_normal = solve_rolling(
        CASE, changes=dry, window_h=168, seasonal="future_cost", future_cost=plain
    )
    # the last window cannot bring Upper back: it misses the end level at a penalty, and says
    # by how much (the levels the normal year's inflow can refill from are not the dry year's)
    assert with_normal.summary["targets_missed"] == 1
    ends = with_normal.tables["window_ends"].set_index("store")
    assert ends.loc["Upper", "window"] == 4
    assert ends.loc["Upper", "target_missed"] > 1.0
    assert ends.loc["Upper", "level"] + ends.loc["Upper", "target_missed"] == pytest.approx(20.0)
    along_normal = solve_rolling(
        CASE, changes=dry, window_h=168, seasonal="future_cost", future_cost=ddp
    )
    assert along_normal.status == "optimal" and along_normal.summary["unserved_mwh"] == 0
    with_scenarios = solve_rolling(
        CASE, changes=dry, window_h=168, seasonal="future_cost", future_cost=sto
    )
    assert with_scenarios.status == "optimal"
    assert with_scenarios.summary["unserved_mwh"] == 0
    assert with_scenarios.summary["targets_missed"] == 0
    foresight = horizon_lp(load_case(CASE, dry), 24)[1]
    assert with_scenarios.objective_cny >= foresight * (1 - 1e-9)
    # over several years the windows keep near the years' paths weighted by probability:
    # levels inside every store's range
    assert sto.path is not None and sto.path.shape == (len(sto.stages), len(sto.keys))
    assert ((sto.path >= sto.ranges["lower"].to_numpy() - 1e-6).all()) and (
        (sto.path <= sto.ranges["upper"].to_numpy() + 1e-6).all()
    )
    assert np.allclose(sto.cuts_at(168, 0.5).toward["level"], sto.path[0])


def test_the_first_pass_from_the_horizon_lp_reaches_the_same_bound(data, ddp):
    """The first trial states are the whole horizon solved as one LP (a feasible path: its
    cost is the first upper bound), and the bounds still meet at its optimum; a pass without
    cuts gets there too."""
    _status, lp = horizon_lp(data, 24)
    assert ddp.bounds["trials"].tolist()[0] == "horizon LP"
    assert _rel(ddp.bounds["upper_bound_cny"].iloc[0], lp) < 1e-9
    # the policy of the cuts is followed at least once before the run may stop
    assert set(ddp.bounds["trials"].iloc[1:]) == {"forward pass"}
    forward = future_cost_function(data, "week", 24, gap=1e-9, first_pass="forward")
    assert forward.converged and set(forward.bounds["trials"]) == {"forward pass"}
    assert _rel(forward.lower_bound_cny, lp) < 1e-6 and _rel(ddp.lower_bound_cny, lp) < 1e-6


def test_a_pass_from_an_infeasible_start_leaves_a_feasibility_cut():
    """A dry year: the first pass without cuts draws Upper down and the last week cannot bring
    it back to its end level. That stage is solved with its start moved (its cut carries the
    penalty), the least move gives a feasibility cut on the week before, and the bounds meet
    at the LP optimum; from the horizon LP's path no stage is ever infeasible."""
    dry = load_case(CASE, {"inflow_year": "dry"})
    _status, lp = horizon_lp(dry, 24)
    # the stages learn where the end is out of reach only from the starts that fail
    naive = future_cost_function(dry, "week", 24, gap=1e-9, first_pass="forward", known_reach=False)
    assert any("was infeasible" in note for note in naive.notes), naive.notes
    assert not naive.bounds["upper_bound_valid"].iloc[0]
    assert naive.bounds["feasibility_cuts"].iloc[-1] >= 1
    assert naive.converged and _rel(naive.lower_bound_cny, lp) < 1e-6
    planned = future_cost_function(dry, "week", 24, gap=1e-9, known_reach=False)
    assert planned.converged and _rel(planned.lower_bound_cny, lp) < 1e-6
    # the trial states never; the states below them (`LOW_POINTS`) may be infeasible
    assert not planned.notes
    on_path = future_cost_function(dry, "week", 24, gap=1e-9, low_points=False, known_reach=False)
    assert on_path.converged and on_path.bounds["feasibility_cuts"].iloc[-1] == 0


def within_reach_of(result, year: str, first_day: str = "2025-01-27") -> float:
    """Upper's lowest level at the start of `first_day` (by default the last week's) from
    which its end level (20 hm3) is within reach in `year`: its inflow from then on less its
    minimum release, by hand."""
    name = "inflow_m3s.csv" if year == "normal" else f"inflow_m3s_{year}.csv"
    inflow = pd.read_csv(
        ROOT / "networks" / "tiny_cascade_stages" / "timeseries" / name,
        index_col=0,
        parse_dates=True,
    )["Upper"]
    rest = inflow[first_day:"2025-02-02"]  # hourly, m3/s
    return 20.0 - 0.0036 * float((rest - 10.0).sum())


def test_stages_that_know_the_reach_of_the_end_never_start_where_it_is_out_of_reach():
    """Dry year: Upper (the head of the river) refills in the last week by at most its inflow
    less its minimum release, so it must start that week at 20 hm3 (its end level) less that
    much; its inflow read from the network's own dry-year file. With that bound from the start,
    the pass without cuts never leaves Upper below it, no stage is infeasible, and the bounds
    meet at the LP optimum in fewer passes than when the bound is found by failing."""
    dry = load_case(CASE, {"inflow_year": "dry"})
    _status, lp = horizon_lp(dry, 24)
    known = future_cost_function(dry, "week", 24, gap=1e-9, first_pass="forward")
    found = future_cost_function(dry, "week", 24, gap=1e-9, first_pass="forward", known_reach=False)
    hand = within_reach_of(known, "dry")
    upper = known.keys.get_loc(("hydro", "Upper"))
    assert known.reach[-1].low[upper] == pytest.approx(hand, rel=1e-9)
    lower = known.keys.get_loc(("hydro", "Lower"))
    assert np.isneginf(known.reach[-1].low[lower])  # fed from above: no bound of its own
    assert not known.notes and known.bounds["upper_bound_valid"].all()
    assert known.converged and _rel(known.lower_bound_cny, lp) < 1e-6
    assert known.iterations < found.iterations
    trials = known.trials
    ends = trials[(trials["stage"] == 3) & (trials["store"] == "Upper")]
    assert len(ends) and (ends["level"] >= hand - 1e-6).all()
    # the levels sheet says so, and its chart draws it
    assert ends["keep_at_least"].to_numpy() == pytest.approx(hand, rel=1e-9)
    assert trials[trials["store"] == "Lower"]["keep_at_least"].isna().all()
    drawn = store_trajectories(trials)["Upper"].keep_at_least
    assert drawn is not None and drawn.iloc[3] == pytest.approx(hand, rel=1e-9)
    # a window that ends inside a stage (31 January, day 25 of 28) keeps them too
    inside = known.cuts_at(25 * 24)
    assert inside is not None and inside.reach is not None
    low = inside.reach.set_index("store")["low"]
    assert low["Upper"] == pytest.approx(within_reach_of(known, "dry", "2025-01-31"), rel=1e-9)
    assert np.isneginf(low["Lower"])


def test_a_feasibility_cut_cuts_off_a_start_the_stage_after_cannot_recover_from():
    """Dry year, last week: from Upper at its minimum it cannot end at its start level. The
    least move and its slopes make a row on the week before's end state that this start
    breaks by the least move and the start the year began from (that the week can recover
    from) keeps."""
    coarse = coarse_case(load_case(CASE, {"inflow_year": "dry"}), 24)
    bounds = stage_bounds(coarse.snapshots, "week", 24)
    last = build_stage(stage_data(coarse, bounds[-1], 4, True, 24), 4, "dry", 24)
    before = build_stage(stage_data(coarse, bounds[-2], 3, False, 24), 3, "dry", 24)
    options = coarse.case.solver.model_copy(update={"relax": True})
    start = np.asarray(last.matrix.row_lb[last.start_rows], dtype=float)
    low = start.copy()
    upper = last.keys.get_loc(("hydro", "Upper"))
    low[upper] = 4.0  # storage_min_hm3
    out = solve_stage(StageTask(last.matrix, last.start_rows, low, last.end, None, options))
    assert out.penalised and out.shortfall > 0 and out.shortfall_slopes is not None
    assert out.shortfall_slopes[upper] < 0  # more water in Upper: less to move
    cut = Cuts()
    cut.add(out.shortfall, out.shortfall_slopes, low)
    m = with_cuts(before, Cuts(), cut)
    assert m.A.shape[0] == before.matrix.A.shape[0] + 1
    # the row reads -sigma' x >= v - sigma' xhat
    sigma, rhs = out.shortfall_slopes, m.row_lb[-1]
    assert np.isclose(-sigma @ low, rhs - out.shortfall)
    assert -sigma @ start >= rhs - 1e-9
    fine = solve_stage(StageTask(last.matrix, last.start_rows, start, last.end, None, options))
    assert not fine.penalised and fine.shortfall == 0


def test_a_stage_whose_feasibility_cuts_cannot_hold_is_solved_without_them(data):
    """A feasibility cut no end state can meet (Upper above its range) makes the stage
    infeasible from every start; it is then solved without its feasibility cuts (a
    relaxation: its cut stays valid) rather than stopping the run."""
    coarse = coarse_case(data, 24)
    bounds = stage_bounds(coarse.snapshots, "week", 24)
    stage = build_stage(stage_data(coarse, bounds[1], 2, False, 24), 2, "normal", 24)
    start = np.asarray(stage.matrix.row_lb[stage.start_rows], dtype=float)
    sigma = np.zeros(len(stage.keys))
    sigma[stage.keys.get_loc(("hydro", "Upper"))] = -1.0
    impossible = Cuts()
    impossible.add(1000.0, sigma, start)  # Upper >= start + 1000 hm3 at the end
    options = coarse.case.solver.model_copy(update={"relax": True})
    task = StageTask(
        with_cuts(stage, Cuts(), impossible),
        stage.start_rows,
        start,
        stage.end,
        stage.theta,
        options,
        feasibility_rows=1,
    )
    out = solve_stage(task)
    assert out.penalised and out.end is not None and out.slopes is not None
    alone = solve_stage(
        StageTask(stage.matrix, stage.start_rows, start, stage.end, stage.theta, options)
    )
    assert _rel(out.objective_cny, alone.objective_cny) < 1e-9


def test_stage_solves_on_a_dask_cluster_give_the_same_bounds(data, ddp):
    parallel = future_cost_function(data, stages="week", resolution_h=24, gap=1e-9, workers=2)
    assert parallel.iterations == ddp.iterations
    assert np.allclose(parallel.bounds["lower_bound_cny"], ddp.bounds["lower_bound_cny"], rtol=1e-9)
    assert np.allclose(parallel.bounds["upper_bound_cny"], ddp.bounds["upper_bound_cny"], rtol=1e-9)


def test_cuts_as_a_table_round_trip():
    cuts = Cuts()
    cuts.add(10.0, np.array([-1.0, -2.0]), np.array([3.0, 4.0]))
    keys = pd.MultiIndex.from_tuples([("hydro", "A"), ("hydro", "B")])
    frame = cuts.frame(keys)
    assert list(frame["store"]) == ["A", "B"] and list(frame["intercept_cny"]) == [10.0, 10.0]


def test_cli_writes_the_three_sheets(tmp_path):
    out = tmp_path / "fc"
    result = CliRunner().invoke(
        app, ["future-cost", str(CASE), "--gap", "1e-9", "--out", str(out), "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "converged" in result.output
    for sheet in ("future_cost_cuts", "future_cost_values", "future_cost_bounds"):
        table = pd.read_csv(out / "csv" / f"{sheet}.csv")
        assert len(table), sheet
    cuts = pd.read_csv(out / "csv" / "future_cost_cuts.csv")
    assert {"stage", "cut", "store", "intercept_cny", "slope_cny_per_unit", "at_level"} <= set(
        cuts.columns
    )
    bounds = pd.read_csv(out / "csv" / "future_cost_bounds.csv")
    assert {"iteration", "lower_bound_cny", "upper_bound_cny", "gap"} <= set(bounds.columns)
    # the reservoirs' trajectories against their ranges, drawn from the folder
    plots = tmp_path / "plots"
    drawn = CliRunner().invoke(app, ["plot", str(out), "--out", str(plots)])
    assert drawn.exit_code == 0, drawn.output
    assert (plots / "future_cost_levels.png").is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--stages", "fortnight"], "stages: expected week, day, month or hours"),
        (["--stages", "day"], "longest travel time"),
        (["--resolution", "soon"], "--resolution: expected hours"),
        (["--scenarios", "dry,soggy"], "not an inflow year"),
        (["--max-iterations", "0"], "--max-iterations must be at least 1"),
        (["--first-pass", "soon"], "must be one of horizon, forward"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(tmp_path, args, words):
    out = tmp_path / "fc"
    result = CliRunner().invoke(app, ["future-cost", str(CASE), *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert not out.exists()


def test_a_rolling_run_with_one_stage_is_refused():
    from gridopt.errors import InputError

    rolling = {"window_h": 168, "seasonal": "future_cost", "stage_h": 672}
    with pytest.raises(InputError, match=r"rolling\.stage_h.*one stage"):
        solve_rolling(CASE, changes={"rolling": rolling})


def test_a_start_the_stage_cannot_recover_from_gives_each_store_its_least_level():
    """Dry year, last week, Upper at its minimum: with every other entry free to move, Upper
    must still rise by m to make the week feasible. Upper at m less than that (the others as
    high as they go) is still infeasible; at that level the week can start (the bound is
    the projection of the starts it can start from, not a guess)."""
    coarse = coarse_case(load_case(CASE, {"inflow_year": "dry"}), 24)
    bounds = stage_bounds(coarse.snapshots, "week", 24)
    last = build_stage(stage_data(coarse, bounds[-1], 4, True, 24), 4, "dry", 24)
    options = coarse.case.solver.model_copy(update={"relax": True})
    start = np.asarray(last.matrix.row_lb[last.start_rows], dtype=float)
    upper, lower = last.keys.get_loc(("hydro", "Upper")), last.keys.get_loc(("hydro", "Lower"))
    low = start.copy()
    low[upper] = 4.0  # storage_min_hm3
    task = StageTask(last.matrix, last.start_rows, low, last.end, None, options, with_bounds=True)
    out = solve_stage(task)
    assert out.penalised and out.least_moves is not None
    assert out.least_moves[upper] > 0 and out.least_moves[lower] == 0
    reach = Reach.none(len(last.keys))
    reach.add(low, out.least_moves)
    assert reach.rows == 1 and np.isclose(reach.low[upper], 4.0 + out.least_moves[upper])
    full = low.copy()
    full[lower] = float(coarse.tables["hydro"].loc["Lower", "storage_max_hm3"])
    for level, recovers in ((reach.low[upper] - 0.01, False), (reach.low[upper] + 1e-6, True)):
        full[upper] = level
        again = solve_stage(StageTask(last.matrix, last.start_rows, full, last.end, None, options))
        assert again.penalised is not recovers, (level, again.moved)


def test_the_forward_pass_pulled_toward_the_best_path_stops_only_on_the_cuts_own_policy(data, ddp):
    """With one scenario the forward passes are pulled toward the cheapest path so far, at a
    strength that fades to a tie-break (PULL_FLOOR); the run stops only on a pass with the
    tie-break alone, at the one-piece LP's optimum, as the run without the pull does."""
    _status, lp = horizon_lp(data, 24)
    pulled = ddp.bounds[ddp.bounds["trials"] == "forward pass"]
    assert (pulled["pull"] > PULL_FLOOR).any() and ddp.bounds["pull"].iloc[-1] == PULL_FLOOR
    assert ddp.converged and _rel(ddp.upper_bound_cny, lp) < 1e-6
    plain = future_cost_function(data, "week", 24, gap=1e-9, pull=0.0)
    assert plain.converged and (plain.bounds["pull"] == 0).all()
    assert _rel(plain.lower_bound_cny, ddp.lower_bound_cny) < 1e-9


def test_stages_end_where_a_rolling_run_s_windows_end():
    """Windows of a week looking a day ahead end on days 8, 15, 22 and 28: the stages end
    there too, so each window's end state is valued by the cuts of its own boundary, and the
    stitched run equals the four weeks as one LP."""
    data = load_case(CASE)
    assert stage_bounds(coarse_case(data, 24).snapshots, [192, 360, 528, 672], 24) == [
        (0, 8),
        (8, 15),
        (15, 22),
        (22, 28),
    ]
    with pytest.raises(ValueError, match="not multiples of the resolution"):
        stage_bounds(coarse_case(data, 24).snapshots, [100], 24)
    _status, lp = horizon_lp(data, 24)
    run = solve_rolling(CASE, window_h=168, overlap_h=24, seasonal="future_cost")
    assert run.status == "optimal" and _rel(run.objective_cny, lp) < 1e-9
    assert run.summary["future_cost"]["stages"] == 4


def test_water_in_transit_of_an_hourly_horizon_is_what_a_daily_step_counts():
    """tiny_rolling: Upper's water reaches Lower 5.5 h after release. A daily step counts its
    last day's release R in transit for 5.5/24 of the day (5.5 h x R of water). An hourly
    horizon valued by daily cuts counts the mean release of its last 6 hours (round(5.5)):
    the water released earlier that day has already reached Lower and is stored there, so
    counting it in transit too would value it twice."""
    from gridopt.model.future_cost import state_of
    from gridopt.model.registry import build_model

    model = build_model(load_case(CASES / "tiny_rolling.yaml", {"horizon.snapshots": 48}))
    daily = state_of(model, 24)
    at = daily.keys.get_loc(("hydro_transit", "Upper release t-1"))
    row = daily.end(model.n_cols)[at]
    q = model.variables["hydro_turbine"].cols[0]
    s = model.variables["hydro_spill"].cols[0]
    assert sorted(row.indices) == sorted(np.r_[q[-6:], s[-6:]])
    assert np.allclose(row.data, 1 / 6)
    hourly = state_of(model, 1)
    lags = [k for k in hourly.keys if k[0] == "hydro_transit"]
    assert len(lags) == 6  # 5 whole hours and the hour of which half is in transit
    assert hourly.end(model.n_cols)[hourly.keys.get_loc(lags[0])].nnz == 2


def test_a_window_keeps_near_the_cheapest_path_at_the_pull_it_is_given(ddp):
    """The future cost a window's end is valued by carries the cheapest path the passes found
    at the window's boundary, each store priced at the pull times its mean value in the cuts
    (the tie-break 1e-6 by default); off a boundary it carries none."""
    hour = ddp.stage_hours[0]
    tie = ddp.cuts_at(hour)
    firm = ddp.cuts_at(hour, 0.5)
    assert tie is not None and firm is not None
    assert tie.toward is not None and firm.toward is not None
    assert np.allclose(tie.toward["level"], ddp.path[0])
    value = np.abs(np.asarray(ddp.cuts[0].beta)).mean(axis=0)
    assert np.allclose(firm.toward["price_cny_per_unit"], 0.5 * value)
    assert np.allclose(tie.toward["price_cny_per_unit"], PULL_FLOOR * value)
    inside = ddp.cuts_at(hour - 24)
    assert inside is not None and inside.toward is None


# ---- contract energy delivered so far, as state ----------------------------------------------
OBLIGATION = CASES / "tiny_obligation.yaml"


def test_contract_energy_delivered_so_far_is_part_of_the_state():
    """tiny_obligation's January plan (4,200 MWh over 30 and 31 January for its 48 hours) and
    its LNG take-or-pay (6,000 MWh_th for the horizon's 96 hours) span daily stages. Pro rata
    each day would carry 1/2 (1/4) of them, where gas is dearer on some days than others; as
    state entries (the energy delivered so far) the stages meet each on the whole, and DDP
    meets the one-piece LP exactly."""
    data = load_case(OBLIGATION)
    single = solve(OBLIGATION).solution.objective_cny
    assert horizon_lp(data, 1)[1] == pytest.approx(single, rel=1e-12)
    fc = future_cost_function(data, stages="day", resolution_h=1, gap=1e-9, max_iterations=20)
    assert fc.converged
    assert fc.lower_bound_cny == pytest.approx(single, rel=1e-9)
    assert fc.upper_bound_cny == pytest.approx(single, rel=1e-9)
    assert list(fc.keys) == [
        ("energy_obligation", "gas plan January 2025-01"),
        ("gas_contract", "LNG take-or-pay 2025"),
    ]
    # what each stage's end has delivered: the plan met by the end of January; the
    # take-or-pay's gas not taken is paid at its own price (it may be left); each only grows
    levels = fc.trials.pivot(index="stage", columns="store", values="level")
    january, lng = levels["gas plan January 2025-01"], levels["LNG take-or-pay 2025"]
    assert january[2] >= 651 * 100 * 48 / 744 - 1e-6
    for delivered in (january, lng):
        assert (np.diff(delivered.to_numpy()) >= -1e-6).all()


@pytest.mark.parametrize("overlap_h", [0, 24])
def test_windows_carry_contract_energy_and_meet_the_one_piece_optimum(overlap_h):
    """Rolled by the day with the cuts, the windows carry what each contract has delivered
    (`delivered_before_*` in the stitched tables) and the run costs what the one-piece LP
    does; every minimum is met where it is due, on the whole period."""
    single = solve(OBLIGATION).solution.objective_cny
    run = solve_rolling(OBLIGATION, window_h=24, overlap_h=overlap_h, seasonal="future_cost")
    assert run.status == "optimal"
    assert run.objective_cny == pytest.approx(single, rel=1e-9)
    plan = run.tables["contracts"]
    assert plan["min_mwh"].isna().iloc[0] and plan["min_mwh"].iloc[-1] == pytest.approx(4200)
    carried = plan["delivered_before_mwh"].to_numpy()
    kept = plan["energy_mwh"].to_numpy()
    assert carried[0] == 0 and carried[1:] == pytest.approx(np.cumsum(kept)[:-1], abs=1e-6)
    assert carried[-1] + kept[-1] == pytest.approx(4200, abs=1e-6)
    assert plan["shortfall_mwh"].sum() == pytest.approx(0, abs=1e-9)
    gas = run.tables["gas_contracts"]
    assert gas["gas_mwh_th"].sum() >= gas["min_mwh_th"].dropna().iloc[-1] - 1e-6


def test_a_shortfall_due_in_a_look_ahead_is_paid_once(tmp_path):
    """The January plan raised to 800 full-load hours (5,161 MWh over the horizon's 48 January
    hours, where the 100 MW plant makes at most 4,800) with a penalty of 1,000 CNY per MWh
    short: 361 MWh short. Window 1 (30 January, looking a day ahead) solves the plan's whole
    period, due in its look-ahead; its kept part pays no shortfall, window 2's does, once."""
    from tests.conftest import copy_case

    case = copy_case(tmp_path, "tiny_obligation")
    table = tmp_path / "networks" / "tiny_obligation" / "energy_obligations.csv"
    frame = pd.read_csv(table)
    frame.loc[0, ["min_hours", "shortfall_penalty_cny_per_mwh"]] = [800, 1000]
    frame.to_csv(table, index=False)
    single = solve(case)
    short = 800 * 100 * 48 / 744 - 4800
    costs = single.tables["costs"]
    assert costs.loc[costs["cost_type"] == "shortfall penalty", "cost_cny"].sum() == (
        pytest.approx(1000 * short, rel=1e-9)
    )
    run = solve_rolling(case, window_h=24, overlap_h=24, seasonal="future_cost")
    assert run.objective_cny == pytest.approx(single.solution.objective_cny, rel=1e-9)
    plan = run.tables["contracts"]
    assert plan["shortfall_mwh"].to_numpy() == pytest.approx([0, short], abs=1e-6)


def test_a_window_ending_inside_the_last_stage_keeps_the_horizon_to_its_end():
    """Five-day windows looking two days ahead over four weeks: the fifth ends its look-ahead
    on day 27, a day before the end, and the stages that end where the windows end would
    leave a last stage of one day, shorter than Upper's water takes to reach Lower; it joins
    the stage before it. The fifth window then keeps the horizon to its end under the
    case's end rules (the sixth joins it), rather than being valued by cuts made for a state
    with days more to go: five windows, Upper back at its 20 hm3."""
    run = solve_rolling(CASE, window_h=120, overlap_h=48, seasonal="future_cost")
    assert run.status == "optimal"
    windows = run.tables["windows"]
    assert len(windows) == 5
    last = windows.iloc[-1]
    assert last["first_snapshot"] == pd.Timestamp("2025-01-26")
    assert last["last_kept_snapshot"] == last["last_solved_snapshot"] == pd.Timestamp("2025-02-02")
    hydro = run.tables["hydro"]
    end = hydro[(hydro["station"] == "Upper")].sort_values("snapshot")["storage_hm3"].iloc[-1]
    assert end == pytest.approx(20.0, abs=1e-6)
    assert run.summary["targets_missed"] == 0


def test_a_stage_end_past_its_range_by_the_solvers_tolerance_starts_the_next_on_the_range():
    """A stage's solution meets its bounds to within a tolerance: Hong Kong's coal, capped at
    12,382,000.008 MWh for the year, was carried as 1.35e-7 MWh more, and the stage after,
    which could make no less coal, was infeasible by that much. An end that far outside is
    put back on the bound; one further outside (a real miss, 1 MWh) and one inside are kept."""
    floor = np.array([0.0, 0.0, 4.0])
    ceiling = np.array([12_382_000.008, 12_382_000.008, 20.0])
    end = np.array([12_382_000.008 + 1.35e-7, 12_382_001.008, 4.0 - 1e-12])
    got = within_tolerance(end, floor, ceiling)
    assert got[0] == ceiling[0]  # back on the cap
    assert got[1] == end[1]  # a miss stays a miss
    assert got[2] == 4.0  # back on the floor
    inside = np.array([5.0, 10.0, 12.5])
    assert (within_tolerance(inside, floor, ceiling) == inside).all()
