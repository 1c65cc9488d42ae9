"""Table schemas of a gridopt network: the single source of column names, units, defaults and rules.

A network folder holds one CSV file per table (``buses.csv``, ``generators.csv`` ...), or one
workbook ``network.xlsx`` with a sheet per table, plus hourly time series under ``timeseries/``.
Column names carry their unit (``p_max_mw``, ``inflow_m3s``); this module is what loading,
validation, documentation and export all read, so a column is declared here once.

Units used throughout: MW, MWh, CNY, t CO2, hm3 (10^6 m3) for water volume, m3/s for water flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["str", "float", "int", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of a component table."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: object = None
    min: float | None = None
    max: float | None = None
    # name of the table whose `name` column this column must reference
    ref: str | None = None
    # True where a blank cell is meaningful (e.g. "no ramp limit")
    nullable: bool = False
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A component table: its file stem and columns."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool = False
    # time series file (under timeseries/) whose columns some rows of this table name
    series: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _name(what: str) -> Column:
    return Column("name", "str", f"unique {what} name", required=True)


BUSES = Table(
    "buses",
    "Electrical nodes. `region` groups buses for reporting (province, Hong Kong, Macao).",
    (
        _name("bus"),
        Column("region", "str", "reporting region (province or SAR)", required=True),
        Column("carrier", "str", "AC or DC", default="AC", choices=("AC", "DC")),
        Column("v_nom_kv", "float", "nominal voltage, kV", default=500.0, min=0.0),
        Column("x_lon", "float", "longitude, degrees east", nullable=True, min=-180, max=180),
        Column("y_lat", "float", "latitude, degrees north", nullable=True, min=-90, max=90),
    ),
    required=True,
)

CARRIERS = Table(
    "carriers",
    "Energy carriers / technologies, for reporting, colours and policy shares.",
    (
        _name("carrier"),
        Column("renewable", "bool", "counts as renewable in shares", default=False),
        Column("fossil", "bool", "fossil-fuelled", default=False),
        Column("color", "str", "hex colour used in charts", default="#999999"),
        Column("nice_name", "str", "display name", nullable=True),
    ),
)

LOADS = Table(
    "loads",
    "Electrical demand. The hourly MW of each load is the column of `timeseries/load_mw.csv`"
    " named by `profile` (default: the load's name), times `scale`.",
    (
        _name("load"),
        Column("bus", "str", "bus the load sits on", required=True, ref="buses"),
        Column("profile", "str", "column of timeseries/load_mw.csv", nullable=True),
        Column("scale", "float", "multiplier on the profile", default=1.0, min=0.0),
    ),
    series={"profile": "load_mw"},
)

GENERATORS = Table(
    "generators",
    "Dispatchable and variable generators. Variable output is bounded by p_max_mw times the"
    " availability profile (column of `timeseries/availability_pu.csv`).",
    (
        _name("generator"),
        Column("bus", "str", "bus", required=True, ref="buses"),
        Column("carrier", "str", "carrier", required=True, ref="carriers"),
        Column("p_max_mw", "float", "installed capacity, MW", required=True, min=0.0),
        Column("p_min_mw", "float", "must-run minimum output, MW", default=0.0, min=0.0),
        Column(
            "marginal_cost_cny_per_mwh", "float", "variable cost (fuel + O&M), CNY/MWh", default=0.0
        ),
        Column("ramp_up_mw_per_h", "float", "ramp-up limit, MW/h (blank: none)", nullable=True,
               min=0.0),
        Column("ramp_down_mw_per_h", "float", "ramp-down limit, MW/h (blank: none)",
               nullable=True, min=0.0),
        Column("co2_t_per_mwh", "float", "CO2 emission factor, t/MWh electric", default=0.0,
               min=0.0),
        Column("availability_profile", "str", "column of timeseries/availability_pu.csv"
               " (blank: always available)", nullable=True),
    ),
    series={"availability_profile": "availability_pu"},
)

STORAGE_UNITS = Table(
    "storage_units",
    "Batteries and pumped hydro: power and energy rated separately.",
    (
        _name("storage unit"),
        Column("bus", "str", "bus", required=True, ref="buses"),
        Column("carrier", "str", "carrier", required=True, ref="carriers"),
        Column("p_max_mw", "float", "charge and discharge power, MW", required=True, min=0.0),
        Column("energy_max_mwh", "float", "energy capacity, MWh", required=True, min=0.0),
        Column("efficiency_charge", "float", "charging efficiency", default=0.9, min=0.0,
               max=1.0),
        Column("efficiency_discharge", "float", "discharging efficiency", default=0.9, min=0.0,
               max=1.0),
        Column("standing_loss_per_h", "float", "fraction of stored energy lost per hour",
               default=0.0, min=0.0, max=1.0),
        Column("soc_initial_mwh", "float", "energy stored before the first snapshot (blank:"
               " cyclic, the last snapshot's level)", nullable=True, min=0.0),
        Column("marginal_cost_cny_per_mwh", "float", "cost per MWh discharged", default=0.0),
    ),
)

LINES = Table(
    "lines",
    "AC lines and interties, in a linear (DC) power flow.",
    (
        _name("line"),
        Column("bus0", "str", "from bus", required=True, ref="buses"),
        Column("bus1", "str", "to bus", required=True, ref="buses"),
        Column("x_ohm", "float", "series reactance, ohm", required=True, min=0.0),
        Column("s_max_mw", "float", "thermal rating, MW (both directions)", required=True,
               min=0.0),
        Column("carrier", "str", "AC", default="AC"),
        Column("length_km", "float", "route length, km", nullable=True, min=0.0),
    ),
)

LINKS = Table(
    "links",
    "Controllable transfers (HVDC corridors, contracted interties): bus0 sends p, bus1"
    " receives efficiency * p.",
    (
        _name("link"),
        Column("bus0", "str", "sending bus", required=True, ref="buses"),
        Column("bus1", "str", "receiving bus", required=True, ref="buses"),
        Column("carrier", "str", "HVDC, UHVDC, AC corridor, ...", default="DC"),
        Column("p_max_mw", "float", "rated transfer bus0 -> bus1, MW", required=True, min=0.0),
        Column("p_min_pu", "float", "minimum transfer as share of rating (-1: reversible)",
               default=0.0, min=-1.0, max=1.0),
        Column("efficiency", "float", "delivered / sent", default=1.0, min=0.0, max=1.0),
        Column("marginal_cost_cny_per_mwh", "float", "wheeling cost per MWh sent", default=0.0),
        Column("length_km", "float", "route length, km", nullable=True, min=0.0),
    ),
)

HYDRO = Table(
    "hydro",
    "Hydro stations with a reservoir (or run-of-river when storage_max_hm3 is 0). Water is"
    " tracked in volume; power = mw_per_m3s * turbined flow (fixed head).",
    (
        _name("hydro station"),
        Column("bus", "str", "bus", required=True, ref="buses"),
        Column("carrier", "str", "carrier", default="hydro", ref="carriers"),
        Column("river", "str", "river or basin", nullable=True),
        Column("p_max_mw", "float", "installed capacity, MW", required=True, min=0.0),
        Column("mw_per_m3s", "float", "power per unit turbined flow, MW/(m3/s)", required=True,
               min=0.0),
        Column("storage_max_hm3", "float", "regulating storage, hm3 (0: run-of-river)",
               default=0.0, min=0.0),
        Column("storage_min_hm3", "float", "minimum storage, hm3", default=0.0, min=0.0),
        Column("storage_initial_hm3", "float", "storage before the first snapshot, hm3"
               " (blank: half of the regulating storage)", nullable=True, min=0.0),
        Column("end_rule", "str", "storage rule over the horizon: fixed (starts and ends at"
               " storage_initial_hm3), cyclic (ends where it starts, level free) or free (starts"
               " at storage_initial_hm3, ends anywhere)", default="fixed",
               choices=("fixed", "cyclic", "free")),
        Column("q_env_min_m3s", "float", "environmental minimum release, m3/s", default=0.0,
               min=0.0),
        Column("withdrawal_m3s", "float", "water taken from the reservoir for supply (e.g. a"
               " city's drinking water), not turbined, every hour, m3/s", default=0.0, min=0.0),
        Column("inflow_profile", "str", "column of timeseries/inflow_m3s.csv (blank: none)",
               nullable=True),
        Column("downstream", "str", "next station downstream on the same river (blank: none"
               " in the model)", nullable=True, ref="hydro"),
        Column("travel_time_h", "float", "water travel time to the downstream station, hours"
               " (fractional delays split between two hours)", default=0.0, min=0.0),
        Column("release_initial_m3s", "float", "release (turbined + spilled) in the hours before"
               " the horizon, still travelling downstream at its start, m3/s (blank: the"
               " environmental minimum)", nullable=True, min=0.0),
        Column("marginal_cost_cny_per_mwh", "float", "variable cost, CNY/MWh", default=0.0),
    ),
    series={"inflow_profile": "inflow_m3s"},
)

TABLES: dict[str, Table] = {
    t.name: t for t in (BUSES, CARRIERS, LOADS, GENERATORS, STORAGE_UNITS, LINES, LINKS, HYDRO)
}

# hourly time series files under `timeseries/`, each with a `timestamp` column
SERIES: dict[str, str] = {
    "load_mw": "hourly demand, MW",
    "availability_pu": "hourly availability of variable generators, per unit of p_max_mw",
    "inflow_m3s": "hourly natural inflow to hydro stations, m3/s",
}
