"""Capacity expansion benchmark: the PPRD 2030 expansion as an LP (continuous builds) and as a
MIP (UHVDC bipoles and a pipeline loop in whole blocks), gridopt only.

PyPSA has no equivalent of the case (investment samples with demand growth, whole blocks,
policy rows, gas-side candidates: `gridopt export pypsa` refuses them by name), so this
benchmark reports gridopt's phases and model size; gridopt's continuous expansion is checked
against PyPSA's `p_nom_extendable` optimum in tests/test_expansion.py. The quick run (timing
off in the test suite) solves the two-bus screening-curve case and its block variant.
"""

from __future__ import annotations

import pytest

from benchmarks.harness import ROOT, run_gridopt

CASES = ROOT / "cases"


@pytest.mark.benchmark(group="expansion")
@pytest.mark.parametrize("kind", ["continuous", "discrete"])
def test_expansion(benchmark, record, request, kind):
    full = request.config.getoption("--bench-full")
    if full:
        case = CASES / (
            "pprd_expansion_2030.yaml"
            if kind == "continuous"
            else "pprd_expansion_2030_discrete.yaml"
        )
        extra = {}
    else:
        case = CASES / "tiny_expansion.yaml"
        extra = (
            {}
            if kind == "continuous"
            else {
                "overrides": [
                    {
                        "table": "candidates",
                        "name": "new base",
                        "column": "block_size",
                        "value": 500,
                    }
                ]
            }
        )
    ours = benchmark.pedantic(run_gridopt, args=(case, None, extra), rounds=1, iterations=1)
    assert ours["status"] == "optimal"
    benchmark.extra_info.update(ours)
    record({"case": f"expansion {kind} ({case.stem})", **ours})
