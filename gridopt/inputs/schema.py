"""Table schemas of a gridopt network: the single source of column names, units, defaults and rules.

A network folder holds one CSV file per table (``buses.csv``, ``generators.csv`` ...), or one
workbook ``network.xlsx`` with a sheet per table, plus hourly time series under ``timeseries/``.
Column names carry their unit (``p_max_mw``, ``inflow_m3s``); this module is what loading,
validation, documentation and export all read, so a column is declared here once.

Units used throughout: MW, MWh, CNY, t CO2, hm3 (10^6 m3) for water volume, m3/s for water flow.
Gas is measured by its energy content (lower heating value): flows in MW thermal (MWth), volumes
in MWh_th, prices in CNY/MWh_th. 1 bcm of natural gas ~ 10.22 TWh_th (LNG 13.9 MWh_th/t and
1.36 bcm per Mt), so 1 bcm/yr ~ 1,167 MWth and 1 million m3/day ~ 426 MWth.
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
        Column(
            "carrier",
            "str",
            "AC or DC for electrical buses (lines join AC buses, or DC"
            " buses by their resistance); any other carrier (H2, heat, battery, ...) makes"
            " the bus a balance node of that carrier, joined by links",
            default="AC",
        ),
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
        Column(
            "negative_allowed",
            "bool",
            "its demand may be negative: a net injection at its"
            " bus (a MATPOWER bus with a negative Pd, embedded generation); the demand of"
            " every other load is at least 0",
            default=False,
        ),
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
        Column(
            "p_min_mw",
            "float",
            "must-run minimum output, MW (not applied to committable"
            " rows in a uc case, whose floor is p_min_stable_pu of the units on)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "marginal_cost_cny_per_mwh",
            "float",
            "variable cost (fuel + O&M), CNY/MWh; for a"
            " generator on a gas node only its non-fuel cost (O&M), since its gas is bought in"
            " the gas balance at the node's price",
            default=0.0,
        ),
        Column(
            "quadratic_cost_cny_per_mw2h",
            "float",
            "quadratic cost term q: each hour costs"
            " marginal_cost x p + q x p^2 (MATPOWER's c2, PyPSA's marginal_cost_quadratic);"
            " a case with such terms is a quadratic programme (dispatch and continuous"
            " expansion only: HiGHS solves no mixed-integer QP)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "ramp_up_mw_per_h", "float", "ramp-up limit, MW/h (blank: none)", nullable=True, min=0.0
        ),
        Column(
            "ramp_down_mw_per_h",
            "float",
            "ramp-down limit, MW/h (blank: none)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "co2_t_per_mwh", "float", "CO2 emission factor, t/MWh electric", default=0.0, min=0.0
        ),
        Column(
            "availability_profile",
            "str",
            "column of timeseries/availability_pu.csv (blank: always available)",
            nullable=True,
        ),
        # unit commitment (read only when the case's model is `uc`; see gridopt.model.commitment)
        Column(
            "committable",
            "bool",
            "switched on and off by unit commitment in a uc case"
            " (a dispatch case ignores this and the columns below)",
            default=False,
        ),
        Column(
            "units",
            "int",
            "identical units in the row (a cluster); p_max_mw, p_min_mw and"
            " the ramp limits are the totals of the row, a unit's rating is p_max_mw / units",
            default=1,
            min=1,
        ),
        Column(
            "p_min_stable_pu",
            "float",
            "minimum stable output of a unit that is on, per unit"
            " of its rating; in a uc case it replaces p_min_mw for committable rows",
            default=0.0,
            min=0.0,
            max=1.0,
        ),
        Column(
            "min_up_h",
            "int",
            "minimum up time: hours a unit stays on once started",
            default=0,
            min=0,
        ),
        Column(
            "min_down_h",
            "int",
            "minimum down time: hours a unit stays off once stopped",
            default=0,
            min=0,
        ),
        Column(
            "start_cost_cny", "float", "cost of one start of one unit, CNY", default=0.0, min=0.0
        ),
        Column("stop_cost_cny", "float", "cost of one stop of one unit, CNY", default=0.0, min=0.0),
        Column(
            "no_load_cost_cny_per_h",
            "float",
            "cost of each hour a unit is on, whatever its output (stand-by cost), CNY/h",
            default=0.0,
            min=0.0,
        ),
        Column(
            "startup_ramp_pu",
            "float",
            "most a unit produces in the hour it starts, per unit"
            " of its rating (blank: its rating; at least p_min_stable_pu)",
            nullable=True,
            min=0.0,
            max=1.0,
        ),
        Column(
            "shutdown_ramp_pu",
            "float",
            "most a unit produces in its last hour before it"
            " stops, per unit of its rating (blank: its rating; at least p_min_stable_pu)",
            nullable=True,
            min=0.0,
            max=1.0,
        ),
        Column(
            "units_on_initial",
            "int",
            "units on in the hour before the horizon (blank: all units)",
            nullable=True,
            min=0,
        ),
        Column(
            "hours_in_state_initial",
            "int",
            "hours the units on before the horizon have been"
            " on, and the units off have been off (blank: long enough that no minimum up or"
            " down time carries into the horizon)",
            nullable=True,
            min=0,
        ),
        Column(
            "p_initial_mw",
            "float",
            "output in the snapshot before the horizon, MW: the"
            " ramp limits then hold into the first snapshot too (blank: not known, the first"
            " snapshot is not ramp-limited)",
            nullable=True,
            min=0.0,
        ),
        # gas-fired plant on the gas network (see gridopt.model.gas)
        Column(
            "gas_node",
            "str",
            "gas node the plant burns gas from (blank: its fuel is in marginal_cost_cny_per_mwh)",
            nullable=True,
            ref="gas_nodes",
        ),
        Column(
            "efficiency",
            "float",
            "electric output per gas burnt, MWh_e per MWh_th (LHV); required when gas_node is set",
            nullable=True,
            min=0.0,
            max=1.0,
        ),
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
        Column("efficiency_charge", "float", "charging efficiency", default=0.9, min=0.0, max=1.0),
        Column(
            "efficiency_discharge", "float", "discharging efficiency", default=0.9, min=0.0, max=1.0
        ),
        Column(
            "standing_loss_per_h",
            "float",
            "fraction of stored energy lost per hour",
            default=0.0,
            min=0.0,
            max=1.0,
        ),
        Column(
            "soc_initial_mwh",
            "float",
            "energy stored before the first snapshot (blank: cyclic, the last snapshot's level)",
            nullable=True,
            min=0.0,
        ),
        Column("marginal_cost_cny_per_mwh", "float", "cost per MWh discharged", default=0.0),
        Column(
            "inflow_profile",
            "str",
            "column of timeseries/storage_inflow_mw.csv: natural"
            " inflow into the store, MW (e.g. pumped hydro on a river), spilled where it"
            " does not fit (blank: none)",
            nullable=True,
        ),
    ),
    series={"inflow_profile": "storage_inflow_mw"},
)

LINES = Table(
    "lines",
    "AC lines and interties, in a linear (DC) power flow.",
    (
        _name("line"),
        Column("bus0", "str", "from bus", required=True, ref="buses"),
        Column("bus1", "str", "to bus", required=True, ref="buses"),
        Column(
            "x_ohm",
            "float",
            "series reactance, ohm (negative: series compensation;"
            " for a transformer, times its tap ratio)",
            required=True,
        ),
        Column("s_max_mw", "float", "thermal rating, MW (both directions)", required=True, min=0.0),
        Column("carrier", "str", "AC", default="AC"),
        Column("length_km", "float", "route length, km", nullable=True, min=0.0),
        Column(
            "phase_shift_deg",
            "float",
            "phase shift of a phase-shifting transformer,"
            " degrees: the angle across the line is x p + shift",
            default=0.0,
            min=-360.0,
            max=360.0,
        ),
        Column(
            "angle_min_deg",
            "float",
            "least voltage angle difference bus0 - bus1, degrees (blank: none)",
            nullable=True,
            min=-360.0,
            max=360.0,
        ),
        Column(
            "angle_max_deg",
            "float",
            "most voltage angle difference bus0 - bus1, degrees (blank: none)",
            nullable=True,
            min=-360.0,
            max=360.0,
        ),
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
        Column(
            "p_min_pu",
            "float",
            "minimum transfer as share of rating (-1: reversible)",
            default=0.0,
            min=-1.0,
            max=1.0,
        ),
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
        Column(
            "mw_per_m3s", "float", "power per unit turbined flow, MW/(m3/s)", required=True, min=0.0
        ),
        Column(
            "storage_max_hm3",
            "float",
            "regulating storage, hm3 (0: run-of-river)",
            default=0.0,
            min=0.0,
        ),
        Column("storage_min_hm3", "float", "minimum storage, hm3", default=0.0, min=0.0),
        Column(
            "storage_initial_hm3",
            "float",
            "storage before the first snapshot, hm3 (blank: half of the regulating storage)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "end_rule",
            "str",
            "storage rule over the horizon: fixed (starts and ends at"
            " storage_initial_hm3), cyclic (ends where it starts, level free) or free (starts"
            " at storage_initial_hm3, ends anywhere)",
            default="fixed",
            choices=("fixed", "cyclic", "free"),
        ),
        Column(
            "q_env_min_m3s", "float", "environmental minimum release, m3/s", default=0.0, min=0.0
        ),
        Column(
            "withdrawal_m3s",
            "float",
            "water taken from the reservoir for supply (e.g. a"
            " city's drinking water), not turbined, every hour, m3/s (times"
            " withdrawal_profile where given)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "withdrawal_profile",
            "str",
            "column of timeseries/withdrawal_pu.csv: the"
            " withdrawal of each hour per unit of withdrawal_m3s, e.g. a monthly supply"
            " schedule (blank: constant)",
            nullable=True,
        ),
        Column(
            "inflow_profile",
            "str",
            "column of timeseries/inflow_m3s.csv (blank: none)",
            nullable=True,
        ),
        Column(
            "downstream",
            "str",
            "next station downstream on the same river (blank: none in the model)",
            nullable=True,
            ref="hydro",
        ),
        Column(
            "travel_time_h",
            "float",
            "water travel time to the downstream station, hours"
            " (fractional delays split between two hours)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "release_initial_m3s",
            "float",
            "release (turbined + spilled) in the hours before"
            " the horizon, still travelling downstream at its start, m3/s (blank: the"
            " environmental minimum)",
            nullable=True,
            min=0.0,
        ),
        Column("marginal_cost_cny_per_mwh", "float", "variable cost, CNY/MWh", default=0.0),
    ),
    series={"inflow_profile": "inflow_m3s", "withdrawal_profile": "withdrawal_pu"},
)

GAS_NODES = Table(
    "gas_nodes",
    "Nodes of the gas network (a province, a city, an entry point). Every gas flow is in MW"
    " thermal (MWth, lower heating value).",
    (
        _name("gas node"),
        Column("region", "str", "reporting region (province or SAR)", required=True),
        Column("x_lon", "float", "longitude, degrees east", nullable=True, min=-180, max=180),
        Column("y_lat", "float", "latitude, degrees north", nullable=True, min=-90, max=90),
    ),
)

GAS_SUPPLIES = Table(
    "gas_supplies",
    "Gas entering the network: pipeline imports, LNG terminals (send-out), domestic fields,"
    " coal-to-gas. The price is paid per MWh_th supplied; it is the only fuel cost of the"
    " generators on gas nodes.",
    (
        _name("gas supply"),
        Column("gas_node", "str", "gas node supplied", required=True, ref="gas_nodes"),
        Column(
            "kind",
            "str",
            "kind of source",
            required=True,
            choices=("pipeline_import", "lng", "domestic", "coal_to_gas"),
        ),
        Column("p_max_mwth", "float", "most gas supplied, MWth", required=True, min=0.0),
        Column(
            "p_min_mwth", "float", "least gas supplied (take-or-pay), MWth", default=0.0, min=0.0
        ),
        Column("price_cny_per_mwh_th", "float", "price of the gas, CNY/MWh_th", default=0.0),
        Column(
            "profile",
            "str",
            "column of timeseries/gas_supply_pu.csv: hourly availability"
            " per unit of p_max_mwth (blank: always 1)",
            nullable=True,
        ),
    ),
    series={"profile": "gas_supply_pu"},
)

PIPELINES = Table(
    "pipelines",
    "Gas pipelines between gas nodes, as a transport model: node0 sends f, node1 receives"
    " efficiency * f (the rest feeds compressors), with a rating per direction. No linepack.",
    (
        _name("pipeline"),
        Column("node0", "str", "from gas node", required=True, ref="gas_nodes"),
        Column("node1", "str", "to gas node", required=True, ref="gas_nodes"),
        Column("p_max_mwth", "float", "rating node0 -> node1, MWth", required=True, min=0.0),
        Column(
            "p_max_reverse_mwth",
            "float",
            "rating node1 -> node0, MWth (0: one-way)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "efficiency",
            "float",
            "delivered / sent (compressor fuel and losses)",
            default=1.0,
            min=0.0,
            max=1.0,
        ),
        Column(
            "tariff_cny_per_mwh_th",
            "float",
            "transport tariff per MWh_th sent",
            default=0.0,
            min=0.0,
        ),
        Column("length_km", "float", "route length, km", nullable=True, min=0.0),
    ),
)

GAS_STORAGE = Table(
    "gas_storage",
    "Gas storage (underground storage, LNG tanks) on a gas node, in MWh_th.",
    (
        _name("gas storage"),
        Column("gas_node", "str", "gas node", required=True, ref="gas_nodes"),
        Column("injection_max_mwth", "float", "most gas injected, MWth", required=True, min=0.0),
        Column("withdrawal_max_mwth", "float", "most gas withdrawn, MWth", required=True, min=0.0),
        Column("volume_max_mwh_th", "float", "working gas volume, MWh_th", required=True, min=0.0),
        Column(
            "volume_initial_mwh_th",
            "float",
            "volume before the first snapshot, MWh_th (blank: cyclic, the last snapshot's volume)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "efficiency",
            "float",
            "share of the injected gas that is stored (the rest feeds compressors)",
            default=1.0,
            min=0.0,
            max=1.0,
        ),
    ),
)

GAS_DEMANDS = Table(
    "gas_demands",
    "Gas demand other than power generation (industry, households, transport). The hourly"
    " MWth of each demand is the column of `timeseries/gas_demand_mwth.csv` named by `profile`"
    " (default: the demand's name), times `scale`.",
    (
        _name("gas demand"),
        Column("gas_node", "str", "gas node", required=True, ref="gas_nodes"),
        Column("profile", "str", "column of timeseries/gas_demand_mwth.csv", nullable=True),
        Column("scale", "float", "multiplier on the profile", default=1.0, min=0.0),
    ),
    series={"profile": "gas_demand_mwth"},
)

CORRIDORS = Table(
    "corridors",
    "Interprovincial transmission corridors (bipole HVDC/UHVDC lines, AC corridors) operated to"
    " schedules, as gridopt.model.corridors describes: a rating per direction shared by the"
    " poles, a no-load converter loss while energised and a loss proportional to the power"
    " sent (both directions), a minimum transfer, a ramp limit on the schedule and a daily"
    " delivery shape.",
    (
        _name("corridor"),
        Column(
            "bus0",
            "str",
            "sending bus of the forward (scheduled) direction",
            required=True,
            ref="buses",
        ),
        Column("bus1", "str", "receiving bus of the forward direction", required=True, ref="buses"),
        Column(
            "carrier",
            "str",
            "HVDC, UHVDC or AC corridor",
            default="HVDC",
            choices=("HVDC", "UHVDC", "AC corridor"),
        ),
        Column(
            "p_max_mw",
            "float",
            "rated transfer bus0 -> bus1 with every pole in service, MW sent",
            required=True,
            min=0.0,
        ),
        Column(
            "p_max_reverse_mw",
            "float",
            "rated transfer bus1 -> bus0 with every pole in service, MW sent (0: one-way)",
            default=0.0,
            min=0.0,
        ),
        Column(
            "poles",
            "int",
            "poles sharing the rating equally (2: bipole, 4: double bipole,"
            " 1: monopole or AC corridor)",
            default=2,
            min=1,
        ),
        Column(
            "poles_available",
            "int",
            "poles in service (blank: all); the usable ratings"
            " and the no-load loss are scaled by poles_available / poles, 0 takes the"
            " corridor out",
            nullable=True,
            min=0,
        ),
        Column(
            "loss_noload_mw",
            "float",
            "converter no-load loss of the corridor while it is"
            " energised, MW, drawn half at each end",
            default=0.0,
            min=0.0,
        ),
        Column(
            "loss_pu",
            "float",
            "loss proportional to the power sent, either direction:"
            " delivered = (1 - loss_pu) * sent",
            default=0.0,
            min=0.0,
            max=1.0,
        ),
        Column(
            "min_transfer_pu",
            "float",
            "least transfer while energised, per unit of the"
            " usable rating of the direction of flow",
            default=0.0,
            min=0.0,
            max=1.0,
        ),
        Column(
            "switchable",
            "bool",
            "in a uc case, unit commitment may de-energise the corridor"
            " hour by hour (no transfer, no no-load loss, no minimum); otherwise it stays"
            " energised while in service",
            default=False,
        ),
        Column(
            "ramp_mw_per_h",
            "float",
            "largest change of the schedule (net MW sent forward)"
            " from one hour to the next, MW/h (blank: none)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "daily_profile",
            "str",
            "column of timeseries/corridor_shape_pu.csv: the shape"
            " the schedule follows within each day, within shape_tolerance_pu (blank:"
            " none)",
            nullable=True,
        ),
        Column(
            "shape_tolerance_pu",
            "float",
            "band around the daily shape: the schedule stays"
            " within (1 +- tolerance) x shape x the day's mean schedule",
            default=0.1,
            min=0.0,
        ),
        Column(
            "peak_valley_ratio_max",
            "float",
            "largest ratio of a day's highest to its lowest schedule (blank: none)",
            nullable=True,
            min=1.0,
        ),
        Column(
            "marginal_cost_cny_per_mwh",
            "float",
            "wheeling cost per MWh sent, either direction",
            default=0.0,
            min=0.0,
        ),
        Column("length_km", "float", "route length, km", nullable=True, min=0.0),
        Column(
            "commissioning_year",
            "int",
            "year the corridor entered service (informative)",
            nullable=True,
            min=1900,
        ),
    ),
    series={"daily_profile": "corridor_shape_pu"},
)

CONTRACTS = Table(
    "contracts",
    "Interprovincial energy obligations: the energy delivered on named corridors, or on every"
    " corridor between two regions, per calendar month or year, between min_mwh and max_mwh."
    " A period the horizon covers only in part gets the share of its hours in the horizon.",
    (
        _name("contract"),
        Column(
            "corridors",
            "str",
            "corridor(s) carrying the contract, separated by ';' (blank:"
            " give from_region and to_region)",
            nullable=True,
        ),
        Column(
            "from_region",
            "str",
            "sending region: every corridor between a bus of this"
            " region and one of to_region counts, net of transfers back",
            nullable=True,
        ),
        Column("to_region", "str", "receiving region", nullable=True),
        Column("period", "str", "month or year", default="year", choices=("month", "year")),
        Column("month", "int", "month of a monthly contract, 1-12", nullable=True, min=1, max=12),
        Column(
            "min_mwh", "float", "least energy per period, MWh (blank: none)", nullable=True, min=0.0
        ),
        Column(
            "max_mwh", "float", "most energy per period, MWh (blank: none)", nullable=True, min=0.0
        ),
        Column(
            "shortfall_penalty_cny_per_mwh",
            "float",
            "price of each MWh short of min_mwh (blank: the minimum is a hard limit)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "metered_at",
            "str",
            "end at which the energy is counted: receiving (after the corridor losses) or sending",
            default="receiving",
            choices=("receiving", "sending"),
        ),
    ),
)

MUST_TAKE = Table(
    "must_take",
    "Energy the system must take from a named plant (e.g. contracted hydro or nuclear) per"
    " calendar month or year; prorated like contracts when the horizon covers part of a period.",
    (
        _name("obligation"),
        Column(
            "generator", "str", "generator (blank: give hydro)", nullable=True, ref="generators"
        ),
        Column("hydro", "str", "hydro station (blank: give generator)", nullable=True, ref="hydro"),
        Column("period", "str", "month or year", default="year", choices=("month", "year")),
        Column("month", "int", "month of a monthly obligation, 1-12", nullable=True, min=1, max=12),
        Column("min_mwh", "float", "least energy taken per period, MWh", nullable=True, min=0.0),
        Column(
            "min_share_pu",
            "float",
            "least share of the plant's available energy in the"
            " period (generator: p_max_mw x availability x hours; hydro: p_max_mw x hours)",
            nullable=True,
            min=0.0,
            max=1.0,
        ),
        Column(
            "shortfall_penalty_cny_per_mwh",
            "float",
            "price of each MWh short (blank: hard)",
            nullable=True,
            min=0.0,
        ),
    ),
)

ENERGY_OBLIGATIONS = Table(
    "energy_obligations",
    "Least and most energy a set of plants (a fleet, a region's plants of some carriers) makes"
    " per calendar month or year: priority generation plans, annual contract volumes, hour"
    " caps (see gridopt.model.obligations). Bounds are in MWh, or in full-load hours of the"
    " set's installed capacity; prorated like contracts when the horizon covers part of a"
    " period.",
    (
        _name("obligation"),
        Column(
            "plants",
            "str",
            "generators and hydro stations of the set, separated by ';'"
            " (blank: every plant of region and carrier)",
            nullable=True,
        ),
        Column(
            "region", "str", "reporting region of the plants' buses (blank: any)", nullable=True
        ),
        Column(
            "carrier",
            "str",
            "carrier(s) of the plants, separated by ';' (blank: any)",
            nullable=True,
        ),
        Column("period", "str", "month or year", default="year", choices=("month", "year")),
        Column("month", "int", "month of a monthly obligation, 1-12", nullable=True, min=1, max=12),
        Column("min_mwh", "float", "least energy per period, MWh", nullable=True, min=0.0),
        Column("max_mwh", "float", "most energy per period, MWh", nullable=True, min=0.0),
        Column(
            "min_hours",
            "float",
            "least energy per period in full-load hours of the set's p_max_mw (instead of min_mwh)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "max_hours",
            "float",
            "most energy per period in full-load hours of the set's"
            " p_max_mw (instead of max_mwh): an hour cap",
            nullable=True,
            min=0.0,
        ),
        Column(
            "shortfall_penalty_cny_per_mwh",
            "float",
            "price of each MWh short of the minimum (blank: the minimum is a hard limit)",
            nullable=True,
            min=0.0,
        ),
    ),
)

GAS_CONTRACTS = Table(
    "gas_contracts",
    "Gas purchase contracts on supplies (LNG terminals, pipeline imports): the gas taken per"
    " calendar month or year between min_mwh_th (take-or-pay) and max_mwh_th; gas not taken"
    " below the minimum is paid at the stated penalty, or, without one, must be taken."
    " Prorated like contracts when the horizon covers part of a period.",
    (
        _name("gas contract"),
        Column(
            "supplies",
            "str",
            "gas supplies delivering under the contract, separated by ';'",
            required=True,
        ),
        Column("period", "str", "month or year", default="year", choices=("month", "year")),
        Column("month", "int", "month of a monthly contract, 1-12", nullable=True, min=1, max=12),
        Column(
            "min_mwh_th", "float", "take-or-pay quantity per period, MWh_th", nullable=True, min=0.0
        ),
        Column("max_mwh_th", "float", "most gas per period, MWh_th", nullable=True, min=0.0),
        Column(
            "shortfall_penalty_cny_per_mwh_th",
            "float",
            "paid for each MWh_th of the"
            " take-or-pay quantity not taken (blank: the gas must be taken)",
            nullable=True,
            min=0.0,
        ),
    ),
)

CAPACITY_PAYMENTS = Table(
    "capacity_payments",
    "Payments for installed capacity (a capacity tariff): a fixed cost per MW of the plants'"
    " p_max_mw and year, prorated to the horizon's hours; reported in `costs`, it does not move"
    " dispatch.",
    (
        _name("capacity payment"),
        Column(
            "plants",
            "str",
            "generators and hydro stations paid, separated by ';' (blank:"
            " every plant of region and carrier)",
            nullable=True,
        ),
        Column(
            "region", "str", "reporting region of the plants' buses (blank: any)", nullable=True
        ),
        Column(
            "carrier",
            "str",
            "carrier(s) of the plants, separated by ';' (blank: any)",
            nullable=True,
        ),
        Column(
            "payment_cny_per_mw_yr",
            "float",
            "payment per MW of installed capacity and year (8,760 h)",
            required=True,
            min=0.0,
        ),
    ),
)

# the rating columns a candidate may extend, per table (the first is the default); each is
# the bound that gridopt.model.core.LinearModel.rating makes variable in an expansion case
EXTENDABLE: dict[str, tuple[str, ...]] = {
    "generators": ("p_max_mw",),
    "storage_units": ("p_max_mw", "energy_max_mwh"),
    "lines": ("s_max_mw",),
    "links": ("p_max_mw",),
    "pipelines": ("p_max_mwth", "p_max_reverse_mwth"),
    "gas_supplies": ("p_max_mwth",),
    "gas_storage": ("volume_max_mwh_th", "injection_max_mwth", "withdrawal_max_mwth"),
}

CANDIDATES = Table(
    "candidates",
    "Capacity that an expansion case may build (see gridopt.model.expansion): one row per rating"
    " of a component that can be extended. The component's rating in its own table is its"
    " existing capacity; a new component is a row there with rating 0. Quantities are in the"
    " unit of the rating (MW for p_max_mw and s_max_mw, MWh for energy_max_mwh, MWth for"
    " p_max_mwth and the gas-storage rates, MWh_th for volume_max_mwh_th): `_per_unit` means"
    " per MW, MWh, MWth or MWh_th of it. A dispatch case ignores this table.",
    (
        _name("candidate"),
        Column("table", "str", "table of the component", required=True, choices=tuple(EXTENDABLE)),
        Column("component", "str", "name of the component in that table", required=True),
        Column(
            "rating",
            "str",
            "rating column extended (blank: the table's main rating:"
            " p_max_mw, s_max_mw, p_max_mwth or volume_max_mwh_th)",
            nullable=True,
            choices=tuple(sorted({c for cols in EXTENDABLE.values() for c in cols})),
        ),
        Column(
            "build_min",
            "float",
            "least new capacity over the horizon, unit of the rating",
            default=0.0,
            min=0.0,
        ),
        Column(
            "build_max",
            "float",
            "most new capacity over the horizon, unit of the rating (blank: no limit)",
            nullable=True,
            min=0.0,
        ),
        Column(
            "block_size",
            "float",
            "capacity is built in whole blocks of this size (a MIP;"
            " solver.relax gives the continuous relaxation); blank: any amount",
            nullable=True,
            min=0.0,
        ),
        Column(
            "overnight_cost_cny_per_unit",
            "float",
            "overnight investment cost, CNY per unit of the rating",
            required=True,
            min=0.0,
        ),
        Column(
            "lifetime_yr",
            "float",
            "economic and technical lifetime, years: capacity built"
            " for the period of year Y is in service in periods before Y + lifetime_yr",
            required=True,
            min=1.0,
        ),
        Column(
            "discount_rate",
            "float",
            "rate of the capital recovery factor (blank: the case's expansion.discount_rate)",
            nullable=True,
            min=0.0,
            max=1.0,
        ),
        Column(
            "fixed_om_cny_per_unit_yr",
            "float",
            "fixed O&M of new capacity, CNY per unit of the rating and year",
            default=0.0,
            min=0.0,
        ),
        Column(
            "build_year_min",
            "int",
            "first period year in which it may be built (blank: any)",
            nullable=True,
            min=1900,
        ),
        Column(
            "existing_retire_year",
            "int",
            "year from which the existing capacity (the"
            " table's rating) is out of service (blank: it stays)",
            nullable=True,
            min=1900,
        ),
        Column(
            "max_hours",
            "float",
            "storage_units p_max_mw only: new energy capacity"
            " follows new power at this many hours (built together, as one asset); blank:"
            " the energy has its own candidate or stays as it is",
            nullable=True,
            min=0.0,
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        BUSES,
        CARRIERS,
        LOADS,
        GENERATORS,
        STORAGE_UNITS,
        LINES,
        LINKS,
        HYDRO,
        GAS_NODES,
        GAS_SUPPLIES,
        PIPELINES,
        GAS_STORAGE,
        GAS_DEMANDS,
        CORRIDORS,
        CONTRACTS,
        MUST_TAKE,
        ENERGY_OBLIGATIONS,
        GAS_CONTRACTS,
        CAPACITY_PAYMENTS,
        CANDIDATES,
    )
}

# hourly time series files under `timeseries/`, each with a `timestamp` column
SERIES: dict[str, str] = {
    "load_mw": "hourly demand, MW",
    "availability_pu": "hourly availability of variable generators, per unit of p_max_mw",
    "inflow_m3s": "hourly natural inflow to hydro stations, m3/s",
    "withdrawal_pu": "hourly withdrawal of water from hydro stations, per unit of their"
    " withdrawal_m3s",
    "gas_demand_mwth": "hourly gas demand other than power generation, MWth",
    "gas_supply_pu": "hourly availability of gas supplies, per unit of p_max_mwth",
    "storage_inflow_mw": "hourly natural inflow into storage units, MW",
    "corridor_shape_pu": "hourly delivery shape of corridor schedules (only its shape within"
    " each day matters)",
}

# the range of the values of each series (low, high; None: unbounded); demand is at least 0
# unless its load allows a negative one (loads.negative_allowed, checked with the tables)
SERIES_RANGE: dict[str, tuple[float | None, float | None]] = {
    "load_mw": (None, None),
    "availability_pu": (0.0, 1.0),
    "inflow_m3s": (0.0, None),
    "gas_demand_mwth": (0.0, None),
    "gas_supply_pu": (0.0, 1.0),
    "corridor_shape_pu": (0.0, None),
}
