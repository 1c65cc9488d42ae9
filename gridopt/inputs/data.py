"""The prepared inputs of a case: what the formulation reads.

`gridopt.inputs.case.prepare_case` fills a `CaseData` from a case file and its network: the
tables after scaling and overrides, and every series cut to the horizon, averaged to its
resolution and laid out as a (snapshot x component) matrix. Typical periods
(`gridopt.inputs.aggregation`) and investment periods (`gridopt.inputs.investment`) describe
how the snapshots stand for the year; their prepared forms are the dataclasses below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gridopt.inputs.network import Network
from gridopt.inputs.settings import Aggregation, Case, Expansion, SecurityZone


@dataclass
class CaseData:
    """Everything the formulation reads: tables after overrides, and series on the snapshots."""

    case: Case
    path: Path
    network: Network
    tables: dict[str, pd.DataFrame]
    snapshots: pd.DatetimeIndex
    weights_h: np.ndarray
    load_mw: pd.DataFrame  # snapshot x load
    availability_pu: pd.DataFrame  # snapshot x generator
    inflow_m3s: pd.DataFrame  # snapshot x hydro station
    gas_demand_mwth: pd.DataFrame = field(default_factory=pd.DataFrame)  # snapshot x gas demand
    gas_supply_pu: pd.DataFrame = field(default_factory=pd.DataFrame)  # snapshot x gas supply
    # snapshot x storage unit: natural inflow, MW (gridopt.model.storage)
    storage_inflow_mw: pd.DataFrame = field(default_factory=pd.DataFrame)
    security_zones: list[SecurityZone] = field(default_factory=list)  # file's, then inline
    # the state before the horizon that one number per component cannot describe (windows
    # of a rolling run): (snapshot x component) frames over the snapshots just before the
    # first, oldest first. "units_started" / "units_stopped": units of committable generators
    # started / stopped in each (gridopt.model.commitment); "release_m3s": releases of hydro
    # stations still travelling downstream (gridopt.model.hydro). Components or snapshots
    # missing from a frame fall back to the table columns.
    history: dict[str, pd.DataFrame] = field(default_factory=dict)
    # conditions on the level of stores at the end of the horizon, by store table (hydro,
    # storage_units, gas_storage): gridopt.model.end_state
    end_state: dict[str, pd.DataFrame] = field(default_factory=dict)
    # stores whose levels are kept near the middle of their range where that costs nothing
    # else (seasonal plans of a rolling run), per store table a mask over its rows:
    # gridopt.model.middle_levels
    near_middle: dict[str, np.ndarray] = field(default_factory=dict)
    # a stage of a future-cost function (gridopt.studies.future_cost): the start state of
    # every store and the water in transit before the first snapshot are columns held by rows
    # (`<level>_initial`, `hydro_transit_initial`), whose bounds set the start and whose duals
    # are the value of one more unit at the start (gridopt.model._stateful)
    stage_state: bool = False
    # a piece of a longer horizon that carries the energy of calendar periods (a stage of a
    # future-cost function, a window of a rolling run that uses one): by entry
    # `<family>: <obligation> <period>`, the energy delivered before the first snapshot
    # (`before`), the period's share of the whole horizon (`share_pu`) and when it is due
    # (`due`); bounds then hold on the whole period and what it has delivered is part of the
    # state (gridopt.model.periods). None: bounds pro rata by the piece's hours
    delivered: pd.DataFrame | None = None
    # the future cost of the state at the end of the horizon, as Benders cuts
    # (gridopt.model.future_cost); None: no future-cost term
    future_cost: FutureCost | None = None
    # a window of a rolling run: how many of the first snapshots it keeps (the rest look
    # ahead and are discarded); rows over a period (energy shares of security zones, energy
    # obligations and gas contracts, gridopt.model.periods) hold on the kept snapshots and on
    # the look-ahead separately. None: every snapshot is kept
    kept_snapshots: int | None = None
    # expansion cases: the investment periods, the period and the weight of each snapshot
    investment: InvestmentPeriods | None = None
    # cases in typical periods (horizon.aggregation): the period of each snapshot, the order
    # of the typical periods over the horizon and their weights (gridopt.inputs.aggregation)
    typical: TypicalPeriods | None = None

    @property
    def expanding(self) -> bool:
        """True for a case that builds capacity (an enabled `expansion:` setting)."""
        return self.case.expansion is not None and self.case.expansion.enabled

    @property
    def expansion(self) -> Expansion:
        """The case's expansion settings (an error in a case without them)."""
        if self.case.expansion is None:
            raise ValueError("the case has no expansion settings")
        return self.case.expansion

    @property
    def aggregation(self) -> Aggregation:
        """The case's typical-period settings (an error in a case without them)."""
        if self.case.horizon.aggregation is None:
            raise ValueError("the case's horizon is not aggregated")
        return self.case.horizon.aggregation

    @property
    def n_snapshots(self) -> int:
        return len(self.snapshots)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


@dataclass
class FutureCost:
    """Cuts of a future-cost function of the state at the end of a horizon.

    `cuts` has one row per cut and state entry: `cut` (a number), `table` (the store table, or
    `hydro_transit` for water released and not yet arrived), `store` (the entry's label),
    `intercept_cny` (alpha_k, the same on every row of a cut), `slope_cny_per_unit` (beta_k,i)
    and `at_level` (xhat_k,i, the state the cut was made at). An empty table still gives the
    future-cost variable (theta >= 0). Water in transit is counted in steps of `resolution_h`
    hours (the steps of the stages the cuts come from).
    """

    cuts: pd.DataFrame
    resolution_h: int
    # the levels the end state must keep for what follows to be feasible at all: `table`,
    # `store`, `low`, `high` (units of the entries; -inf/inf where unbounded); a miss costs
    # `gridopt.model.future_cost.MISS_CNY_PER_UNIT` per unit
    reach: pd.DataFrame | None = None
    # a path to keep to among end states of almost equal cost: `table`, `store`, `level`,
    # `price_cny_per_unit` (`gridopt.model.future_cost`)
    toward: pd.DataFrame | None = None


@dataclass
class TypicalPeriods:
    """How the typical periods stand for the horizon (see the module doc)."""

    snapshots_per_period: int  # L
    period_of_snapshot: np.ndarray  # (T,) typical period of each snapshot
    period_order: np.ndarray  # (O,) typical period of each original period, in time order
    period_weight: np.ndarray  # (K,) original periods each typical period stands for
    representative: np.ndarray  # (K,) the original period each typical period is (medoid)
    period_start: pd.DatetimeIndex  # (O,) first snapshot of each original period
    chronological: pd.DatetimeIndex  # (O x L,) every snapshot of the horizon
    linking: str  # "seasonal" or "periodic"
    error: pd.DataFrame  # reproduction error per kind of series

    @property
    def n_periods(self) -> int:
        return len(self.period_weight)

    @property
    def n_original(self) -> int:
        return len(self.period_order)

    def expand(self, values: np.ndarray) -> np.ndarray:
        """(... x T) values on the typical snapshots -> (... x O*L) on the whole horizon."""
        steps = self.snapshots_per_period
        src = (self.period_order[:, None] * steps + np.arange(steps)[None, :]).ravel()
        return np.asarray(values)[..., src]


@dataclass(frozen=True)
class InvestmentPeriods:
    """The periods of a prepared expansion case and the period and weight of each snapshot."""

    years: np.ndarray  # int, first year of each period
    span_yr: np.ndarray  # years each period stands for
    factor: np.ndarray  # discounted years F[p]
    of_snapshot: np.ndarray  # int, period of each snapshot
    sample_weight: np.ndarray  # k[t]: times the snapshot's block recurs in its period's year
    cycle_start: np.ndarray  # bool: first snapshot of its sample (of a cycle)
    # the hours of the network's series the snapshots average (None: the snapshots' own)
    series_hours: pd.DatetimeIndex | None = None

    @property
    def n(self) -> int:
        return len(self.years)

    @property
    def objective_weight(self) -> np.ndarray:
        """k[t] F[p(t)]: the factor on the cost of snapshot t."""
        return self.sample_weight * self.factor[self.of_snapshot]

    @property
    def labels(self) -> pd.Index:
        return pd.Index(self.years.astype(int), name="period")
