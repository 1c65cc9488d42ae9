"""Aggregation error: a case solved on typical periods against the same case solved on every
snapshot of its horizon.

`compare` solves both and returns the series reproduction error (`gridopt.inputs.aggregation`), the
objectives, energy by carrier and the solve times. Run as a module it compares two cases:

- a synthetic 12-bus network (`gridopt.inputs.synthetic`, coal scaled to 60% of its rating so that
gas
  and batteries serve the peaks), hourly over 2025 (8760 snapshots), against 12 typical days
  plus the day of the peak hour;
- the PPRD network over 2025 at daily resolution (365 snapshots, resolution_h 24), against 12
  typical days plus the peak-load day, with the reservoirs chained through the year (seasonal)
  and, for contrast, cyclic in each typical day (periodic).

    python -m benchmarks.aggregation_error [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from gridopt.inputs.synthetic import write_synthetic
from gridopt.studies.run import solve_case

ROOT = Path(__file__).resolve().parents[1]


def _solve(case: Path, changes: dict[str, Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    run = solve_case(case, changes=changes)
    if run.solution.status != "optimal":
        raise RuntimeError(f"{case}: {run.solution.status} {run.solution.message}")
    return run, time.perf_counter() - t


def compare(
    case: Path, aggregation: dict[str, Any], changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Solve `case` (with `changes`) on every snapshot and on typical periods; the figures."""
    changes = dict(changes or {})
    full, full_s = _solve(case, changes)
    agg, agg_s = _solve(case, {**changes, "horizon.aggregation": aggregation})
    energy = pd.DataFrame(
        {
            "full_mwh": full.tables["generation"].groupby("carrier")["energy_mwh"].sum(),
            "typical_mwh": agg.tables["generation"].groupby("carrier")["energy_mwh"].sum(),
        }
    ).fillna(0.0)
    energy["error_pu"] = (energy["typical_mwh"] - energy["full_mwh"]) / energy["full_mwh"]
    return {
        "case": str(case),
        "aggregation": aggregation,
        "snapshots_full": int(full.data.n_snapshots),
        "snapshots_typical": int(agg.data.n_snapshots),
        "objective_full_cny": full.solution.objective_cny,
        "objective_typical_cny": agg.solution.objective_cny,
        "objective_error_pu": agg.solution.objective_cny / full.solution.objective_cny - 1,
        "solve_full_s": round(full_s, 1),
        "solve_typical_s": round(agg_s, 1),
        "series_error": agg.data.typical.error.to_dict(orient="records"),
        "energy_by_carrier": energy.reset_index(names="carrier").to_dict(orient="records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    typical = {"periods": 12, "period_h": 24, "extreme_periods": ["peak_load"]}
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = write_synthetic(Path(tmp) / "synthetic", n_buses=12, hours=8760, seed=0)
        # coal at 60% of its rating: gas and the batteries then serve the peaks, so the
        # optimum depends on more than the energy totals that rescaling preserves
        figures.append(compare(synthetic, typical, {"scale.capacity": {"coal": 0.6}}))
    pprd = ROOT / "cases" / "pprd_year.yaml"
    daily = {"horizon.snapshots": 365, "horizon.resolution_h": 24}
    for linking in ("seasonal", "periodic"):
        figures.append(compare(pprd, {**typical, "linking": linking}, daily))
    text = json.dumps(figures, indent=1, default=str)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "aggregation_error.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
