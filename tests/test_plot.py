"""Charts of a results folder: every chart is drawn from a small solved run as a PNG of the set
size, charts whose tables are missing are skipped with a note, and the workbook's native charts
point at cells that hold the data they claim to show."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import openpyxl
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from gridopt.cli.plot import plot
from gridopt.inputs.synthetic import write_synthetic
from gridopt.plot import CHARTS, PNG_SIZE_PX, plot_run
from gridopt.results.chart_data import (
    CARRIER_COLORS,
    FALLBACK_PALETTE,
    carrier_color,
    dispatch,
    gas_balance,
    pipelines,
    security_targets,
)
from gridopt.results.excel_charts import CHART_DATA_SHEET, add_native_charts
from gridopt.results.read import RunTables
from gridopt.results.tables import network_tables
from gridopt.studies.run import RunResult, solve_case
from tests.conftest import CASES


def _with_network_tables(result: RunResult, run_dir: Path) -> None:
    """Give the results folder its bus and carrier tables (coordinates, colours), which the
    network map needs, when the run writer has not written them."""
    for name, df in network_tables(result.data).items():
        path = run_dir / "csv" / f"{name}.csv"
        if not path.exists():
            df.to_csv(path, index=False)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """One day of a synthetic 8-bus network (AC lines, HVDC links, batteries, five regions,
    coordinates) with a hydro cascade on two rivers added: every chart has something to show."""
    folder = tmp_path_factory.mktemp("full")
    net = folder / "net"
    case = write_synthetic(net, n_buses=8, hours=24, case_snapshots=24)
    carriers = pd.read_csv(net / "carriers.csv")
    pd.concat(
        [carriers, pd.DataFrame({"name": ["hydro"], "renewable": [True], "fossil": [False]})]
    ).to_csv(net / "carriers.csv", index=False)
    pd.DataFrame(
        {
            "name": ["Upper", "Lower", "Gorge"],
            "bus": ["N002", "N003", "N001"],
            "carrier": "hydro",
            "river": ["Jinsha", "Jinsha", "Dadu"],
            "p_max_mw": [400, 300, 500],
            "mw_per_m3s": [1.0, 0.5, 0.8],
            "storage_max_hm3": [20, 0, 30],
            "storage_initial_hm3": [10, None, 12],
            "end_rule": "free",
            "downstream": ["Lower", None, None],
            "travel_time_h": [2, 0, 0],
        }
    ).to_csv(net / "hydro.csv", index=False)
    run_dir = folder / "run"
    result = solve_case(case, run_dir, formats=("xlsx", "csv"))
    assert result.solution.status.value == "optimal"
    _with_network_tables(result, run_dir)
    return result, run_dir


@pytest.fixture(scope="module")
def two_bus_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny_two_bus: one AC line, no links, no hydro; its folder has no bus table."""
    run_dir = tmp_path_factory.mktemp("two_bus") / "run"
    solve_case(CASES / "tiny_two_bus.yaml", run_dir, formats=("csv",))
    (run_dir / "csv" / "buses.csv").unlink(missing_ok=True)
    return run_dir


def _assert_png(path: Path) -> None:
    assert path.stat().st_size > 0
    pixels = mpimg.imread(path)
    width, height = PNG_SIZE_PX
    assert pixels.shape[:2] == (height, width), path.name
    # a chart, not a blank canvas: many distinct colours
    rgba = np.round(pixels * 255).astype(np.uint8)
    rgba = rgba if rgba.shape[2] == 4 else np.dstack([rgba, np.full(rgba.shape[:2], 255, "u1")])
    assert len(np.unique(rgba.reshape(-1, 4).view(np.uint32))) > 50, path.name


def test_every_chart_is_drawn_from_a_small_run(full_run, tmp_path):
    result, run_dir = full_run
    notes: list[str] = []
    paths = plot_run(run_dir, tmp_path / "plots", note=notes.append)
    regions = sorted(result.data.tables["buses"]["region"].unique())
    assert regions == ["R0", "R1", "R2", "R3", "R4"]
    # no gas network and no security zones here: those charts have their own runs below
    assert notes == [
        "skipping gas_prices: the run has no gas_prices table",
        "skipping gas_supply: the run has no gas_supply table",
        "skipping gas_pipelines: the run has no gas_flows table",
        "skipping security: the run has no security table",
        "skipping future_cost_levels: the run has no future_cost_levels table",
    ]
    assert sorted(p.name for p in paths) == sorted(
        [
            "dispatch_system.png",
            *(f"dispatch_{r}.png" for r in regions),
            "corridor_flows.png",
            "congestion_rent.png",
            "reservoir_storage.png",
            "price_heatmap.png",
            "network_map.png",
        ]
    )
    assert sorted(tmp_path.joinpath("plots").iterdir()) == sorted(paths)
    for path in paths:
        _assert_png(path)


def test_dispatch_series_balance_the_system_and_each_region(full_run):
    result, _ = full_run
    t = result.tables
    system = dispatch(t["generation"], t["storage"], t["unserved"])
    assert system.demand_mw is not None
    # links here are lossless, so sources (incl. unserved) minus charging meet the demand
    np.testing.assert_allclose(
        system.supply.sum(axis=1) + system.uptake.sum(axis=1), system.demand_mw, atol=1e-5
    )
    assert {"coal", "hydro"} <= set(system.supply.columns)
    for region in ("R0", "R2"):
        d = dispatch(t["generation"], t["storage"], t["unserved"], region)
        assert d.demand_mw is not None
        # a region's own generation is its part of the system's
        own = t["generation"][t["generation"]["region"] == region]
        carriers = [c for c in d.supply.columns if c in set(own["carrier"])]
        np.testing.assert_allclose(
            d.supply[carriers].sum(axis=1), own.groupby("snapshot")["p_mw"].sum(), atol=1e-6
        )
        np.testing.assert_allclose(
            d.supply.sum(axis=1) + d.uptake.sum(axis=1), d.demand_mw, atol=1e-5
        )
        # the same carrier has the same colour in every chart
        for c in carriers:
            assert d.colors[c] == system.colors[c] == carrier_color(c)


def test_chart_without_its_table_is_skipped_with_a_note(two_bus_run, tmp_path):
    notes: list[str] = []
    paths = plot_run(two_bus_run, tmp_path, note=notes.append)
    assert notes == [
        "skipping reservoir_storage: the run has no hydro table",
        "skipping network_map: the run has no buses table",
        "skipping gas_prices: the run has no gas_prices table",
        "skipping gas_supply: the run has no gas_supply table",
        "skipping gas_pipelines: the run has no gas_flows table",
        "skipping security: the run has no security table",
        "skipping future_cost_levels: the run has no future_cost_levels table",
    ]
    # no links in this network: the flows chart shows its AC line instead
    assert sorted(p.name for p in paths) == [
        "congestion_rent.png",
        "corridor_flows.png",
        "dispatch_East.png",
        "dispatch_West.png",
        "dispatch_system.png",
        "price_heatmap.png",
    ]
    for path in paths:
        _assert_png(path)


GAS_CHARTS = ("gas_prices", "gas_supply", "gas_pipelines")


def _charts(*names: str) -> list:
    return [c for c in CHARTS if c.name in names]


@pytest.fixture(scope="module")
def gas_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """tiny_gas: two gas nodes, a pipeline at its rating, LNG and pipeline supply, a CCGT."""
    run_dir = tmp_path_factory.mktemp("gas") / "run"
    return solve_case(CASES / "tiny_gas.yaml", run_dir, formats=("csv",)), run_dir


@pytest.fixture(scope="module")
def security_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """tiny_security: one zone whose N-1 infeed target binds in both hours."""
    run_dir = tmp_path_factory.mktemp("security") / "run"
    return solve_case(CASES / "tiny_security.yaml", run_dir, formats=("csv",)), run_dir


def test_gas_charts_are_drawn_from_a_gas_run(gas_run, tmp_path):
    result, run_dir = gas_run
    notes: list[str] = []
    paths = plot_run(run_dir, tmp_path, note=notes.append, charts=_charts(*GAS_CHARTS, "security"))
    assert notes == ["skipping security: the run has no security table"]
    assert [p.name for p in paths] == [f"{n}.png" for n in GAS_CHARTS]
    for path in paths:
        _assert_png(path)
    t = result.tables
    # supply by source kind meets the demand: the CCGT's 800 / 1000 MWth plus 100 MWth other
    b = gas_balance(t["gas_supply"], t["gas_burn"], t["gas_prices"])
    assert list(b.supply.columns) == ["pipeline import", "LNG"]
    np.testing.assert_allclose(b.supply.sum(axis=1), [900.0, 1100.0])
    np.testing.assert_allclose(b.demand_mwth, [900.0, 1100.0])
    np.testing.assert_allclose(b.power_mwth, [800.0, 1000.0])
    assert b.colors["LNG"] == CARRIER_COLORS["lng"]
    c = pipelines(t["gas_flows"])
    assert c is not None and c.labels == {"trunk": "trunk (Border → Coast gas)"}
    np.testing.assert_allclose(c.utilisation_pu["trunk"], [1.0, 1.0])


def test_security_chart_is_drawn_from_a_security_run(security_run, tmp_path):
    result, run_dir = security_run
    notes: list[str] = []
    paths = plot_run(run_dir, tmp_path, note=notes.append, charts=_charts(*GAS_CHARTS, "security"))
    assert notes == [
        "skipping gas_prices: the run has no gas_prices table",
        "skipping gas_supply: the run has no gas_supply table",
        "skipping gas_pipelines: the run has no gas_flows table",
    ]
    assert [p.name for p in paths] == ["security.png"]
    _assert_png(paths[0])
    # N-1 on the loss of L1 binds in both hours at 20 CNY/MW/h (tests/test_security.py)
    targets = security_targets(result.tables["security"])
    row = targets.set_index(["zone", "target"]).loc[("Zone", "N-1 infeed")]
    assert (row["kind"], row["binding_h"], row["horizon_h"]) == ("hourly", 2.0, 2.0)
    assert (row["shadow_mean"], row["shadow_max"], row["price_unit"]) == (20.0, 20.0, "CNY/MW/h")


def test_security_targets_over_periods_checks_and_many_zones(tmp_path):
    """Targets over the horizon or a month count the hours of the periods they bind in, checks
    have no shadow price, and zones beyond three continue on a second chart."""
    stamps = pd.date_range("2025-07-31 20:00", periods=8, freq="h")  # 4 h in July, 4 in August
    rows = []
    for z in range(4):
        for k, t in enumerate(stamps):
            rows.append(
                {
                    "zone": f"Z{z}",
                    "target": "N-1 infeed",
                    "element": "L1",
                    "snapshot": t,
                    "period": "",
                    "slack": 0.0 if k < z else 5.0,
                    "binding": k < z,
                    "met": True,
                    "shadow_price": 10.0 * (k < z),
                    "shadow_price_unit": "CNY/MW/h",
                    "unit": "MW",
                }
            )
        rows += [
            {
                "zone": f"Z{z}",
                "target": "import share <= 90 % per month",
                "element": "max",
                "snapshot": pd.NaT,
                "period": m,
                "slack": 0.0 if m == "2025-08" else 0.1,
                "binding": m == "2025-08",
                "met": True,
                "shadow_price": 1e5 * (m == "2025-08"),
                "shadow_price_unit": "CNY/pp",
                "unit": "pu of demand",
            }
            for m in ("2025-07", "2025-08")
        ]
        rows.append(
            {
                "zone": f"Z{z}",
                "target": "reserve margin",
                "element": "largest",
                "snapshot": pd.NaT,
                "period": "planning",
                "slack": -30.0,
                "binding": False,
                "met": False,
                "shadow_price": np.nan,
                "shadow_price_unit": None,
                "unit": "MW",
            }
        )
    security = pd.DataFrame(rows)
    targets = security_targets(security, hours=1.0).set_index(["zone", "target"])
    assert targets.loc[
        ("Z3", "N-1 infeed"), ["binding_h", "shadow_mean", "shadow_max"]
    ].tolist() == [3.0, 10.0 * 3 / 8, 10.0]
    month = targets.loc[("Z0", "import share <= 90 % per month")]
    assert (month["kind"], month["binding_h"], month["binding"], month["periods"]) == (
        "period",
        4.0,
        1,
        2,
    )
    check = targets.loc[("Z1", "reserve margin")]
    assert (check["kind"], check["met"], check["short"]) == ("check", False, 30.0)
    assert np.isnan(check["shadow_max"])

    (tmp_path / "run" / "csv").mkdir(parents=True)
    security.to_csv(tmp_path / "run" / "csv" / "security.csv", index=False)
    paths = plot_run(tmp_path / "run", tmp_path / "png", charts=_charts("security"))
    assert [p.name for p in paths] == ["security.png", "security_2.png"]
    for path in paths:
        _assert_png(path)


def test_workbook_charts_of_gas_prices_and_security_binding_hours(gas_run, security_run, tmp_path):
    (gas, _), (sec, _) = gas_run, security_run
    for result, name, sheet in (
        (gas, "gas_prices", "gas_prices"),
        (sec, "security_binding_hours", "security"),
    ):
        path = tmp_path / f"{name}.xlsx"
        with pd.ExcelWriter(path, engine="xlsxwriter") as xw:
            for table, df in result.tables.items():
                df.to_excel(xw, sheet_name=table, index=False)
            assert add_native_charts(xw.book, xw.sheets, result.tables)[name] == [sheet]
        book = openpyxl.load_workbook(path)
        (chart,) = book[sheet]._charts
        got = {}
        for s in chart._charts[0].series:
            label, what = _cells(book, s.tx.strRef.f)[0].split(" | ")
            got[label] = (what, _cells(book, s.val.numRef.f))
        if name == "gas_prices":
            assert got == {
                "Border (Inland)": ("gas price, CNY/MWh_th", [150.0, 150.0]),
                "Coast gas (Coast)": ("gas price, CNY/MWh_th", [300.0, 300.0]),
            }
        else:
            assert got == {
                "Zone: N-1 infeed": ("hours the security target has bound so far, h", [1.0, 2.0])
            }


def test_tables_read_alike_from_parquet_csv_and_xlsx(full_run, tmp_path, request):
    _, run_dir = full_run
    from_csv = RunTables(run_dir)
    assert from_csv.source == "csv"  # preferred to the workbook beside it
    xlsx_only = tmp_path / "xlsx_only"
    xlsx_only.mkdir()
    shutil.copy(run_dir / "results.xlsx", xlsx_only / "results.xlsx")
    from_xlsx = RunTables(xlsx_only)
    request.addfinalizer(from_xlsx.close)
    assert from_xlsx.source == "xlsx"
    with_parquet = tmp_path / "with_parquet"
    shutil.copytree(run_dir / "csv", with_parquet / "csv")
    (with_parquet / "parquet").mkdir()
    for name in ("prices", "flows", "hydro", "generation"):
        from_csv.get(name).to_parquet(with_parquet / "parquet" / f"{name}.parquet")
    from_parquet = RunTables(with_parquet)
    assert from_parquet.source == "parquet"
    for name in ("prices", "flows", "hydro", "generation"):
        expected = from_csv.get(name)
        assert pd.api.types.is_datetime64_any_dtype(expected["snapshot"])
        for other in (from_xlsx, from_parquet):
            got = other.get(name)
            assert got is not None
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert from_xlsx.get("gas_flows") is None


def test_xlsx_table_continued_on_further_sheets_is_read_whole(tmp_path):
    stamps = pd.date_range("2025-01-01", periods=5, freq="h")
    df = pd.DataFrame({"snapshot": stamps, "bus": "'=A1", "price_cny_per_mwh": range(5)})
    with pd.ExcelWriter(tmp_path / "results.xlsx", engine="xlsxwriter") as xw:
        df.iloc[:3].to_excel(xw, sheet_name="prices", index=False)
        df.iloc[3:].to_excel(xw, sheet_name="prices_2", index=False)
    with RunTables(tmp_path) as run:
        assert run.names() == ["prices"]
        got = run.get("prices")
    assert got["price_cny_per_mwh"].tolist() == list(range(5))
    assert list(got["snapshot"]) == list(stamps)
    # the quote that kept formula-like text as text in the spreadsheet is removed
    assert set(got["bus"]) == {"=A1"}


def _cells(book: openpyxl.Workbook, ref: str) -> list[object]:
    """Values of a one-column range such as `chart_data!$B$3:$B$26`."""
    sheet, rng = ref.split("!")
    assert sheet == CHART_DATA_SHEET
    cells = book[sheet][rng.replace("$", "")]
    return [cells.value] if isinstance(cells, openpyxl.cell.Cell) else [r[0].value for r in cells]


def _range(ref: str) -> tuple[str, int, int]:
    col, first, col2, last = re.fullmatch(r".*!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", ref).groups()
    assert col == col2
    return col, int(first), int(last)


def test_workbook_charts_reference_the_sheet_ranges_of_their_data(full_run, tmp_path):
    result, _ = full_run
    t = {**result.tables, **network_tables(result.data)}
    path = tmp_path / "charts.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as xw:
        pd.DataFrame({"item": ["case_name"], "value": ["synthetic"]}).to_excel(
            xw, sheet_name="summary", index=False
        )
        for name, df in t.items():
            df.to_excel(xw, sheet_name=name, index=False)
        placed = add_native_charts(xw.book, xw.sheets, t)
    assert placed == {
        "dispatch": ["summary", "generation"],
        "regional_prices": ["prices"],
        "corridor_utilisation": ["flows"],
        "congestion_rent": ["flows"],
        "reservoir_storage": ["hydro"],
    }

    snapshots = sorted(t["generation"]["snapshot"].unique())
    n = len(snapshots)
    gen = t["generation"].groupby(["carrier", "snapshot"])["p_mw"].sum()
    demand = t["unserved"].groupby("snapshot")["demand_mw"].sum()
    discharge = t["storage"].groupby(["carrier", "snapshot"])["discharge_mw"].sum()
    charge = t["storage"].groupby("snapshot")["charge_mw"].sum()
    p = t["prices"].merge(t["unserved"][["snapshot", "bus", "demand_mw"]], on=["snapshot", "bus"])
    p["pw"] = p["price_cny_per_mwh"] * p["demand_mw"]
    g = p.groupby(["region", "snapshot"])
    region_price = g["pw"].sum() / g["demand_mw"].sum()
    links = t["flows"][t["flows"]["kind"] == "link"]
    hydro = t["hydro"]
    expected: dict[str, pd.Series] = {
        **{c: gen[c] for c in gen.index.levels[0]},
        **{f"{c} discharge": discharge[c] for c in discharge.index.levels[0]},
        "demand": demand,
        "demand + storage charging": demand + charge,
        **{r: region_price[r] for r in region_price.index.levels[0]},
        **{
            f"{b} ({b0} → {b1})": links[links["branch"] == b].set_index("snapshot")[
                "utilisation_pu"
            ]
            for b, b0, b1 in links[["branch", "bus0", "bus1"]]
            .drop_duplicates()
            .itertuples(index=False)
        },
        **{
            f"{s} ({r})": hydro[hydro["station"] == s].set_index("snapshot")["storage_hm3"]
            for s, r in (("Upper", "Jinsha"), ("Gorge", "Dadu"))
        },
    }

    book = openpyxl.load_workbook(path)
    seen: dict[str, set[str]] = {}
    for sheet in ("summary", "generation", "prices", "flows", "hydro"):
        charts = book[sheet]._charts
        # the flows sheet also has the congestion rent so far (tests/test_views.py)
        assert len(charts) == (2 if sheet == "flows" else 1), sheet
        for plot_type in charts[0]._charts:  # an area chart carries its demand line combined
            for s in plot_type.series:
                # a header reads "<series> | <what, unit>": one header row, a plain table
                name = _cells(book, s.tx.strRef.f)[0].split(" | ")[0]
                values = s.val.numRef.f
                cats = s.cat.numRef.f
                _, first, last = _range(values)
                assert (first, last) == (2, n + 1)  # below the header row, every snapshot
                assert _range(cats) == ("A", 2, n + 1)
                assert [pd.Timestamp(v) for v in _cells(book, cats)] == snapshots
                got = [0.0 if v is None else v for v in _cells(book, values)]
                np.testing.assert_allclose(
                    got,
                    expected[name].reindex(snapshots).to_numpy(),
                    atol=1e-6,
                    err_msg=f"{sheet}: {name}",
                )
                seen.setdefault(sheet, set()).add(name)
                if name in gen.index.levels[0]:
                    # the carrier's colour of the PNG charts
                    fill = s.graphicalProperties.solidFill.srgbClr
                    assert f"#{fill.lower()}" == CARRIER_COLORS[name]
    assert seen["summary"] == seen["generation"]
    assert {"coal", "hydro", "demand"} <= seen["generation"]
    assert seen["prices"] == set(t["buses"]["region"])
    assert seen["flows"] == {k for k in expected if k.startswith("DC ")}
    assert seen["hydro"] == {"Upper (Jinsha)", "Gorge (Dadu)"}


def test_no_charts_without_tables_to_chart(tmp_path):
    from xlsxwriter import Workbook

    book = Workbook(tmp_path / "empty.xlsx")
    assert add_native_charts(book, {}, {"summary": pd.DataFrame({"item": [], "value": []})}) == {}
    assert CHART_DATA_SHEET not in book.sheetnames
    book.close()


def test_carrier_colours_come_from_one_table_then_the_run(tmp_path):
    carriers = pd.DataFrame(
        {"carrier": ["coal", "tidal", "geothermal_x"], "color": ["#123456", "#ABCDEF", "#999999"]}
    )
    # the table in the code wins, so every run draws coal alike
    assert carrier_color("coal", carriers) == CARRIER_COLORS["coal"]
    assert carrier_color("Pumped_Hydro") == CARRIER_COLORS["pumped hydro"]
    assert carrier_color("tidal", carriers) == "#abcdef"
    # the schema's default grey is no colour of its own: a stable colour from the name instead
    fallback = carrier_color("geothermal_x", carriers)
    assert fallback in FALLBACK_PALETTE
    assert fallback == carrier_color("geothermal_x")


def test_plot_command(two_bus_run, tmp_path):
    app = typer.Typer()
    app.command("plot")(plot)
    app.command("other")(lambda: None)  # two commands, so `plot` is a subcommand as in gridopt
    runner = CliRunner()
    res = runner.invoke(app, ["plot", str(two_bus_run), "--out", str(tmp_path / "png")])
    assert res.exit_code == 0, res.output
    assert "wrote 6 charts" in res.stdout
    assert "skipping network_map" in res.stderr
    assert len(list((tmp_path / "png").glob("*.png"))) == 6
    res = runner.invoke(app, ["plot", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "no results tables" in res.stderr
