"""Supply-security zones: a hand-solved N-1 toy, shares, checks, diagnoses, and the PPRD zones.

The toy (cases/tiny_security.yaml): zone Z is fed from mainland bus M by two parallel lines of
equal reactance, L1 (100 MW) and L2 (80 MW), so each carries half the import f; mainland coal
costs 10 CNY/MWh, the zone's one unit (100 MW, stable minimum m = 0.5) 50 CNY/MWh; demand is
150 MW, then 120 MW. With spinning headroom h <= min(p (1 - m) / m, 100 - p) = min(p, 100 - p),
the N-1 rows are

    loss of L1:     f/2 <= h + (80 - f/2)          i.e.  f <= 80 + h
    loss of L2:     f/2 <= h + (100 - f/2)         i.e.  f <= 100 + h
    loss of local:  p   <= (100 - f/2) + (80 - f/2)

With f = D - p the loss of L1 binds: D - p <= 80 + p, so p = (D - 80) / 2: p = 35 MW (f = 115,
57.5 MW per line) at 150 MW and p = 20 MW (f = 100) at 120 MW. Cost 35 x 50 + 115 x 10 = 2,900
and 20 x 50 + 100 x 10 = 2,000 CNY: 4,900 CNY against 2,700 CNY without the target (all imported),
a cost of security of 2,200 CNY. One MW more cover needed after the loss of L1 raises p by 1/2 MW
and costs (50 - 10) / 2 = 20 CNY: the shadow price is 20 CNY/MW/h in both hours; the other rows
have slack (L2: 20 MW; local: 30 and 60 MW).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from gridopt.cli.studies import contingency, security
from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.zones import local_units
from gridopt.model import generation
from gridopt.model import security as security_family
from gridopt.model.registry import build_model
from gridopt.solver.matrix import matrix_from_blocks
from gridopt.solver.solve import solve
from gridopt.solver.types import Status
from gridopt.studies.run import solve_case
from gridopt.studies.security import contingency_study, cost_of_security
from tests.conftest import CASES, copy_case

TOY = CASES / "tiny_security.yaml"
ZONE = {"name": "Zone", "buses": ["Z"], "imports": [{"line": "L1"}, {"line": "L2"}]}


def toy(**zone: object):
    return solve_case(TOY, changes={"security": [{**ZONE, **zone}]})


def rows(run, target: str) -> pd.DataFrame:
    table = run.tables["security"]
    return table[table["target"] == target]


# ---- the hand-solved toy ---------------------------------------------------------------------
def test_toy_n1_binds_on_the_loss_of_the_larger_line_as_derived_by_hand():
    run = solve_case(TOY)
    assert run.solution.status is Status.OPTIMAL
    assert run.solution.objective_cny == pytest.approx(4900.0)
    gen = run.tables["generation"].pivot(index="snapshot", columns="generator", values="p_mw")
    assert gen["local"].to_numpy() == pytest.approx([35.0, 20.0])
    flows = run.tables["flows"].pivot(index="snapshot", columns="branch", values="p0_mw")
    assert flows["L1"].to_numpy() == pytest.approx([57.5, 50.0])
    assert flows["L2"].to_numpy() == pytest.approx([57.5, 50.0])
    n1 = rows(run, "N-1 infeed").set_index(["element", "snapshot"]).sort_index()
    l1 = n1.loc["L1"]
    assert l1["binding"].all()
    assert l1["shadow_price"].to_numpy() == pytest.approx([20.0, 20.0])
    assert (l1["shadow_price_unit"] == "CNY/MW/h").all()
    assert l1["lhs"].to_numpy() == pytest.approx([57.5, 50.0])  # lost: half the import
    assert n1.loc["L2", "slack"].to_numpy() == pytest.approx([20.0, 20.0])
    assert n1.loc["local", "slack"].to_numpy() == pytest.approx([30.0, 60.0])
    assert not n1.loc["L2", "binding"].any() and not n1.loc["local", "binding"].any()
    assert n1.loc["L2", "shadow_price"].to_numpy() == pytest.approx([0.0, 0.0], abs=1e-9)


def test_toy_cost_of_security_is_the_objective_difference():
    study = cost_of_security(load_case(TOY))
    table = study.table.set_index("target")
    assert table.loc["all targets", "objective_cny"] == pytest.approx(4900.0)
    assert table.loc["no targets", "objective_cny"] == pytest.approx(2700.0)
    assert table.loc["all targets", "cost_cny"] == pytest.approx(2200.0)
    assert table.loc["all targets", "cost_cny_per_mwh"] == pytest.approx(2200.0 / 270.0)
    # the only target: its cost given the others and alone are the whole cost
    assert table.loc["N-1 infeed", ["cost_cny", "cost_alone_cny"]].tolist() == pytest.approx(
        [2200.0, 2200.0]
    )
    assert (table[["cost_cny", "cost_alone_cny"]].stack().dropna() >= 0).all()


def test_toy_available_headroom_is_only_a_capacity_check():
    """Counting all capacity as headroom, f <= 80 + (100 - p) is 150 <= 180: never binding."""
    run = toy(n_1={"headroom": "available"})
    assert run.solution.objective_cny == pytest.approx(2700.0)
    n1 = rows(run, "N-1 infeed")
    assert (n1["slack"] > 29.999).all() and not n1["binding"].any()


def test_toy_local_share_and_fuel_mix_rows_price_the_share_per_percentage_point():
    """Local share >= 30 % of 270 MWh: 81 MWh from the local unit at 40 CNY/MWh above imports:
    2,700 + 81 x 40 = 5,940 CNY; one percentage point (2.7 MWh) costs 108 CNY."""
    for setting in (
        {"local_share": {"min_pu": 0.3}},
        {"fuel_mix": [{"carriers": ["gas"], "min_pu": 0.3}]},
    ):
        run = toy(**setting)
        assert run.solution.objective_cny == pytest.approx(5940.0)
        assert run.tables["generation"].query("generator == 'local'")[
            "energy_mwh"
        ].sum() == pytest.approx(81.0)
        share = run.tables["security"].iloc[0]
        assert share["binding"] and share["lhs"] == pytest.approx(0.3)
        assert share["shadow_price"] == pytest.approx(108.0)
        assert share["shadow_price_unit"] == "CNY/pp"
    run = toy(import_share={"max_pu": 0.7, "period": "month"})
    assert run.solution.objective_cny == pytest.approx(5940.0)
    assert rows(run, "import share <= 70 % per month")["period"].tolist() == ["2025-01"]


def test_toy_reserve_margin_is_a_reported_check():
    """0.9 x 100 MW local + 180 MW of lines - 100 MW (L1) = 170 MW vs 150 MW x 1.1 = 165 MW."""
    run = toy(reserve_margin={"margin_pu": 0.1, "derating_pu": {"gas": 0.9}})
    check = rows(run, "reserve margin").iloc[0]
    assert (check["lhs"], check["rhs"], check["slack"]) == pytest.approx((170.0, 165.0, 5.0))
    assert check["met"] and not check["binding"] and np.isnan(check["shadow_price"])
    assert check["element"] == "largest: L1"
    # 100 + 180 - 100 = 180 MW against 150 x 1.25 = 187.5 MW: reported as not met
    short = rows(toy(reserve_margin={"margin_pu": 0.25}), "reserve margin").iloc[0]
    assert not short["met"] and short["slack"] == pytest.approx(-7.5)


def test_toy_with_unit_commitment_counts_committed_headroom_only():
    """uc, the local unit committable (stable minimum 50 MW): headroom is 100 u - p, so the loss
    of L1 needs D - p <= 80 + 100 u - p, i.e. u = 1 in both hours (D > 80), and then p >= 50:
    50 x 50 + 100 x 10 + 50 x 50 + 70 x 10 = 6,700 CNY; without the target u = 0, 2,700 CNY."""
    changes = {
        "model": "uc",
        "overrides": [
            {"table": "generators", "name": "local", "column": "committable", "value": True}
        ],
    }
    for zones, objective, output in ((None, 6700.0, [50.0, 50.0]), ([], 2700.0, [0.0, 0.0])):
        run = solve_case(TOY, changes=changes if zones is None else {**changes, "security": zones})
        assert run.solution.objective_cny == pytest.approx(objective)
        local = run.tables["generation"].query("generator == 'local'")["p_mw"]
        assert local.to_numpy() == pytest.approx(output)


def test_impossible_n1_margin_is_diagnosed_naming_the_zone():
    run = toy(name="Island", n_1={"headroom": "spinning", "margin_mw": 500})
    assert run.solution.status is Status.INFEASIBLE
    words = " ".join(run.summary["diagnosis"])
    assert "Island N-1 security against the loss of" in words
    assert "lost infeed exceeds the cover" in words


# ---- input checks ---------------------------------------------------------------------------
def test_bad_zone_references_are_listed_with_file_setting_and_value(tmp_path):
    path = copy_case(
        tmp_path,
        "tiny_security",
        append="""
security:
  - name: Zone
    buses: [Z, Atlantis]
    imports: [{line: L1}, {line: Nowhere}, {generator: local}]
    unit_mw: {mainland: 5}
    fuel_mix: [{carriers: [unobtainium], min_pu: 0.1}]
""",
    )
    with pytest.raises(InputError) as err:
        load_case(path)
    found = {(p.column, str(p.value)): p for p in err.value.problems}
    assert ("security[0].buses[1]", "Atlantis") in found
    assert ("security[0].imports[1].line", "Nowhere") in found
    assert ("security[0].imports[2].generator", "local") in found  # a local unit, not an import
    assert ("security[0].imports", "L2") in found  # crosses the boundary but is not listed
    assert ("security[0].unit_mw", "mainland") in found
    assert ("security[0].fuel_mix[0].carriers[0]", "unobtainium") in found
    assert all(p.file == str(path) and p.row for p in err.value.problems)
    assert "Zone" in found[("security[0].buses[1]", "Atlantis")].rule


def test_security_file_must_stay_in_the_project_and_be_valid(tmp_path):
    path = copy_case(tmp_path, "tiny_security", append="security_file: ../../outside.yaml")
    with pytest.raises(InputError, match="leaves the project"):
        load_case(path)
    (tmp_path / "networks" / "zones.yaml").write_text(
        "zones:\n  - name: Zone\n    buses: [Z]\n    n_1: {headroom: sometimes}\n"
    )
    path = copy_case(
        tmp_path, "tiny_security", append="security_file: ../networks/zones.yaml\nsecurity: []"
    )
    with pytest.raises(InputError) as err:
        load_case(path)
    problem = err.value.problems[0]
    assert problem.file.endswith("zones.yaml") and problem.row == 4
    assert problem.column == "zones.0.n_1.headroom"


# ---- commands -------------------------------------------------------------------------------
def test_security_and_contingency_commands_write_their_sheets(tmp_path):
    app = typer.Typer()
    app.command("security")(security)
    app.command("contingency")(contingency)
    runner = CliRunner()
    res = runner.invoke(app, ["security", str(TOY), "--out", str(tmp_path / "sec")])
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(tmp_path / "sec" / "results.xlsx", sheet_name=None)
    assert {"summary", "security_cost", "security"} <= set(sheets)
    cost = sheets["security_cost"].set_index("target")
    assert cost.loc["all targets", "cost_cny"] == pytest.approx(2200.0)
    res = runner.invoke(app, ["contingency", str(TOY), "--out", str(tmp_path / "con")])
    assert res.exit_code == 0, res.output
    table = pd.read_excel(tmp_path / "con" / "results.xlsx", sheet_name="contingencies")
    # L1 out: L2 (80 MW) and the local unit (70, then 40 MW) serve the zone
    assert table.set_index("element").loc["L1", "cost_increase_cny"] == pytest.approx(4400.0)
    assert (table["unserved_zone_mwh"] == 0).all()
    res = runner.invoke(app, ["security", str(CASES / "tiny_two_bus.yaml")])
    assert res.exit_code == 2 and "no security zones" in res.output


# ---- the PPRD zones -------------------------------------------------------------------------
HOURS = 24  # the first day of the PPRD week keeps the re-solves quick


@pytest.fixture(scope="module")
def pprd():
    data = load_case(CASES / "pprd_week_security.yaml", {"horizon.snapshots": HOURS})
    out = {}
    for key, zones in (
        ("on", data.security_zones),
        ("off", [z.without("all") for z in data.security_zones]),
    ):
        case_data = replace(data, security_zones=zones)
        sol = solve(build_model(case_data), data.case.solver)
        assert sol.status is Status.OPTIMAL, sol.message
        out[key] = (case_data, sol)
    return data, out


def _p(sol, names) -> np.ndarray:
    model = sol.model
    return sol.value("gen_p")[model.variables["gen_p"].components.get_indexer(names)]


def uncovered_outages(data, sol) -> list[tuple[str, str, float]]:
    """Every N-1 contingency of every zone of `data`, re-solved from the dispatch `sol`.

    For each contingency the whole dispatch (without security rows) is solved again with the
    element out - a circuit of a line (its rating x (n-1)/n), a unit of a local plant, a unit of
    a contracted one - while each local unit of the zone may produce at most its output plus its
    headroom (spinning: min(available - p, p (1 - m) / m)), the units outside the zone are free,
    ramp limits do not tie the hours together (each hour's contingency stands alone) and load may
    be shed. Returns (zone, contingency, unserved MWh in the zone) where some is unserved.
    """
    base = replace(data, security_zones=[])
    model = build_model(base)
    matrix = matrix_from_blocks(model)
    row_lb, row_ub = matrix.row_lb.copy(), matrix.row_ub.copy()
    for name, block in model.row_blocks.items():
        if name.startswith("gen_ramp"):
            rows = slice(block.first_row, block.first_row + int(np.prod(block.shape)))
            row_lb[rows], row_ub[rows] = -np.inf, np.inf
    gens = data.tables["generators"]
    cols = model.variables["gen_p"].cols
    avail = generation.available_mw(model)
    shed = model.variables["load_shed"].cols
    w = data.weights_h
    found = []
    for zone in data.security_zones:
        units = local_units(zone, data.tables)
        pos = gens.index.get_indexer(units)
        p = _p(sol, units)
        n1 = zone.n_1
        stable = gens.loc[units, "p_min_stable_pu"].to_numpy(dtype=float)
        m = np.where(
            stable > 0,
            stable,
            gens.loc[units, "carrier"].map(n1.min_stable_pu).fillna(0.0).to_numpy(),
        )
        spinning = (n1.headroom == "spinning") & ~units.isin(n1.fast_start) & (m > 0)
        online = np.divide(
            p * (1 - m)[:, None], m[:, None], out=np.full_like(p, np.inf), where=m[:, None] > 0
        )
        headroom = np.where(spinning[:, None], np.minimum(avail[pos] - p, online), avail[pos] - p)
        top = p + headroom

        def size(name: str, zone=zone) -> float:
            return zone.unit_mw.get(name, gens.at[name, "p_max_mw"] / gens.at[name, "units"])

        cases = []
        for el in zone.imports:
            if el.kind == "line":
                i = data.tables["lines"].index.get_loc(el.name)
                keep = (
                    (el.circuits - 1) / el.circuits * data.tables["lines"].at[el.name, "s_max_mw"]
                )
                cases.append((el.name, [(model.variables["line_p"].cols[i], -keep, keep)]))
            elif el.kind == "generator" and size(el.name) >= n1.unit_threshold_mw:
                g = gens.index.get_loc(el.name)
                rest = (1 - size(el.name) / gens.at[el.name, "p_max_mw"]) * _p(sol, [el.name])[0]
                cases.append((el.name, [(cols[g], rest, rest)]))
        for j, name in enumerate(units):
            if size(name) >= n1.unit_threshold_mw:
                rest = (1 - size(name) / gens.at[name, "p_max_mw"]) * top[j]
                cases.append((name, [(cols[pos[j]], -np.inf, rest)]))
        zone_shed = shed[model.buses.isin(zone.buses)]
        for label, changes in cases:
            lb, ub = matrix.col_lb.copy(), matrix.col_ub.copy()
            ub[cols[pos]] = np.minimum(ub[cols[pos]], top)
            for c, lo, hi in changes:
                ub[c] = np.minimum(ub[c], hi)
                lb[c] = np.maximum(lb[c], lo)
            lb = np.minimum(lb, ub)
            post = solve(
                model,
                data.case.solver,
                matrix=replace(matrix, col_lb=lb, col_ub=ub, row_lb=row_lb, row_ub=row_ub),
            )
            assert post.status is Status.OPTIMAL, (label, post.message)
            lost = float((post.x[zone_shed] * w).sum())
            if lost > 1e-3:
                found.append((zone.name, label, lost))
    return found


def test_pprd_zones_with_targets_cover_every_single_outage(pprd):
    data, runs = pprd
    assert {z.name for z in data.security_zones} == {"Hong Kong", "Macao"}
    assert uncovered_outages(data, runs["on"][1]) == []


def test_pprd_zones_without_targets_leave_an_outage_uncovered(pprd):
    data, runs = pprd
    missed = uncovered_outages(data, runs["off"][1])
    assert missed, "without the targets every outage was covered"
    assert {label for _, label, _ in missed} & {"GD-HK", "GD-MO"}


def test_pprd_security_sheet_prices_and_cost(pprd):
    _, runs = pprd
    sol = runs["on"][1]
    table = security_family.results(sol)["security"]
    cost = sol.objective_cny - runs["off"][1].objective_cny
    assert cost >= 0
    macao = table[(table["zone"] == "Macao") & (table["target"] == "N-1 infeed")]
    circuit = macao[macao["element"] == "GD-MO (one of 8 circuits)"]
    assert len(circuit) == HOURS
    hk = table[(table["zone"] == "Hong Kong") & (table["target"] == "N-1 infeed")]
    circuit = hk[hk["element"] == "GD-HK (one of 4 circuits)"]
    assert len(circuit) == HOURS and circuit["binding"].any()
    assert (circuit.loc[circuit["binding"], "shadow_price"] >= 0).all()
    rows_ = table[~table["target"].str.startswith("reserve margin")]  # a check, may fail
    assert (rows_["slack"] > -1e-3).all() and rows_["met"].all()
    margin = table[table["target"].str.startswith("reserve margin")].set_index("zone")
    # Macao: 0.9 x (271.4 MW of Coloane A + 136.4 of Coloane B) + the 1,700 MW CSG transfer
    # capability since 2022 less one of its 8 circuits (212.5) = 1,854.52 MW against
    # 1.2 x 1,067.7 = 1,281.24 MW: met (with the 700 MVA of 2008 it failed by 302 MW)
    assert margin.loc["Macao", "lhs"] == pytest.approx(1854.52, abs=1e-6)
    assert margin.loc["Macao", "rhs"] == pytest.approx(1281.24, abs=1e-6)
    assert margin.loc["Hong Kong", "met"] and margin.loc["Macao", "met"]
    gas = table[(table["zone"] == "Hong Kong") & (table["target"] == "gas N-1")]
    worst = gas.groupby("element")["rhs"].min()
    assert worst.idxmin() == "HK LNG send-out"  # the largest gas source
    assert set(table["zone"]) == {"Hong Kong", "Macao"}


def test_contingency_study_finds_the_outage_that_hurts(tmp_path):
    path = copy_case(tmp_path, "tiny_security")
    study = contingency_study(load_case(path))
    assert list(study.table["element"]) == ["L1", "L2"]  # sorted by harm
    assert study.table["cost_increase_cny"].tolist() == pytest.approx([4400.0, 2800.0])


# ---- policies in force: the network's zones in every case, switched off by name ---------------
def test_the_networks_zones_are_in_force_in_every_case_unless_switched_off():
    week = load_case(CASES / "pprd_week.yaml")
    assert [z.name for z in week.security_zones] == ["Hong Kong", "Macao"]
    hk = week.security_zones[0]
    assert [m.carriers for m in hk.fuel_mix] == [["gas"], ["coal"]]
    assert hk.fuel_mix[0].min_pu == 0.5 and hk.fuel_mix[1].max_pu == 0.25
    assert hk.water_supply is not None
    off = load_case(
        CASES / "pprd_week.yaml",
        {"security_off": ["Macao", "Hong Kong: n_1", "hong kong: fuel_mix"]},
    )
    assert [z.name for z in off.security_zones] == ["Hong Kong"]
    assert off.security_zones[0].n_1 is None and off.security_zones[0].fuel_mix == []
    assert off.security_zones[0].gas_n_1 is not None
    # an expansion case builds capacity: the zones' fixed-rating rows do not apply there
    assert load_case(CASES / "pprd_expansion_2030.yaml").security_zones == []


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Tibet", "no security zone of that name"),
        ("Macao: fuel_mix", "zone 'Macao' has no such target"),
    ],
)
def test_switching_off_an_unknown_zone_or_target_is_reported(name, rule):
    with pytest.raises(InputError) as err:
        load_case(CASES / "pprd_week.yaml", {"security_off": [name]})
    text = str(err.value)
    assert rule in text and "security_off[0]" in text
