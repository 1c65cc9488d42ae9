"""Studies of a case's supply-security zones: the cost of each target, and contingencies.

- `cost_of_security` solves the case with all its targets and without any (the cost of security
  is the difference), then for each target without it (its cost given all the others:
  objective(all) - objective(all but it)) and with it alone (objective(it alone) -
  objective(none)), in CNY and per MWh of the zone's demand over the horizon. Targets interact:
  one that the others already enforce costs nothing given them, however much it costs alone, so
  single costs need not add up. The reserve margin is a check (no row), so it has no cost.
  A zone's water supply (`water_supply`: withdrawals of river nodes, data of the hydro table)
  is left out by setting those withdrawals to 0: its cost is the power system's, the
  hydropower and storage the reservoirs give up for the water, reported also per m3 withdrawn
  beside the water value at the intake (the withdrawal-weighted mean over the horizon).
- `contingency_study` re-solves the dispatch with each import element of each zone out for the
  whole horizon (a line removed, a link's, pipeline's or contracted generator's capacity set to
  0) and, for an element of several circuits, with one circuit out (rating x (n-1)/n, reactance
  x n/(n-1)). Load and gas shedding are enabled at the case's values of lost load so that every
  outage has a finite answer, and the security targets are left out (the question is what the
  outage does, not whether the targets still hold). Reported: unserved energy in the zone and
  elsewhere, its peak, unserved gas, and the cost against the intact system solved alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.inputs.settings import SecurityZone
from gridopt.inputs.zones import target_label
from gridopt.model import balance
from gridopt.model import gas as gas_family
from gridopt.model.registry import build_model, families
from gridopt.model.security import zone_demand_mw
from gridopt.results.tables import collect
from gridopt.solver.diagnose import diagnose_infeasibility
from gridopt.solver.solve import solve
from gridopt.solver.types import Solution, Status

Progress = Callable[[str], None]


@dataclass
class Study:
    """A study's comparison table and the solution and tables of its reference solve."""

    table: pd.DataFrame
    reference: Solution
    reference_tables: dict[str, pd.DataFrame]
    diagnosis: list[str]


def _solve(data: CaseData) -> Solution:
    return solve(build_model(data), data.case.solver)


def with_zones(data: CaseData, zones: list[SecurityZone]) -> CaseData:
    """The case with these zones instead of its own: the withdrawals that its zones name as a
    water supply and `zones` no longer do are set to 0 (they are the target left out)."""
    def named(zs: list[SecurityZone]) -> set[str]:
        return {h for z in zs if z.water_supply is not None for h in z.water_supply.hydro}

    dropped = sorted(named(data.security_zones) - named(zones))
    if not dropped:
        return replace(data, security_zones=zones)
    tables = dict(data.tables)
    hydro = tables["hydro"].copy()
    hydro.attrs = dict(data.tables["hydro"].attrs)
    hydro.loc[dropped, "withdrawal_m3s"] = 0.0
    tables["hydro"] = hydro
    return replace(data, tables=tables, security_zones=zones)


def water_supplied(data: CaseData, zone: SecurityZone, sol: Solution
                   ) -> tuple[float, float]:
    """The zone's water withdrawn over the horizon (m3) and its withdrawal-weighted water value
    at the intakes (CNY/m3) in a solution."""
    from gridopt.model.hydro import water_value_cny_per_m3, withdrawal_m3s

    hydro = data.tables["hydro"]
    pos = hydro.index.get_indexer(zone.water_supply.hydro)
    volume = withdrawal_m3s(data)[pos] * data.weights_h[None, :] * 3600.0
    total = float(volume.sum())
    if sol.status is not Status.OPTIMAL or total <= 0:
        return total, float("nan")
    value = water_value_cny_per_m3(sol)[pos]
    return total, float((value * volume).sum() / total)


def _energy_mwh(data: CaseData, zones: list[SecurityZone]) -> float:
    return float(sum((zone_demand_mw(data, z) * data.weights_h).sum() for z in zones))


def _note(sol: Solution) -> str:
    return "" if sol.status is Status.OPTIMAL else sol.message


def _objective(sol: Solution) -> float:
    return sol.objective_cny if sol.status is Status.OPTIMAL else float("nan")


def cost_of_security(data: CaseData, progress: Progress | None = None) -> Study:
    """Objective with all targets, without each target in turn, with each target alone and
    without any (see the module doc)."""
    say = progress or (lambda _m: None)
    zones = list(data.security_zones)
    say(f"solving with all targets of {len(zones)} zone(s)")
    ref = _solve(with_zones(data, zones))
    tables = collect(ref, families(data)) if ref.status is Status.OPTIMAL else {}
    diagnosis = ([c.message for c in diagnose_infeasibility(ref.model)]
                 if ref.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED) else [])
    say("solving without any target")
    none = [z.without("all") for z in zones]
    bare = _solve(with_zones(data, none))
    full, empty = _objective(ref), _objective(bare)
    total = _energy_mwh(data, zones)
    rows = [{"zone": "all zones", "target": "all targets", "status": str(ref.status),
             "objective_cny": full, "cost_cny": full - empty, "zone_demand_mwh": total,
             "objective_alone_cny": np.nan, "cost_alone_cny": np.nan,
             "note": _note(ref) or "cost of all targets together: objective with all of them"
             " minus objective without any"},
            {"zone": "all zones", "target": "no targets", "status": str(bare.status),
             "objective_cny": empty, "cost_cny": np.nan, "zone_demand_mwh": total,
             "objective_alone_cny": np.nan, "cost_alone_cny": np.nan, "note": _note(bare)}]
    for i, zone in enumerate(zones):
        demand = _energy_mwh(data, [zone])
        for target in zone.targets():
            label = target_label(zone, target)
            if target == "reserve_margin":
                rows.append({"zone": zone.name, "target": label, "status": "",
                             "objective_cny": np.nan, "cost_cny": 0.0, "zone_demand_mwh": demand,
                             "objective_alone_cny": np.nan, "cost_alone_cny": 0.0,
                             "note": "a check on capacities (no row in the dispatch): no cost"})
                continue
            without, alone = list(zones), list(none)
            without[i] = zone.without(target)
            alone[i] = zone.without("all").model_copy(update=_only(zone, target))
            say(f"solving {zone.name} without, then with only: {label}")
            sol_without = _solve(with_zones(data, without))
            sol_alone = _solve(with_zones(data, alone))
            row = {
                "zone": zone.name, "target": label, "status": str(sol_without.status),
                "objective_cny": _objective(sol_without),
                "cost_cny": full - _objective(sol_without), "zone_demand_mwh": demand,
                "objective_alone_cny": _objective(sol_alone),
                "cost_alone_cny": _objective(sol_alone) - empty,
                "note": "; ".join(n for n in (_note(sol_without), _note(sol_alone)) if n)}
            if target == "water_supply":
                volume, value = water_supplied(data, zone, ref)
                row.update(water_mm3=volume / 1e6, water_value_cny_per_m3=value,
                           cost_cny_per_m3=row["cost_cny"] / volume if volume > 0 else np.nan)
            rows.append(row)
    table = pd.DataFrame(rows)
    energy = table["zone_demand_mwh"].to_numpy(dtype=float)
    for cost in ("cost_cny", "cost_alone_cny"):
        table[cost.replace("_cny", "_cny_per_mwh")] = np.divide(
            table[cost].to_numpy(dtype=float), energy, out=np.full(len(table), np.nan),
            where=energy > 0)
    cols = ["zone", "target", "status", "objective_cny", "cost_cny", "cost_cny_per_mwh",
            "objective_alone_cny", "cost_alone_cny", "cost_alone_cny_per_mwh",
            "zone_demand_mwh"]
    if "water_mm3" in table:  # a water supply: its volume, cost per m3 and water value
        cols += ["water_mm3", "cost_cny_per_m3", "water_value_cny_per_m3"]
    cols.append("note")
    return Study(table[cols], ref, tables, diagnosis)


def _only(zone: SecurityZone, target: str) -> dict:
    """The settings that put one target of `zone` back on a zone without targets."""
    if target.startswith("fuel_mix["):
        return {"fuel_mix": [zone.fuel_mix[int(target[9:-1])]]}
    return {target: getattr(zone, target)}


def _outage(data: CaseData, kind: str, name: str, circuits: int
            ) -> dict[str, pd.DataFrame]:
    """The tables with an element out (`circuits` 0: whole element; n > 1: one of n)."""
    tables = dict(data.tables)
    table = {"line": "lines", "link": "links", "pipeline": "pipelines",
             "generator": "generators"}[kind]
    df = tables[table].copy()
    df.attrs = dict(tables[table].attrs)
    if circuits > 1:
        keep = (circuits - 1) / circuits
        column = "s_max_mw" if kind == "line" else "p_max_mw"
        df.loc[name, column] = df.loc[name, column] * keep
        if kind == "line":
            df.loc[name, "x_ohm"] = df.loc[name, "x_ohm"] / keep
    elif kind == "line":
        df = df.drop(index=name)
    elif kind == "link":
        df.loc[name, "p_max_mw"] = 0.0
    elif kind == "pipeline":
        df.loc[name, ["p_max_mwth", "p_max_reverse_mwth"]] = 0.0
    else:
        df.loc[name, ["p_max_mw", "p_min_mw"]] = 0.0
    tables[table] = df
    return tables


def _unserved(data: CaseData, sol: Solution, zone: SecurityZone | None
              ) -> tuple[float, float, float, float]:
    """Unserved energy in the zone and elsewhere (MWh), its peak in the zone (MW), and unserved
    gas (MWh_th)."""
    model = sol.model
    w = data.weights_h
    shed = balance.unserved_mw(sol)
    inside = model.buses.isin(zone.buses if zone else [])
    gas = gas_family.unserved_mwth(sol)
    return (float((shed[inside] * w).sum()), float((shed[~inside] * w).sum()),
            float(shed[inside].sum(axis=0).max()) if inside.any() else 0.0,
            float((gas * w).sum()))


def contingency_study(data: CaseData, progress: Progress | None = None) -> Study:
    """Re-solve with each import element of each zone out in turn (see the module doc)."""
    say = progress or (lambda _m: None)
    case = data.case.model_copy(update={
        "load_shedding": data.case.load_shedding.model_copy(update={"enabled": True}),
        "gas_shedding": data.case.gas_shedding.model_copy(update={"enabled": True})})
    base_data = replace(data, case=case, security_zones=[])
    say("solving the intact system (load and gas shedding enabled, no security targets)")
    ref = _solve(base_data)
    tables = collect(ref, families(base_data)) if ref.status is Status.OPTIMAL else {}
    base = _objective(ref)
    rows = []
    for zone in data.security_zones:
        intact = _unserved(data, ref, zone) if ref.status is Status.OPTIMAL else (np.nan,) * 4
        for el in zone.imports:
            outages = [(0, "whole element")]
            if el.circuits > 1:
                outages.append((el.circuits, f"one of {el.circuits} circuits"))
            for circuits, words in outages:
                say(f"{zone.name}: {el.kind} {el.name} out ({words})")
                sol = _solve(replace(base_data, tables=_outage(data, el.kind, el.name,
                                                               circuits)))
                ok = sol.status is Status.OPTIMAL
                got = _unserved(data, sol, zone) if ok else (np.nan,) * 4
                rows.append({
                    "zone": zone.name, "element": el.name, "kind": el.kind, "outage": words,
                    "status": str(sol.status), "objective_cny": _objective(sol),
                    "cost_increase_cny": _objective(sol) - base,
                    "unserved_zone_mwh": got[0], "unserved_zone_peak_mw": got[2],
                    "unserved_elsewhere_increase_mwh": got[1] - intact[1],
                    "unserved_gas_increase_mwh_th": got[3] - intact[3],
                    "note": "" if ok else sol.message})
    table = pd.DataFrame(rows, columns=[
        "zone", "element", "kind", "outage", "status", "objective_cny", "cost_increase_cny",
        "unserved_zone_mwh", "unserved_zone_peak_mw", "unserved_elsewhere_increase_mwh",
        "unserved_gas_increase_mwh_th", "note"])
    if len(table):
        table = table.sort_values(["unserved_zone_mwh", "cost_increase_cny"],
                                  ascending=False, kind="stable").reset_index(drop=True)
    return Study(table, ref, tables, [])
