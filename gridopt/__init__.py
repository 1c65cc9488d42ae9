"""gridopt: power and gas dispatch and capacity expansion for the Pan-Pearl-River-Delta region.

From Python: `gridopt.solve(case, changes) -> Result` (tables as pandas DataFrames),
`gridopt.load(run_dir)`, `gridopt.compare(runs)`; see `gridopt.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridopt.api import Result

__version__ = "0.1.0"
__all__ = ["__version__", "compare", "load", "solve"]


def solve(case: Any, changes: Any = None, **options: Any) -> Result:
    """Solve a case file with dotted-key `changes`; see `gridopt.api.solve`."""
    from gridopt.api import solve as run

    return run(case, changes, **options)


def load(run_dir: Any) -> Result:
    """The tables of a results folder; see `gridopt.api.load`."""
    from gridopt.api import load as read

    return read(run_dir)


def compare(runs: Any, names: Any = None) -> Any:
    """Results folders side by side; see `gridopt.api.compare`."""
    from gridopt.api import compare as side_by_side

    return side_by_side(runs, names)
