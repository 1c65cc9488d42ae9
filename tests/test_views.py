"""What an analyst sees: the scheduled corridors in `info`, the chart data, the PNG charts, the
network map and the workbook's native charts; the summary sheet's numbers as numbers; the
price heat map's scale; the version; where a bad setting came from."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest

import gridopt
from gridopt.errors import InputError
from gridopt.inputs.case_file import read_case
from gridopt.plot import heatmap_scale, plot_run
from gridopt.results.chart_data import congestion_rent, corridor_groups, transfers
from gridopt.results.excel_charts import CHART_DATA_SHEET
from gridopt.results.read import RunTables
from gridopt.studies.run import solve_case
from tests.conftest import CASES, ROOT, copy_case


def gridopt_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gridopt", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.fixture(scope="module")
def corridor_run(tmp_path_factory: pytest.TempPathFactory):
    """tiny_corridor (one two-way corridor, no lines or links; its buses placed on a map),
    written as xlsx and csv."""
    folder = tmp_path_factory.mktemp("corridor")
    case = copy_case(folder, "tiny_corridor")
    buses = folder / "networks" / "tiny_corridor" / "buses.csv"
    pd.read_csv(buses).assign(x_lon=[102.7, 113.3], y_lat=[25.0, 23.1]).to_csv(buses, index=False)
    run_dir = folder / "run"
    result = solve_case(case, run_dir, formats=("xlsx", "csv"))
    assert result.solution.status.value == "optimal"
    return result, run_dir


def test_info_lists_the_scheduled_corridors_apart_from_the_links():
    res = gridopt_cli("info", str(CASES / "pprd_week.yaml"))
    assert res.returncode == 0, res.stderr
    corridors = pd.read_csv(ROOT / "networks" / "pprd" / "corridors.csv")
    links = pd.read_csv(ROOT / "networks" / "pprd" / "links.csv")
    out = res.stdout
    assert "corridors 11 scheduled (table corridors)" in out
    head, _, tail = out.partition("links     15 (table links)")
    assert tail, out
    for name in corridors["name"]:
        assert f"  {name}: " in head  # listed under the corridors, not the links
    for name in links["name"]:
        assert f"  {name}: " in tail
    assert "Chu-Sui: YN (Yunnan) -> GD (Guangdong), UHVDC, 5,000 MW" in out


def test_corridor_chart_data_names_the_corridors_and_keeps_their_figures(corridor_run):
    result, _ = corridor_run
    c = result.tables["corridors"]
    groups = corridor_groups(result.tables.get("flows"), c)
    assert [g.kind for g in groups] == ["corridor"]
    names = list(groups[0].flow_mw.columns)
    assert names == list(result.data.tables["corridors"].index)
    # the flow drawn is the schedule, utilisation and rent are the table's own
    one = c[c["corridor"] == names[0]].set_index("snapshot")
    np.testing.assert_allclose(groups[0].flow_mw[names[0]], one["schedule_mw"])
    np.testing.assert_allclose(groups[0].utilisation_pu[names[0]], one["utilisation_pu"])
    rent = congestion_rent(transfers(None, c))
    assert rent["congestion_rent_cny"].sum() == pytest.approx(c["congestion_rent_cny"].sum())


def test_pprd_charts_show_all_eleven_corridors_and_the_links(pprd_week):
    t = pprd_week.tables
    groups = corridor_groups(t["flows"], t["corridors"])
    assert [g.kind for g in groups] == ["corridor", "link"]
    corridors = set(pd.read_csv(ROOT / "networks" / "pprd" / "corridors.csv")["name"])
    assert set(groups[0].flow_mw.columns) == corridors
    assert not set(groups[1].flow_mw.columns) & corridors
    rent = congestion_rent(transfers(t["flows"], t["corridors"], t["prices"]))
    assert corridors <= set(rent["branch"])
    assert list(rent["kind"][:11]) == ["corridor"] * 11  # corridors first


def test_corridor_run_draws_corridors_in_every_view(corridor_run, tmp_path):
    result, run_dir = corridor_run
    name = result.data.tables["corridors"].index[0]
    notes: list[str] = []
    paths = {p.name for p in plot_run(run_dir, tmp_path, note=notes.append)}
    # the network has no lines or links: only its corridor carries power
    assert {"corridor_flows.png", "congestion_rent.png", "network_map.png"} <= paths
    assert not any(n.startswith("skipping corridor") for n in notes), notes
    # the workbook's native charts: utilisation and rent of the corridor, on its sheet
    book = openpyxl.load_workbook(run_dir / "results.xlsx")
    assert len(book["corridors"]._charts) == 2
    heads = [c.value for c in book[CHART_DATA_SHEET][1]]
    assert any(
        str(h).startswith(f"{name} (") and "corridors utilisation" in str(h) for h in heads
    ), heads
    assert any(str(h).startswith(f"{name} (") and "congestion rent" in str(h) for h in heads)
    # the rent so far ends at the corridor's rent over the horizon
    col = next(i for i, h in enumerate(heads) if "congestion rent" in str(h))
    last = [row[col].value for row in book[CHART_DATA_SHEET].iter_rows(min_row=2)][-1]
    assert last * 1e6 == pytest.approx(result.tables["corridors"]["congestion_rent_cny"].sum())


def test_summary_sheet_holds_numbers_as_numbers(corridor_run):
    result, run_dir = corridor_run
    book = openpyxl.load_workbook(run_dir / "results.xlsx")
    cells = {row[0].value: row[1].value for row in book["summary"].iter_rows(min_row=2)}
    assert isinstance(cells["objective_cny"], float)
    assert cells["objective_cny"] == pytest.approx(result.solution.objective_cny)
    assert isinstance(cells["n_variables"], int)
    assert isinstance(cells["status"], str) and cells["status"] == "optimal"
    # and read back as numbers
    with RunTables(run_dir) as run:
        summary = run.get("summary").set_index("item")["value"]
    assert float(summary["objective_cny"]) == pytest.approx(result.solution.objective_cny)


def test_heatmap_scale_is_robust_to_one_region_far_above_the_rest():
    rng = np.random.default_rng(0)
    values = 400 + 30 * rng.standard_normal((10, 168))  # ten regions near 400 CNY/MWh
    values = np.vstack([values, np.full((1, 168), 1800.0)])  # one region at 1,800
    vmin, vmax, high, low = heatmap_scale(values)
    assert vmax < 600 and vmin > 250  # the scale follows the ten regions
    assert high.tolist() == [False] * 10 + [True]  # the outlier region is marked
    assert not low.any()
    vmin, vmax, high, low = heatmap_scale(values[:10])
    assert not high.any() and vmin <= values[:10].min() and vmax >= values[:10].max()


def test_version_option():
    res = gridopt_cli("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"gridopt {gridopt.__version__}"


def test_a_bad_value_from_the_command_line_is_not_blamed_on_the_case_file():
    with pytest.raises(InputError) as err:
        read_case(CASES / "pprd_week.yaml", {"model": "UC"})
    problem = err.value.problems[0]
    assert problem.row is None and problem.column == "model"
    assert "command line" in str(problem)
    res = gridopt_cli("solve", str(CASES / "tiny_two_bus.yaml"), "--model", "UC")
    assert res.returncode == 2
    assert "row 8" not in res.stderr and "command line" in res.stderr
