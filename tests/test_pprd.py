"""The PPRD week: conservation of energy and water, checked from the result tables alone."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CASES, ROOT
from tests.invariants import (
    energy_balance_residual,
    nodal_balance_residual,
    station_storage_residual_hm3,
    water_balance_residual_hm3,
)


def test_energy_is_conserved_every_snapshot(pprd_week):
    """generation + storage discharge - charge - losses = load - shed, per snapshot (MW)."""
    residual = energy_balance_residual(pprd_week)
    assert len(residual) == 168
    assert np.abs(residual).max() < 1e-6 * pprd_week.tables["unserved"]["demand_mw"].max()


def test_every_bus_balances(pprd_week):
    assert np.abs(nodal_balance_residual(pprd_week)).max() < 1e-4


def test_water_is_conserved_per_river(pprd_week):
    residual = water_balance_residual_hm3(pprd_week)
    assert {"Jinsha", "Dadu"} <= set(residual.index)  # the Yalong joins the Jinsha
    assert np.abs(residual).max() < 1e-6
    assert station_storage_residual_hm3(pprd_week) < 1e-6


def test_limits_hold_in_the_results(pprd_week):
    t = pprd_week.tables
    gens = pprd_week.data.tables["generators"]
    g = t["generation"].merge(gens[["p_max_mw"]], left_on="generator", right_index=True)
    assert (g["p_mw"] <= g["p_max_mw"] + 1e-6).all()
    flows = t["flows"]
    rated = flows["rating_mw"] > 0
    assert (flows.loc[rated, "utilisation_pu"] <= 1 + 1e-6).all()
    # a branch rated 0 MW (a candidate not built in a dispatch case) carries nothing and has
    # no utilisation
    assert (flows.loc[~rated, ["p0_mw", "p1_mw"]].abs() <= 1e-6).all().all()
    assert flows.loc[~rated, "utilisation_pu"].isna().all()
    hydro = pprd_week.data.tables["hydro"]
    h = t["hydro"].merge(
        hydro[["storage_max_hm3", "storage_min_hm3"]], left_on="station", right_index=True
    )
    assert (h["storage_hm3"] <= h["storage_max_hm3"] + 1e-6).all()
    assert (h["storage_hm3"] >= h["storage_min_hm3"] - 1e-6).all()
    c = t["curtailment"]
    assert (c["p_mw"] <= c["available_mw"] + 1e-6).all()


def test_week_serves_all_demand_and_prices_are_plausible(pprd_week):
    assert pprd_week.tables["unserved"]["unserved_mw"].sum() == pytest.approx(0.0, abs=1e-6)
    prices = pprd_week.tables["prices"]
    gd = prices.loc[prices["bus"] == "GD", "price_cny_per_mwh"]
    # Guangdong is priced by its thermal fleet: between hydro's zero and the value of lost load
    assert 0 < gd.mean() < 1000


def test_costs_add_up_to_the_objective(pprd_week):
    assert pprd_week.tables["costs"]["cost_cny"].sum() == pytest.approx(
        pprd_week.solution.objective_cny, rel=1e-9
    )


def test_default_case_from_the_command_line(tmp_path):
    """README's first command, minus the install: the workbook agrees with summary.json."""
    out = tmp_path / "pprd_week"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridopt",
            "solve",
            str(CASES / "pprd_week.yaml"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    sheets = pd.read_excel(out / "results.xlsx", sheet_name=None)
    items = dict(zip(sheets["summary"]["item"], sheets["summary"]["value"], strict=True))
    assert float(items["objective_cny"]) == pytest.approx(summary["objective_cny"], rel=1e-12)
    assert sheets["generation"]["energy_mwh"].sum() == pytest.approx(summary["generation_mwh"])
    by_carrier = sheets["generation_by_carrier"]
    assert by_carrier["energy_mwh"].sum() == pytest.approx(summary["generation_mwh"])
    assert len(sheets["prices"]) == 168 * summary["n_buses"] if "n_buses" in summary else True
