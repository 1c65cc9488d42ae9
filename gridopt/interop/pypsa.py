"""PyPSA networks: export a gridopt case, import a PyPSA network as a gridopt case folder.

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
                              ramp_limit_start_up/shut_down = startup/shutdown_ramp_pu;
                              up_time_before (unit on) or down_time_before (off) = the
                              snapshots of its minimum time already served before the horizon
                              (from units_on_initial and hours_in_state_initial; blank hours:
                              all of it)
storage_units                 StorageUnit: p_nom = p_max_mw, max_hours = energy / power,
                              efficiency_store/dispatch, standing_loss; soc_initial_mwh
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
                              uses r), s_nom = s_max_mw, length = length_km
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

Import (`import_pypsa`, `from_pypsa`) maps the same attributes back. It does not map capacity
expansion (gridopt's `candidates`), unit commitment, Stores, multi-port links or emission
constraints yet, so the importer refuses (an `InputError` naming the component and attribute)
extendable capacities, committable or maintainable units, Stores, Processes, GlobalConstraints,
quadratic or time-varying costs, links with more than two buses or a delay, transformers with an
off-nominal tap or a phase shift, angle-difference limits and multi-period or stochastic
networks. Other input attributes that have no effect on a single-period dispatch (capital costs
of fixed assets, reactive power, power-flow settings) are ignored; any other attribute set away
from PyPSA's default, any extra column and any inactive component is named in a warning.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pypsa

from gridopt.errors import InputError, Problem
from gridopt.inputs.case import load_case
from gridopt.inputs.data import CaseData
from gridopt.inputs.schema import TABLES
from gridopt.interop import (
    DEFAULT_START,
    ImportedCase,
    hourly_series,
    names_preview,
    write_case,
)
from gridopt.model import commitment
from gridopt.model.core import LinearModel
from gridopt.model.hydro import HM3_PER_M3S_H, initial_storage_hm3, withdrawal_m3s

HINT = "gridopt_"  # prefix of the extra columns that carry gridopt settings PyPSA does not have
LOAD_SHEDDING = "load shedding"
HYDRO_HINTS = ("mw_per_m3s", "storage_min_hm3", "storage_initial_hm3", "end_rule", "river",
               "q_env_min_m3s", "withdrawal_m3s", "downstream", "travel_time_h",
               "release_initial_m3s")
_RTOL = 1e-9


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PyPSA and linopy log every import, export and solve; keep that off the analyst's screen."""
    loggers = [logging.getLogger(name) for name in ("pypsa", "linopy")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


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
    if data.case.curtailment_penalty_cny_per_mwh > 0 and \
            t["generators"]["availability_profile"].notna().any():
        problems.append(Problem(file, "a curtailment penalty has no PyPSA equivalent (it adds"
                                " a constant to the objective); set it to 0 to export",
                                column="curtailment_penalty_cny_per_mwh",
                                value=data.case.curtailment_penalty_cny_per_mwh))
    clash = t["hydro"].index.intersection(t["storage_units"].index)
    if len(clash):
        problems.append(Problem(file, "hydro stations and storage units both become PyPSA"
                                " StorageUnits, so their names must differ:"
                                f" {names_preview(clash)}"))

    with _quiet():
        n = pypsa.Network(name=data.case.name)
        n.set_snapshots(pd.DatetimeIndex(data.snapshots, name="snapshot"))
        for col in n.snapshot_weightings.columns:
            n.snapshot_weightings[col] = w
        _export_buses(n, t)
        _export_carriers(n, t)
        _export_loads(n, data)
        _export_generators(n, data, hours)
        _export_commitment(n, data, notes)
        _export_load_shedding(n, data, notes)
        problems += _export_storage(n, t, file, hours)
        problems += _export_hydro(n, data, file, notes)
        _export_branches(n, t)
        problems += _export_candidates(n, data)
    if problems:
        raise InputError(problems)
    return n, notes


# the tables the export maps; any other table in use is refused by name
EXPORTED_TABLES = ("buses", "carriers", "loads", "generators", "storage_units", "lines", "links",
                   "hydro")


def _unexported(data: CaseData) -> list[Problem]:
    """Parts of the case the export does not map: refused, so nothing is left out unnoticed."""
    file = str(data.path)
    problems = [Problem(file, f"table '{name}' ({len(df)} rows) is not exported to PyPSA yet;"
                        " only " + ", ".join(EXPORTED_TABLES) + " are")
                for name, df in data.tables.items()
                # candidates matter only to an expansion case (`_export_candidates`)
                if name not in EXPORTED_TABLES and name != "candidates" and len(df)]
    gens = data.tables["generators"]
    if "gas_node" in gens and gens["gas_node"].notna().any():
        fired = gens.index[gens["gas_node"].notna().to_numpy()]
        problems.append(Problem(file, f"generators {names_preview(fired)} burn gas from the gas"
                                " network, which is not exported to PyPSA yet",
                                column="gas_node"))
    case = data.case
    # the case's own zones, or its network's zones in force (gridopt.inputs.zones)
    if (getattr(case, "security_file", None) or getattr(case, "security", None)
            or getattr(data, "security_zones", None)):
        problems.append(Problem(file, "supply-security zones are not exported to PyPSA yet",
                                column="security"))
    return problems


def _export_buses(n: pypsa.Network, t: dict[str, pd.DataFrame]) -> None:
    b = t["buses"]
    n.add("Bus", b.index, v_nom=b["v_nom_kv"].to_numpy(),
          x=b["x_lon"].fillna(0.0).to_numpy(), y=b["y_lat"].fillna(0.0).to_numpy(),
          carrier=b["carrier"].fillna("AC").to_numpy(),
          **{f"{HINT}region": b["region"].to_numpy()})


def _export_carriers(n: pypsa.Network, t: dict[str, pd.DataFrame]) -> None:
    car = t["carriers"]
    if car.empty:
        return
    co2 = t["generators"].groupby("carrier")["co2_t_per_mwh"]
    common = co2.first().where(co2.nunique() == 1, 0.0).reindex(car.index).fillna(0.0)
    n.add("Carrier", car.index, color=car["color"].fillna("").to_numpy(),
          nice_name=car["nice_name"].fillna("").to_numpy(), co2_emissions=common.to_numpy(),
          **{f"{HINT}renewable": car["renewable"].to_numpy(),
             f"{HINT}fossil": car["fossil"].to_numpy()})


def _export_loads(n: pypsa.Network, data: CaseData) -> None:
    loads = data.tables["loads"]
    if loads.empty:
        return
    n.add("Load", loads.index, bus=loads["bus"].to_numpy(),
          p_set=data.load_mw[loads.index].set_axis(n.snapshots))


def _export_generators(n: pypsa.Network, data: CaseData, hours: float) -> None:
    gens = data.tables["generators"]
    if gens.empty:
        return
    p_nom = gens["p_max_mw"].to_numpy()
    has_capacity = p_nom > 0
    avail = data.availability_pu[gens.index].set_axis(n.snapshots)
    floor_mw = np.minimum(gens["p_min_mw"].to_numpy()[None, :], avail.to_numpy() * p_nom)
    p_min_pu = avail.copy()
    p_min_pu.loc[:, :] = np.where(has_capacity, floor_mw / np.where(has_capacity, p_nom, 1.0),
                                  0.0)
    ramp = {}
    for attr, column in (("ramp_limit_up", "ramp_up_mw_per_h"),
                         ("ramp_limit_down", "ramp_down_mw_per_h")):
        ramp[attr] = np.where(has_capacity, gens[column].to_numpy() * hours
                              / np.where(has_capacity, p_nom, 1.0), np.nan)
    n.add("Generator", gens.index, bus=gens["bus"].to_numpy(), carrier=gens["carrier"].to_numpy(),
          p_nom=p_nom, p_max_pu=avail, p_min_pu=p_min_pu,
          marginal_cost=gens["marginal_cost_cny_per_mwh"].to_numpy(), **ramp,
          # the output before the horizon, from which both tools limit the first ramp
          p_init=gens["p_initial_mw"].to_numpy(dtype=float),
          efficiency=(gens["efficiency"].fillna(1.0).to_numpy() if "efficiency" in gens
                      else 1.0),
          **{f"{HINT}co2_t_per_mwh": gens["co2_t_per_mwh"].to_numpy()})


def _commitment_refusals(data: CaseData) -> list[Problem]:
    """Unit-commitment settings PyPSA cannot express (uc cases only)."""
    if data.case.model != "uc":
        return []
    file = str(data.path)
    problems = []
    f = commitment.fleet(LinearModel(data))
    clusters = f.index[f.units > 1]
    if len(clusters):
        problems.append(Problem(file, f"generators {names_preview(clusters)} are clusters of"
                                " several committable units, and a PyPSA Generator commits one"
                                " unit: expand them into single units first"
                                " (gridopt.interop.units.expand_units)", column="units"))
    if data.case.reserve.enabled:
        problems.append(Problem(file, "spinning reserve has no PyPSA equivalent; disable it to"
                                " export", column="reserve.enabled", value=True))
    up, down = _served_snapshots(f)
    short = f.index[((f.units_on_initial > 0) & (up < 1))
                    | ((f.units_on_initial < f.units) & (down < 1))]
    if len(short):
        problems.append(Problem(file, f"generators {names_preview(short)} have been in their"
                                " initial state for less than a snapshot and must stay in it:"
                                " PyPSA's up_time_before and down_time_before count whole"
                                " snapshots (at least 1)", column="hours_in_state_initial"))
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
    static.loc[f.index, "ramp_limit_start_up"] = gens["startup_ramp_pu"].to_numpy(dtype=float)
    static.loc[f.index, "ramp_limit_shut_down"] = gens["shutdown_ramp_pu"].to_numpy(dtype=float)
    static.loc[f.index, "up_time_before"] = np.where(on, up, 0)
    static.loc[f.index, "down_time_before"] = np.where(on, 0, down)
    # PyPSA forbids a stop from below SU - RU (and a start to below SD - RD): more than the
    # stable minimum allows
    stable = gens["p_min_stable_pu"].to_numpy(dtype=float)
    hours = float(data.weights_h[0])
    cut = np.zeros(len(f), dtype=bool)
    for capability, ramp in (("startup_ramp_pu", "ramp_up_mw_per_h"),
                             ("shutdown_ramp_pu", "ramp_down_mw_per_h")):
        ramp_pu = np.nan_to_num(gens[ramp].to_numpy(dtype=float) * hours / positive, nan=1.0)
        cap = gens[capability].fillna(1.0).to_numpy(dtype=float)
        cut |= cap > ramp_pu + stable + 1e-9
    if cut.any():
        notes.append(f"committable generators {names_preview(f.index[cut])} can start (stop)"
                     " above their ramp plus stable minimum: PyPSA's ramp rows then keep them"
                     " from stopping (starting) below that difference, which gridopt allows,"
                     " so PyPSA's optimum can be higher")


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
        raise InputError([Problem(str(data.path), "generator names clash with the load-shedding"
                                  f" generators of the export: {names_preview(taken)}")])
    if len(n.carriers):
        n.add("Carrier", [LOAD_SHEDDING], color="#000000", nice_name="Load shedding")
    n.add("Generator", names, bus=peak.index.to_numpy(), carrier=LOAD_SHEDDING,
          p_nom=peak.to_numpy(), marginal_cost=shedding.voll_cny_per_mwh,
          p_max_pu=(demand[peak.index] / peak).set_axis(names, axis=1))
    notes.append(f"load shedding is exported as {len(names)} generators with carrier"
                 f" '{LOAD_SHEDDING}' at the value of lost load")


def _bus_demand_mw(data: CaseData) -> np.ndarray:
    """Demand per bus and snapshot (bus x snapshot), MW, as the nodal balance sums it."""
    loads = data.tables["loads"]
    buses = data.tables["buses"].index
    by_bus = data.load_mw[loads.index].T.groupby(loads["bus"]).sum()
    return by_bus.reindex(buses, fill_value=0.0).to_numpy()


def _export_storage(n: pypsa.Network, t: dict[str, pd.DataFrame], file: str, hours: float
                    ) -> list[Problem]:
    sto = t["storage_units"]
    if sto.empty:
        return []
    p = sto["p_max_mw"].to_numpy()
    e = sto["energy_max_mwh"].to_numpy()
    bad = (p <= 0) & (e > 0)
    if bad.any():
        return [Problem(file, "storage units with energy but no power cannot be expressed in"
                        f" PyPSA's max_hours: {names_preview(sto.index[bad])}")]
    soc0 = sto["soc_initial_mwh"]
    # gridopt's standing loss applies to the level before the first snapshot as well; PyPSA
    # starts the first snapshot from its initial level as it is
    kept = (1.0 - sto["standing_loss_per_h"]) ** hours
    n.add("StorageUnit", sto.index, bus=sto["bus"].to_numpy(), carrier=sto["carrier"].to_numpy(),
          p_nom=p, max_hours=np.where(p > 0, e / np.where(p > 0, p, 1.0), 0.0),
          p_min_pu=-1.0, p_max_pu=1.0,
          efficiency_store=sto["efficiency_charge"].to_numpy(),
          efficiency_dispatch=sto["efficiency_discharge"].to_numpy(),
          standing_loss=sto["standing_loss_per_h"].to_numpy(),
          state_of_charge_initial=(soc0 * kept).fillna(0.0).to_numpy(),
          cyclic_state_of_charge=soc0.isna().to_numpy(),
          marginal_cost=sto["marginal_cost_cny_per_mwh"].to_numpy())
    return []


def _export_hydro(n: pypsa.Network, data: CaseData, file: str, notes: list[str]
                  ) -> list[Problem]:
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
        return [Problem(file, "hydro stations with storage but no turbine capacity cannot be"
                        f" expressed in PyPSA's max_hours: {names_preview(hy.index[bad])}")]
    rule = hy["end_rule"].to_numpy()
    soc0 = np.where(rule == "cyclic", 0.0, (v0 - v_min) * mwh_per_hm3)
    # withdrawals with their profiles (gridopt.model.hydro.withdrawal_m3s)
    inflow = ((data.inflow_m3s[hy.index] - withdrawal_m3s(data).T) * conv).set_axis(n.snapshots)
    soc_set = pd.DataFrame(np.nan, index=n.snapshots, columns=hy.index)
    fixed = rule == "fixed"
    soc_set.iloc[-1, np.flatnonzero(fixed)] = soc0[fixed]
    extra = {f"{HINT}{col}": hy[col].to_numpy() for col in HYDRO_HINTS}
    n.add("StorageUnit", hy.index, bus=hy["bus"].to_numpy(), carrier=hy["carrier"].to_numpy(),
          p_nom=p_nom, max_hours=np.where(p_nom > 0, energy / np.where(p_nom > 0, p_nom, 1.0),
                                          0.0),
          p_min_pu=0.0, p_max_pu=1.0, efficiency_store=1.0, efficiency_dispatch=1.0,
          state_of_charge_initial=soc0, cyclic_state_of_charge=rule == "cyclic",
          inflow=inflow, marginal_cost=hy["marginal_cost_cny_per_mwh"].to_numpy(), **extra)
    if fixed.any():
        n.storage_units_t.state_of_charge_set = soc_set.loc[:, fixed]
    cascade = hy["downstream"].notna() | hy.index.isin(hy["downstream"].dropna())
    if cascade.any():
        notes.append(f"hydro stations {names_preview(hy.index[cascade], 20)} form river"
                     " cascades; a PyPSA StorageUnit has no river routing, so they are exported"
                     " as independent reservoirs (releases no longer reach the station"
                     " below) and PyPSA's optimum can differ from gridopt's")
    env = hy["q_env_min_m3s"] > 0
    if env.any():
        notes.append(f"hydro stations {names_preview(hy.index[env], 20)} have an"
                     " environmental minimum release, which a PyPSA StorageUnit cannot"
                     " enforce; it is left out of the PyPSA network")
    return []


def _export_branches(n: pypsa.Network, t: dict[str, pd.DataFrame]) -> None:
    lines = t["lines"]
    if not lines.empty:
        carrier = t["buses"]["carrier"]
        dc = (carrier.reindex(lines["bus0"]).to_numpy() == "DC") & (
            carrier.reindex(lines["bus1"]).to_numpy() == "DC")
        x = lines["x_ohm"].to_numpy()
        n.add("Line", lines.index, bus0=lines["bus0"].to_numpy(), bus1=lines["bus1"].to_numpy(),
              x=x, r=np.where(dc, x, 0.0), s_nom=lines["s_max_mw"].to_numpy(),
              carrier=lines["carrier"].fillna("AC").to_numpy(),
              length=lines["length_km"].fillna(0.0).to_numpy(),
              **{f"{HINT}length_km": lines["length_km"].to_numpy()})
    links = t["links"]
    if not links.empty:
        n.add("Link", links.index, bus0=links["bus0"].to_numpy(), bus1=links["bus1"].to_numpy(),
              carrier=links["carrier"].fillna("DC").to_numpy(),
              p_nom=links["p_max_mw"].to_numpy(), p_min_pu=links["p_min_pu"].to_numpy(),
              efficiency=links["efficiency"].to_numpy(),
              marginal_cost=links["marginal_cost_cny_per_mwh"].to_numpy(),
              length=links["length_km"].fillna(0.0).to_numpy(),
              **{f"{HINT}length_km": links["length_km"].to_numpy()})


# PyPSA component and capacity attribute of each rating a candidate may extend
_EXTENDABLE = {("generators", "p_max_mw"): ("Generator", "p_nom"),
               ("storage_units", "p_max_mw"): ("StorageUnit", "p_nom"),
               ("lines", "s_max_mw"): ("Line", "s_nom"),
               ("links", "p_max_mw"): ("Link", "p_nom")}


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
        problems.append(Problem(file, "investment periods and samples are not exported to"
                                " PyPSA yet: export a single-period case on its horizon",
                                column="expansion.periods"))
    policy = exp.policy
    if (policy.co2_cap_t_per_yr or policy.co2_price_cny_per_t or policy.shares
            or policy.build_rates):
        problems.append(Problem(file, "expansion policies are not exported to PyPSA yet",
                                column="expansion.policy"))
    rating = candidate_rating(cand)
    key = list(zip(cand["table"], rating, strict=True))
    unsupported = [name for name, k in zip(cand.index, key, strict=True)
                   if k not in _EXTENDABLE]
    if unsupported:
        problems.append(Problem(file, "candidates for ratings other than the power of"
                                " generators, storage units and links and the rating of lines"
                                f" are not exported to PyPSA yet: {names_preview(unsupported)}",
                                column="candidates"))
    for column, rule in (("block_size", "built in blocks (a MIP)"),
                         ("existing_retire_year", "retiring existing capacity")):
        named = cand.index[cand[column].notna().to_numpy()]
        if len(named):
            problems.append(Problem(file, f"candidates {rule} are not exported to PyPSA:"
                                    f" {names_preview(named)}", column=column))
    gens = data.tables["generators"]
    ext_gens = cand.loc[cand["table"] == "generators", "component"]
    floors = gens.loc[ext_gens, ["p_min_mw", "ramp_up_mw_per_h", "ramp_down_mw_per_h"]]
    fixed = floors.index[((floors["p_min_mw"] > 0) | floors["ramp_up_mw_per_h"].notna()
                          | floors["ramp_down_mw_per_h"].notna()).to_numpy()]
    if len(fixed):
        problems.append(Problem(file, "extendable generators with p_min_mw or ramp limits are"
                                f" not exported to PyPSA: {names_preview(fixed)}",
                                column="candidates"))
    sto = data.tables["storage_units"]
    tied = cand[(cand["table"] == "storage_units") & (rating == "p_max_mw")]
    hours = tied["max_hours"].to_numpy(dtype=float)
    p_now = sto["p_max_mw"].reindex(tied["component"]).to_numpy()
    e_now = sto["energy_max_mwh"].reindex(tied["component"]).to_numpy()
    loose = tied.index[(np.isnan(hours) | ~np.isclose(e_now, np.nan_to_num(hours) * p_now))]
    if len(loose):
        problems.append(Problem(file, "an extendable storage unit is exported as a PyPSA"
                                " StorageUnit, whose energy is max_hours x power: give its"
                                " candidate max_hours, with energy_max_mwh = max_hours x"
                                f" p_max_mw: {names_preview(loose)}", column="max_hours"))
    if problems:
        return problems
    rate = cand["discount_rate"].fillna(exp.discount_rate).to_numpy()
    annuity = (crf(rate, cand["lifetime_yr"].to_numpy()) * cand["overnight_cost_cny_per_unit"]
               + cand["fixed_om_cny_per_unit_yr"])
    for (table, column), group in cand.groupby([cand["table"], rating], sort=False):
        component, attr = _EXTENDABLE[(table, column)]
        names = group["component"].to_numpy()
        static = n.c[component].static
        existing = data.tables[table][column].reindex(names).to_numpy()
        static.loc[names, f"{attr}_extendable"] = True
        static.loc[names, f"{attr}_min"] = existing + group["build_min"].to_numpy()
        static.loc[names, f"{attr}_max"] = existing + group["build_max"].fillna(
            np.inf).to_numpy()
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


# ------------------------------------------------------------------------------------------
# import
# ------------------------------------------------------------------------------------------

# attributes the importer maps, per component
_MAPPED: dict[str, set[str]] = {
    "Bus": {"name", "v_nom", "x", "y", "carrier"},
    "Carrier": {"name", "co2_emissions", "color", "nice_name"},
    "Generator": {"name", "bus", "carrier", "p_nom", "p_min_pu", "p_max_pu", "marginal_cost",
                  "ramp_limit_up", "ramp_limit_down", "efficiency", "active", "p_init"},
    "Load": {"name", "bus", "p_set", "active", "carrier"},
    "Line": {"name", "bus0", "bus1", "x", "r", "s_nom", "s_max_pu", "type", "num_parallel",
             "carrier", "length", "active"},
    "Transformer": {"name", "bus0", "bus1", "x", "r", "s_nom", "s_max_pu", "type",
                    "num_parallel", "active", "tap_ratio", "phase_shift"},
    "Link": {"name", "bus0", "bus1", "carrier", "efficiency", "active", "p_nom", "p_min_pu",
             "p_max_pu", "marginal_cost", "length"},
    "StorageUnit": {"name", "bus", "carrier", "p_nom", "p_min_pu", "p_max_pu", "marginal_cost",
                    "state_of_charge_initial", "state_of_charge_set", "cyclic_state_of_charge",
                    "max_hours", "efficiency_store", "efficiency_dispatch", "standing_loss",
                    "inflow", "active"},
}
_FIXED_ASSET = {"capital_cost", "overnight_cost", "discount_rate", "fom_cost", "build_year",
                "lifetime"}
_EXPANSION_BOUNDS = {"p_nom_min", "p_nom_max", "p_nom_set", "s_nom_min", "s_nom_max",
                     "s_nom_set"}
_COMMITMENT = {"min_up_time", "min_down_time", "up_time_before", "down_time_before",
               "start_up_cost", "shut_down_cost", "ramp_limit_start_up", "ramp_limit_shut_down",
               "maintenance_duration", "maintenance_pu", "maintenance_events"}
# input attributes without effect on a single-period dispatch with fixed capacities
_IRRELEVANT: dict[str, set[str]] = {
    "Bus": {"type", "unit", "location", "v_mag_pu_set", "v_mag_pu_min", "v_mag_pu_max"},
    "Carrier": {"max_growth", "max_relative_growth"},
    "Generator": {"control", "type", "q_set", "weight"} | _FIXED_ASSET | _EXPANSION_BOUNDS
    | _COMMITMENT,
    "Load": {"type", "q_set"},
    "Line": {"g", "b", "terrain_factor", "v_nom"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
    "Transformer": {"g", "b", "tap_side", "tap_position", "model"} | _FIXED_ASSET
    | _EXPANSION_BOUNDS,
    "Link": {"type", "terrain_factor", "p_init", "cyclic_delay"} | _FIXED_ASSET
    | _EXPANSION_BOUNDS | _COMMITMENT,
    "StorageUnit": {"control", "type", "q_set", "state_of_charge_initial_per_period",
                    "cyclic_state_of_charge_per_period"} | _FIXED_ASSET | _EXPANSION_BOUNDS,
}
# attributes whose use gridopt refuses, with the feature they belong to
_REFUSED: dict[str, dict[str, str]] = {
    "Generator": {"p_nom_extendable": "capacity expansion", "committable": "unit commitment",
                  "maintainable": "maintenance scheduling",
                  "p_nom_mod": "modular (integer) capacity",
                  "marginal_cost_quadratic": "quadratic costs",
                  "p_set": "fixed dispatch set points",
                  "e_sum_min": "energy limits over the horizon",
                  "e_sum_max": "energy limits over the horizon",
                  "sign": "generators that consume", "stand_by_cost": "stand-by costs"},
    "Load": {"sign": "loads that produce"},
    "Line": {"s_nom_extendable": "transmission expansion", "s_nom_mod": "modular capacity",
             "v_ang_min": "angle-difference limits", "v_ang_max": "angle-difference limits"},
    "Transformer": {"s_nom_extendable": "transmission expansion",
                    "s_nom_mod": "modular capacity",
                    "tap_ratio": "off-nominal tap ratios",
                    "phase_shift": "phase-shifting transformers",
                    "phase_shift_min": "phase-shifting transformers",
                    "phase_shift_max": "phase-shifting transformers",
                    "v_ang_min": "angle-difference limits", "v_ang_max": "angle-difference limits"},
    "Link": {"p_nom_extendable": "capacity expansion", "committable": "unit commitment",
             "maintainable": "maintenance scheduling", "p_nom_mod": "modular capacity",
             "p_set": "fixed dispatch set points",
             "marginal_cost_quadratic": "quadratic costs", "stand_by_cost": "stand-by costs",
             "ramp_limit_up": "ramp limits on links", "ramp_limit_down": "ramp limits on links",
             "delay": "delayed delivery"},
    "StorageUnit": {"p_nom_extendable": "capacity expansion", "p_nom_mod": "modular capacity",
                    "p_set": "fixed dispatch set points",
                    "p_dispatch_set": "fixed dispatch set points",
                    "p_store_set": "fixed dispatch set points", "sign": "reversed sign",
                    "spill_cost": "spill costs", "marginal_cost_quadratic": "quadratic costs",
                    "marginal_cost_storage": "costs of holding energy"},
}
_SUPPORTED = set(_MAPPED) | {"LineType", "TransformerType", "SubNetwork", "Shape"}
_REFUSED_COMPONENTS = {
    "Store": "Stores are not supported yet (gridopt's storage is a StorageUnit with power and"
             " energy rated together; a Store with its charging links is not an exact match)",
    "GlobalConstraint": "global constraints (emission limits, primary-energy or transmission"
                        " caps) are not supported yet",
    "Process": "processes (multi-carrier conversion) are not supported",
}
_MULTIPORT = re.compile(r"^(bus|efficiency|delay|cyclic_delay)([2-9]|[1-9]\d+)$")


@dataclass
class _Import:
    """State shared by the component mappers: the network, problems and warnings."""

    n: pypsa.Network
    source: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    active: dict[str, pd.Index] = field(default_factory=dict)
    hours: float = 1.0  # snapshot length

    def refuse(self, rule: str) -> None:
        self.problems.append(Problem(self.source, rule))

    def dense(self, component: str, attr: str, names: pd.Index) -> pd.DataFrame:
        """(snapshot x component) values, static values broadcast over the snapshots."""
        return self.n.get_switchable_as_dense(component, attr, inds=names)

    def static(self, component: str, attr: str, names: pd.Index, what: str = "") -> pd.Series:
        """One value per component; a value that varies over the snapshots is refused."""
        values = self.dense(component, attr, names)
        spread = (values.max() - values.min()).abs()
        varies = spread > _RTOL * values.abs().max().clip(lower=1.0)
        if varies.any():
            self.refuse(f"{component} {names_preview(names[varies.to_numpy()])}: time-varying"
                        f" {attr} is not supported{what}")
        return values.iloc[0] if len(values) else pd.Series(dtype=float, index=names)


def read_pypsa(src: Path | str) -> pypsa.Network:
    """Read a PyPSA netCDF file (`.nc`) or CSV folder."""
    src = Path(src)
    if not src.exists():
        raise InputError([Problem(str(src), "no such file or folder")])
    try:
        with _quiet():
            if src.is_dir():
                n = pypsa.Network()
                n.import_from_csv_folder(src)
            else:
                n = pypsa.Network(src)
    except Exception as exc:  # any reader failure is a bad input file
        raise InputError([Problem(str(src), f"cannot be read as a PyPSA network ({exc})")]
                         ) from None
    return n


def import_pypsa(src: Path | str, out_dir: Path | str, overwrite: bool = False) -> list[str]:
    """Read a PyPSA network (netCDF file or CSV folder), write a gridopt case folder.

    Returns the warnings (each names the components concerned); raises `InputError` naming
    every component and attribute that gridopt cannot represent.
    """
    n = read_pypsa(src)
    imported = from_pypsa(n, source=str(src), name=Path(src).stem)
    write_case(imported, out_dir, overwrite=overwrite)
    return imported.warnings


def from_pypsa(n: pypsa.Network, source: str = "PyPSA network", name: str = "imported"
               ) -> ImportedCase:
    """Map a PyPSA network to gridopt tables, series and case settings (see module docstring)."""
    with _quiet():
        n = n.copy()
        n.calculate_dependent_values()
        ctx = _Import(n, source)
        _check_structure(ctx)
        resolution_h, start = _snapshots(ctx)
        ctx.hours = float(resolution_h)
        for component in _MAPPED:
            _check_attributes(ctx, component)
        tables: dict[str, pd.DataFrame] = {}
        tables["buses"] = _import_buses(ctx)
        tables["carriers"] = _import_carriers(ctx)
        tables["loads"], load_mw = _import_loads(ctx)
        tables["generators"], avail = _import_generators(ctx, resolution_h)
        tables["storage_units"], tables["hydro"], inflow = _import_storage(ctx)
        tables["lines"] = _import_passive(ctx)
        tables["links"] = _import_links(ctx)
    if ctx.problems:
        raise InputError(ctx.problems)
    shedding = _detect_load_shedding(ctx, tables, avail, load_mw)
    _complete_carriers(tables)
    series = {key: hourly_series(df, start, resolution_h)
              for key, df in (("load_mw", load_mw), ("availability_pu", avail),
                              ("inflow_m3s", inflow)) if df.shape[1]}
    case = {
        "name": n.name or name,
        "description": f"imported from the PyPSA network {Path(source).name}",
        "network": ".",
        "horizon": {"start": start.strftime("%Y-%m-%d %H:%M"), "snapshots": len(n.snapshots),
                    "resolution_h": resolution_h},
        "model": "dispatch",
        "load_shedding": shedding,
    }
    return ImportedCase(tables=tables, series=series, case=case, warnings=ctx.notes)


def _check_structure(ctx: _Import) -> None:
    n = ctx.n
    if isinstance(n.snapshots, pd.MultiIndex):
        ctx.refuse("networks with investment periods (multi-period snapshots) are not supported")
    if getattr(n, "has_scenarios", False):
        ctx.refuse("stochastic networks (scenarios) are not supported")
    if ctx.problems:  # the tables cannot even be read one value per component
        raise InputError(ctx.problems)
    for c in n.components:
        if c.static.empty:
            continue
        if c.name in _REFUSED_COMPONENTS:
            detail = ""
            if c.name == "GlobalConstraint":
                detail = " (" + "; ".join(f"'{i}': {r['type']} on {r['carrier_attribute']}"
                                          f" {r['sense']} {r['constant']:g}"
                                          for i, r in c.static.iterrows()) + ")"
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}:"
                       f" {_REFUSED_COMPONENTS[c.name]}{detail}")
        elif c.name == "ShuntImpedance":
            ctx.notes.append(f"ShuntImpedance {names_preview(c.static.index)}: ignored (no"
                             " effect on a linear power flow dispatch)")
        elif c.name not in _SUPPORTED:
            ctx.refuse(f"{c.name} {names_preview(c.static.index)}: this component is not"
                       " supported")


def _snapshots(ctx: _Import) -> tuple[int, pd.Timestamp]:
    """Hours per snapshot (from the weightings) and the first timestamp of the case."""
    n = ctx.n
    weights = n.snapshot_weightings
    first = float(weights.iloc[0, 0])
    if not np.allclose(weights.to_numpy(), first, rtol=0, atol=1e-9):
        ctx.refuse("snapshot weightings must be equal for all snapshots and for objective,"
                   " stores and generators (gridopt snapshots all have the same length);"
                   f" found {sorted(set(np.round(weights.to_numpy().ravel(), 6)))[:6]}")
        raise InputError(ctx.problems)
    resolution = round(first)
    if abs(first - resolution) > 1e-9 or not 1 <= resolution <= 168:
        ctx.refuse(f"snapshot weighting {first:g} h is not a whole number of hours between 1"
                   " and 168")
        raise InputError(ctx.problems)
    sns = n.snapshots
    if isinstance(sns, pd.DatetimeIndex):
        if sns.tz is not None:
            ctx.notes.append(f"snapshots are in time zone {sns.tz}; written as local times"
                             " without the zone")
            sns = sns.tz_localize(None)
        steps = np.diff(sns.to_numpy()).astype("timedelta64[s]").astype(float) / 3600.0
        if np.allclose(steps, resolution) and sns[0] == sns[0].floor("h"):
            return resolution, sns[0]
        ctx.notes.append(f"snapshots are not spaced {resolution} h apart on whole hours as"
                         f" their weighting says; the case numbers them as consecutive"
                         f" {resolution} h steps from {sns[0].floor('h')}")
        return resolution, sns[0].floor("h")
    ctx.notes.append(f"snapshots are not dates and times; the case numbers them as consecutive"
                     f" {resolution} h steps from {DEFAULT_START:%Y-%m-%d %H:%M}")
    return resolution, DEFAULT_START


def _differs(values: pd.Series, default: object) -> pd.Series:
    """True where a value is set away from PyPSA's default."""
    if isinstance(default, bool | np.bool_):
        return values.fillna(default).astype(bool) != bool(default)
    if isinstance(default, int | float | np.number):
        num = pd.to_numeric(values, errors="coerce").astype(float)
        d = float(default)
        if np.isnan(d):
            return num.notna()
        return ~np.isclose(num.fillna(d), d, rtol=0, atol=1e-12)
    text = values.fillna("").astype(str)
    return (text != str(default if default is not None else "")) & (text != "")


def _check_attributes(ctx: _Import, component: str) -> None:
    """Refuse unsupported attributes; warn about set attributes that are not used."""
    c = ctx.n.components[component]
    static = c.static
    if static.empty:
        ctx.active[component] = pd.Index([])
        return
    dyn_active = c.dynamic.get("active")
    if dyn_active is not None and not dyn_active.empty:
        ctx.refuse(f"{component}: time-varying 'active' is not supported")
    active = static["active"].astype(bool) if "active" in static else pd.Series(True,
                                                                                 static.index)
    off = static.index[~active.to_numpy()]
    if len(off):
        ctx.notes.append(f"{component} {names_preview(off)}: inactive, left out")
    names = static.index[active.to_numpy()]
    ctx.active[component] = names
    static = static.loc[names]
    defaults = c.defaults
    inputs = defaults.index[defaults["status"].astype(str).str.startswith("Input")]
    refused = _REFUSED.get(component, {})
    known = _MAPPED[component] | _IRRELEVANT.get(component, set())
    for attr in static.columns:
        if attr.startswith(HINT):
            continue
        if _MULTIPORT.match(attr):
            if attr.startswith("bus"):
                used = static[attr].fillna("").astype(str) != ""
                if used.any():
                    ctx.refuse(f"{component} {names_preview(names[used.to_numpy()])}: {attr}"
                               " is set, but links with more than two buses are not supported")
            continue
        if attr not in defaults.index and attr not in known:
            set_ = static[attr].notna() & (static[attr].astype(str) != "")
            if set_.any():
                ctx.notes.append(f"{component} {names_preview(names[set_.to_numpy()])}: extra"
                                 f" column '{attr}' is not a PyPSA attribute; ignored")
            continue
        if attr not in inputs or (attr in known and attr not in refused):
            continue
        differs = _differs(static[attr], defaults.at[attr, "default"])
        if not differs.any():
            continue
        hit = names[np.asarray(differs, dtype=bool)]
        value = static.loc[hit[0], attr]
        value = value.item() if isinstance(value, np.generic) else value
        if attr in refused:
            ctx.refuse(f"{component} {names_preview(hit)}: {attr}={value!r} is not supported"
                       f" yet ({refused[attr]})")
        else:
            ctx.notes.append(f"{component} {names_preview(hit)}: {attr}={value!r} is not used"
                             " by gridopt; ignored")
    for attr, df in c.dynamic.items():
        if df.empty or attr not in inputs or (attr in known and attr not in refused):
            continue
        cols = df.columns.intersection(names)
        if not len(cols) or df[cols].isna().all().all():
            continue
        hit = pd.Index(cols)
        if attr in refused:
            ctx.refuse(f"{component} {names_preview(hit)}: time-varying {attr} is not supported"
                       f" yet ({refused[attr]})")
        else:
            ctx.notes.append(f"{component} {names_preview(hit)}: time-varying {attr} is not"
                             " used by gridopt; ignored")
    for attr, df in getattr(c, "piecewise", {}).items():
        if df is not None and not df.empty:
            ctx.refuse(f"{component}: piecewise {attr} is not supported")


def _hint(static: pd.DataFrame, column: str) -> pd.Series:
    key = f"{HINT}{column}"
    if key in static:
        return static[key]
    return pd.Series(np.nan, index=static.index, dtype=object)


def _import_buses(ctx: _Import) -> pd.DataFrame:
    names = ctx.active["Bus"]
    b = ctx.n.buses.loc[names]
    carrier = b["carrier"].replace("", "AC").fillna("AC")
    bad = ~carrier.isin(["AC", "DC"])
    if bad.any():
        for car, group in carrier[bad].groupby(carrier[bad]):
            ctx.refuse(f"Bus {names_preview(group.index)}: carrier '{car}' is not supported"
                       " (gridopt networks are electrical: AC or DC buses)")
    if (b["v_nom"] <= 0).any():
        ctx.refuse(f"Bus {names_preview(names[(b['v_nom'] <= 0).to_numpy()])}: v_nom must be"
                   " positive")
    region = _hint(b, "region")
    if region.isna().any() and "country" in b:
        region = region.fillna(b["country"].replace("", np.nan))
    if region.isna().any():
        ctx.notes.append(f"Bus {names_preview(names[region.isna().to_numpy()])}: no region"
                         " (gridopt_region or country column); set to 'all'")
        region = region.fillna("all")
    x, y = b["x"].astype(float), b["y"].astype(float)
    unknown = (x == 0) & (y == 0)
    outside = (x.abs() > 180) | (y.abs() > 90)
    if outside.any():
        ctx.notes.append(f"Bus {names_preview(names[outside.to_numpy()])}: x, y are not"
                         " longitude and latitude; left blank")
    keep = ~(unknown | outside)
    return pd.DataFrame({"region": region.astype(str), "carrier": carrier,
                         "v_nom_kv": b["v_nom"].astype(float),
                         "x_lon": x.where(keep), "y_lat": y.where(keep)}, index=names)


def _import_carriers(ctx: _Import) -> pd.DataFrame:
    car = ctx.n.carriers
    car = car.loc[ctx.active.get("Carrier", car.index)] if len(car) else car
    cols = TABLES["carriers"].column_names[1:]
    if car.empty:
        return pd.DataFrame(columns=cols)
    co2 = car["co2_emissions"].astype(float)
    fossil = _hint(car, "fossil")
    renewable = _hint(car, "renewable")
    return pd.DataFrame({
        "renewable": renewable.where(renewable.notna(), False).astype(bool),
        "fossil": fossil.where(fossil.notna(), co2 > 0).astype(bool),
        "color": car["color"].replace("", np.nan).fillna("#999999"),
        "nice_name": car["nice_name"].replace("", np.nan),
    }, index=car.index)


def _import_loads(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Load"]
    loads = ctx.n.loads.loc[names]
    table = pd.DataFrame({"bus": loads["bus"], "scale": 1.0}, index=names)
    return table, ctx.dense("Load", "p_set", names)


def _import_generators(ctx: _Import, hours: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ctx.active["Generator"]
    g = ctx.n.generators.loc[names]
    p_nom = g["p_nom"].astype(float)
    p_max_pu = ctx.dense("Generator", "p_max_pu", names)
    p_min_pu = ctx.dense("Generator", "p_min_pu", names)
    if (p_max_pu < 0).any().any() or (p_min_pu < 0).any().any():
        bad = names[((p_max_pu < 0).any() | (p_min_pu < 0).any()).to_numpy()]
        ctx.refuse(f"Generator {names_preview(bad)}: negative p_min_pu or p_max_pu (a generator"
                   " that consumes) is not supported")
    # gridopt's floor is min(p_min_mw, p_max_mw * availability): a constant floor, lowered
    # where the availability is lower
    floor_pu = p_min_pu.max()
    expected = np.minimum(floor_pu.to_numpy()[None, :], p_max_pu.to_numpy())
    mismatch = ~np.isclose(p_min_pu.to_numpy(), expected, rtol=1e-9, atol=1e-12).all(axis=0)
    infeasible = (p_min_pu.to_numpy() > p_max_pu.to_numpy() + 1e-12).any(axis=0)
    if mismatch.any():
        ctx.refuse(f"Generator {names_preview(names[mismatch])}: a time-varying p_min_pu is"
                   " supported only where it equals min(a constant, p_max_pu)")
    if infeasible.any():
        ctx.notes.append(f"Generator {names_preview(names[infeasible])}: p_min_pu exceeds"
                         " p_max_pu in some snapshots (PyPSA would find no solution); gridopt"
                         " lowers the floor to the availability there")
    cost = ctx.static("Generator", "marginal_cost", names)
    efficiency = ctx.dense("Generator", "efficiency", names).mean()
    ramps = {}
    for attr, column in (("ramp_limit_up", "ramp_up_mw_per_h"),
                         ("ramp_limit_down", "ramp_down_mw_per_h")):
        limit = ctx.static("Generator", attr, names)
        ramps[column] = limit * p_nom / hours
    # the ramp into the first snapshot starts from p_init (blank: not limited), as in gridopt
    p_init = (pd.to_numeric(g["p_init"], errors="coerce").astype(float) if "p_init" in g
              else pd.Series(np.nan, index=names))
    carrier = g["carrier"].replace("", np.nan).fillna("unspecified")
    co2 = _hint(g, "co2_t_per_mwh").astype(float)
    if co2.isna().any() and len(ctx.n.carriers):
        factor = carrier.map(ctx.n.carriers["co2_emissions"]).astype(float).fillna(0.0)
        co2 = co2.fillna(factor / efficiency.where(efficiency > 0, 1.0))
    variable = ~np.isclose(p_max_pu.to_numpy(), 1.0, rtol=0, atol=1e-12).all(axis=0)
    table = pd.DataFrame({
        "bus": g["bus"], "carrier": carrier, "p_max_mw": p_nom,
        "p_min_mw": floor_pu * p_nom, "marginal_cost_cny_per_mwh": cost,
        "ramp_up_mw_per_h": ramps["ramp_up_mw_per_h"],
        "ramp_down_mw_per_h": ramps["ramp_down_mw_per_h"],
        "p_initial_mw": p_init,
        "co2_t_per_mwh": co2.fillna(0.0),
        "availability_profile": pd.Series(np.where(variable, names, None), index=names,
                                          dtype=object),
        # output per fuel burnt; PyPSA's default 1 means none given
        "efficiency": efficiency.where((efficiency > 0) & (efficiency < 1)),
    }, index=names)
    return table, p_max_pu.loc[:, variable]


def _import_storage(ctx: _Import) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """StorageUnits that can charge -> storage_units; those that cannot -> hydro stations."""
    names = ctx.active["StorageUnit"]
    s = ctx.n.storage_units.loc[names]
    p_nom = s["p_nom"].astype(float)
    p_min_pu = ctx.static("StorageUnit", "p_min_pu", names)
    p_max_pu = ctx.static("StorageUnit", "p_max_pu", names)
    eff_store = ctx.static("StorageUnit", "efficiency_store", names)
    eff_dispatch = ctx.static("StorageUnit", "efficiency_dispatch", names)
    loss = ctx.static("StorageUnit", "standing_loss", names)
    cost = ctx.static("StorageUnit", "marginal_cost", names)
    inflow = ctx.dense("StorageUnit", "inflow", names)
    soc_set = ctx.dense("StorageUnit", "state_of_charge_set", names)
    energy = s["max_hours"].astype(float) * p_nom
    carrier = s["carrier"].replace("", np.nan)
    hint_hydro = _hint(s, "mw_per_m3s").notna()
    is_hydro = (p_min_pu >= 0) | hint_hydro
    sto, hy = names[~is_hydro.to_numpy()], names[is_hydro.to_numpy()]

    charge = s.loc[sto]
    bad = ~np.isclose(p_min_pu[sto], -p_max_pu[sto]) | (p_max_pu[sto] <= 0)
    if bad.any():
        ctx.refuse(f"StorageUnit {names_preview(sto[bad.to_numpy()])}: charging and discharging"
                   " limits must be equal (p_min_pu = -p_max_pu)")
    if (inflow[sto].abs() > 0).any().any():
        ctx.refuse(f"StorageUnit {names_preview(sto[(inflow[sto].abs() > 0).any().to_numpy()])}"
                   ": natural inflow into a unit that also charges from the grid (pumped"
                   " storage with inflow) is not supported")
    if soc_set[sto].notna().any().any():
        ctx.refuse(f"StorageUnit {names_preview(sto[soc_set[sto].notna().any().to_numpy()])}:"
                   " state_of_charge_set is not supported for storage units")
    cyclic = charge["cyclic_state_of_charge"].astype(bool)
    storage = pd.DataFrame({
        "bus": charge["bus"], "carrier": carrier[sto].fillna("storage"),
        "p_max_mw": p_nom[sto] * p_max_pu[sto], "energy_max_mwh": energy[sto],
        "efficiency_charge": eff_store[sto], "efficiency_discharge": eff_dispatch[sto],
        "standing_loss_per_h": loss[sto],
        # PyPSA starts from its initial level as it is; gridopt applies the standing loss of
        # the first snapshot to the level before it
        "soc_initial_mwh": (charge["state_of_charge_initial"].astype(float)
                            / (1.0 - loss[sto]) ** ctx.hours).where(~cyclic),
        "marginal_cost_cny_per_mwh": cost[sto],
    }, index=sto)

    hydro, inflow_m3s = _import_hydro(ctx, s.loc[hy], p_nom[hy], p_min_pu[hy], p_max_pu[hy],
                                      eff_dispatch[hy], loss[hy], cost[hy], inflow[hy],
                                      soc_set[hy], carrier[hy])
    return storage, hydro, inflow_m3s


def _import_hydro(ctx: _Import, s: pd.DataFrame, p_nom: pd.Series, p_min_pu: pd.Series,
                  p_max_pu: pd.Series, eff_dispatch: pd.Series, loss: pd.Series,
                  cost: pd.Series, inflow_mw: pd.DataFrame, soc_set: pd.DataFrame,
                  carrier: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units that cannot charge: reservoirs. Water is counted so that power = mw_per_m3s * q.

    With k = mw_per_m3s (the `gridopt_mw_per_m3s` column, else efficiency_dispatch), one MWh of
    state of charge is 0.0036 * efficiency_dispatch / k hm3 and one MW of inflow is
    efficiency_dispatch / k m3/s.
    """
    names = s.index
    if names.empty:
        return pd.DataFrame(columns=TABLES["hydro"].column_names[1:]), pd.DataFrame(
            index=ctx.n.snapshots)
    if (p_min_pu > 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(p_min_pu > 0).to_numpy()])}: a minimum"
                   " dispatch (p_min_pu > 0) is not supported")
    if (loss > 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(loss > 0).to_numpy()])}: standing_loss"
                   " on a unit that cannot charge (a reservoir) is not supported")
    if (eff_dispatch <= 0).any():
        ctx.refuse(f"StorageUnit {names_preview(names[(eff_dispatch <= 0).to_numpy()])}:"
                   " efficiency_dispatch must be positive")
    k = _hint(s, "mw_per_m3s").astype(float)
    k = k.where(k > 0, eff_dispatch)
    hm3_per_mwh = HM3_PER_M3S_H * eff_dispatch / k
    v_min = _hint(s, "storage_min_hm3").astype(float).fillna(0.0)
    v_max = s["max_hours"].astype(float) * p_nom * hm3_per_mwh + v_min
    soc0 = s["state_of_charge_initial"].astype(float)
    cyclic = s["cyclic_state_of_charge"].astype(bool)
    # end rule: a set point at the last snapshot equal to the start is gridopt's "fixed"
    set_points = soc_set.notna()
    last_only = ~set_points.iloc[:-1].any() & set_points.iloc[-1]
    ends_at_start = np.isclose(soc_set.iloc[-1].fillna(-1.0), soc0, rtol=1e-9, atol=1e-6)
    fixed = last_only & ends_at_start & ~cyclic
    bad = set_points.any() & ~fixed
    if bad.any():
        ctx.refuse(f"StorageUnit {names_preview(names[bad.to_numpy()])}: state_of_charge_set is"
                   " supported only at the last snapshot and equal to state_of_charge_initial"
                   " (a reservoir that ends where it starts)")
    rule = pd.Series(np.where(cyclic, "cyclic", np.where(fixed, "fixed", "free")), index=names)
    initial = soc0 * hm3_per_mwh + v_min
    given = _hint(s, "storage_initial_hm3").astype(float)
    half = 0.5 * (v_min + v_max)
    from_hint = f"{HINT}storage_initial_hm3" in s
    initial = initial.where(~(from_hint & given.isna() & np.isclose(initial, half)))
    initial = initial.where(~cyclic, given)
    withdrawal = _hint(s, "withdrawal_m3s").astype(float).fillna(0.0)
    inflow_m3s = inflow_mw * (eff_dispatch / k).to_numpy()[None, :] + withdrawal.to_numpy()
    flows = (inflow_m3s != 0).any().to_numpy()
    table = pd.DataFrame({
        "bus": s["bus"], "carrier": carrier.fillna("hydro"), "river": _hint(s, "river"),
        "p_max_mw": p_nom * p_max_pu, "mw_per_m3s": k, "storage_max_hm3": v_max,
        "storage_min_hm3": v_min, "storage_initial_hm3": initial, "end_rule": rule,
        "q_env_min_m3s": _hint(s, "q_env_min_m3s").astype(float).fillna(0.0),
        "withdrawal_m3s": withdrawal,
        "inflow_profile": pd.Series(np.where(flows, names, None), index=names, dtype=object),
        "downstream": _hint(s, "downstream"),
        "travel_time_h": _hint(s, "travel_time_h").astype(float).fillna(0.0),
        "release_initial_m3s": _hint(s, "release_initial_m3s").astype(float),
        "marginal_cost_cny_per_mwh": cost,
    }, index=names)
    behaviour = table["downstream"].notna() | (table["q_env_min_m3s"] > 0)
    if behaviour.any():
        ctx.notes.append(f"StorageUnit {names_preview(names[behaviour.to_numpy()])}: river"
                         " routing or minimum releases restored from the gridopt_* columns;"
                         " PyPSA did not model them, so gridopt's optimum can differ")
    return table, inflow_m3s.loc[:, flows]


def _import_passive(ctx: _Import) -> pd.DataFrame:
    """Lines and simple transformers -> lines with x_ohm = x_pu_eff * v_nom(bus0)^2."""
    n = ctx.n
    v_nom = n.buses["v_nom"].astype(float)
    bus_carrier = n.buses["carrier"].replace("", "AC")
    parts = []
    for component, table in (("Line", n.lines), ("Transformer", n.transformers)):
        names = ctx.active[component]
        if names.empty:
            continue
        br = table.loc[names]
        dc = (bus_carrier.reindex(br["bus0"]).to_numpy() == "DC")
        x_pu = np.where(dc, br["r_pu_eff"].astype(float), br["x_pu_eff"].astype(float))
        bad = ~(x_pu > 0)
        if bad.any():
            ctx.refuse(f"{component} {names_preview(names[bad])}: the series reactance"
                       " (resistance on DC buses) must be positive")
        s_max_pu = ctx.static(component, "s_max_pu", names)
        carrier = (br["carrier"].replace("", np.nan) if "carrier" in br
                   else pd.Series(np.nan, index=names)).fillna("AC")
        length = (_length_km(br) if "length" in br else pd.Series(np.nan, index=names))
        parts.append(pd.DataFrame({
            "bus0": br["bus0"], "bus1": br["bus1"],
            "x_ohm": x_pu * v_nom.reindex(br["bus0"]).to_numpy() ** 2,
            "s_max_mw": br["s_nom"].astype(float) * s_max_pu, "carrier": carrier,
            "length_km": length,
        }, index=names))
    if not parts:
        return pd.DataFrame(columns=TABLES["lines"].column_names[1:])
    if len(parts) == 2:
        clash = parts[0].index.intersection(parts[1].index)
        if len(clash):
            ctx.notes.append(f"Transformer {names_preview(clash)}: a line has the same name;"
                             " the transformer is named 'transformer <name>'")
            parts[1] = parts[1].rename(index={c: f"transformer {c}" for c in clash})
    return pd.concat(parts)


def _length_km(branches: pd.DataFrame) -> pd.Series:
    """Route length: the gridopt_length_km column where present, else PyPSA's length (0 is
    PyPSA's default and means unknown)."""
    length = branches["length"].astype(float)
    length = length.where(length > 0)
    if f"{HINT}length_km" in branches:
        return branches[f"{HINT}length_km"].astype(float)
    return length


def _import_links(ctx: _Import) -> pd.DataFrame:
    names = ctx.active["Link"]
    if names.empty:
        return pd.DataFrame(columns=TABLES["links"].column_names[1:])
    k = ctx.n.links.loc[names]
    p_max_pu = ctx.static("Link", "p_max_pu", names)
    p_min_pu = ctx.static("Link", "p_min_pu", names)
    efficiency = ctx.static("Link", "efficiency", names)
    cost = ctx.static("Link", "marginal_cost", names)
    p_nom = k["p_nom"].astype(float)
    scaled_min = p_min_pu / p_max_pu.where(p_max_pu > 0)
    bad = (p_max_pu <= 0) & ~((p_max_pu == 0) & (p_min_pu == 0))
    bad |= (scaled_min < -1 - 1e-12) | (scaled_min > 1 + 1e-12)
    if bad.any():
        ctx.refuse(f"Link {names_preview(names[bad.to_numpy()])}: p_min_pu / p_max_pu must lie"
                   " in [-1, 1] with p_max_pu > 0 (gridopt links carry p_min_pu * p_max_mw ..."
                   " p_max_mw)")
    if ((efficiency > 1) | (efficiency <= 0)).any():
        ctx.refuse(f"Link {names_preview(names[((efficiency > 1) | (efficiency <= 0)).to_numpy()])}"
                   ": efficiency must lie in (0, 1]")
    length = _length_km(k)
    links = pd.DataFrame({
        "bus0": k["bus0"], "bus1": k["bus1"],
        "carrier": k["carrier"].replace("", np.nan).fillna("DC"),
        "p_max_mw": p_nom * p_max_pu, "p_min_pu": scaled_min.fillna(0.0).clip(-1, 1),
        "efficiency": efficiency, "marginal_cost_cny_per_mwh": cost,
        "length_km": length,
    }, index=names)
    # PyPSA runs a lossy link backwards at a gain (bus1 gives efficiency * |p|, bus0 gets |p|);
    # gridopt takes a lossy two-way transfer as two one-way links, each losing energy
    lossy = (links["p_min_pu"] < 0) & (links["efficiency"] < 1)
    if lossy.any():
        back = links[lossy].rename(index=lambda name: f"{name} reverse")
        taken = back.index.intersection(links.index)
        if len(taken):
            ctx.refuse(f"Link {names_preview(taken)}: name needed for the reverse direction of"
                       " a lossy reversible link")
        back = back.assign(bus0=links.loc[lossy, "bus1"].to_numpy(),
                           bus1=links.loc[lossy, "bus0"].to_numpy(),
                           p_max_mw=-links.loc[lossy, "p_min_pu"].to_numpy()
                           * links.loc[lossy, "p_max_mw"].to_numpy(), p_min_pu=0.0)
        links.loc[lossy, "p_min_pu"] = 0.0
        links = pd.concat([links, back])
        ctx.notes.append(f"Link {names_preview(names[lossy.to_numpy()])}: reversible with"
                         " losses, which PyPSA runs backwards at a gain; imported as two one-way"
                         " links ('<name>' and '<name> reverse') that both lose energy, so the"
                         " optimum can differ")
    return links


def _detect_load_shedding(ctx: _Import, tables: dict[str, pd.DataFrame], avail: pd.DataFrame,
                          load_mw: pd.DataFrame) -> dict[str, object]:
    """Generators of carrier "load shedding" that can shed exactly each bus's demand at one
    price become the case's load shedding; otherwise they stay ordinary generators."""
    gens = tables["generators"]
    shed = gens.index[gens["carrier"] == LOAD_SHEDDING]
    off = {"enabled": False}
    if shed.empty:
        return off
    g = gens.loc[shed]
    cost = g["marginal_cost_cny_per_mwh"]
    if g["bus"].duplicated().any() or cost.nunique() != 1 or cost.iloc[0] <= 0 or \
            (g["p_min_mw"] > 0).any() or g[["ramp_up_mw_per_h", "ramp_down_mw_per_h"]
                                           ].notna().any().any():
        return off
    loads = tables["loads"]
    demand = load_mw.T.groupby(loads["bus"]).sum().T.clip(lower=0)
    demand = demand.reindex(columns=tables["buses"].index, fill_value=0.0)
    pu = avail.reindex(columns=shed).fillna(1.0)
    capacity = pu * g["p_max_mw"].to_numpy()[None, :]
    capacity.columns = g["bus"].to_numpy()
    full = capacity.reindex(columns=demand.columns, fill_value=0.0)
    if not np.allclose(full.to_numpy(), demand.to_numpy(), rtol=1e-9, atol=1e-6):
        return off
    tables["generators"] = gens.drop(index=shed)
    for name in avail.columns.intersection(shed):
        del avail[name]
    if LOAD_SHEDDING in tables["carriers"].index and \
            not (tables["generators"]["carrier"] == LOAD_SHEDDING).any():
        tables["carriers"] = tables["carriers"].drop(index=LOAD_SHEDDING)
    ctx.notes.append(f"{len(shed)} generators of carrier '{LOAD_SHEDDING}' that can shed each"
                     " bus's demand became the case's load shedding at"
                     f" {cost.iloc[0]:g} per MWh")
    return {"enabled": True, "voll_cny_per_mwh": float(cost.iloc[0])}


def _complete_carriers(tables: dict[str, pd.DataFrame]) -> None:
    """When carriers are declared, every carrier a component names must be declared too."""
    car = tables["carriers"]
    if car.empty:
        return
    used = pd.Index(pd.concat([tables[t]["carrier"] for t in ("generators", "storage_units",
                                                               "hydro")]).dropna().unique())
    missing = used.difference(car.index)
    if len(missing):
        extra = pd.DataFrame({"renewable": False, "fossil": False, "color": "#999999",
                              "nice_name": np.nan}, index=missing)
        tables["carriers"] = pd.concat([car, extra])
