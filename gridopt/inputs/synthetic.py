"""Synthetic networks of any size, for benchmarks and property tests.

Buses sit on a ring with chords (so the AC network is meshed), each with a load, a coal and a
gas unit, wind and solar with seeded profiles, and every fourth bus a battery and an HVDC link
across the ring. The network is feasible by construction: local thermal capacity exceeds the
local peak load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml


def write_synthetic(
    folder: Path | str,
    n_buses: int = 12,
    hours: int = 8760,
    seed: int = 0,
    case_snapshots: int | None = None,
) -> Path:
    """Write a synthetic network folder and a case `case.yaml` inside it; return the case."""
    folder = Path(folder)
    (folder / "timeseries").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"N{i:03d}" for i in range(n_buses)]
    angle = 2 * np.pi * np.arange(n_buses) / n_buses
    pd.DataFrame(
        {
            "name": names,
            "region": [f"R{i % 5}" for i in range(n_buses)],
            "v_nom_kv": 500.0,
            "x_lon": 110 + 5 * np.cos(angle),
            "y_lat": 25 + 5 * np.sin(angle),
        }
    ).to_csv(folder / "buses.csv", index=False)
    pd.DataFrame(
        {
            "name": ["coal", "gas", "wind", "solar", "battery"],
            "renewable": [False, False, True, True, False],
            "fossil": [True, True, False, False, False],
        }
    ).to_csv(folder / "carriers.csv", index=False)
    peak = rng.uniform(500, 3000, n_buses)
    stamps = pd.date_range("2025-01-01", periods=hours, freq="h")
    h = np.arange(hours)
    daily = 0.8 + 0.2 * np.sin(2 * np.pi * (h % 24 - 8) / 24)
    seasonal = 0.9 + 0.1 * np.cos(2 * np.pi * (h / 8760 - 0.55))
    noise = 1 + 0.03 * rng.standard_normal((hours, n_buses))
    load = peak[None, :] * (daily * seasonal)[:, None] * noise
    ts = {"timestamp": stamps.strftime("%Y-%m-%d %H:%M")}
    pd.DataFrame({**ts, **{f"{b} load": load[:, i] for i, b in enumerate(names)}}).to_csv(
        folder / "timeseries" / "load_mw.csv", index=False, float_format="%.3f"
    )
    solar = (
        np.clip(np.sin(np.pi * ((h % 24) - 6) / 12), 0, None)[:, None]
        * rng.uniform(0.5, 1.0, (hours // 24 + 1, n_buses)).repeat(24, axis=0)[:hours]
    )
    wind = np.clip(
        0.35
        + 0.25
        * np.cumsum(rng.standard_normal((hours, n_buses)), axis=0)
        / np.sqrt(np.arange(1, hours + 1))[:, None]
        * 8,
        0,
        1,
    )
    pd.DataFrame(
        {
            **ts,
            **{f"{b} wind": wind[:, i] for i, b in enumerate(names)},
            **{f"{b} solar": solar[:, i] for i, b in enumerate(names)},
        }
    ).to_csv(folder / "timeseries" / "availability_pu.csv", index=False, float_format="%.4f")
    gens = pd.concat(
        [
            pd.DataFrame(
                {
                    "name": [f"{b} coal" for b in names],
                    "bus": names,
                    "carrier": "coal",
                    "p_max_mw": peak * 0.8,
                    "p_min_mw": peak * 0.2,
                    "marginal_cost_cny_per_mwh": rng.uniform(250, 350, n_buses),
                    "ramp_up_mw_per_h": peak * 0.3,
                    "ramp_down_mw_per_h": peak * 0.3,
                    "co2_t_per_mwh": 0.85,
                    "availability_profile": "",
                }
            ),
            pd.DataFrame(
                {
                    "name": [f"{b} gas" for b in names],
                    "bus": names,
                    "carrier": "gas",
                    "p_max_mw": peak * 0.5,
                    "p_min_mw": 0.0,
                    "marginal_cost_cny_per_mwh": rng.uniform(550, 700, n_buses),
                    "co2_t_per_mwh": 0.37,
                    "availability_profile": "",
                }
            ),
            pd.DataFrame(
                {
                    "name": [f"{b} {c}" for c in ("wind", "solar") for b in names],
                    "bus": names * 2,
                    "carrier": ["wind"] * n_buses + ["solar"] * n_buses,
                    "p_max_mw": np.concatenate([peak * 0.3, peak * 0.3]),
                    "p_min_mw": 0.0,
                    "marginal_cost_cny_per_mwh": 0.0,
                    "co2_t_per_mwh": 0.0,
                    "availability_profile": [f"{b} {c}" for c in ("wind", "solar") for b in names],
                }
            ),
        ],
        ignore_index=True,
    )
    gens.to_csv(folder / "generators.csv", index=False)
    pd.DataFrame({"name": [f"{b} load" for b in names], "bus": names}).to_csv(
        folder / "loads.csv", index=False
    )
    ring = [(names[i], names[(i + 1) % n_buses]) for i in range(n_buses)]
    chords = [(names[i], names[(i + n_buses // 3) % n_buses]) for i in range(0, n_buses, 3)]
    pairs = list(dict.fromkeys(p for p in ring + chords if p[0] != p[1]))
    pd.DataFrame(
        {
            "name": [f"{a}-{b}" for a, b in pairs],
            "bus0": [a for a, _ in pairs],
            "bus1": [b for _, b in pairs],
            "x_ohm": rng.uniform(10, 40, len(pairs)),
            "s_max_mw": rng.uniform(800, 2500, len(pairs)),
        }
    ).to_csv(folder / "lines.csv", index=False)
    dc = [(names[i], names[(i + n_buses // 2) % n_buses]) for i in range(0, n_buses, 4)]
    pd.DataFrame(
        {
            "name": [f"DC {a}-{b}" for a, b in dc],
            "bus0": [a for a, _ in dc],
            "bus1": [b for _, b in dc],
            "carrier": "DC",
            "p_max_mw": 2000.0,
            "p_min_pu": -1.0,
            "efficiency": 1.0,
        }
    ).to_csv(folder / "links.csv", index=False)
    sto = names[::4]
    pd.DataFrame(
        {
            "name": [f"{b} battery" for b in sto],
            "bus": sto,
            "carrier": "battery",
            "p_max_mw": 300.0,
            "energy_max_mwh": 1200.0,
        }
    ).to_csv(folder / "storage_units.csv", index=False)
    case = folder / "case.yaml"
    case.write_text(
        yaml.safe_dump(
            {
                "name": f"synthetic {n_buses} buses",
                "network": ".",
                "horizon": {"start": "2025-01-01 00:00", "snapshots": case_snapshots or hours},
                "model": "dispatch",
                "load_shedding": {"enabled": True, "voll_cny_per_mwh": 50000.0},
            },
            sort_keys=False,
        )
    )
    return case
