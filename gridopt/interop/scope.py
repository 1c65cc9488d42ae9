"""A case reduced to what the PyPSA export maps, everything else kept as it is.

PyPSA has no river routing with travel delays, no gas network of gridopt's kind, and no
corridor model (no-load losses, minimum transfers, ramps, delivery shapes, contracts). To
compare the two tools on the PPRD network (tests, benchmark suite) both solve this reduction:

- river routing and minimum releases go. Each station's inflow becomes its own inflow plus
  the arrivals from upstream: either given (e.g. gridopt's optimum of the full case, which
  makes the reduction exact at that optimum) or, by default, the natural inflows of the
  stations upstream routed down the river with their travel delays, as if every upstream
  station passed its inflow through;
- gas-fired generators: their fuel, drawn from the gas network, becomes part of their marginal
  cost at the mean price of the gas supplies, mc += price_gas / efficiency; the gas network goes
  (unless `keep_gas`: the export maps the gas network exactly, `gridopt.interop.pypsa.energy`);
- corridors: each becomes a link with its rating and proportional loss (and a second link for
  a reverse rating); the contracts on them go;
- generators lose their commitment columns (a dispatch export maps no commitment), unless
  they are kept for a uc case, whose export commits them;
- a withdrawal that follows a profile becomes its base rate (`withdrawal_m3s`) and the rest is
  taken off the station's inflow: the same water, in the columns PyPSA's inflow maps.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from gridopt.inputs.data import CaseData
from gridopt.inputs.schema import TABLES
from gridopt.interop.pypsa.exporter import ELECTRIC_TABLES
from gridopt.model.core import LinearModel
from gridopt.model.hydro import arrivals_m3s, withdrawal_m3s

COMMITMENT_COLUMNS = (
    "committable",
    "units",
    "p_min_stable_pu",
    "min_up_h",
    "min_down_h",
    "start_cost_cny",
    "startup_ramp_pu",
    "shutdown_ramp_pu",
    "units_on_initial",
    "hours_in_state_initial",
)


def natural_arrivals_m3s(data: CaseData) -> np.ndarray:
    """Arrivals (stations x snapshots, m3/s) if every station released its own inflow plus
    what arrives from upstream: release_h = inflow_h + arrivals_h, routed as in the water
    balance. One pass per level of the deepest cascade settles it."""
    hydro = data.tables["hydro"]
    model = LinearModel(data)
    inflow = data.inflow_m3s[hydro.index].to_numpy().T
    arrivals = np.zeros_like(inflow)
    for _ in range(len(hydro)):
        new = arrivals_m3s(model, inflow + arrivals)
        if np.array_equal(new, arrivals):
            break
        arrivals = new
    return arrivals


def to_export_scope(
    data: CaseData,
    arrivals: np.ndarray | None = None,
    keep_routing: bool = False,
    keep_commitment: bool = False,
    keep_gas: bool = False,
) -> CaseData:
    """A copy of `data` that `to_pypsa` exports (see the module docstring).

    `arrivals` (stations x snapshots, m3/s) replace the routing; None: `natural_arrivals_m3s`.
    `keep_routing` keeps the cascade instead (the export then warns that PyPSA drops it and
    writes it down for the import to restore). `keep_commitment` keeps the generators'
    commitment columns (for a uc case). `keep_gas` keeps the gas network and the gas-fired
    plants on it.
    """
    data = copy.copy(data)
    t = data.tables = {name: df.copy() for name, df in data.tables.items()}
    hydro = t["hydro"]
    if not keep_routing and not hydro.empty and hydro["downstream"].notna().any():
        routed = natural_arrivals_m3s(data) if arrivals is None else arrivals
        data.inflow_m3s = data.inflow_m3s + pd.DataFrame(
            routed.T, index=data.snapshots, columns=hydro.index
        )
        hydro["downstream"] = np.nan
        hydro["q_env_min_m3s"] = 0.0
    if not hydro.empty and hydro["withdrawal_profile"].notna().any():
        varying = withdrawal_m3s(data) - hydro["withdrawal_m3s"].to_numpy()[:, None]
        data.inflow_m3s = data.inflow_m3s - pd.DataFrame(
            varying.T, index=data.snapshots, columns=hydro.index
        )
        hydro["withdrawal_profile"] = np.nan
    gens = t["generators"]
    for column in () if keep_commitment else COMMITMENT_COLUMNS:
        if column in gens:
            spec = TABLES["generators"].column(column)
            gens[column] = np.nan if spec.default is None and spec.kind != "str" else spec.default
    if "gas_node" in gens and not keep_gas:
        fired = gens["gas_node"].notna()
        if fired.any():
            gas_price = t["gas_supplies"]["price_cny_per_mwh_th"].mean()
            gens.loc[fired, "marginal_cost_cny_per_mwh"] += (
                gas_price / gens.loc[fired, "efficiency"]
            )
        gens["gas_node"] = np.nan
    c = t.get("corridors", pd.DataFrame())
    if not c.empty:
        forward = pd.DataFrame(
            {
                "bus0": c["bus0"],
                "bus1": c["bus1"],
                "carrier": c["carrier"],
                "p_max_mw": c["p_max_mw"],
                "p_min_pu": 0.0,
                "efficiency": 1.0 - c["loss_pu"],
                "marginal_cost_cny_per_mwh": c["marginal_cost_cny_per_mwh"],
                "length_km": c["length_km"],
            },
            index=c.index,
        )
        two_way = c["p_max_reverse_mw"] > 0
        reverse = forward[two_way].assign(
            bus0=c.loc[two_way, "bus1"],
            bus1=c.loc[two_way, "bus0"],
            p_max_mw=c.loc[two_way, "p_max_reverse_mw"],
        )
        t["links"] = pd.concat(
            [t["links"], forward, reverse.rename(index=lambda n: f"{n} reverse")]
        )
    gas = ("gas_nodes", "gas_supplies", "pipelines", "gas_storage", "gas_demands")
    for name in set(t) - set(ELECTRIC_TABLES) - set(gas if keep_gas else ()):
        t[name] = t[name].iloc[0:0]
    data.security_zones = []
    return data
