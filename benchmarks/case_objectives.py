"""Every case in cases/ solved, its objective and model size recorded or checked.

A change that should not change behaviour (a refactoring, a faster build, a new writer) keeps
every case's objective to 1e-9 and its model size exactly. Record the figures before the
change and check them after:

    python benchmarks/case_objectives.py --record before.json
    python benchmarks/case_objectives.py --check before.json

Cases too long for a quick proof run on a cut horizon (`PROOF_CHANGES`): the code paths are
those of the whole case (rolling windows, unit commitment, the year's data), only fewer hours.
MIPs solve to the gap their case file sets; HiGHS' branch and bound is deterministic without a
time limit, so the same model gives the same objective.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from gridopt.studies.rolling import solve_rolling
from gridopt.studies.run import solve_case

ROOT = Path(__file__).resolve().parents[1]
# case -> dotted settings applied for the proof run (see the module doc)
PROOF_CHANGES: dict[str, dict[str, Any]] = {
    "pprd_year": {"horizon.snapshots": 336},
    "pprd_uc_week": {"horizon.snapshots": 48, "solver.time_limit_s": None},
    "pprd_uc_year": {"horizon.snapshots": 96, "solver.time_limit_s": None},
    "pprd_expansion_2030_discrete": {"solver.relax": True, "solver.time_limit_s": None},
    "pprd_expansion_2030": {"solver.time_limit_s": None},
}
TOLERANCE = 1e-9


def solve_all(names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Objective, status and model size of every case (or of `names`)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        if names and path.stem not in names:
            continue
        changes = {k: v for k, v in PROOF_CHANGES.get(path.stem, {}).items()}
        t0 = time.perf_counter()
        rolling = "rolling:" in path.read_text(encoding="utf-8")
        if rolling:
            run = solve_rolling(path, changes=changes or None)
            info = run.summary
        else:
            info = solve_case(path, changes=changes or None).summary
        out[path.stem] = {
            "status": info.get("status"),
            "objective_cny": info.get("objective_cny"),
            **{k: info.get(k) for k in ("n_variables", "n_constraints", "n_nonzeros")},
            "changes": changes,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(
            f"{path.stem}: {out[path.stem]['status']} {out[path.stem]['objective_cny']}"
            f" ({out[path.stem]['seconds']} s)",
            flush=True,
        )
    return out


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """Differences beyond the tolerance, in words (empty: the same)."""
    problems = []
    for name, old in before.items():
        new = after.get(name)
        if new is None:
            problems.append(f"{name}: not solved")
            continue
        if old["status"] != new["status"]:
            problems.append(f"{name}: status {old['status']} -> {new['status']}")
        a, b = old["objective_cny"], new["objective_cny"]
        if (a is None) != (b is None) or (
            a is not None and not math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        ):
            problems.append(f"{name}: objective {a!r} -> {b!r}")
        for key in ("n_variables", "n_constraints", "n_nonzeros"):
            if old.get(key) != new.get(key):
                problems.append(f"{name}: {key} {old.get(key)} -> {new.get(key)}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", type=Path, help="write the figures to this JSON file")
    group.add_argument("--check", type=Path, help="compare with the figures in this JSON file")
    parser.add_argument("cases", nargs="*", help="case names (default: every case)")
    args = parser.parse_args()
    figures = solve_all(args.cases)
    if args.record:
        args.record.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return
    before = json.loads(args.check.read_text(encoding="utf-8"))
    if args.cases:
        before = {k: v for k, v in before.items() if k in args.cases}
    problems = compare(before, figures)
    for line in problems:
        print(line)
    print(
        f"{len(before) - len({p.split(':')[0] for p in problems})} of {len(before)} cases"
        f" the same to {TOLERANCE:g}"
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
