"""The README's examples work: the worked example of a new network solves to the figures it
states, the case example's override names a row that exists, and the sweep and compare
examples name files that exist."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from gridopt.inputs.case import load_case
from gridopt.studies.run import solve_case
from gridopt.studies.scenarios import read_scenarios
from tests.conftest import CASES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
# "`path`:" followed by a fenced block: a file of the worked example
FILE_BLOCK = re.compile(
    r"^`((?:networks/two_towns|cases)/[^`]+)`:\n\n```\w*\n(.*?)```", re.M | re.S
)


def test_worked_example_of_a_new_network_solves_as_stated(tmp_path):
    files = dict(FILE_BLOCK.findall(README))
    assert {
        "cases/two_towns.yaml",
        "networks/two_towns/buses.csv",
        "networks/two_towns/timeseries/load_mw.csv",
    } <= set(files)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    run = solve_case(tmp_path / "cases" / "two_towns.yaml")
    assert run.solution.status.value == "optimal"
    # by hand: coal sends what the 60 MW line carries, gas covers the rest
    assert run.solution.objective_cny == pytest.approx(50 * 300 + 2 * 60 * 300 + (40 + 60) * 600)
    assert run.solution.objective_cny == pytest.approx(111_000)
    gen = run.tables["generation"].pivot(index="snapshot", columns="generator", values="p_mw")
    assert gen["coal plant"].tolist() == pytest.approx([50, 60, 60])
    assert gen["gas plant"].tolist() == pytest.approx([0, 40, 60])


def test_case_example_overrides_name_rows_that_exist():
    block = re.search(r"A case is a YAML file in `cases/`:\n\n```yaml\n(.*?)```", README, re.S)
    assert block
    case = yaml.safe_load(block.group(1))
    network = ROOT / "networks" / "pprd"
    for ov in case["overrides"]:
        table = pd.read_csv(network / f"{ov['table']}.csv").set_index("name")
        assert ov["name"] in table.index, ov
        assert ov["column"] in table.columns, ov
    data = load_case(CASES / "pprd_week.yaml", {"overrides": case["overrides"]})
    ov = case["overrides"][0]
    assert data.tables[ov["table"]].at[ov["name"], ov["column"]] == ov["value"]


def test_sweep_and_compare_examples_use_files_that_exist():
    sweep = re.search(r"gridopt sweep (cases/\S+) --scenarios (\S+) --out (\S+)", README)
    assert sweep
    case, scenarios, out = sweep.groups()
    assert (ROOT / case).is_file()
    names = {s.name for s in read_scenarios(ROOT / scenarios)}
    compare = re.search(r"gridopt compare ((?:runs/\S+ )+)--out", README)
    assert compare
    for folder in compare.group(1).split():
        assert folder.startswith(out + "/") and folder.removeprefix(out + "/") in names
