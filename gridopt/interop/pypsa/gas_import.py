"""Gas networks in a PyPSA network, read back into gridopt's gas tables (`gridopt.model.gas`).

Buses of carrier "gas" are gas nodes, in MWth; what sits on them maps as `energy` exports it:

- Generators on a gas bus -> gas supplies (p_nom, p_min_pu floor, p_max_pu profile, price =
  marginal_cost; kind from `gridopt_gas_kind`, else domestic);
- Loads on a gas bus -> non-power gas demand;
- Links between gas buses -> pipelines (efficiency, tariff = marginal_cost; a lossless free
  link with p_min_pu < 0 carries gas back at -p_min_pu x p_nom);
- Links from a gas bus to an electric (AC or DC) bus -> gas-fired generators on that bus:
  p_max_mw = p_nom x efficiency, the must-run floor and availability from p_min_pu / p_max_pu,
  non-fuel cost = marginal_cost / efficiency, ramps and p_init per MW of output;
- a Store on a bus of carrier "gas storage" with one Link in from a gas bus and one out to it
  -> gas storage (volume e_nom, injection and withdrawal ratings, the injection's efficiency).

Anything else on a gas bus (extendable or committable components, links to other carriers,
other stores) is refused by name, so nothing is left out unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridopt.interop import names_preview

GAS = "gas"
GAS_STORAGE = "gas storage"


@dataclass
class GasTables:
    """The gas tables read from a network, their series, and the components they used."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    used: dict[str, pd.Index] = field(default_factory=dict)
    # gas-fired generators (rows of the generators table) and their availability
    plants: pd.DataFrame | None = None
    plant_availability: pd.DataFrame | None = None


def read_gas(ctx) -> GasTables:
    """Map the gas parts of `ctx.n` (an `importer._Import`); `used` lists the components
    they took, by PyPSA component, for the other mappers to leave out."""
    n = ctx.n
    out = GasTables()
    buses = n.buses.loc[ctx.active["Bus"]]
    carrier = buses["carrier"].replace("", "AC").fillna("AC")
    nodes = buses.index[(carrier == GAS).to_numpy()]
    if nodes.empty:
        return out
    stores_bus = buses.index[(carrier == GAS_STORAGE).to_numpy()]
    electric = buses.index[carrier.isin(["AC", "DC"]).to_numpy()]
    region = buses.get("gridopt_region", pd.Series(np.nan, index=buses.index))
    out.tables["gas_nodes"] = pd.DataFrame(
        {
            "region": region.reindex(nodes).fillna("all").astype(str),
            "x_lon": buses.loc[nodes, "x"].astype(float).where(lambda s: s != 0),
            "y_lat": buses.loc[nodes, "y"].astype(float).where(lambda s: s != 0),
        },
        index=nodes,
    )
    out.used["Bus"] = nodes.append(stores_bus)

    gens = n.generators.loc[ctx.active["Generator"]]
    on_gas = gens.index[gens["bus"].isin(nodes).to_numpy()]
    if len(on_gas):
        g = gens.loc[on_gas]
        bad = on_gas[
            (g["p_nom_extendable"].astype(bool) | g["committable"].astype(bool)).to_numpy()
        ]
        if len(bad):
            ctx.refuse(
                f"Generator {names_preview(bad)}: an extendable or committable gas supply"
                " is not supported"
            )
        p_max_pu = ctx.dense("Generator", "p_max_pu", on_gas)
        p_min_pu = ctx.static("Generator", "p_min_pu", on_gas)
        kind = g.get("gridopt_gas_kind", pd.Series(np.nan, index=on_gas)).fillna("domestic")
        varies = ~np.isclose(p_max_pu.to_numpy(), 1.0, rtol=0, atol=1e-12).all(axis=0)
        out.tables["gas_supplies"] = pd.DataFrame(
            {
                "gas_node": g["bus"],
                "kind": kind,
                "p_max_mwth": g["p_nom"].astype(float),
                "p_min_mwth": p_min_pu * g["p_nom"].astype(float),
                "price_cny_per_mwh_th": ctx.static("Generator", "marginal_cost", on_gas),
                "profile": pd.Series(np.where(varies, on_gas, None), index=on_gas, dtype=object),
            },
            index=on_gas,
        )
        if varies.any():
            out.series["gas_supply_pu"] = p_max_pu.loc[:, varies]
        out.used["Generator"] = on_gas

    loads = n.loads.loc[ctx.active["Load"]]
    on_gas = loads.index[loads["bus"].isin(nodes).to_numpy()]
    if len(on_gas):
        out.tables["gas_demands"] = pd.DataFrame(
            {"gas_node": loads.loc[on_gas, "bus"], "scale": 1.0}, index=on_gas
        )
        out.series["gas_demand_mwth"] = ctx.dense("Load", "p_set", on_gas)
        out.used["Load"] = on_gas

    links = n.links.loc[ctx.active["Link"]]
    from_gas = links["bus0"].isin(nodes)
    to_gas = links["bus1"].isin(nodes)
    used_links = []
    pipes = links.index[(from_gas & to_gas).to_numpy()]
    if len(pipes):
        k = links.loc[pipes]
        eff = ctx.static("Link", "efficiency", pipes)
        p_min_pu = ctx.static("Link", "p_min_pu", pipes)
        p_max_pu = ctx.static("Link", "p_max_pu", pipes)
        cost = ctx.static("Link", "marginal_cost", pipes)
        back = p_min_pu < 0
        bad = pipes[
            (
                (back & ((eff < 1) | (cost != 0)))
                | (cost < 0)
                | (p_min_pu > 0)
                | k["p_nom_extendable"].astype(bool)
            ).to_numpy()
        ]
        if len(bad):
            ctx.refuse(
                f"Link {names_preview(bad)}: a pipeline must have a tariff >= 0, no"
                " minimum flow, and run back only lossless and free (else as a second"
                " link); extendable pipelines are not supported"
            )
        p_nom = k["p_nom"].astype(float)
        out.tables["pipelines"] = pd.DataFrame(
            {
                "node0": k["bus0"],
                "node1": k["bus1"],
                "p_max_mwth": p_nom * p_max_pu,
                "p_max_reverse_mwth": (-p_min_pu * p_nom).clip(lower=0.0),
                "efficiency": eff,
                "tariff_cny_per_mwh_th": cost,
                "length_km": k["length"].astype(float).where(lambda s: s > 0),
            },
            index=pipes,
        )
        used_links += list(pipes)
    burners = links.index[(from_gas & links["bus1"].isin(electric)).to_numpy()]
    if len(burners):
        k = links.loc[burners]
        bad = burners[k["p_nom_extendable"].astype(bool).to_numpy()]
        if len(bad):
            ctx.refuse(f"Link {names_preview(bad)}: an extendable gas-fired plant is not supported")
        eff = ctx.static("Link", "efficiency", burners)
        p_max_mw = k["p_nom"].astype(float) * eff
        avail = ctx.dense("Link", "p_max_pu", burners)
        floor = ctx.dense("Link", "p_min_pu", burners).max()
        varies = ~np.isclose(avail.to_numpy(), 1.0, rtol=0, atol=1e-12).all(axis=0)
        h = ctx.hours
        ramp = {
            col: ctx.static("Link", attr, burners) * p_max_mw / h
            for attr, col in (
                ("ramp_limit_up", "ramp_up_mw_per_h"),
                ("ramp_limit_down", "ramp_down_mw_per_h"),
            )
        }
        co2 = k.get("gridopt_co2_t_per_mwh", pd.Series(np.nan, index=burners)).astype(float)
        out.plants = pd.DataFrame(
            {
                "bus": k["bus1"],
                "carrier": k["carrier"].replace("", np.nan).fillna(GAS),
                "p_max_mw": p_max_mw,
                "p_min_mw": floor * p_max_mw,
                "marginal_cost_cny_per_mwh": ctx.static("Link", "marginal_cost", burners) / eff,
                "co2_t_per_mwh": co2.fillna(0.0),
                "gas_node": k["bus0"],
                "efficiency": eff,
                "p_initial_mw": pd.to_numeric(k["p_init"], errors="coerce").astype(float) * eff,
                "availability_profile": pd.Series(
                    np.where(varies, burners, None), index=burners, dtype=object
                ),
                **ramp,
            },
            index=burners,
        )
        out.plant_availability = avail.loc[:, varies]
        used_links += list(burners)

    stores = n.stores.loc[ctx.active["Store"]]
    rows = []
    for name, s in stores[stores["bus"].isin(stores_bus)].iterrows():  # a few storages
        inj = links.index[((links["bus1"] == s["bus"]) & from_gas).to_numpy()]
        wd = links.index[((links["bus0"] == s["bus"]) & to_gas).to_numpy()]
        if (
            len(inj) != 1
            or len(wd) != 1
            or links.at[wd[0], "efficiency"] != 1
            or s["e_nom_extendable"]
            or links.at[inj[0], "bus0"] != links.at[wd[0], "bus1"]
        ):
            ctx.refuse(
                f"Store '{name}': a gas storage needs one injection link in from a gas"
                " bus and one lossless withdrawal link back to it, and a fixed e_nom"
            )
            continue
        rows.append(
            {
                "name": name,
                "gas_node": links.at[inj[0], "bus0"],
                "injection_max_mwth": float(links.at[inj[0], "p_nom"]),
                "withdrawal_max_mwth": float(links.at[wd[0], "p_nom"]),
                "volume_max_mwh_th": float(s["e_nom"]),
                "volume_initial_mwh_th": np.nan if s["e_cyclic"] else float(s["e_initial"]),
                "efficiency": float(links.at[inj[0], "efficiency"]),
            }
        )
        used_links += [inj[0], wd[0]]
    if rows:
        out.tables["gas_storage"] = pd.DataFrame(rows).set_index("name")
        out.used["Store"] = pd.Index([r["name"] for r in rows])
    other = links.index[
        (
            (from_gas | to_gas | links["bus0"].isin(stores_bus) | links["bus1"].isin(stores_bus))
            & ~links.index.isin(used_links)
        ).to_numpy()
    ]
    if len(other):
        ctx.refuse(
            f"Link {names_preview(other)}: a link at a gas bus must be a pipeline, a"
            " gas-fired plant (to an AC or DC bus) or a gas storage's injection or"
            " withdrawal"
        )
    out.used["Link"] = pd.Index(used_links)
    return out
