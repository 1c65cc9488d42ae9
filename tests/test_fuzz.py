"""Property-based fuzzing of case tables: no input makes gridopt fail with a traceback."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridopt.cli import app
from tests.conftest import copy_case

TABLES = ["buses.csv", "generators.csv", "loads.csv", "hydro.csv", "timeseries/load_mw.csv"]
CELLS = st.one_of(
    st.sampled_from(["", "-1", "0", "1e309", "nan", "inf", "-inf", "=1+1", "@SUM(A1)", "true",
                     "H", "Upper", "Lower", "2025-01-01 00:00", "1e-300", "NaN", " 5 "]),
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
        rows = [row[:c] + row[c + 1:] for row in rows]
    elif kind == "junk":
        rows.insert(1 + i % len(rows), [value] * (1 + j % 5))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


# derandomized so every CI run checks the same inputs; turn it off locally to explore more
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.lists(mutations(), min_size=1, max_size=3))
def test_no_input_makes_a_traceback(changes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root, "tiny_hydro_cascade")
        net = root / "networks" / "tiny_hydro_cascade"
        for table, kind, i, j, value in changes:
            _mutate(net / table, kind, i, j, value)
        result = CliRunner().invoke(app, ["solve", str(case), "--out", str(root / "run"),
                                          "--format", "csv"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{type(result.exception).__name__}: {result.exception}")
        assert result.exit_code in ALLOWED_EXIT, result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert "problem" in result.stderr
        shutil.rmtree(root, ignore_errors=True)
