"""Random small networks: gridopt and PyPSA's own optimize() (HiGHS) find the same optimum.

Each example is a gridopt network folder written into pytest's tmp_path: 2-6 buses on a
spanning tree plus extra (possibly parallel) AC lines at two voltage levels, so the network is
meshed; controllable links (one-way lossy or reversible lossless); generators with must-run
floors, availability profiles and ramp limits; batteries; hydro reservoirs with inflow,
withdrawals, storage floors and each end rule; hourly or 2-hourly snapshots; load shedding.
Capacity expansion is not part of gridopt yet, so no asset is extendable. The export must
solve in PyPSA to gridopt's objective (1e-6 relative) and nodal prices must agree wherever
the price is unique (checked by re-solving with a little more and less demand).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gridopt.inputs.case import load_case
from gridopt.interop.pypsa import to_pypsa
from tests.test_interop_pypsa import assert_same_answer

_case_numbers = itertools.count()


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Values on a grid of 1/1000 of the range: data-like numbers, none vanishingly small (a
    solver rightly treats 1e-200 as zero, which is not what this test is about)."""
    return st.integers(0, 1000).map(lambda k: lo + (hi - lo) * k / 1000)


@st.composite
def networks(draw: st.DrawFn) -> dict:
    """Tables (lists of row dicts), hourly series and case settings of a random network."""
    n_bus = draw(st.integers(2, 6))
    snapshots = draw(st.integers(1, 4))
    resolution = draw(st.sampled_from([1, 2]))
    hours = snapshots * resolution
    buses = [f"b{i}" for i in range(n_bus)]
    hourly = st.lists(_floats(0.0, 1.0), min_size=hours, max_size=hours)

    tables: dict[str, list[dict]] = {
        "buses": [
            {"name": b, "region": f"r{i % 2}", "v_nom_kv": draw(st.sampled_from([220.0, 500.0]))}
            for i, b in enumerate(buses)
        ]
    }
    tree = [(draw(st.integers(0, i - 1)), i) for i in range(1, n_bus)]
    extra = draw(
        st.lists(
            st.tuples(st.integers(0, n_bus - 1), st.integers(0, n_bus - 1)).filter(
                lambda e: e[0] != e[1]
            ),
            max_size=3,
        )
    )
    tables["lines"] = [
        {
            "name": f"line {k}",
            "bus0": buses[a],
            "bus1": buses[b],
            "x_ohm": draw(_floats(1.0, 60.0)),
            "s_max_mw": draw(_floats(20.0, 400.0)),
        }
        for k, (a, b) in enumerate(tree + extra)
    ]
    tables["links"] = []
    for k in range(draw(st.integers(0, 2))):
        a, b = draw(st.lists(st.sampled_from(buses), min_size=2, max_size=2, unique=True))
        reversible = draw(st.booleans())
        tables["links"].append(
            {
                "name": f"link {k}",
                "bus0": a,
                "bus1": b,
                "p_max_mw": draw(_floats(0.0, 300.0)),
                "p_min_pu": draw(st.sampled_from([-1.0, -0.5])) if reversible else 0.0,
                "efficiency": 1.0 if reversible else draw(_floats(0.8, 1.0)),
                "marginal_cost_cny_per_mwh": draw(_floats(0.0, 20.0)),
            }
        )

    series: dict[str, dict[str, list[float]]] = {
        "load_mw": {},
        "availability_pu": {},
        "inflow_m3s": {},
    }
    tables["generators"] = []
    for b in buses:
        for k in range(draw(st.integers(0, 2))):
            name = f"{b} gen {k}"
            p_max = draw(_floats(0.0, 500.0))
            profile = draw(st.booleans())
            if profile:
                series["availability_pu"][name] = draw(hourly)
            ramp = draw(st.none() | _floats(5.0, 200.0))
            tables["generators"].append(
                {
                    "name": name,
                    "bus": b,
                    "carrier": "wind" if profile else "thermal",
                    "p_max_mw": p_max,
                    "p_min_mw": p_max * draw(_floats(0.0, 0.3)),
                    "marginal_cost_cny_per_mwh": draw(_floats(0.0, 1000.0)),
                    "ramp_up_mw_per_h": ramp,
                    "ramp_down_mw_per_h": ramp,
                    "availability_profile": name if profile else None,
                }
            )
    tables["storage_units"] = []
    for k in range(draw(st.integers(0, 2))):
        energy = draw(_floats(0.0, 400.0))
        tables["storage_units"].append(
            {
                "name": f"battery {k}",
                "bus": draw(st.sampled_from(buses)),
                "carrier": "battery",
                "p_max_mw": draw(_floats(1.0, 100.0)),
                "energy_max_mwh": energy,
                "efficiency_charge": draw(_floats(0.7, 1.0)),
                "efficiency_discharge": draw(_floats(0.7, 1.0)),
                "standing_loss_per_h": draw(_floats(0.0, 0.05)),
                "soc_initial_mwh": draw(st.none() | st.just(energy * draw(_floats(0.0, 1.0)))),
                "marginal_cost_cny_per_mwh": draw(_floats(0.0, 5.0)),
            }
        )
    tables["hydro"] = []
    for k in range(draw(st.integers(0, 2))):
        name = f"dam {k}"
        v_max = draw(st.sampled_from([0.0, 0.5, 2.0]))
        v_min = v_max * draw(_floats(0.0, 0.3))
        series["inflow_m3s"][name] = [100.0 * v for v in draw(hourly)]
        tables["hydro"].append(
            {
                "name": name,
                "bus": draw(st.sampled_from(buses)),
                "p_max_mw": draw(_floats(1.0, 200.0)),
                "mw_per_m3s": draw(_floats(0.2, 2.0)),
                "storage_max_hm3": v_max,
                "storage_min_hm3": v_min,
                "storage_initial_hm3": draw(st.none() | _floats(v_min, v_max)),
                "end_rule": draw(st.sampled_from(["fixed", "cyclic", "free"])),
                "withdrawal_m3s": draw(st.sampled_from([0.0, 2.0])),
                "inflow_profile": name,
                "marginal_cost_cny_per_mwh": draw(_floats(0.0, 10.0)),
            }
        )
    tables["loads"] = [{"name": f"{b} load", "bus": b} for b in buses]
    for b in buses:
        series["load_mw"][f"{b} load"] = [400.0 * v for v in draw(hourly)]
    # some demand, so that PyPSA has a cost to minimise (it refuses an empty objective)
    series["load_mw"]["b0 load"][0] += 1.0
    case = {
        "horizon": {
            "start": "2025-01-01 00:00",
            "snapshots": snapshots,
            "resolution_h": resolution,
        },
        "load_shedding": {"enabled": True, "voll_cny_per_mwh": 10_000.0},
    }
    return {"tables": tables, "series": series, "case": case, "hours": hours}


def _write(folder, net: dict):
    """Write the drawn network as a case folder with its case.yaml; return the case path."""
    (folder / "timeseries").mkdir(parents=True)
    for name, rows in net["tables"].items():
        if rows:
            pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    stamps = pd.date_range("2025-01-01", periods=net["hours"], freq="h")
    for name, columns in net["series"].items():
        if columns:
            df = pd.DataFrame(columns, index=stamps.strftime("%Y-%m-%d %H:%M"))
            df.rename_axis("timestamp").to_csv(folder / "timeseries" / f"{name}.csv")
    case = folder / "case.yaml"
    case.write_text(yaml.safe_dump({"name": folder.name, "network": ".", **net["case"]}))
    return case


# fixed examples (derandomize) keep runs reproducible; no shrinking keeps a failing run short,
# and the failing network is printed in full
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(net=networks())
def test_random_networks_solve_to_the_same_optimum_in_pypsa(tmp_path, net):
    case = _write(tmp_path / f"net{next(_case_numbers)}", net)
    data = load_case(case)
    n, _ = to_pypsa(data)
    assert len(n.lines) == len(net["tables"]["lines"])
    assert np.allclose(n.snapshot_weightings["objective"], net["case"]["horizon"]["resolution_h"])
    assert_same_answer(data, n)
