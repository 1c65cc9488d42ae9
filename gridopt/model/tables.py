"""Small helpers that turn (component x snapshot) arrays into tidy result tables."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tidy(
    snapshots: pd.Index,
    components: pd.Index,
    component_label: str,
    values: dict[str, np.ndarray],
    attributes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Long table: one row per (snapshot, component), a column per value, attributes joined.

    `values` maps a column header (with its unit) to a (component x snapshot) array.
    """
    n, t = len(components), len(snapshots)
    out = pd.DataFrame(
        {
            "snapshot": np.tile(np.asarray(snapshots), n),
            component_label: np.repeat(np.asarray(components, dtype=object), t),
        }
    )
    if attributes is not None and len(attributes.columns):
        attrs = attributes.reindex(components)
        for col in attrs.columns:
            out[col] = np.repeat(attrs[col].to_numpy(), t)
    for header, arr in values.items():
        # adding 0.0 turns the solver's negative zeros into plain zeros for the spreadsheet
        out[header] = np.asarray(arr, dtype=float).reshape(n, t).ravel() + 0.0
    return out


def region_of(data_tables: dict[str, pd.DataFrame], buses: pd.Series) -> np.ndarray:
    """Region of each bus in `buses`."""
    return data_tables["buses"]["region"].reindex(buses).to_numpy()
