"""Results are written atomically and spreadsheet cells never become formulas."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

import gridopt.results.write as write
from tests.conftest import copy_case, solve


def _tables():
    return {
        "summary": pd.DataFrame({"item": ["status"], "value": ["optimal"]}),
        "names": pd.DataFrame(
            {"generator": ['=HYPERLINK("x")', "@SUM(A1)", "ok"], "p_mw": [1.0, 2.0, 3.0]}
        ),
    }


def test_an_interrupted_write_keeps_the_previous_results(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write.write_results(out, _tables(), {"status": "optimal", "run": 1}, ("xlsx", "csv"))
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "write_xlsx", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write.write_results(out, _tables(), {"status": "optimal", "run": 2}, ("csv", "xlsx"))
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert json.loads((out / "summary.json").read_text())["run"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    out = tmp_path / "run"
    write.write_results(out, _tables(), {"status": "optimal"}, ("xlsx", "csv"))
    book = openpyxl.load_workbook(out / "results.xlsx")
    cells = [c for row in book["names"].iter_rows(min_row=2, max_col=1) for c in row]
    assert all(c.data_type == "s" for c in cells)
    assert not any(str(c.value).startswith(("=", "@")) for c in cells)
    csv = (out / "csv" / "names.csv").read_text()
    assert "\n=" not in csv and "\n@" not in csv


def test_component_names_from_a_hostile_table_stay_text(tmp_path):
    case = copy_case(tmp_path, "tiny_two_bus")
    gens = tmp_path / "networks" / "tiny_two_bus" / "generators.csv"
    gens.write_text(gens.read_text().replace("dear,", "=1+1,"))
    run = solve(case)
    assert run.solution.status == "optimal"
    write.write_results(tmp_path / "run", run.tables, run.summary, ("xlsx",))
    book = openpyxl.load_workbook(tmp_path / "run" / "results.xlsx")
    names = [c.value for c in next(book["generation"].iter_cols(min_col=2, max_col=2, min_row=2))]
    assert "'=1+1" in names
