"""MATPOWER import: gridopt's DC dispatch of an imported case has PYPOWER's `rundcopf` optimum.

The IEEE cases come from PYPOWER's bundled case data, written as MATPOWER `.m` text into
tmp_path at test time (nothing is downloaded). Their polynomial costs are quadratic; to compare
linear programmes the quadratic coefficients are set to 0 before writing (the rest of each
cost is kept). PYPOWER's objective includes the constant cost terms (c0) that gridopt's
dispatch leaves out, so gridopt's objective + sum of c0 is compared with PYPOWER's.
PYPOWER solves with its interior-point method, here with tolerances tightened to 1e-10.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pypower import api as pp
from typer.testing import CliRunner

from gridopt.cli import app
from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.interop.matpower import (
    MatpowerCase,
    from_matpower,
    import_matpower,
    read_matpower,
)
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve

REL = 1e-6
DATA = Path(__file__).parent / "data" / "matpower"
FEATURES = DATA / "case5_features.m"
PP_OPTIONS = pp.ppoption(VERBOSE=0, OUT_ALL=0, PDIPM_FEASTOL=1e-10, PDIPM_GRADTOL=1e-10,
                         PDIPM_COMPTOL=1e-10, PDIPM_COSTTOL=1e-12)


def write_m(ppc: dict, path: Path) -> Path:
    """Write a PYPOWER case dict as a MATPOWER (version 2) `.m` file."""
    def rows(a: np.ndarray) -> str:
        return "\n".join("\t" + "\t".join(f"{v:.17g}" for v in row) + ";"
                         for row in np.atleast_2d(a))
    path.write_text(
        f"function mpc = {path.stem}\n%% MATPOWER Case Format : Version 2\n"
        f"mpc.version = '2';\n%% system MVA base\nmpc.baseMVA = {ppc['baseMVA']:.17g};\n\n"
        f"%% bus data\nmpc.bus = [\n{rows(ppc['bus'])}\n];\n\n"
        f"%% generator data\nmpc.gen = [\n{rows(ppc['gen'])}\n];\n\n"
        f"%% branch data\nmpc.branch = [\n{rows(ppc['branch'])}\n];\n\n"
        f"%% generator cost data\nmpc.gencost = [\n{rows(ppc['gencost'])}\n];\n")
    return path


def linear_costs(ppc: dict) -> float:
    """Zero the quadratic cost coefficients; return the constant terms (c0) of the units on."""
    cost = ppc["gencost"]
    poly = cost[:, 0] == 2
    quadratic = poly & (cost[:, 3] == 3)
    cost[quadratic, 4] = 0.0
    on = ppc["gen"][:, 7] > 0
    last = 4 + cost[:, 3].astype(int) - 1
    c0 = cost[np.arange(len(cost)), last]
    return float(c0[poly & on].sum())


def gridopt_objective(case_dir: Path) -> float:
    sol = solve(build_model(load_case(case_dir / "case.yaml")))
    assert sol.status == "optimal", sol.message
    return sol.objective_cny


@pytest.mark.parametrize("name", ["case9", "case14", "case30", "case39", "case57", "case118",
                                  "case30pwl"])
def test_ieee_cases_match_pypower_rundcopf(tmp_path, name):
    ppc = getattr(pp, name)()
    constant = linear_costs(ppc)
    m_file = write_m(ppc, tmp_path / f"{name}.m")
    result = pp.rundcopf(ppc, PP_OPTIONS)
    assert result["success"]
    notes = import_matpower(m_file, tmp_path / "case")
    if constant:
        assert any(f"{constant:.6g}" in note for note in notes)
    assert gridopt_objective(tmp_path / "case") + constant == pytest.approx(result["f"], rel=REL)


def test_quadratic_costs_are_refused_or_linearised_from_above(tmp_path):
    ppc = pp.case30()  # quadratic costs as shipped
    m_file = write_m(ppc, tmp_path / "case30q.m")
    with pytest.raises(InputError) as err:
        import_matpower(m_file, tmp_path / "refused")
    assert "gen 1: a quadratic cost is not supported" in str(err.value)
    assert len(err.value.problems) == len(ppc["gen"])
    exact = pp.rundcopf(ppc, PP_OPTIONS)["f"]
    gaps = []
    for segments in (4, 16):
        out = tmp_path / f"lin{segments}"
        import_matpower(m_file, out, quadratic_segments=segments)
        constant = ppc["gencost"][:, 6].sum()
        gaps.append(gridopt_objective(out) + constant - exact)
    # chords lie above a convex curve: never below the optimum, closer with more segments
    assert gaps[0] >= -1e-6 * exact and gaps[1] >= -1e-6 * exact
    assert gaps[1] < gaps[0] / 4
    assert gaps[1] < 1e-3 * exact


def _features_ppc() -> dict:
    mpc = read_matpower(FEATURES)
    return {"version": "2", "baseMVA": mpc.base_mva, "bus": mpc.bus.copy(),
            "gen": mpc.gen.copy(), "branch": mpc.branch.copy(), "gencost": mpc.gencost.copy()}


def test_the_shipped_case_is_parsed_as_written():
    mpc = read_matpower(FEATURES)
    assert mpc.base_mva == 100
    assert mpc.bus.shape == (5, 13) and mpc.gen.shape == (5, 21) and mpc.branch.shape == (7, 13)
    assert mpc.gen[0, 3] == np.inf and mpc.gen[0, 4] == -np.inf
    # a row continued with "..." and padded with zeros like the shorter rows
    assert mpc.gencost.shape == (5, 12)
    np.testing.assert_array_equal(mpc.gencost[1], [1, 0, 0, 4, 0, 0, 50, 1000, 100, 2500, 150,
                                                   4500])
    np.testing.assert_array_equal(mpc.gencost[0, 4:], [25, 100, 0, 0, 0, 0, 0, 0])


def test_the_shipped_case_maps_by_the_stated_rules_and_matches_pypower(tmp_path):
    notes = import_matpower(FEATURES, tmp_path / "case")
    data = load_case(tmp_path / "case" / "case.yaml")
    t = data.tables
    # the isolated bus goes with its load, generator and branch; equipment out of service too
    assert list(t["buses"].index) == ["1", "2", "3", "4"]
    assert any("isolated" in note and "'5'" in note for note in notes)
    assert set(t["lines"].index) == {"1-2 #1", "1-2 #2", "1-3", "2-4", "3-4"}
    lines = t["lines"]
    assert lines.at["1-3", "x_ohm"] == pytest.approx(0.08 * 1.05 * 230**2 / 100)
    assert lines.at["2-4", "x_ohm"] == pytest.approx(0.1 * 0.98 * 230**2 / 100)
    assert lines.at["3-4", "x_ohm"] == pytest.approx(0.05 * 115**2 / 100)
    # rateA 0: more than all the imported generation capacity and demand together
    assert lines.at["1-3", "s_max_mw"] == pytest.approx(250 + 200 + 80 + 100 + 160 + 90 + 1)
    # demand: Pd + Gs
    assert data.load_mw.loc[:, "load 3"].tolist() == [160.0]
    assert t["buses"].at["3", "region"] == "area 2"
    # piecewise-linear cost: one generator per segment between Pmin and Pmax, at its slope;
    # the last segment is extended from 150 MW to Pmax = 200 MW
    gens = t["generators"]
    segs = gens.loc[["gen 2", "gen 2 seg 2", "gen 2 seg 3"]]
    assert segs["p_min_mw"].tolist() == [10.0, 0.0, 0.0]
    assert segs["p_max_mw"].tolist() == [50.0, 50.0, 100.0]
    assert segs["marginal_cost_cny_per_mwh"].tolist() == [20.0, 30.0, 40.0]
    assert gens.at["gen 1", "marginal_cost_cny_per_mwh"] == 25.0
    assert gens.at["gen 3", "marginal_cost_cny_per_mwh"] == 35.0
    assert "gen 4" not in gens.index and "gen 5" not in gens.index
    assert any("start-up" in note for note in notes)
    assert any("constant cost terms total 100" in note for note in notes)
    result = pp.rundcopf(_features_ppc(), PP_OPTIONS)
    assert result["success"]
    assert gridopt_objective(tmp_path / "case") + 100.0 == pytest.approx(result["f"], rel=REL)


def test_what_a_dc_dispatch_cannot_represent_is_refused_together():
    ppc = _features_ppc()
    ppc["branch"][0, 9] = 5.0  # phase shifter
    ppc["branch"][1, 11:13] = [-30, 30]  # angle-difference limit
    ppc["gen"][2, 9] = -10.0  # dispatchable load
    ppc["gencost"][1, 4:12] = [0, 0, 50, 2000, 100, 2500, 150, 4500]  # slopes 40, 10, 40
    mpc = MatpowerCase(ppc["baseMVA"], ppc["bus"], ppc["gen"], ppc["branch"], ppc["gencost"],
                       dcline=np.ones((1, 17)))
    with pytest.raises(InputError) as err:
        from_matpower(mpc, source="x.m")
    text = str(err.value)
    for expected in ("mpc.dcline", "phase shifters", "'1-2 #2': angle-difference limits",
                     "generators 'gen 3': Pmin < 0",
                     "gen 2: piecewise-linear cost is not convex"):
        assert expected in text


def test_not_a_matpower_file(tmp_path):
    bad = tmp_path / "notes.m"
    bad.write_text("x = 1;\n")
    with pytest.raises(InputError, match=r"not a MATPOWER case: no mpc\.baseMVA, mpc\.bus"):
        read_matpower(bad)


def test_cli_import_matpower(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["import", "matpower", str(FEATURES), str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "constant cost terms" in res.output
    quadratic = write_m(pp.case9(), tmp_path / "case9q.m")
    res = runner.invoke(app, ["import", "matpower", str(quadratic), str(tmp_path / "b")])
    assert res.exit_code == 2 and "quadratic cost" in res.output
    res = runner.invoke(app, ["import", "matpower", str(quadratic), str(tmp_path / "c"),
                              "--quadratic-segments", "8"])
    assert res.exit_code == 0, res.output
    assert load_case(tmp_path / "c" / "case.yaml").tables["generators"].shape[0] == 3 * 8
