"""Property-based fuzzing of case tables, settings, overrides, scenario files and solver
options: no input makes gridopt fail with a traceback, none with a number that is not finite
solves, and whatever solves serves its demand."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridopt.cli import app
from tests.conftest import copy_case

TABLES = ["buses.csv", "generators.csv", "loads.csv", "hydro.csv", "timeseries/load_mw.csv"]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "-1",
            "0",
            "1e309",
            "nan",
            "inf",
            "-inf",
            "=1+1",
            "@SUM(A1)",
            "true",
            "H",
            "Upper",
            "Lower",
            "2025-01-01 00:00",
            "1e-300",
            "NaN",
            " 5 ",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
ALLOWED_EXIT = {0, 2, 3, 4, 5}


@st.composite
def mutations(draw):
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "drop_column", "junk"]))
    return table, kind, draw(st.integers(0, 50)), draw(st.integers(0, 50)), draw(CELLS)


def _mutate(path: Path, kind: str, i: int, j: int, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    if kind == "cell" and len(rows) > 1:
        r = 1 + i % (len(rows) - 1)
        rows[r][j % len(rows[r])] = value
    elif kind == "drop_row" and len(rows) > 1:
        del rows[1 + i % (len(rows) - 1)]
    elif kind == "drop_column":
        c = j % len(rows[0])
        rows = [row[:c] + row[c + 1 :] for row in rows]
    elif kind == "junk":
        rows.insert(1 + i % len(rows), [value] * (1 + j % 5))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


# derandomized so every CI run checks the same inputs; turn it off locally to explore more
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(mutations(), min_size=1, max_size=3))
def test_no_input_makes_a_traceback(changes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_hydro_cascade")
        net = root / "networks" / "tiny_hydro_cascade"
        for table, kind, i, j, value in changes:
            _mutate(net / table, kind, i, j, value)
        result = CliRunner().invoke(
            app, ["solve", str(case), "--out", str(root / "run"), "--format", "csv"]
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{type(result.exception).__name__}: {result.exception}"
        )
        assert result.exit_code in ALLOWED_EXIT, result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert "problem" in result.stderr
        shutil.rmtree(root, ignore_errors=True)


# ---- settings, overrides, scenario files and solver options ---------------------------------

NON_FINITE = [float("nan"), float("inf"), float("-inf")]
VALUES = st.one_of(
    st.sampled_from(
        [
            *NON_FINITE,
            0,
            -1,
            1.5,
            1e308,
            -1e308,
            1e-308,
            10**20,
            2**63,
            "nan",
            "inf",
            "-inf",
            "1e309",
            ".nan",
            "1e9",
            "2,5",
            "",
            "../..",
            "/etc",
            "yes",
            "off",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 5), max_size=3),
)
# numeric settings of a case: a non-finite value must never solve
# values a setting or option would plausibly take, drawn as often as the hostile ones
PLAUSIBLE = st.one_of(
    st.floats(0.0, 3.0),
    st.integers(1, 8),
    st.sampled_from(["off", "on", "choose", "simplex", "ipm", "dry", "uc"]),
    st.floats(1e-9, 1e-4),
)
SOME_VALUE = st.one_of(PLAUSIBLE, VALUES)
# (not solver.threads: the thread count does not change an answer, and a pool of more
# threads than the machine's cores only slows the suite; tests/test_solver_strategy.py
# solves with several counts in one process)
NUMERIC = [
    "scale.demand",
    "scale.inflow",
    "scale.capacity.coal",
    "scale.fuel_price.gas",
    "load_shedding.voll_cny_per_mwh",
    "curtailment_penalty_cny_per_mwh",
    "horizon.snapshots",
    "horizon.resolution_h",
    "solver.time_limit_s",
    "solver.mip_gap",
    "reserve.requirement_pu_of_load",
    "rolling.window_h",
    "gas_shedding.voll_cny_per_mwh_th",
]
OTHER = [
    "load_shedding.enabled",
    "horizon.start",
    "model",
    "inflow_year",
    "project",
    "network",
    "name",
    "solver.method",
    "scale",
    "overrides",
    "solver.options",
    "security_file",
]
SAFE_OPTIONS = [
    "presolve",
    "solver",
    "parallel",
    "run_crossover",
    "time_limit",
    "primal_feasibility_tolerance",
    "dual_feasibility_tolerance",
    "mip_rel_gap",
    "simplex_strategy",
    "random_seed",
    "ipm_optimality_tolerance",
    "small_matrix_value",
    "objective_bound",
    "simplex_iteration_limit",
    "output_flag",
    "log_file",
    "write_solution_to_file",
    "presolv",
    "no_such",
]
FUZZ = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def _non_finite(value: object) -> bool:
    """A float that is NaN or infinite, or text that reads as one."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | str):
        try:
            return not math.isfinite(float(value))
        except (ValueError, OverflowError):
            return False
    return False


def _set(raw: dict, key: str, value: object) -> None:
    node = raw
    *parents, last = key.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def _run(root: Path, case: Path, *extra: str):
    result = CliRunner().invoke(
        app, ["solve", str(case), "--out", str(root / "run"), "--format", "csv", *extra]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output
    return result


def _balanced(root: Path) -> None:
    """A solved run serves its demand: generation plus unserved energy is the demand."""
    info = json.loads((root / "run" / "summary.json").read_text())
    assert info["status"] == "optimal"
    served = info["generation_mwh"] + info["unserved_mwh"]
    assert abs(served - info["demand_mwh"]) <= 1e-6 * max(1.0, info["demand_mwh"]), info


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NUMERIC + NUMERIC + OTHER), st.one_of(PLAUSIBLE, PLAUSIBLE, VALUES)
        ),
        min_size=1,
        max_size=2,
    )
)
def test_no_case_setting_makes_a_traceback_or_solves_with_a_non_finite_number(changes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_two_bus")
        raw = yaml.safe_load(case.read_text())
        for key, value in changes:
            _set(raw, key, value)
        case.write_text(yaml.safe_dump(raw))
        result = _run(root, case)
        assert result.exit_code in ALLOWED_EXIT, result.output
        if any(key in NUMERIC and _non_finite(v) for key, v in changes):
            assert result.exit_code == 2, result.output
        if result.exit_code == 0:
            _balanced(root)


COMPONENTS = {
    "generators": ["cheap", "dear"],
    "loads": ["load B"],
    "lines": ["A-B"],
    "buses": ["A", "B"],
    "nope": ["ghost"],
}


@st.composite
def overrides(draw):
    """Mostly overrides of a component that exists, in a column of its table."""
    from gridopt.inputs.schema import TABLES

    rare = draw(st.integers(0, 9)) == 0  # now and then a table, name or column that is not
    table = draw(st.sampled_from(list(COMPONENTS) if rare else list(COMPONENTS)[:-1]))
    names = COMPONENTS[table] + (["ghost"] if rare else [])
    columns = (
        [c.name for c in TABLES[table].columns if c.name != "name"]
        if table in TABLES
        else ["p_max_mw"]
    )
    numeric = (
        [c.name for c in TABLES[table].columns if c.kind in ("float", "int")]
        if table in TABLES
        else []
    )
    return {
        "table": table,
        "name": draw(st.sampled_from(names)),
        "column": draw(
            st.sampled_from(numeric or columns) if not rare else st.sampled_from([*columns, "size"])
        ),
        "value": draw(st.one_of(PLAUSIBLE, PLAUSIBLE, VALUES)),
    }


@FUZZ
@given(st.lists(overrides(), min_size=1, max_size=2))
def test_no_override_makes_a_traceback_or_solves_with_a_non_finite_number(given_overrides):
    from gridopt.inputs.schema import TABLES

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_two_bus")
        raw = yaml.safe_load(case.read_text())
        raw["overrides"] = given_overrides
        case.write_text(yaml.safe_dump(raw))
        result = _run(root, case)
        assert result.exit_code in ALLOWED_EXIT, result.output
        numeric = [
            o
            for o in given_overrides
            if o["table"] in TABLES
            and o["column"] in TABLES[o["table"]].column_names
            and TABLES[o["table"]].column(o["column"]).kind in ("float", "int")
        ]
        if any(_non_finite(o["value"]) for o in numeric):
            assert result.exit_code == 2, result.output
        if result.exit_code == 0:
            _balanced(root)


@st.composite
def scenario_files(draw):
    keys = st.sampled_from(
        [*NUMERIC[:8], "scale.demnd", "inflow_year", "model", "a..b", "overrides"]
    )
    listed = draw(
        st.lists(
            st.tuples(
                st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                st.dictionaries(keys, SOME_VALUE, max_size=2),
            ),
            max_size=3,
            unique_by=lambda s: s[0],
        )
    )
    product = draw(st.dictionaries(keys, st.lists(SOME_VALUE, min_size=1, max_size=2), max_size=2))
    doc: dict = {}
    if listed or not product:
        doc["scenarios"] = [{"name": n, "changes": c} for n, c in listed]
    if product:
        doc["product"] = product
    return doc


@FUZZ
@given(scenario_files())
def test_no_scenario_file_makes_a_traceback_or_plans_a_non_finite_number(doc):
    from gridopt.errors import InputError
    from gridopt.studies.scenarios import read_scenarios
    from gridopt.studies.sweep import plan

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_two_bus")
        path = root / "scenarios.yaml"
        path.write_text(yaml.safe_dump(doc))
        try:
            scenarios = read_scenarios(path)
        except InputError as err:
            assert all(p.file == str(path) for p in err.problems), err
            return
        tasks, known = plan(case, scenarios, root / "sweep")
        planned = {t.scenario: t for t in tasks}
        for s in scenarios:
            bad = [k for k, v in s.changes.items() if k in NUMERIC and _non_finite(v)]
            if bad:
                assert s.name not in planned and known[s.name].status == "invalid", s
                assert str(path) in known[s.name].message, known[s.name].message


@st.composite
def solver_options(draw):
    """One or two options, mostly of HiGHS' names with values of their kind."""
    out = {}
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(SAFE_OPTIONS))
        kind = {
            "presolve": "text",
            "solver": "text",
            "parallel": "text",
            "run_crossover": "text",
            "simplex_strategy": "int",
            "random_seed": "int",
            "simplex_iteration_limit": "int",
            "output_flag": "bool",
        }.get(name, "number")
        plausible = {
            "text": st.sampled_from(["off", "on", "choose", "simplex", "ipm"]),
            "int": st.integers(0, 50),
            "bool": st.booleans(),
            "number": st.floats(1e-9, 1e-4),
        }[kind]
        out[name] = draw(st.one_of(plausible, plausible, VALUES))
    return out


@FUZZ
@given(solver_options())
def test_no_solver_option_makes_a_traceback_or_a_wrong_answer(options):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_two_bus")
        raw = yaml.safe_load(case.read_text())
        raw["solver"] = {"options": options}
        case.write_text(yaml.safe_dump(raw))
        result = _run(root, case)
        assert result.exit_code in ALLOWED_EXIT | {1}, result.output
        if any(_non_finite(v) for v in options.values()):
            assert result.exit_code == 2, result.output
        if result.exit_code == 0:
            _balanced(root)
