"""What families carry from one horizon to the next: stores and the state of their components.

A long horizon solved in pieces (the windows of a rolling run, the stages of a future-cost
function) hands each piece the state the one before it left. The families own that state:

- a family with stores declares each kind in `STORES` (a `StoreKind`: its table, level
  variable and level balance, the column that sets its start, how to read its bounds and rule
  from the case's table, and how to set a table's start level), and registers the kinds it
  builds in the model (`LinearModel.store_kinds`) so that conditions on end levels
  (`gridopt.model.end_state`) find the level variable by table;
- a kind may say how far its level can move on its own in each snapshot (`StoreKind.motion`,
  a `Motion`): from that and the case's end level follow the levels from which the end is
  still within reach (`Motion.reachable`), which a long horizon solved in pieces keeps at
  every piece's end (`gridopt.studies.future_cost`);
- a family whose components remember the past beyond a level (output for ramp limits, units
  on and the starts and stops of the hours before, water still travelling down a river)
  gives `carry(solution, k, past) -> Carried`: the table columns and history frames that
  start the next piece where snapshot k-1 of this one ended.

Nothing outside `gridopt.model` names a variable or a table column of this state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Stores:
    """The stores of one kind in a case: bounds, the case's end rule, start level, duration."""

    table: str
    names: pd.Index
    lower: np.ndarray
    upper: np.ndarray
    rule: np.ndarray  # fixed, cyclic or free (the case's)
    initial: np.ndarray  # the case's initial level (NaN: cyclic)
    duration_h: np.ndarray  # hours to fill or empty at full rate


@dataclass(frozen=True)
class StoreKind:
    """A kind of store a family keeps (reservoirs, storage units, gas storage).

    `read(tables)` gives the stores of a case (`Stores`); `start_at(table, level)` returns the
    table with each store starting at `level` (NaN: cyclic in that piece, as the case's rule
    allows). The dual of the level balance `balance`, sign turned, is the value of one more
    unit stored (CNY per `unit`).
    """

    table: str
    level: str
    balance: str
    unit: str
    label: str
    read: Callable[[dict[str, pd.DataFrame]], Stores]
    start_at: Callable[[pd.DataFrame, np.ndarray], pd.DataFrame]
    # how far the levels of a built model (a `LinearModel`, which this module does not import:
    # the model imports it) can move in each snapshot (None: not known)
    motion: Callable[[Any], Motion] | None = None


@dataclass
class Motion:
    """How far each store's level can move in each snapshot, whatever else happens:

        x[i,t] = keep[i,t] x[i,t-1] + n[i,t],    -fall[i,t] <= n[i,t] <= rise[i,t]

    (level units per snapshot; inf: no limit; a negative rise is a store that must drain,
    such as a reservoir whose inflow is below its minimum release)."""

    rise: np.ndarray  # (store x snapshot)
    fall: np.ndarray
    keep: np.ndarray

    @classmethod
    def join(cls, parts: list[Motion]) -> Motion:
        """The motion of consecutive horizons, in time order."""
        return cls(
            np.hstack([m.rise for m in parts]),
            np.hstack([m.fall for m in parts]),
            np.hstack([m.keep for m in parts]),
        )

    def reachable(
        self, lower: np.ndarray, upper: np.ndarray, end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The levels from which each store can still end the horizon at `end` (NaN: anywhere
        in its range), before each snapshot t = 0..T (store x (T + 1)): low and high, by

            low[T] = end,   low[t-1] = max(lower, (low[t] - rise[t]) / keep[t])
            high[T] = end,  high[t-1] = min(upper, (high[t] + fall[t]) / keep[t])

        Necessary, not sufficient: a store outside [low, high] cannot make its end whatever
        the rest of the system does; inside, it still may not (its water is needed
        elsewhere). Where the end is out of the range altogether, low is the upper end of the
        range (and high its lower end)."""
        n, T = self.rise.shape
        low, high = np.empty((n, T + 1)), np.empty((n, T + 1))
        low[:, T] = np.where(np.isnan(end), lower, end)
        high[:, T] = np.where(np.isnan(end), upper, end)
        keep = np.where(self.keep > 0, self.keep, np.nan)  # nothing kept: no bound
        # a recursion in time over all stores at once (T steps, each a vector operation)
        with np.errstate(invalid="ignore"):
            for t in range(T - 1, -1, -1):
                below = (low[:, t + 1] - self.rise[:, t]) / keep[:, t]
                above = (high[:, t + 1] + self.fall[:, t]) / keep[:, t]
                low[:, t] = np.maximum(lower, np.where(np.isnan(below), -np.inf, below))
                high[:, t] = np.minimum(upper, np.where(np.isnan(above), np.inf, above))
        return np.minimum(low, upper[:, None]), np.maximum(high, lower[:, None])


@dataclass
class Carried:
    """What a family hands the next piece of a horizon: values of table columns by component
    name (columns the next piece's table takes), and history frames (snapshot x component,
    oldest first) for `CaseData.history`."""

    columns: dict[tuple[str, str], pd.Series] = field(default_factory=dict)
    history: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class Past:
    """What the pieces solved so far did: the values of every variable family over the
    snapshots so far, (component x snapshot), stitched in time order."""

    snapshots: pd.DatetimeIndex
    values: Callable[[str], np.ndarray]

    def frame(self, values: np.ndarray, names: pd.Index, length: int) -> pd.DataFrame:
        """The last `length` snapshots of a (component x snapshot) array over `snapshots`, as
        a history frame (snapshot x component)."""
        n = values.shape[1]
        snaps = self.snapshots[max(0, n - length) : n]
        return pd.DataFrame(values[:, n - len(snaps) :].T, index=snaps, columns=names)


def hours_to_move(amount: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Hours a store takes to fill or empty `amount` at `rate` (inf: it cannot move)."""
    return np.divide(amount, rate, out=np.where(amount > 0, np.inf, 0.0), where=rate > 0)
