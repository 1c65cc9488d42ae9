"""What the PyPSA export and import share: the hint columns, load shedding's carrier and a
quiet context for PyPSA's and linopy's logging."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

HINT = "gridopt_"  # prefix of the extra columns that carry gridopt settings PyPSA does not have
LOAD_SHEDDING = "load shedding"
HYDRO_HINTS = (
    "mw_per_m3s",
    "storage_min_hm3",
    "storage_initial_hm3",
    "end_rule",
    "river",
    "q_env_min_m3s",
    "withdrawal_m3s",
    "downstream",
    "travel_time_h",
    "release_initial_m3s",
)
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
