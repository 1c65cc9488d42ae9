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

Both studies solve their variants in parallel on a local Dask cluster (`workers` processes,
as `gridopt sweep` does; or the `client` given) when the model is large enough for that to
pay (`PARALLEL_FROM_COLUMNS`), each solve on one solver thread. The cost of security builds
the model once: every variant is that matrix with the rows of the targets it leaves out
relaxed, or for a water supply its water given back to the balance
(`gridopt.model.security.target_removal`), which is the model without them; for a MIP the
case with all targets is the warm start of each variant. Only the objective of a variant is
read, so its solver may skip what gives duals (crossover). The case with all targets (and
the intact system of the contingencies) is solved whole: its tables are the study's full
results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.inputs.settings import SecurityZone
from gridopt.inputs.zones import target_label
from gridopt.model import balance
from gridopt.model import gas as gas_family
from gridopt.model.registry import build_model, families
from gridopt.model.security import Removal, target_removal, zone_demand_mw
from gridopt.progress import steps
from gridopt.results.tables import collect
from gridopt.solver.backends import backend_for
from gridopt.solver.diagnose import diagnose_infeasibility
from gridopt.solver.matrix import model_matrix
from gridopt.solver.solve import solution_of, solve
from gridopt.solver.types import Matrix, Outcome, Solution, Status

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[str], None]

# models of this many columns or more solve their variants on a local Dask cluster; below,
# one by one here (starting the cluster would take longer than the solves)
PARALLEL_FROM_COLUMNS = 20_000


@dataclass
class Study:
    """A study's comparison table and the solution and tables of its reference solve."""

    table: pd.DataFrame
    reference: Solution
    reference_tables: dict[str, pd.DataFrame]
    diagnosis: list[str]
    # solves run, the reference's included
    solves: int = 0


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


def water_supplied(data: CaseData, zone: SecurityZone, sol: Solution) -> tuple[float, float]:
    """The zone's water withdrawn over the horizon (m3) and its withdrawal-weighted water value
    at the intakes (CNY/m3) in a solution."""
    from gridopt.model.hydro import water_value_cny_per_m3, withdrawal_m3s

    hydro = data.tables["hydro"]
    assert zone.water_supply is not None  # zones with a water supply target only
    pos = hydro.index.get_indexer(zone.water_supply.hydro)
    volume = withdrawal_m3s(data)[pos] * data.weights_h[None, :] * 3600.0
    total = float(volume.sum())
    if sol.status is not Status.OPTIMAL or total <= 0:
        return total, float("nan")
    value = water_value_cny_per_m3(sol)[pos]
    return total, float((value * volume).sum() / total)


def _energy_mwh(data: CaseData, zones: list[SecurityZone]) -> float:
    return float(sum((zone_demand_mw(data, z) * data.weights_h).sum() for z in zones))


def _note(sol: Solution | Outcome) -> str:
    return "" if sol.status is Status.OPTIMAL else sol.message


def _objective(sol: Solution | Outcome) -> float:
    return sol.objective_cny if sol.status is Status.OPTIMAL else float("nan")


def _one_thread(data: CaseData) -> CaseData:
    """The case with one solver thread, unless it sets threads: the parallelism is across
    the study's solves."""
    if data.case.solver.threads is not None:
        return data
    solver = data.case.solver.model_copy(update={"threads": 1})
    return replace(data, case=data.case.model_copy(update={"solver": solver}))


def solve_variant(
    matrix: Matrix,
    removal: Removal | None,
    options: Any,
    warm_start: np.ndarray | None = None,
    need_duals: bool = False,
) -> Outcome:
    """Solve the matrix without the targets of `removal` (None: as it is), a Dask task of the
    cost of security (a worker imports only this module)."""
    row_lb, row_ub = matrix.row_lb, matrix.row_ub
    if removal is not None:
        row_lb, row_ub = removal.bounds(row_lb, row_ub)
    return backend_for(options.backend).solve_matrix(
        replace(matrix, row_lb=row_lb, row_ub=row_ub),
        options,
        relax=options.relax,
        warm_start=warm_start,
        need_duals=need_duals,
    )


@contextmanager
def _runner(n_columns: int, workers: int | None, client: Client | None) -> Iterator[Client | None]:
    """A Dask client for a study's solves (None: solve here, one by one): `client`, else a
    local cluster of `workers` processes (None: one per core, for models large enough)."""
    if client is None and (workers == 1 or (workers is None and n_columns < PARALLEL_FROM_COLUMNS)):
        yield None
        return
    from gridopt.studies.sweep import dask_client

    with dask_client(workers, client=client) as c:
        yield c


def cost_of_security(
    data: CaseData,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Client | None = None,
) -> Study:
    """Objective with all targets, without each target in turn, with each target alone and
    without any (see the module doc)."""
    say = progress or (lambda _m: None)
    data = _one_thread(data)
    zones = list(data.security_zones)
    options = data.case.solver
    model = build_model(data)
    matrix = model_matrix(model)
    # how the model drops each target, and all of them
    removals = {
        (i, t): target_removal(model, z, t) for i, z in enumerate(zones) for t in z.targets()
    }
    variants: dict[tuple, Removal] = {("none",): Removal.combine(list(removals.values()))}
    for key, removal in removals.items():
        if key[1] != "reserve_margin":
            variants[("without", *key)] = removal
            variants[("alone", *key)] = Removal.combine(
                [r for other, r in removals.items() if other != key]
            )
    is_mip = bool(matrix.integer.any()) and not options.relax
    outcomes: dict[tuple, Outcome] = {}
    say(
        f"cost of security: {len(variants) + 1} solves (all targets of {len(zones)} zone(s),"
        f" none, each target without the others and alone)"
    )
    with (
        _runner(matrix.A.shape[1], workers, client) as c,
        steps(progress, "security solves", len(variants) + 1) as counted,
    ):
        if c is None:
            ref_out = solve_variant(matrix, None, options, need_duals=True)
            counted.advance("all targets")
            warm = ref_out.x if is_mip else None
            for key, relaxed in variants.items():
                outcomes[key] = solve_variant(matrix, relaxed, options, warm)
                counted.advance(_words(key, zones))
        else:
            from distributed import as_completed

            shared = c.scatter(matrix, broadcast=True)
            ref = c.submit(solve_variant, shared, None, options, None, True, pure=False, priority=1)
            warm = None
            if is_mip:
                # the case with all targets is feasible for every variant: their start
                ref_out = ref.result()
                counted.advance("all targets")
                warm = c.scatter(ref_out.x, broadcast=True) if ref_out.x is not None else None
            futures = {
                c.submit(solve_variant, shared, relaxed, options, warm, False, pure=False): key
                for key, relaxed in variants.items()
            }
            if not is_mip:
                futures[ref] = ("all",)
            for future in as_completed(futures):
                key = futures[future]
                if key == ("all",):
                    ref_out = future.result()
                else:
                    outcomes[key] = future.result()
                counted.advance(_words(key, zones))
    say("collecting the results of the case with all targets")
    ref_sol = solution_of(model, matrix, ref_out, options)
    tables = collect(ref_sol, families(data)) if ref_sol.status is Status.OPTIMAL else {}
    diagnosis = (
        [c.message for c in diagnose_infeasibility(ref_sol.model)]
        if ref_sol.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)
        else []
    )
    bare = outcomes[("none",)]
    full, empty = _objective(ref_sol), _objective(bare)
    total = _energy_mwh(data, zones)
    rows_out = [
        {
            "zone": "all zones",
            "target": "all targets",
            "status": str(ref_sol.status),
            "objective_cny": full,
            "cost_cny": full - empty,
            "zone_demand_mwh": total,
            "objective_alone_cny": np.nan,
            "cost_alone_cny": np.nan,
            "note": _note(ref_sol)
            or "cost of all targets together: objective with all"
            " of them minus objective without any",
        },
        {
            "zone": "all zones",
            "target": "no targets",
            "status": str(bare.status),
            "objective_cny": empty,
            "cost_cny": np.nan,
            "zone_demand_mwh": total,
            "objective_alone_cny": np.nan,
            "cost_alone_cny": np.nan,
            "note": _note(bare),
        },
    ]
    for i, zone in enumerate(zones):
        demand = _energy_mwh(data, [zone])
        for target in zone.targets():
            label = target_label(zone, target)
            if target == "reserve_margin":
                rows_out.append(
                    {
                        "zone": zone.name,
                        "target": label,
                        "status": "",
                        "objective_cny": np.nan,
                        "cost_cny": 0.0,
                        "zone_demand_mwh": demand,
                        "objective_alone_cny": np.nan,
                        "cost_alone_cny": 0.0,
                        "note": "a check on capacities (no row in the dispatch): no cost",
                    }
                )
                continue
            sol_without = outcomes[("without", i, target)]
            sol_alone = outcomes[("alone", i, target)]
            row: dict[str, Any] = {
                "zone": zone.name,
                "target": label,
                "status": str(sol_without.status),
                "objective_cny": _objective(sol_without),
                "cost_cny": full - _objective(sol_without),
                "zone_demand_mwh": demand,
                "objective_alone_cny": _objective(sol_alone),
                "cost_alone_cny": _objective(sol_alone) - empty,
                "note": "; ".join(n for n in (_note(sol_without), _note(sol_alone)) if n),
            }
            if target == "water_supply":
                volume, value = water_supplied(data, zone, ref_sol)
                row.update(
                    water_mm3=volume / 1e6,
                    water_value_cny_per_m3=value,
                    cost_cny_per_m3=float(row["cost_cny"]) / volume if volume > 0 else np.nan,
                )
            rows_out.append(row)
    table = pd.DataFrame(rows_out)
    energy = table["zone_demand_mwh"].to_numpy(dtype=float)
    for cost in ("cost_cny", "cost_alone_cny"):
        table[cost.replace("_cny", "_cny_per_mwh")] = np.divide(
            table[cost].to_numpy(dtype=float),
            energy,
            out=np.full(len(table), np.nan),
            where=energy > 0,
        )
    cols = [
        "zone",
        "target",
        "status",
        "objective_cny",
        "cost_cny",
        "cost_cny_per_mwh",
        "objective_alone_cny",
        "cost_alone_cny",
        "cost_alone_cny_per_mwh",
        "zone_demand_mwh",
    ]
    if "water_mm3" in table:  # a water supply: its volume, cost per m3 and water value
        cols += ["water_mm3", "cost_cny_per_m3", "water_value_cny_per_m3"]
    cols.append("note")
    return Study(table[cols], ref_sol, tables, diagnosis, solves=len(variants) + 1)


def _words(key: tuple, zones: list[SecurityZone]) -> str:
    """A variant of the cost of security in words, for progress."""
    if key[0] in ("all", "none"):
        return {"all": "all targets", "none": "no targets"}[key[0]]
    return f"{zones[key[1]].name} {key[0]} {target_label(zones[key[1]], key[2])}"


def _only(zone: SecurityZone, target: str) -> dict:
    """The settings that put one target of `zone` back on a zone without targets."""
    if target.startswith("fuel_mix["):
        return {"fuel_mix": [zone.fuel_mix[int(target[9:-1])]]}
    return {target: getattr(zone, target)}


def _outage(data: CaseData, kind: str, name: str, circuits: int) -> dict[str, pd.DataFrame]:
    """The tables with an element out (`circuits` 0: whole element; n > 1: one of n)."""
    tables = dict(data.tables)
    table = {"line": "lines", "link": "links", "pipeline": "pipelines", "generator": "generators"}[
        kind
    ]
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


def _unserved(
    data: CaseData, sol: Solution, zone: SecurityZone | None
) -> tuple[float, float, float, float]:
    """Unserved energy in the zone and elsewhere (MWh), its peak in the zone (MW), and unserved
    gas (MWh_th)."""
    model = sol.model
    w = data.weights_h
    shed = balance.unserved_mw(sol)
    inside = model.buses.isin(zone.buses if zone else [])
    gas = gas_family.unserved_mwth(sol)
    return (
        float((shed[inside] * w).sum()),
        float((shed[~inside] * w).sum()),
        float(shed[inside].sum(axis=0).max()) if inside.any() else 0.0,
        float((gas * w).sum()),
    )


def solve_outage(
    base: CaseData, tables: dict[str, pd.DataFrame], zone: SecurityZone
) -> tuple[str, str, float, tuple[float, float, float, float]]:
    """One contingency (a Dask task): status, message, objective and unserved energy (see
    `_unserved`) of the intact system's case with the element's tables."""
    sol = solve(build_model(replace(base, tables=tables)), base.case.solver, need_duals=False)
    ok = sol.status is Status.OPTIMAL
    got = _unserved(base, sol, zone) if ok else (np.nan,) * 4
    return str(sol.status), "" if ok else sol.message, _objective(sol), got


def contingency_study(
    data: CaseData,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Client | None = None,
) -> Study:
    """Re-solve with each import element of each zone out in turn (see the module doc)."""
    say = progress or (lambda _m: None)
    data = _one_thread(data)
    case = data.case.model_copy(
        update={
            "load_shedding": data.case.load_shedding.model_copy(update={"enabled": True}),
            "gas_shedding": data.case.gas_shedding.model_copy(update={"enabled": True}),
        }
    )
    base_data = replace(data, case=case, security_zones=[])
    model = build_model(base_data)
    matrix = model_matrix(model)
    outages = [
        (zone, el, circuits, words)
        for zone in data.security_zones
        for el in zone.imports
        for circuits, words in [(0, "whole element")]
        + ([(el.circuits, f"one of {el.circuits} circuits")] if el.circuits > 1 else [])
    ]
    say(
        f"contingencies: {len(outages)} outages and the intact system (load and gas shedding"
        " enabled, no security targets)"
    )
    got: dict[int, tuple[str, str, float, tuple[float, float, float, float]]] = {}
    with (
        _runner(matrix.A.shape[1], workers, client) as c,
        steps(progress, "contingency solves", len(outages) + 1) as counted,
    ):
        if c is None:
            ref_out = solve_variant(matrix, None, base_data.case.solver, need_duals=True)
            counted.advance("intact system")
            for k, (zone, el, circuits, words) in enumerate(outages):
                got[k] = solve_outage(base_data, _outage(data, el.kind, el.name, circuits), zone)
                counted.advance(f"{zone.name}: {el.name} out ({words})")
        else:
            from distributed import as_completed

            shared = c.scatter(base_data, broadcast=True)
            futures: dict[Any, int] = {
                c.submit(
                    solve_variant,
                    c.scatter(matrix),
                    None,
                    base_data.case.solver,
                    None,
                    True,
                    pure=False,
                    priority=1,
                ): -1
            }
            futures.update(
                {
                    c.submit(
                        solve_outage,
                        shared,
                        _outage(data, el.kind, el.name, circuits),
                        zone,
                        pure=False,
                    ): k
                    for k, (zone, el, circuits, _w) in enumerate(outages)
                }
            )
            for future in as_completed(futures):
                k = futures[future]
                if k < 0:
                    ref_out = future.result()
                    counted.advance("intact system")
                else:
                    got[k] = future.result()
                    zone, el, _c, words = outages[k]
                    counted.advance(f"{zone.name}: {el.name} out ({words})")
    ref = solution_of(model, matrix, ref_out, base_data.case.solver)
    tables = collect(ref, families(base_data)) if ref.status is Status.OPTIMAL else {}
    base = _objective(ref)
    rows = []
    intact = {
        z.name: _unserved(data, ref, z) if ref.status is Status.OPTIMAL else (np.nan,) * 4
        for z in data.security_zones
    }
    for k, (zone, el, _circuits, words) in enumerate(outages):
        status, message, objective, lost = got[k]
        rows.append(
            {
                "zone": zone.name,
                "element": el.name,
                "kind": el.kind,
                "outage": words,
                "status": status,
                "objective_cny": objective,
                "cost_increase_cny": objective - base,
                "unserved_zone_mwh": lost[0],
                "unserved_zone_peak_mw": lost[2],
                "unserved_elsewhere_increase_mwh": lost[1] - intact[zone.name][1],
                "unserved_gas_increase_mwh_th": lost[3] - intact[zone.name][3],
                "note": message,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "zone",
            "element",
            "kind",
            "outage",
            "status",
            "objective_cny",
            "cost_increase_cny",
            "unserved_zone_mwh",
            "unserved_zone_peak_mw",
            "unserved_elsewhere_increase_mwh",
            "unserved_gas_increase_mwh_th",
            "note",
        ],
    )
    if len(table):
        table = table.sort_values(
            ["unserved_zone_mwh", "cost_increase_cny"], ascending=False, kind="stable"
        ).reset_index(drop=True)
    return Study(table, ref, tables, [], solves=len(outages) + 1)
