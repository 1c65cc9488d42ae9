"""PyPSA networks out: export a gridopt case as a PyPSA network (its currency in `meta`).

Export (`export_pypsa`, `to_pypsa`) writes the *prepared* case (tables after scaling and
overrides, series on the case's snapshots) so that PyPSA's `optimize()` solves the same linear
programme as gridopt:

============================  ================================================================
gridopt                       PyPSA
============================  ================================================================
horizon, resolution_h         snapshots; snapshot_weightings (objective, stores, generators)
                              all equal to the snapshot length in hours
buses                         Bus: v_nom = v_nom_kv, x = x_lon, y = y_lat (0 when blank),
                              carrier; region kept as the extra column `gridopt_region`
carriers                      Carrier: color, nice_name; co2_emissions = the generators'
                              common factor (0 when they differ); renewable and fossil kept
                              as `gridopt_renewable`, `gridopt_fossil`
loads                         Load: p_set = the load's MW on each snapshot (scale applied)
generators                    Generator: p_nom = p_max_mw; p_max_pu = availability;
                              marginal_cost_quadratic = quadratic_cost_cny_per_mw2h;
                              p_min_pu = min(p_min_mw, p_max_mw * availability) / p_max_mw
                              (gridopt's floor, per snapshot); marginal_cost;
                              ramp_limit_up/down = ramp_mw_per_h * snapshot hours / p_max_mw
                              (PyPSA's limit is per snapshot in p.u. of p_nom); p_init =
                              p_initial_mw (both tools limit the ramp into the first
                              snapshot from it, neither when blank); efficiency (1 when
                              blank); co2_t_per_mwh kept as `gridopt_co2_t_per_mwh`
committable generators        (uc case, one unit per row: expand clusters first with
                              `gridopt.interop.units.expand_units`) committable; p_min_pu =
                              min(p_min_stable_pu, availability) replaces the must-run floor;
                              min_up_time, min_down_time = the hours in snapshots (rounded
                              up, at least 1); start_up_cost = start_cost_cny;
                              shut_down_cost = stop_cost_cny; stand_by_cost =
                              no_load_cost_cny_per_h;
                              ramp_limit_start_up/shut_down = startup/shutdown_ramp_pu;
                              up_time_before (unit on) or down_time_before (off) = the
                              snapshots of its minimum time already served before the horizon
                              (from units_on_initial and hours_in_state_initial; blank hours:
                              all of it)
storage_units                 StorageUnit: p_nom = p_max_mw, max_hours = energy / power,
                              efficiency_store/dispatch, standing_loss; soc_initial_mwh
                              inflow = storage_inflow_mw (spilled where it does not fit, in
                              both); soc_initial_mwh
                              given -> state_of_charge_initial = soc_initial_mwh * (1 -
                              standing_loss)^hours (gridopt applies the first snapshot's
                              loss to the level before it, PyPSA does not); blank ->
                              cyclic_state_of_charge
hydro                         StorageUnit in MWh of electricity: 1 hm3 = mw_per_m3s / 0.0036
                              MWh; state of charge = (storage - storage_min) in MWh;
                              max_hours = (storage_max - storage_min) MWh / p_max_mw;
                              inflow = mw_per_m3s * (inflow - withdrawal) MW; p_min_pu = 0
                              (no pumping); end_rule fixed -> state_of_charge_initial and
                              state_of_charge_set at the last snapshot, cyclic ->
                              cyclic_state_of_charge, free -> initial only. The station's
                              own settings are kept as `gridopt_*` columns.
lines                         Line: x = x_ohm, r = 0 (r = x_ohm between DC buses, where PyPSA
                              uses r), s_nom = s_max_mw, length = length_km, v_ang_max =
                              angle_max_deg (symmetric limits only); a line with a phase
                              shift -> Transformer: x = x_ohm / v_nom^2 x s_nom (p.u. of
                              s_nom), phase_shift = phase_shift_deg
links                         Link: p_nom = p_max_mw, p_min_pu, efficiency, marginal_cost
load shedding (enabled)       one Generator per bus with demand, carrier "load shedding",
                              marginal_cost = VOLL, p_nom = peak demand, p_max_pu = demand /
                              peak (so it can shed at most the demand, as gridopt)
candidates (expansion case)   on the generator, storage unit, line or link they extend:
                              p_nom_extendable (s_nom_extendable), p_nom_min = existing +
                              build_min, p_nom_max = existing + build_max, capital_cost =
                              CRF x overnight cost + fixed O&M (gridopt.model.expansion); a
                              storage unit's energy must follow its power (max_hours, with
                              existing energy = max_hours x existing power). One period on
                              the case's horizon only: investment periods, samples, blocks,
                              retirements and policies are refused, as are extendable
                              generators with a must-run floor or ramp limits (PyPSA scales
                              those with the capacity built, gridopt does not)
============================  ================================================================

Differences that remain: PyPSA's StorageUnit spills at most the natural inflow of the hour,
gridopt's reservoirs may also spill stored water (never needed at an optimum unless releasing
water has a value of its own); river routing between stations (`downstream`, travel times)
and environmental minimum releases have no StorageUnit equivalent: such stations are exported
as independent reservoirs with a warning naming them. A curtailment penalty has no PyPSA
equivalent (it adds a constant to the objective) and is refused, as are clusters of several
committable units, spinning reserve, an initial state PyPSA cannot express (a unit on for less
than a snapshot with a minimum up time) and the parts of a case outside the tables above (the
gas network and gas-fired generators, corridors, contracts, must-take obligations,
supply-security zones): each is named in the error. PyPSA's committable ramp rows (p[t] -
p[t-1] <= RU u[t-1] + SU (u[t] - u[t-1]), and down alike) also forbid a unit to stop from below
SU - RU; where a unit's start-up capability exceeds its ramp plus stable minimum the export
warns that PyPSA's optimum can be higher (`gridopt.model.commitment` shows that otherwise both
describe the same schedules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pypsa

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.interop import (
    names_preview,
)
from gridopt.interop.pypsa.common import HINT, HYDRO_HINTS, LOAD_SHEDDING, _quiet
from gridopt.interop.pypsa.energy import export_corridors, export_gas, gas_plants
from gridopt.model import commitment
from gridopt.model.core import LinearModel
from gridopt.model.hydro import HM3_PER_M3S_H, initial_storage_hm3, withdrawal_m3s

# ------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------


def to_pypsa(data: CaseData) -> tuple[pypsa.Network, list[str]]:
    """Build the PyPSA network of a prepared case; return it with the export warnings.

    Raises `InputError` for settings PyPSA cannot represent (see the module docstring).
    """
    file = str(data.path)
    problems: list[Problem] = []
    notes: list[str] = []
    t = data.tables
    w = np.asarray(data.weights_h, dtype=float)
    hours = float(w[0])
    problems += _unexported(data)
    problems += _commitment_refusals(data)
    if (
        data.case.curtailment_penalty_cny_per_mwh > 0
        and t["generators"]["availability_profile"].notna().any()
    ):
        problems.append(
            Problem(
                file,
                "a curtailment penalty has no PyPSA equivalent (it adds"
                " a constant to the objective); set it to 0 to export",
                column="curtailment_penalty_cny_per_mwh",
                value=data.case.curtailment_penalty_cny_per_mwh,
            )
        )
    clash = t["hydro"].index.intersection(t["storage_units"].index)
    if len(clash):
        problems.append(
            Problem(
                file,
                "hydro stations and storage units both become PyPSA"
                " StorageUnits, so their names must differ:"
                f" {names_preview(clash)}",
            )
        )

    with _quiet():
        n = pypsa.Network(name=data.case.name)
        # PyPSA's costs have no unit of their own: say which currency they are in
        n.meta = {**(n.meta or {}), "currency": data.case.currency}
        n.set_snapshots(pd.DatetimeIndex(data.snapshots, name="snapshot"))
        for col in n.snapshot_weightings.columns:
            n.snapshot_weightings[col] = w
        _export_buses(n, t)
        _export_carriers(n, t)
        _export_loads(n, data)
        _export_generators(n, data, hours)
        _export_commitment(n, data, notes)
        _export_load_shedding(n, data, notes)
        problems += _export_storage(n, t, file, hours, _storage_inflow(data))
        problems += _export_hydro(n, data, file, notes)
        problems += _export_branches(n, t, notes)
        problems += export_gas(n, data, notes)
        problems += export_corridors(n, data, notes)
        problems += _export_candidates(n, data)
    if problems:
        raise InputError(problems)
    return n, notes


# the electric tables the export maps (`gridopt.interop.scope` keeps these)
ELECTRIC_TABLES = (
    "buses",
    "carriers",
    "loads",
    "generators",
    "storage_units",
    "lines",
    "links",
    "hydro",
)
# every table the export maps (`energy`: the gas network and the corridors); any other table
# in use is refused by name
EXPORTED_TABLES = (
    *ELECTRIC_TABLES,
    "gas_nodes",
    "gas_supplies",
    "pipelines",
    "gas_storage",
    "gas_demands",
    "corridors",
)


def _unexported(data: CaseData) -> list[Problem]:
    """Parts of the case the export does not map: refused, so nothing is left out unnoticed."""
    file = str(data.path)
    problems = [
        Problem(
            file,
            f"table '{name}' ({len(df)} rows) is not exported to PyPSA yet;"
            " only " + ", ".join(EXPORTED_TABLES) + " are",
        )
        for name, df in data.tables.items()
        # candidates matter only to an expansion case (`_export_candidates`)
        if name not in EXPORTED_TABLES and name != "candidates" and len(df)
    ]
    case = data.case
    # the case's own zones, or its network's zones in force (gridopt.inputs.zones)
    if (
        getattr(case, "security_file", None)
        or getattr(case, "security", None)
        or getattr(data, "security_zones", None)
    ):
        problems.append(
            Problem(file, "supply-security zones are not exported to PyPSA yet", column="security")
        )
    return problems


def _export_buses(n: pypsa.Network, t: dict[str, pd.DataFrame]) -> None:
    b = t["buses"]
    n.add(
        "Bus",
        b.index,
        v_nom=b["v_nom_kv"].to_numpy(),
        x=b["x_lon"].fillna(0.0).to_numpy(),
        y=b["y_lat"].fillna(0.0).to_numpy(),
        carrier=b["carrier"].fillna("AC").to_numpy(),
        **{f"{HINT}region": b["region"].to_numpy()},
    )


def _export_carriers(n: pypsa.Network, t: dict[str, pd.DataFrame]) -> None:
    car = t["carriers"]
    if car.empty:
        return
    co2 = t["generators"].groupby("carrier")["co2_t_per_mwh"]
    common = co2.first().where(co2.nunique() == 1, 0.0).reindex(car.index).fillna(0.0)
    n.add(
        "Carrier",
        car.index,
        color=car["color"].fillna("").to_numpy(),
        nice_name=car["nice_name"].fillna("").to_numpy(),
        co2_emissions=common.to_numpy(),
        **{
            f"{HINT}renewable": car["renewable"].to_numpy(),
            f"{HINT}fossil": car["fossil"].to_numpy(),
        },
    )


def _export_loads(n: pypsa.Network, data: CaseData) -> None:
    loads = data.tables["loads"]
    if loads.empty:
        return
    n.add(
        "Load",
        loads.index,
        bus=loads["bus"].to_numpy(),
        p_set=data.load_mw[loads.index].set_axis(n.snapshots),
    )


def _export_generators(n: pypsa.Network, data: CaseData, hours: float) -> None:
    # gas-fired plants are Links from their gas bus (`energy`)
    gens = data.tables["generators"].drop(index=gas_plants(data))
    if gens.empty:
        return
    p_nom = gens["p_max_mw"].to_numpy()
    has_capacity = p_nom > 0
    avail = data.availability_pu[gens.index].set_axis(n.snapshots)
    floor_mw = np.minimum(gens["p_min_mw"].to_numpy()[None, :], avail.to_numpy() * p_nom)
    p_min_pu = avail.copy()
    p_min_pu.loc[:, :] = np.where(has_capacity, floor_mw / np.where(has_capacity, p_nom, 1.0), 0.0)
    ramp: dict[str, Any] = {}
    for attr, column in (
        ("ramp_limit_up", "ramp_up_mw_per_h"),
        ("ramp_limit_down", "ramp_down_mw_per_h"),
    ):
        ramp[attr] = np.where(
            has_capacity,
            gens[column].to_numpy() * hours / np.where(has_capacity, p_nom, 1.0),
            np.nan,
        )
    n.add(
        "Generator",
        gens.index,
        bus=gens["bus"].to_numpy(),
        carrier=gens["carrier"].to_numpy(),
        marginal_cost_quadratic=gens["quadratic_cost_cny_per_mw2h"].to_numpy(dtype=float),
        p_nom=p_nom,
        p_max_pu=avail,
        p_min_pu=p_min_pu,
        marginal_cost=gens["marginal_cost_cny_per_mwh"].to_numpy(),
        **ramp,
        # the output before the horizon, from which both tools limit the first ramp
        p_init=gens["p_initial_mw"].to_numpy(dtype=float),
        efficiency=(gens["efficiency"].fillna(1.0).to_numpy() if "efficiency" in gens else 1.0),
        **{f"{HINT}co2_t_per_mwh": gens["co2_t_per_mwh"].to_numpy()},
    )


def _commitment_refusals(data: CaseData) -> list[Problem]:
    """Unit-commitment settings PyPSA cannot express (uc cases only)."""
    if data.case.model != "uc":
        return []
    file = str(data.path)
    problems = []
    f = commitment.fleet(LinearModel(data))
    burning = f.index.intersection(gas_plants(data))
    if len(burning):
        problems.append(
            Problem(
                file,
                f"committable gas-fired generators {names_preview(burning)}"
                " are PyPSA Links, whose commitment the export does not map",
                column="committable",
            )
        )
    clusters = f.index[f.units > 1]
    if len(clusters):
        problems.append(
            Problem(
                file,
                f"generators {names_preview(clusters)} are clusters of"
                " several committable units, and a PyPSA Generator commits one"
                " unit: expand them into single units first"
                " (gridopt.interop.units.expand_units)",
                column="units",
            )
        )
    if data.case.reserve.enabled:
        problems.append(
            Problem(
                file,
                "spinning reserve has no PyPSA equivalent; disable it to export",
                column="reserve.enabled",
                value=True,
            )
        )
    up, down = _served_snapshots(f)
    short = f.index[
        ((f.units_on_initial > 0) & (up < 1)) | ((f.units_on_initial < f.units) & (down < 1))
    ]
    if len(short):
        problems.append(
            Problem(
                file,
                f"generators {names_preview(short)} have been in their"
                " initial state for less than a snapshot and must stay in it:"
                " PyPSA's up_time_before and down_time_before count whole"
                " snapshots (at least 1)",
                column="hours_in_state_initial",
            )
        )
    return problems


def _served_snapshots(f: commitment.Fleet) -> tuple[np.ndarray, np.ndarray]:
    """Snapshots of the minimum up (down) time the units on (off) at the start have served.

    gridopt holds them in their state for the first K snapshots (`Fleet.up_carry`); PyPSA for
    the first min_up_time - up_time_before: so up_time_before = UT - K (down alike).
    """
    return f.up_snapshots - f.up_carry, f.down_snapshots - f.down_carry


def _export_commitment(n: pypsa.Network, data: CaseData, notes: list[str]) -> None:
    """Committable generators of a uc case (single units; see `_commitment_refusals`)."""
    if data.case.model != "uc":
        return
    f = commitment.fleet(LinearModel(data))
    if not len(f) or (f.units > 1).any():
        return
    gens = data.tables["generators"].loc[f.index]
    rating = gens["p_max_mw"].to_numpy(dtype=float)
    positive = np.where(rating > 0, rating, 1.0)
    p_min = n.generators_t.p_min_pu.copy()
    p_min[list(f.index)] = np.where((rating > 0)[:, None], f.lo_mw / positive[:, None], 0.0).T
    n.generators_t.p_min_pu = p_min
    up, down = _served_snapshots(f)
    on = f.units_on_initial > 0
    static = n.generators
    static.loc[f.index, "committable"] = True
    static.loc[f.index, "min_up_time"] = f.up_snapshots
    static.loc[f.index, "min_down_time"] = f.down_snapshots
    static.loc[f.index, "start_up_cost"] = f.start_cost_cny
    static.loc[f.index, "shut_down_cost"] = gens["stop_cost_cny"].to_numpy(dtype=float)
    static.loc[f.index, "stand_by_cost"] = gens["no_load_cost_cny_per_h"].to_numpy(dtype=float)
    static.loc[f.index, "ramp_limit_start_up"] = gens["startup_ramp_pu"].to_numpy(dtype=float)
    static.loc[f.index, "ramp_limit_shut_down"] = gens["shutdown_ramp_pu"].to_numpy(dtype=float)
    static.loc[f.index, "up_time_before"] = np.where(on, up, 0)
    static.loc[f.index, "down_time_before"] = np.where(on, 0, down)
    # PyPSA forbids a stop from below SU - RU (and a start to below SD - RD): more than the
    # stable minimum allows
    stable = gens["p_min_stable_pu"].to_numpy(dtype=float)
    hours = float(data.weights_h[0])
    cut = np.zeros(len(f), dtype=bool)
    for capability, ramp in (
        ("startup_ramp_pu", "ramp_up_mw_per_h"),
        ("shutdown_ramp_pu", "ramp_down_mw_per_h"),
    ):
        ramp_pu = np.nan_to_num(gens[ramp].to_numpy(dtype=float) * hours / positive, nan=1.0)
        cap = gens[capability].fillna(1.0).to_numpy(dtype=float)
        cut |= cap > ramp_pu + stable + 1e-9
    if cut.any():
        notes.append(
            f"committable generators {names_preview(f.index[cut])} can start (stop)"
            " above their ramp plus stable minimum: PyPSA's ramp rows then keep them"
            " from stopping (starting) below that difference, which gridopt allows,"
            " so PyPSA's optimum can be higher"
        )


def _export_load_shedding(n: pypsa.Network, data: CaseData, notes: list[str]) -> None:
    shedding = data.case.load_shedding
    if not shedding.enabled:
        return
    buses = data.tables["buses"].index
    demand = pd.DataFrame(_bus_demand_mw(data), index=buses, columns=n.snapshots).T.clip(lower=0)
    peak = demand.max()
    peak = peak[peak > 0]
    if peak.empty:
        return
    names = pd.Index([f"{bus} {LOAD_SHEDDING}" for bus in peak.index])
    taken = names.intersection(data.tables["generators"].index)
    if len(taken):
        raise InputError(
            [
                Problem(
                    str(data.path),
                    "generator names clash with the load-shedding"
                    f" generators of the export: {names_preview(taken)}",
                )
            ]
        )
    if len(n.carriers):
        n.add("Carrier", [LOAD_SHEDDING], color="#000000", nice_name="Load shedding")
    n.add(
        "Generator",
        names,
        bus=peak.index.to_numpy(),
        carrier=LOAD_SHEDDING,
        p_nom=peak.to_numpy(),
        marginal_cost=shedding.voll_cny_per_mwh,
        p_max_pu=(demand[peak.index] / peak).set_axis(names, axis=1),
    )
    notes.append(
        f"load shedding is exported as {len(names)} generators with carrier"
        f" '{LOAD_SHEDDING}' at the value of lost load"
    )


def _bus_demand_mw(data: CaseData) -> np.ndarray:
    """Demand per bus and snapshot (bus x snapshot), MW, as the nodal balance sums it."""
    loads = data.tables["loads"]
    buses = data.tables["buses"].index
    by_bus = data.load_mw[loads.index].T.groupby(loads["bus"]).sum()
    return by_bus.reindex(buses, fill_value=0.0).to_numpy()


def _export_storage(
    n: pypsa.Network,
    t: dict[str, pd.DataFrame],
    file: str,
    hours: float,
    inflow: pd.DataFrame | None = None,
) -> list[Problem]:
    sto = t["storage_units"]
    if sto.empty:
        return []
    p = sto["p_max_mw"].to_numpy()
    e = sto["energy_max_mwh"].to_numpy()
    bad = (p <= 0) & (e > 0)
    if bad.any():
        return [
            Problem(
                file,
                "storage units with energy but no power cannot be expressed in"
                f" PyPSA's max_hours: {names_preview(sto.index[bad])}",
            )
        ]
    soc0 = sto["soc_initial_mwh"]
    # gridopt's standing loss applies to the level before the first snapshot as well; PyPSA
    # starts the first snapshot from its initial level as it is
    kept = (1.0 - sto["standing_loss_per_h"]) ** hours
    n.add(
        "StorageUnit",
        sto.index,
        bus=sto["bus"].to_numpy(),
        carrier=sto["carrier"].to_numpy(),
        p_nom=p,
        max_hours=np.where(p > 0, e / np.where(p > 0, p, 1.0), 0.0),
        p_min_pu=-1.0,
        p_max_pu=1.0,
        efficiency_store=sto["efficiency_charge"].to_numpy(),
        efficiency_dispatch=sto["efficiency_discharge"].to_numpy(),
        standing_loss=sto["standing_loss_per_h"].to_numpy(),
        state_of_charge_initial=(soc0 * kept).fillna(0.0).to_numpy(),
        cyclic_state_of_charge=soc0.isna().to_numpy(),
        marginal_cost=sto["marginal_cost_cny_per_mwh"].to_numpy(),
    )
    if inflow is not None and not inflow.empty:
        n.storage_units_t.inflow = pd.concat(
            [n.storage_units_t.inflow, inflow.set_axis(n.snapshots)], axis=1
        )
    return []


def _storage_inflow(data: CaseData) -> pd.DataFrame | None:
    """Natural inflow (MW) of the storage units that have one: PyPSA's StorageUnit inflow."""
    frame = data.storage_inflow_mw
    if frame is None or frame.empty:
        return None
    used = data.tables["storage_units"]["inflow_profile"].notna()
    return frame.loc[:, frame.columns.intersection(data.tables["storage_units"].index[used])]


def _export_hydro(n: pypsa.Network, data: CaseData, file: str, notes: list[str]) -> list[Problem]:
    hy = data.tables["hydro"]
    if hy.empty:
        return []
    conv = hy["mw_per_m3s"].to_numpy()
    mwh_per_hm3 = conv / HM3_PER_M3S_H
    v_max = hy["storage_max_hm3"].to_numpy()
    v_min = np.minimum(hy["storage_min_hm3"].to_numpy(), v_max)
    v0 = initial_storage_hm3(hy)
    p_nom = hy["p_max_mw"].to_numpy()
    energy = (v_max - v_min) * mwh_per_hm3
    bad = (p_nom <= 0) & (energy > 0)
    if bad.any():
        return [
            Problem(
                file,
                "hydro stations with storage but no turbine capacity cannot be"
                f" expressed in PyPSA's max_hours: {names_preview(hy.index[bad])}",
            )
        ]
    rule = hy["end_rule"].to_numpy()
    soc0 = np.where(rule == "cyclic", 0.0, (v0 - v_min) * mwh_per_hm3)
    # withdrawals with their profiles (gridopt.model.hydro.withdrawal_m3s)
    inflow = ((data.inflow_m3s[hy.index] - withdrawal_m3s(data).T) * conv).set_axis(n.snapshots)
    soc_set = pd.DataFrame(np.nan, index=n.snapshots, columns=hy.index)
    fixed = rule == "fixed"
    soc_set.iloc[-1, np.flatnonzero(fixed)] = soc0[fixed]
    extra = {f"{HINT}{col}": hy[col].to_numpy() for col in HYDRO_HINTS}
    n.add(
        "StorageUnit",
        hy.index,
        bus=hy["bus"].to_numpy(),
        carrier=hy["carrier"].to_numpy(),
        p_nom=p_nom,
        max_hours=np.where(p_nom > 0, energy / np.where(p_nom > 0, p_nom, 1.0), 0.0),
        p_min_pu=0.0,
        p_max_pu=1.0,
        efficiency_store=1.0,
        efficiency_dispatch=1.0,
        state_of_charge_initial=soc0,
        cyclic_state_of_charge=rule == "cyclic",
        inflow=inflow,
        marginal_cost=hy["marginal_cost_cny_per_mwh"].to_numpy(),
        **extra,
    )
    if fixed.any():
        n.storage_units_t.state_of_charge_set = soc_set.loc[:, fixed]
    cascade = hy["downstream"].notna() | hy.index.isin(hy["downstream"].dropna())
    if cascade.any():
        notes.append(
            f"hydro stations {names_preview(hy.index[cascade], 20)} form river"
            " cascades; a PyPSA StorageUnit has no river routing, so they are exported"
            " as independent reservoirs (releases no longer reach the station"
            " below) and PyPSA's optimum can differ from gridopt's"
        )
    env = hy["q_env_min_m3s"] > 0
    if env.any():
        notes.append(
            f"hydro stations {names_preview(hy.index[env], 20)} have an"
            " environmental minimum release, which a PyPSA StorageUnit cannot"
            " enforce; it is left out of the PyPSA network"
        )
    return []


def _export_branches(
    n: pypsa.Network, t: dict[str, pd.DataFrame], notes: list[str]
) -> list[Problem]:
    """Lines -> Lines; a line with a phase shift -> a Transformer (PyPSA's lines have none),
    x = x_eff s_nom in p.u. of s_nom; symmetric angle-difference limits -> v_ang_max (PyPSA's
    limit is symmetric: other limits are refused)."""
    problems: list[Problem] = []
    lines = t["lines"]
    if not lines.empty:
        carrier = t["buses"]["carrier"]
        dc = (carrier.reindex(lines["bus0"]).to_numpy() == "DC") & (
            carrier.reindex(lines["bus1"]).to_numpy() == "DC"
        )
        x = lines["x_ohm"].to_numpy()
        shift = lines["phase_shift_deg"].fillna(0.0).to_numpy(dtype=float)
        lo = lines["angle_min_deg"].to_numpy(dtype=float)
        hi = lines["angle_max_deg"].to_numpy(dtype=float)
        symmetric = (np.isnan(lo) & np.isnan(hi)) | np.isclose(-lo, hi, rtol=1e-12, atol=0)
        if not symmetric.all():
            problems.append(
                Problem(
                    "lines",
                    "angle-difference limits that are not symmetric"
                    " (angle_min_deg = -angle_max_deg) cannot be expressed in"
                    " PyPSA (v_ang_max): "
                    f"{names_preview(lines.index[~symmetric])}",
                    column="angle_min_deg",
                )
            )
        plain = shift == 0
        idx = lines.index[plain]
        n.add(
            "Line",
            idx,
            bus0=lines["bus0"].to_numpy()[plain],
            bus1=lines["bus1"].to_numpy()[plain],
            x=x[plain],
            r=np.where(dc, x, 0.0)[plain],
            s_nom=lines["s_max_mw"].to_numpy()[plain],
            carrier=lines["carrier"].fillna("AC").to_numpy()[plain],
            length=lines["length_km"].fillna(0.0).to_numpy()[plain],
            v_ang_max=np.where(np.isnan(hi), np.inf, hi)[plain],
            **{f"{HINT}length_km": lines["length_km"].to_numpy()[plain]},
        )
        if (~plain).any():
            v_nom = t["buses"]["v_nom_kv"].reindex(lines["bus0"]).to_numpy(dtype=float)
            s_nom = lines["s_max_mw"].to_numpy(dtype=float)
            n.add(
                "Transformer",
                lines.index[~plain],
                bus0=lines["bus0"].to_numpy()[~plain],
                bus1=lines["bus1"].to_numpy()[~plain],
                x=(x / v_nom**2 * s_nom)[~plain],
                s_nom=s_nom[~plain],
                phase_shift=shift[~plain],
                v_ang_max=np.where(np.isnan(hi), np.inf, hi)[~plain],
            )
            notes.append(
                f"lines {names_preview(lines.index[~plain])} have a phase shift:"
                " exported as PyPSA Transformers (x in p.u. of s_nom)"
            )
    links = t["links"]
    if not links.empty:
        n.add(
            "Link",
            links.index,
            bus0=links["bus0"].to_numpy(),
            bus1=links["bus1"].to_numpy(),
            carrier=links["carrier"].fillna("DC").to_numpy(),
            p_nom=links["p_max_mw"].to_numpy(),
            p_min_pu=links["p_min_pu"].to_numpy(),
            efficiency=links["efficiency"].to_numpy(),
            marginal_cost=links["marginal_cost_cny_per_mwh"].to_numpy(),
            length=links["length_km"].fillna(0.0).to_numpy(),
            **{f"{HINT}length_km": links["length_km"].to_numpy()},
        )
    return problems


# PyPSA component and capacity attribute of each rating a candidate may extend
_EXTENDABLE = {
    ("generators", "p_max_mw"): ("Generator", "p_nom"),
    ("storage_units", "p_max_mw"): ("StorageUnit", "p_nom"),
    ("lines", "s_max_mw"): ("Line", "s_nom"),
    ("links", "p_max_mw"): ("Link", "p_nom"),
}


def _export_candidates(n: pypsa.Network, data: CaseData) -> list[Problem]:
    """Extendable capacities of a single-period expansion case (module docstring)."""
    from gridopt.inputs.investment import candidate_rating
    from gridopt.model.expansion import crf

    cand = data.tables["candidates"]
    if not data.expanding or cand.empty:
        return []
    file = str(data.path)
    exp = data.expansion
    problems = []
    if exp.periods:
        problems.append(
            Problem(
                file,
                "investment periods and samples are not exported to"
                " PyPSA yet: export a single-period case on its horizon",
                column="expansion.periods",
            )
        )
    policy = exp.policy
    if policy.co2_cap_t_per_yr or policy.co2_price_cny_per_t or policy.shares or policy.build_rates:
        problems.append(
            Problem(
                file, "expansion policies are not exported to PyPSA yet", column="expansion.policy"
            )
        )
    rating = candidate_rating(cand)
    burning = cand.index[
        ((cand["table"] == "generators") & cand["component"].isin(gas_plants(data))).to_numpy()
    ]
    if len(burning):
        problems.append(
            Problem(
                file,
                "candidates for gas-fired generators (PyPSA Links) are"
                f" not exported: {names_preview(burning)}",
                column="candidates",
            )
        )
    key = list(zip(cand["table"], rating, strict=True))
    unsupported = [name for name, k in zip(cand.index, key, strict=True) if k not in _EXTENDABLE]
    if unsupported:
        problems.append(
            Problem(
                file,
                "candidates for ratings other than the power of"
                " generators, storage units and links and the rating of lines"
                f" are not exported to PyPSA yet: {names_preview(unsupported)}",
                column="candidates",
            )
        )
    for column, rule in (
        ("block_size", "built in blocks (a MIP)"),
        ("existing_retire_year", "retiring existing capacity"),
    ):
        named = cand.index[cand[column].notna().to_numpy()]
        if len(named):
            problems.append(
                Problem(
                    file,
                    f"candidates {rule} are not exported to PyPSA: {names_preview(named)}",
                    column=column,
                )
            )
    gens = data.tables["generators"]
    ext_gens = cand.loc[cand["table"] == "generators", "component"]
    floors = gens.loc[ext_gens, ["p_min_mw", "ramp_up_mw_per_h", "ramp_down_mw_per_h"]]
    fixed = floors.index[
        (
            (floors["p_min_mw"] > 0)
            | floors["ramp_up_mw_per_h"].notna()
            | floors["ramp_down_mw_per_h"].notna()
        ).to_numpy()
    ]
    if len(fixed):
        problems.append(
            Problem(
                file,
                "extendable generators with p_min_mw or ramp limits are"
                f" not exported to PyPSA: {names_preview(fixed)}",
                column="candidates",
            )
        )
    sto = data.tables["storage_units"]
    tied = cand[(cand["table"] == "storage_units") & (rating == "p_max_mw")]
    hours = tied["max_hours"].to_numpy(dtype=float)
    p_now = sto["p_max_mw"].reindex(tied["component"]).to_numpy()
    e_now = sto["energy_max_mwh"].reindex(tied["component"]).to_numpy()
    loose = tied.index[(np.isnan(hours) | ~np.isclose(e_now, np.nan_to_num(hours) * p_now))]
    if len(loose):
        problems.append(
            Problem(
                file,
                "an extendable storage unit is exported as a PyPSA"
                " StorageUnit, whose energy is max_hours x power: give its"
                " candidate max_hours, with energy_max_mwh = max_hours x"
                f" p_max_mw: {names_preview(loose)}",
                column="max_hours",
            )
        )
    if problems:
        return problems
    rate = cand["discount_rate"].fillna(exp.discount_rate).to_numpy()
    annuity = (
        crf(rate, cand["lifetime_yr"].to_numpy()) * cand["overnight_cost_cny_per_unit"]
        + cand["fixed_om_cny_per_unit_yr"]
    )
    for (table, column), group in cand.groupby([cand["table"], rating], sort=False):
        component, attr = _EXTENDABLE[(table, column)]
        names = group["component"].to_numpy()
        static = n.c[component].static
        existing = data.tables[table][column].reindex(names).to_numpy()
        static.loc[names, f"{attr}_extendable"] = True
        static.loc[names, f"{attr}_min"] = existing + group["build_min"].to_numpy()
        static.loc[names, f"{attr}_max"] = existing + group["build_max"].fillna(np.inf).to_numpy()
        static.loc[names, "capital_cost"] = annuity[group.index].to_numpy()
        if component == "StorageUnit":
            static.loc[names, "max_hours"] = group["max_hours"].to_numpy()
    return []


def export_pypsa(case: CaseData | Path | str, out: Path | str) -> list[str]:
    """Write a case as a PyPSA network: netCDF when `out` ends in `.nc`, else a CSV folder.

    `case` is a case YAML path or a prepared `CaseData`. Returns the export warnings.
    """
    data = case if isinstance(case, CaseData) else load_case(case)
    n, notes = to_pypsa(data)
    out = Path(out)
    with _quiet():
        if out.suffix.lower() == ".nc":
            out.parent.mkdir(parents=True, exist_ok=True)
            n.export_to_netcdf(out)
        else:
            n.export_to_csv_folder(out)
    return notes
