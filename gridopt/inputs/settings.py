"""The settings of a case file, as typed models: what to solve and how.

A case is a YAML file (`gridopt.inputs.case_file.read_case` reads it into `Case`):

```yaml
name: PPRD summer week
network: ../networks/pprd        # folder, relative to this file
horizon: {start: "2025-07-14 00:00", snapshots: 168, resolution_h: 1}
model: dispatch                  # or uc: unit commitment of committable generators (a MIP)
load_shedding: {enabled: true, voll_cny_per_mwh: 50000}
reserve: {enabled: false, requirement_pu_of_load: 0.05, regions: all}   # uc only
scale: {demand: 1.0, inflow: 1.0, fuel_price: {gas: 1.2}, capacity: {wind: 1.5},
        gas_price: {lng: 1.3}}
overrides:
  - {table: links, name: Nuozhadu-Guangdong, column: p_max_mw, value: 0}
solver: {time_limit_s: 600, method: choose, mip_gap: 0.0001, relax: false}
rolling: {window_h: 168, overlap_h: 24, seasonal: targets}   # optional: gridopt.studies.rolling
```

Every model forbids unknown keys, so a misspelt setting is an error, not a silent default,
and every number must be finite (`.nan` and `.inf` are refused) and within its range; the limits
on horizons, factors and prices are in `gridopt.inputs.limits`.
Capacity expansion (`expansion:`) and supply-security zones (`security:`) have their own
models below.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gridopt.inputs.limits import MAX_FACTOR, MAX_HORIZON_HOURS, MAX_PRICE_CNY


class _Strict(BaseModel):
    # unknown keys are errors; NaN and infinity are refused wherever a number is read
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Aggregation(_Strict):
    """Typical periods (`gridopt.inputs.aggregation`): the horizon's series clustered into a few
    representative periods, each standing for the original periods of its cluster."""

    method: Literal["typical_periods"] = "typical_periods"
    periods: int = Field(
        ...,
        gt=0,
        le=MAX_HORIZON_HOURS,
        description="typical periods clustered (extreme periods come on top)",
    )
    period_h: int = Field(
        24,
        gt=0,
        le=MAX_HORIZON_HOURS,
        description="hours per period (a multiple of resolution_h that divides the horizon)",
    )
    extreme_periods: list[
        Literal["peak_load", "peak_gas_demand", "min_renewable", "min_inflow"]
    ] = Field(
        default_factory=list,
        description="periods kept as they are, each its own typical"
        " period: the one with the hour of highest total demand (gas: non-power demand), the"
        " one with the least available wind and solar energy, the one with the least inflow",
    )
    clustering: Literal["hierarchical", "k_medoids"] = Field(
        "hierarchical",
        description="hierarchical (Ward) or exact k-medoids (a MIP), both"
        " represented by medoids: each typical period is a real period of the horizon",
    )
    linking: Literal["seasonal", "periodic"] = Field(
        "seasonal",
        description="stores: seasonal (a level per original period chained"
        " through the typical periods) or periodic (each typical period cyclic)",
    )
    preserve_means: bool = Field(
        True,
        description="rescale the typical periods so each series keeps its mean over the horizon",
    )


class Horizon(_Strict):
    start: datetime | None = Field(None, description="first snapshot; blank: series start")
    snapshots: int = Field(..., gt=0, le=MAX_HORIZON_HOURS, description="number of snapshots")
    resolution_h: int = Field(1, gt=0, le=24 * 7, description="hours per snapshot")
    aggregation: Aggregation | None = Field(
        None,
        description="solve on typical periods"
        " (gridopt.inputs.aggregation) instead of every"
        " snapshot",
    )

    @model_validator(mode="after")
    def _hours(self) -> Horizon:
        if self.snapshots * self.resolution_h > MAX_HORIZON_HOURS:
            raise ValueError(
                f"a horizon is at most {MAX_HORIZON_HOURS:,} hours (snapshots x resolution_h)"
            )
        return self


class SolverOptions(_Strict):
    time_limit_s: float | None = Field(None, gt=0)
    mip_gap: float = Field(1e-4, ge=0, le=1)
    mip_abs_gap: float | None = Field(
        None,
        ge=0,
        description="absolute MIP gap, CNY: a MIP"
        " also stops once its incumbent is this close to its"
        " bound (blank: the solver's default)",
    )
    method: Literal["choose", "simplex", "ipm", "hipo", "ipx", "pdlp"] = "choose"
    crossover: Literal["auto", "on", "off"] = Field(
        "auto",
        description="whether an interior point's solution is taken on to a vertex of the LP"
        " (off: its own point and interior duals); auto: by the LP's size under method:"
        " choose, and off for the windows of a rolling run",
    )
    threads: int | None = Field(
        None,
        gt=0,
        le=4096,
        description="threads the solver may use (blank: its default; HiGHS takes half the"
        " machine's); from 2 under method: choose, a MIP searches its tree with that many"
        " workers",
    )
    backend: Literal["highs"] = Field(
        "highs", description="the solver backend (gridopt.solver.backends)"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="raw options of the"
        " backend's solver (HiGHS option names), checked against"
        " the backend's own list before solving",
    )
    relax: bool = Field(False, description="solve the LP relaxation (integrality dropped)")
    mip_start: Literal["none", "rounded_relaxation"] = Field(
        "none",
        description="how a MIP starts: none, the solver's own search; rounded_relaxation,"
        " the LP relaxation first, its integers rounded by the model's families (unit"
        " commitment: clusters up, single units covering their fuel's relaxed capacity)"
        " and the rest re-optimised (where that is infeasible, the best rounding: every"
        " integer between the floor and the ceiling of its relaxed value); within the MIP"
        " gap of the relaxation's bound that is the answer, otherwise the MIP's first"
        " incumbent",
    )


class LoadShedding(_Strict):
    enabled: bool = False
    voll_cny_per_mwh: float = Field(50_000.0, gt=0, le=MAX_PRICE_CNY)


class GasShedding(_Strict):
    """Non-power gas demand left unserved at a cost (opt-in), so that a gas supply outage shows
    where it bites instead of making the case infeasible."""

    enabled: bool = False
    voll_cny_per_mwh_th: float = Field(
        3_000.0, gt=0, le=MAX_PRICE_CNY, description="cost of unserved non-power gas demand"
    )


class Scale(_Strict):
    demand: float = Field(1.0, ge=0, le=MAX_FACTOR)
    inflow: float = Field(1.0, ge=0, le=MAX_FACTOR)
    fuel_price: dict[str, float] = Field(
        default_factory=dict, description="carrier -> factor on marginal cost"
    )
    capacity: dict[str, float] = Field(
        default_factory=dict, description="carrier -> factor on p_max_mw"
    )
    gas_price: dict[str, float] = Field(
        default_factory=dict,
        description="gas supply kind (lng, pipeline_import, domestic,"
        " coal_to_gas) or supply name -> factor on price_cny_per_mwh_th; a supply matched by"
        " both takes both factors. fuel_price scales only the non-fuel cost of generators on a"
        " gas node",
    )

    @field_validator("fuel_price", "capacity", "gas_price")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for k, f in v.items():
            if not 0 <= f <= MAX_FACTOR:
                raise ValueError(f"factor for '{k}' must lie in [0, {MAX_FACTOR:g}]")
        return v


class Override(_Strict):
    table: str
    name: str
    column: str
    value: Any

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        # the column's own type and range are checked against the table's schema when the
        # override is applied (gridopt.inputs.case)
        if isinstance(v, float) and not math.isfinite(v):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        return v


class Reserve(_Strict):
    """Spinning reserve held by committed units (uc cases): per region and snapshot, the
    headroom of committable units that are on must cover a share of the region's demand."""

    enabled: bool = False
    requirement_pu_of_load: float = Field(
        0.05, ge=0, le=1, description="reserve as a share of regional demand"
    )
    regions: list[str] | Literal["all"] = Field(
        "all",
        description="regions that must hold reserve; all: every region with committable generators",
    )


class Rolling(_Strict):
    """Solve the horizon as consecutive windows, each starting from the state the one before it
    left (gridopt.studies.rolling): every window keeps `window_h` hours and also solves the next
    `overlap_h` hours, whose results it discards. Stores follow a seasonal plan from a coarse
    LP of the whole horizon: as end-of-window targets, as values of what is left in them, or
    not at all (each window then keeps the case's own end rules)."""

    window_h: int = Field(..., gt=0, le=MAX_HORIZON_HOURS, description="hours each window keeps")
    overlap_h: int = Field(
        0, ge=0, le=MAX_HORIZON_HOURS, description="hours solved after the kept part, discarded"
    )
    seasonal: Literal["targets", "water_values", "future_cost", "none"] = Field(
        "targets",
        description="how windows follow the seasonal plan of the stores (future_cost: each"
        " window minimises its cost plus the future cost of its end state, cuts by dual"
        " dynamic programming over stages of stage_h hours)",
    )
    seasonal_resolution_h: int = Field(
        24, gt=0, le=24 * 7, description="hours per snapshot of the seasonal LP"
    )
    stage_h: int | None = Field(
        None,
        gt=0,
        le=MAX_HORIZON_HOURS,
        description="hours per stage of the future-cost function (seasonal: future_cost;"
        " a multiple of seasonal_resolution_h); null: the stages end where the windows end"
        " (their look-ahead included), so each window's end state is valued by the cuts of"
        " its own boundary",
    )
    future_cost_gap: float = Field(
        1e-4,
        ge=0,
        description="the future-cost function's passes stop at this relative gap between its"
        " bounds (seasonal: future_cost)",
    )
    future_cost_pull: float = Field(
        0.5,
        ge=0,
        le=10,
        description="a window's end state keeps near the future-cost function's cheapest path"
        " at this fraction of each store's value (seasonal: future_cost; 1e-6: only a"
        " tie-break)",
    )
    future_cost_iterations: int = Field(
        50,
        ge=1,
        le=10_000,
        description="at most this many passes of the future-cost function (seasonal: future_cost)",
    )
    plan_span: Literal["horizon", "year"] = Field(
        "horizon",
        description="what the seasonal LP covers: the horizon, or the calendar years that"
        " contain it (stores then start and end the horizon at the plan's levels for those"
        " dates, and the plan leaves out the zones' hourly N-1 rows)",
    )
    target: Literal["at_least", "equal"] = Field(
        "at_least",
        description="a store ends each window at least at (or at) its seasonal"
        " level (seasonal: targets)",
    )
    target_penalty_factor: float | None = Field(
        10.0,
        gt=0,
        le=MAX_FACTOR,
        description="a target a window cannot reach is missed at"
        " this many times the plan's value of the store then, per unit (null: hard targets,"
        " an unreachable one makes the window infeasible)",
    )


class Sample(_Strict):
    """A block of consecutive hours of the network's series standing for part of a year."""

    start: datetime = Field(..., description="first hour, a date-time of the network's series")
    hours: int = Field(
        ..., gt=0, le=MAX_HORIZON_HOURS, description="length in hours (a multiple of resolution_h)"
    )
    weight: float = Field(
        1.0, gt=0, le=MAX_HORIZON_HOURS, description="times the block recurs in the period's year"
    )


class Period(_Strict):
    year: int = Field(
        ..., ge=1900, le=3000, description="first year of the period (its build year)"
    )
    years: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="years the period stands for"
        " (blank: to the next period; the last as many as the one"
        " before)",
    )
    samples: list[Sample] = Field(
        default_factory=list, description="operating blocks (blank: the case's horizon)"
    )
    demand: float | dict[str, float] = Field(
        1.0,
        description="factor on electric demand in the period: one for every load, or"
        " region -> factor (loads of other regions keep theirs)",
    )
    gas_demand: float = Field(
        1.0, ge=0, le=MAX_FACTOR, description="factor on non-power gas demand"
    )

    @field_validator("demand")
    @classmethod
    def _demand_factor(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        for k, f in v.items() if isinstance(v, dict) else [("demand", v)]:
            if not 0 <= f <= MAX_FACTOR:
                raise ValueError(f"factor for '{k}' must lie in [0, {MAX_FACTOR:g}]")
        return v


class SharePolicy(_Strict):
    """Least share of the demand of some regions met by some carriers' generation, per period."""

    name: str
    carriers: Literal["renewable", "non_fossil"] | list[str] = Field(
        "renewable",
        description="carriers that count: flagged renewable, not flagged fossil, or a list",
    )
    regions: Literal["all"] | list[str] = "all"
    share_min: float | None = Field(
        None, ge=0, le=1, description="least share of the regions' demand"
    )
    share_max: float | None = Field(
        None, ge=0, le=1, description="most share of the regions' demand (e.g. a coal ceiling)"
    )
    periods: Literal["all"] | list[int] = "all"

    @model_validator(mode="after")
    def _a_bound(self) -> SharePolicy:
        if self.share_min is None and self.share_max is None:
            raise ValueError("give share_min, share_max or both")
        return self


class BuildRatePolicy(_Strict):
    """Most new generator and storage power built per year in some regions, per period."""

    name: str
    regions: Literal["all"] | list[str] = "all"
    carriers: Literal["all"] | list[str] = "all"
    max_mw_per_yr: float = Field(..., ge=0)
    periods: Literal["all"] | list[int] = "all"


class TransmissionVolumePolicy(_Strict):
    """Most transmission volume (MW x km) of the extendable lines and links of some carriers,
    per period: sum of length_km x capacity in service (PyPSA's transmission volume limit)."""

    name: str
    carriers: Literal["all"] | list[str] = "all"
    max_mwkm: float = Field(..., ge=0)
    periods: Literal["all"] | list[int] = "all"


class Policy(_Strict):
    co2_cap_t_per_yr: dict[int, float] = Field(
        default_factory=dict, description="period year -> most CO2 emitted per year, t"
    )
    co2_price_cny_per_t: dict[int, float] = Field(
        default_factory=dict, description="period year -> price paid per t CO2 emitted"
    )
    shares: list[SharePolicy] = Field(default_factory=list)
    build_rates: list[BuildRatePolicy] = Field(default_factory=list)
    transmission_volume: list[TransmissionVolumePolicy] = Field(default_factory=list)


class Expansion(_Strict):
    """Capacity expansion: the `candidates` table may be built, over one or more periods."""

    enabled: bool = True
    discount_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="rate that discounts later"
        " periods, and the default rate of the candidates' capital"
        " recovery factor",
    )
    periods: list[Period] = Field(
        default_factory=list, description="investment periods (blank: one, the horizon)"
    )
    policy: Policy = Field(default_factory=Policy)


IMPORT_KINDS = ("line", "link", "pipeline", "generator")


class ImportElement(_Strict):
    """An element that feeds the zone: a line, link or gas pipeline crossing its boundary, or a
    generator outside it whose output is (in part) contracted to it."""

    line: str | None = None
    link: str | None = None
    pipeline: str | None = None
    generator: str | None = None
    circuits: int = Field(
        1,
        ge=1,
        description="identical parallel circuits of a line or link;"
        " an N-1 contingency loses one of them",
    )
    share_pu: float = Field(
        1.0, gt=0, le=1, description="generator: share of its output contracted to the zone"
    )
    firm_pu: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of the rating counted as firm import capacity by the reserve margin",
    )
    source: str = Field("", description="where the figures come from")

    @model_validator(mode="after")
    def _one_kind(self) -> ImportElement:
        given = [k for k in IMPORT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of line, link, pipeline, generator")
        if self.circuits > 1 and given[0] not in ("line", "link"):
            raise ValueError("circuits applies to lines and links only")
        if self.share_pu != 1.0 and given[0] != "generator":
            raise ValueError("share_pu applies to contracted generators only")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in IMPORT_KINDS if getattr(self, k) is not None)

    @property
    def name(self) -> str:
        return str(getattr(self, self.kind))


class NMinusOne(_Strict):
    """N-1 infeed security in every snapshot (operations)."""

    unit_threshold_mw: float = Field(
        0.0,
        ge=0,
        description="units (local or contracted) whose"
        " single unit is at least this large are contingencies",
    )
    headroom: Literal["available", "spinning"] = Field(
        "available",
        description="available: p_max x availability - output; spinning: only"
        " capacity online counts (output / stable minimum), fast-start units excepted. In a uc"
        " case committable units count their committed headroom either way",
    )
    min_stable_pu: dict[str, float] = Field(
        default_factory=dict,
        description="carrier -> stable minimum per unit of rating, for"
        " spinning headroom of units whose p_min_stable_pu is not given (0)",
    )
    fast_start: list[str] = Field(
        default_factory=list,
        description="local units that count"
        " their available headroom in spinning mode (they start"
        " within the response time)",
    )
    margin_mw: float = Field(0.0, ge=0, description="cover required beyond the lost infeed")
    source: str = ""

    @model_validator(mode="after")
    def _stable(self) -> NMinusOne:
        for carrier, pu in self.min_stable_pu.items():
            if not 0.0 <= pu <= 1.0:
                raise ValueError(f"min_stable_pu of '{carrier}' must lie in [0, 1]")
        return self


class ReserveMargin(_Strict):
    """Capacity reserve margin (planning): a check while capacities are data."""

    margin_pu: float = Field(..., ge=0, description="required margin over peak demand")
    derating_pu: dict[str, float] = Field(
        default_factory=dict,
        description="carrier -> firm share of local capacity (blank carrier: 1)",
    )
    peak_demand_mw: float | None = Field(
        None, gt=0, description="blank: the peak of the zone's demand over the horizon"
    )
    source: str = ""

    @model_validator(mode="after")
    def _derating(self) -> ReserveMargin:
        for carrier, pu in self.derating_pu.items():
            if not 0.0 <= pu <= 1.0:
                raise ValueError(f"derating_pu of '{carrier}' must lie in [0, 1]")
        return self


class ShareBound(_Strict):
    """Bounds on a share of the zone's demand energy, over the horizon or per calendar month."""

    min_pu: float | None = Field(None, ge=0, le=1)
    max_pu: float | None = Field(None, ge=0, le=1)
    period: Literal["horizon", "month"] = "horizon"
    source: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> ShareBound:
        if self.min_pu is None and self.max_pu is None:
            raise ValueError("give min_pu, max_pu or both")
        if self.min_pu is not None and self.max_pu is not None and self.min_pu > self.max_pu:
            raise ValueError("min_pu exceeds max_pu")
        return self


class FuelMix(ShareBound):
    """Share bounds on the energy of some carriers serving the zone (local units, and the
    contracted share of contracted generators)."""

    carriers: list[str] = Field(..., min_length=1)


class GasNMinusOne(_Strict):
    """The zone's gas-fired generation stays fuelable after the loss of any one gas source."""

    include_non_power_demand: bool = Field(
        True, description="the zone's non-power gas demand must be served too"
    )
    source: str = ""


class WaterSupply(_Strict):
    """Water the zone draws from a river: the withdrawals of hydro stations (`withdrawal_m3s`
    of the hydro table) that serve the zone. They are physical data of the river; the target
    names them, so that `gridopt security` can price them in power terms (the case without
    them) and the results can report their water value."""

    hydro: list[str] = Field(
        ...,
        min_length=1,
        description="hydro stations (river nodes) whose withdrawals are the zone's water supply",
    )
    source: str = ""


class SecurityZone(_Strict):
    name: str = Field(..., min_length=1)
    description: str = ""
    buses: list[str] = Field(..., min_length=1)
    imports: list[ImportElement] = Field(default_factory=list)
    units: list[str] | None = Field(
        None, description="local units (blank: every generator on the zone's buses)"
    )
    unit_mw: dict[str, float] = Field(
        default_factory=dict,
        description="generator -> size of its largest unit, MW (blank: p_max_mw / units)",
    )
    gas_nodes: list[str] = Field(default_factory=list)
    n_1: NMinusOne | None = None
    reserve_margin: ReserveMargin | None = None
    local_share: ShareBound | None = None
    import_share: ShareBound | None = None
    fuel_mix: list[FuelMix] = Field(default_factory=list)
    gas_n_1: GasNMinusOne | None = None
    water_supply: WaterSupply | None = None

    def targets(self) -> list[str]:
        """Keys of the targets set: n_1, reserve_margin, local_share, import_share,
        fuel_mix[i], gas_n_1, water_supply."""
        keys = [
            k
            for k in ("n_1", "reserve_margin", "local_share", "import_share")
            if getattr(self, k) is not None
        ]
        keys += [f"fuel_mix[{i}]" for i in range(len(self.fuel_mix))]
        return keys + [k for k in ("gas_n_1", "water_supply") if getattr(self, k) is not None]

    def without(self, target: str) -> SecurityZone:
        """A copy of the zone without one target (a key of `targets()`, or `fuel_mix` for all
        of its fuel mix), or `all` of them."""
        if target == "all":
            return self.model_copy(
                update={
                    "n_1": None,
                    "reserve_margin": None,
                    "local_share": None,
                    "import_share": None,
                    "fuel_mix": [],
                    "gas_n_1": None,
                    "water_supply": None,
                }
            )
        if target == "fuel_mix":
            return self.model_copy(update={"fuel_mix": []})
        m = re.fullmatch(r"fuel_mix\[(\d+)\]", target)
        if m:
            i = int(m.group(1))
            return self.model_copy(update={"fuel_mix": self.fuel_mix[:i] + self.fuel_mix[i + 1 :]})
        return self.model_copy(update={target: None})


class SecurityFile(_Strict):
    """A YAML file of zones shipped with a network (`security_file:` of a case)."""

    description: str = ""
    zones: list[SecurityZone] = Field(default_factory=list)


class Case(_Strict):
    name: str
    description: str = ""
    network: str
    # the project folder, relative to the case file and one of its ancestors (blank: the
    # nearest folder above holding cases/ and networks/): nothing outside it is read
    project: str | None = None
    # the currency of every cost and price of the case's network; the tables' `_cny` columns
    # hold amounts in it, and results are labelled with it (gridopt.results.tables)
    currency: str = Field(
        "CNY",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the"
        " currency of the network's costs and prices (e.g. CNY, USD, EUR)",
    )
    horizon: Horizon
    # dispatch: an LP; uc: unit commitment (a MIP) of the generators marked committable
    model: Literal["dispatch", "uc"] = "dispatch"
    reserve: Reserve = Field(default_factory=Reserve)
    # drought: a network's design drought year (e.g. 1-in-100), where it ships one
    inflow_year: Literal["normal", "dry", "wet", "drought"] = "normal"
    load_shedding: LoadShedding = Field(default_factory=LoadShedding)
    gas_shedding: GasShedding = Field(default_factory=GasShedding)
    curtailment_penalty_cny_per_mwh: float = Field(0.0, ge=0, le=MAX_PRICE_CNY)
    scale: Scale = Field(default_factory=Scale)
    overrides: list[Override] = Field(default_factory=list)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    # supply-security zones and targets (gridopt.inputs.zones, gridopt.model.security): a file of
    # zones shipped with the network (relative to the case file) and/or zones given inline
    security_file: str | None = None
    security: list[SecurityZone] = Field(default_factory=list)
    # zones or targets in force switched off by name: "Macao", "Hong Kong: n_1"
    # (gridopt.inputs.zones)
    security_off: list[str] = Field(default_factory=list)
    # solve by rolling horizon (gridopt.studies.rolling) instead of in one piece
    rolling: Rolling | None = None
    # capacity expansion (gridopt.inputs.investment, gridopt.model.expansion): the network's
    # `candidates` may be built, over one or several investment periods, under a policy
    expansion: Expansion | None = None
