"""Security zones and their targets: the `security:` settings of a case, read and checked.

A security zone is a set of buses whose supply is a stated objective (Hong Kong, Macao), with
the import elements that feed it and its local units:

```yaml
security_file: ../networks/pprd/security.yaml     # zones shipped with a network, or inline:
security:
  - name: Macao
    buses: [MO]
    imports:
      - {line: GD-MO, circuits: 8}                 # one circuit is lost at a time
      - {pipeline: Zhuhai-Macao}                   # gas import (gas N-1)
      - {generator: Daya Bay, share_pu: 0.8}       # a unit outside the zone contracted to it
    units: [Coloane A G07, Coloane B GT1]          # blank: every generator on the zone's buses
    unit_mw: {Daya Bay: 944}                       # a plant row's largest unit (blank: p_max/units)
    gas_nodes: [MO]
    n_1: {unit_threshold_mw: 40, headroom: spinning, min_stable_pu: {oil: 0.3}}
    reserve_margin: {margin_pu: 0.2, derating_pu: {oil: 0.9}, peak_demand_mw: 1067.7}
    local_share: {min_pu: 0.07, period: horizon}
    import_share: {max_pu: 0.95, period: month}
    fuel_mix: [{carriers: [gas], min_pu: 0.05}]
    gas_n_1: {include_non_power_demand: true}
```

Every target is optional. `gridopt.model.security` states the equations.

Policies in force: a network may ship its zones (`security_file:` in its `network.yaml`,
relative to the network folder); every case on that network then has them, unless it names
its own `security_file` (which replaces them) or is an expansion case (whose capacities are
variables). A case switches zones or single targets off by name:

```yaml
security_off: [Macao, "Hong Kong: n_1", "Hong Kong: gas_n_1"]   # a zone, or "zone: target"
```

(targets: n_1, reserve_margin, local_share, import_share, fuel_mix (all of them) or
fuel_mix[i], gas_n_1, water_supply). Zones are checked against the network after the case's
overrides: every named bus, line, link, pipeline, generator, carrier, gas node and hydro station
must exist, an import element must cross the zone's boundary, and every line or link that
crosses it must be listed (so that imports are counted in full).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from gridopt.errors import Problem
from gridopt.inputs.settings import SecurityFile, SecurityZone, ShareBound

if TYPE_CHECKING:
    from gridopt.inputs.network import Network
    from gridopt.inputs.settings import Case


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def slug(name: str) -> str:
    """A zone's name as it appears in the names of its row families (`security_n1_<slug>`)."""
    return re.sub(r"\W+", "_", name).strip("_").lower() or "zone"


def target_label(zone: SecurityZone, target: str) -> str:
    """Words for a target key, e.g. `fuel_mix[0]` -> `fuel mix gas >= 50 %`."""
    m = re.fullmatch(r"fuel_mix\[(\d+)\]", target)
    if m:
        mix = zone.fuel_mix[int(m.group(1))]
        return "fuel mix " + "+".join(mix.carriers) + _bounds_words(mix)
    share = getattr(zone, target, None)
    words = {
        "n_1": "N-1 infeed",
        "reserve_margin": "reserve margin",
        "local_share": "local-supply share",
        "import_share": "import share",
        "gas_n_1": "gas N-1",
        "water_supply": "water supply",
    }[target]
    return words + (_bounds_words(share) if isinstance(share, ShareBound) else "")


def _bounds_words(share: ShareBound) -> str:
    parts = []
    if share.min_pu is not None:
        parts.append(f">= {100 * share.min_pu:g} %")
    if share.max_pu is not None:
        parts.append(f"<= {100 * share.max_pu:g} %")
    return " " + " and ".join(parts) + ("" if share.period == "horizon" else " per month")


def security_path(case: Case, path: Path) -> tuple[Path | None, list[Problem]]:
    """The case's security file: relative to the case file and inside its project (as the
    network folder, see `gridopt.inputs.paths.confined_path`)."""
    from gridopt.inputs.paths import confined_path, project_root

    if case.security_file is None:
        return None, []
    target, rule = confined_path(path, case.security_file, project_root(path, case.project)[0])
    if target is not None:
        if target.is_file():
            return target, []
        rule = "no such file"
    return None, [
        Problem(
            str(path), f"security_file {rule}", column="security_file", value=case.security_file
        )
    ]


def read_security_file(file: Path) -> tuple[list[SecurityZone], list[Problem]]:
    """Zones of a security file, or the problems that stop it being read."""
    from gridopt.inputs.case_file import _yaml_line
    from gridopt.inputs.limits import load_yaml, read_yaml_text

    where = str(file)
    text, problems = read_yaml_text(file)
    if text is None:
        return [], problems
    raw, problems = load_yaml(text, where)
    if problems:
        return [], problems
    try:
        return SecurityFile.model_validate(raw or {}).zones, []
    except ValidationError as exc:
        return [], [
            Problem(
                where,
                err["msg"],
                row=_yaml_line(text, err["loc"]),
                column=".".join(str(p) for p in err["loc"]),
                value=None if isinstance(err.get("input"), dict) else err.get("input"),
            )
            for err in exc.errors()
        ]


def network_security_path(
    case: Case, path: Path, network: Network | None
) -> tuple[Path | None, list[Problem]]:
    """The network's zones in force (`security_file:` of its network.yaml, relative to the
    network folder and inside it), unless the case names its own or builds capacity."""
    if (
        network is None
        or case.security_file is not None
        or not network.meta.get("security_file")
        or (case.expansion is not None and case.expansion.enabled)
    ):
        return None, []
    given = str(network.meta["security_file"])
    where = str(network.folder / "network.yaml")
    target = (network.folder / given).resolve()
    if Path(given).is_absolute() or not target.is_relative_to(network.folder.resolve()):
        return None, [
            Problem(
                where,
                "security_file must be a path inside the network folder",
                column="security_file",
                value=given,
            )
        ]
    if not target.is_file():
        return None, [
            Problem(where, "security_file: no such file", column="security_file", value=given)
        ]
    return target, []


def resolve_zones(
    case: Case, path: Path, tables: dict[str, pd.DataFrame], network: Network | None = None
) -> tuple[list[SecurityZone], list[Problem]]:
    """The case's zones (its security file's, or else its network's in force, then its inline
    ones), checked against the tables, with the zones and targets of `security_off` removed."""
    from gridopt.inputs.case_file import _yaml_line

    problems: list[Problem] = []
    zones: list[tuple[SecurityZone, str, str, str | None]] = []  # zone, file, setting, text
    file, found = security_path(case, path)
    problems += found
    if file is None and not found:
        file, found = network_security_path(case, path, network)
        problems += found
    if file is not None:
        from_file, found = read_security_file(file)
        problems += found
        text = file.read_text(encoding="utf-8") if not found else None
        zones += [(z, str(file), f"zones[{i}]", text) for i, z in enumerate(from_file)]
    zones += [(z, str(path), f"security[{i}]", None) for i, z in enumerate(case.security)]
    seen: set[str] = set()
    for zone, where, setting, text in zones:
        found = check_zone(zone, tables, where, setting)
        if slug(zone.name) in seen:
            found.append(
                Problem(
                    where,
                    "a zone of that name (ignoring case and punctuation) is already defined",
                    column=f"{setting}.name",
                    value=zone.name,
                )
            )
        seen.add(slug(zone.name))
        # the case file's lines are found by gridopt.inputs.case_file._with_lines
        if text is not None:
            found = [
                Problem(
                    p.file,
                    p.rule,
                    row=_yaml_line(text, _loc(p.column)),
                    column=p.column,
                    value=p.value,
                )
                for p in found
            ]
        problems += found
    kept, off_problems = switch_off([z for z, *_ in zones], case.security_off, str(path))
    return kept, problems + off_problems


def switch_off(
    zones: list[SecurityZone], names: list[str], file: str
) -> tuple[list[SecurityZone], list[Problem]]:
    """The zones without those named in `security_off` (a zone, or "zone: target")."""
    problems: list[Problem] = []
    by_slug = {slug(z.name): i for i, z in enumerate(zones)}
    out: list[SecurityZone | None] = list(zones)
    for k, name in enumerate(names):
        zone_name, _, target = (part.strip() for part in name.partition(":"))
        i = by_slug.get(slug(zone_name))
        if i is None:
            problems.append(
                Problem(
                    file,
                    "no security zone of that name (zones: "
                    + ", ".join(z.name for z in zones)
                    + ")",
                    column=f"security_off[{k}]",
                    value=name,
                )
            )
            continue
        if not target:
            out[i] = None
            continue
        zone = out[i]
        if zone is None:
            continue
        keys = zone.targets() + (["fuel_mix"] if zone.fuel_mix else [])
        if target not in keys:
            problems.append(
                Problem(
                    file,
                    f"zone '{zone.name}' has no such target (its targets: {', '.join(keys)})",
                    column=f"security_off[{k}]",
                    value=name,
                )
            )
            continue
        out[i] = zone.without(target)
    return [z for z in out if z is not None], problems


def _loc(column: str | None) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", column or "") if p)


def local_units(zone: SecurityZone, tables: dict[str, pd.DataFrame]) -> pd.Index:
    """The zone's local units: those named, or every generator on its buses."""
    gens = tables["generators"]
    if zone.units is not None:
        return pd.Index([u for u in zone.units if u in gens.index])
    return gens.index[gens["bus"].isin(zone.buses).to_numpy()]


def check_zone(
    zone: SecurityZone, tables: dict[str, pd.DataFrame], file: str, setting: str
) -> list[Problem]:
    """Every reference of a zone exists and makes sense, each problem with its setting path."""
    problems: list[Problem] = []

    def bad(column: str, rule: str, value: object) -> None:
        problems.append(
            Problem(file, f"zone '{zone.name}': {rule}", column=f"{setting}.{column}", value=value)
        )

    buses = tables["buses"].index
    inside = set(zone.buses)
    for i, bus in enumerate(zone.buses):
        if bus not in buses:
            bad(f"buses[{i}]", "no such bus in buses", bus)
    gens = tables["generators"]
    gas_nodes = tables["gas_nodes"].index
    for i, node in enumerate(zone.gas_nodes):
        if node not in gas_nodes:
            bad(f"gas_nodes[{i}]", "no such gas node in gas_nodes", node)
    listed: set[tuple[str, str]] = set()
    for i, el in enumerate(zone.imports):
        kind, name = el.kind, el.name
        column = f"imports[{i}].{kind}"
        table = {
            "line": "lines",
            "link": "links",
            "pipeline": "pipelines",
            "generator": "generators",
        }[kind]
        if name not in tables[table].index:
            bad(column, f"no such {kind} in {table}", name)
            continue
        if (kind, name) in listed:
            bad(column, f"{kind} listed twice", name)
        listed.add((kind, name))
        row = tables[table].loc[name]
        if kind in ("line", "link"):
            ends = (row["bus0"] in inside, row["bus1"] in inside)
            if ends[0] == ends[1]:
                bad(
                    column,
                    f"does not cross the zone's boundary ({row['bus0']} -> {row['bus1']})",
                    name,
                )
        elif kind == "pipeline":
            ends = (row["node0"] in zone.gas_nodes, row["node1"] in zone.gas_nodes)
            if ends[0] == ends[1]:
                bad(
                    column,
                    "does not cross the boundary of the zone's gas_nodes"
                    f" ({row['node0']} -> {row['node1']})",
                    name,
                )
        elif row["bus"] in inside:
            bad(column, "is on a bus of the zone: list it as a local unit, not an import", name)
    for table, kind in (("lines", "line"), ("links", "link"), ("corridors", "corridor")):
        df = tables.get(table)
        if df is None or df.empty:
            continue
        crossing = df.index[(df["bus0"].isin(inside) != df["bus1"].isin(inside)).to_numpy()]
        for name in crossing:
            if kind == "corridor":
                bad(
                    "imports",
                    f"corridor '{name}' crosses the zone's boundary; corridors are not"
                    " supported as import elements of a security zone",
                    name,
                )
            elif (kind, name) not in listed:
                bad(
                    "imports",
                    f"{kind} '{name}' crosses the zone's boundary but is not listed"
                    " among its imports",
                    name,
                )
    if zone.units is not None:
        for i, unit in enumerate(zone.units):
            if unit not in gens.index:
                bad(f"units[{i}]", "no such generator in generators", unit)
            elif gens.at[unit, "bus"] not in inside:
                bad(f"units[{i}]", f"is on bus {gens.at[unit, 'bus']}, outside the zone", unit)
    local = set(local_units(zone, tables))
    contracted = {el.name for el in zone.imports if el.kind == "generator"}
    for unit, mw in zone.unit_mw.items():
        if unit not in local | contracted:
            bad("unit_mw", "not a local unit or contracted generator of the zone", unit)
        elif not 0 < mw <= gens.at[unit, "p_max_mw"]:
            bad(
                "unit_mw",
                f"a unit of '{unit}' must be above 0 and at most its p_max_mw"
                f" ({gens.at[unit, 'p_max_mw']:g})",
                mw,
            )
    if zone.n_1 is not None:
        for i, unit in enumerate(zone.n_1.fast_start):
            if unit not in local:
                bad(f"n_1.fast_start[{i}]", "not a local unit of the zone", unit)
    carriers = set(tables["carriers"].index) | set(gens["carrier"])
    for target, column in (
        (zone.n_1, "n_1.min_stable_pu"),
        (zone.reserve_margin, "reserve_margin.derating_pu"),
    ):
        for carrier in getattr(target, column.split(".")[1], {}) if target else {}:
            if carrier not in carriers:
                bad(column, "unknown carrier", carrier)
    for i, mix in enumerate(zone.fuel_mix):
        for j, carrier in enumerate(mix.carriers):
            if carrier not in carriers:
                bad(f"fuel_mix[{i}].carriers[{j}]", "unknown carrier", carrier)
    if zone.water_supply is not None:
        hydro = tables["hydro"]
        for i, station in enumerate(zone.water_supply.hydro):
            if station not in hydro.index:
                bad(f"water_supply.hydro[{i}]", "no such hydro station in hydro", station)
    if zone.gas_n_1 is not None and not tables["gas_nodes"].empty and not zone.gas_nodes:
        bad("gas_n_1", "gas N-1 needs the zone's gas_nodes", None)
    if not local and not zone.imports:
        bad("buses", "the zone has neither local units nor imports", zone.buses)
    return problems
