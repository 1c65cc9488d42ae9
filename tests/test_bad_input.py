"""Bad input is caught before solving: exit code 2, no traceback, file, row and column named.

Each row of BAD edits one file of a copied tiny case and states where the error must point.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridopt.cli import app
from tests.conftest import copy_case

CASE = "tiny_hydro_cascade"


def edit(file: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / file
        text = path.read_text()
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1))

    return apply


def write(file: str, text: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / file
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return apply


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for change in changes:
            change(root)

    return apply


def remove(file: str) -> Callable[[Path], None]:
    return lambda root: (root / file).unlink()


NET = "networks/tiny_hydro_cascade/"
TS = NET + "timeseries/load_mw.csv"
CASE_FILE = f"cases/{CASE}.yaml"
GEN_HEAD = "name,bus,carrier,p_max_mw,marginal_cost_cny_per_mwh\n"

# (id, edit, file suffix, row (a number, or text found on the expected line), column, rule)
BAD = [
    (
        "negative capacity",
        edit(NET + "generators.csv", "1000", "-1000"),
        "generators.csv",
        2,
        "p_max_mw",
        "must be at least 0",
    ),
    (
        "capacity not a number",
        edit(NET + "generators.csv", "1000", "lots"),
        "generators.csv",
        2,
        "p_max_mw",
        "expected a number",
    ),
    (
        "capacity blank",
        edit(NET + "generators.csv", "1000", ""),
        "generators.csv",
        2,
        "p_max_mw",
        "a value is required",
    ),
    (
        "misspelt bus",
        edit(NET + "generators.csv", "thermal,H,", "thermal,HH,"),
        "generators.csv",
        2,
        "bus",
        "does not exist in buses",
    ),
    (
        "unknown carrier",
        edit(NET + "generators.csv", ",coal,", ",lignite,"),
        "generators.csv",
        2,
        "carrier",
        "does not exist in carriers",
    ),
    (
        "duplicate generator",
        write(NET + "generators.csv", GEN_HEAD + "t,H,coal,10,5\nt,H,coal,20,6\n"),
        "generators.csv",
        3,
        "name",
        "duplicate name",
    ),
    (
        "missing name",
        write(NET + "generators.csv", GEN_HEAD + ",H,coal,10,5\n"),
        "generators.csv",
        2,
        "name",
        "a value is required",
    ),
    (
        "must-run above rating",
        write(NET + "generators.csv", "name,bus,carrier,p_max_mw,p_min_mw\nt,H,coal,10,20\n"),
        "generators.csv",
        2,
        "p_min_mw",
        "p_min_mw exceeds p_max_mw",
    ),
    (
        "misspelt column",
        edit(NET + "generators.csv", "p_max_mw", "p_max_MW"),
        "generators.csv",
        1,
        "p_max_MW",
        "unknown column",
    ),
    (
        "negative ramp",
        write(
            NET + "generators.csv", "name,bus,carrier,p_max_mw,ramp_up_mw_per_h\nt,H,coal,10,-1\n"
        ),
        "generators.csv",
        2,
        "ramp_up_mw_per_h",
        "must be at least 0",
    ),
    (
        "bus without region",
        edit(NET + "buses.csv", "H,Valley", "H,"),
        "buses.csv",
        2,
        "region",
        "a value is required",
    ),
    (
        "line on a bus of another carrier",
        lambda root: (
            write(NET + "buses.csv", "name,region,carrier\nH,Valley,AC\nG,Valley,H2\n")(root),
            write(NET + "lines.csv", "name,bus0,bus1,x_ohm,s_max_mw\nL,G,H,10,100\n")(root),
        ),
        "lines.csv",
        2,
        "bus0",
        "a line joins AC or DC buses",
    ),
    (
        "longitude out of range",
        write(NET + "buses.csv", "name,region,x_lon\nH,Valley,500\n"),
        "buses.csv",
        2,
        "x_lon",
        "must be at most 180",
    ),
    (
        "load on missing bus",
        edit(NET + "loads.csv", "load H,H", "load H,Z"),
        "loads.csv",
        2,
        "bus",
        "does not exist in buses",
    ),
    (
        "load profile missing",
        write(NET + "loads.csv", "name,bus,profile\nload H,H,nope\n"),
        "loads.csv",
        2,
        "profile",
        "profile not found",
    ),
    (
        "negative load scale",
        write(NET + "loads.csv", "name,bus,scale\nload H,H,-2\n"),
        "loads.csv",
        2,
        "scale",
        "must be at least 0",
    ),
    (
        "load value not a number",
        edit(TS, "2025-01-01 02:00,60", "2025-01-01 02:00,sixty"),
        "load_mw.csv",
        4,
        "load H",
        "expected a number",
    ),
    (
        "load value missing",
        edit(TS, "2025-01-01 02:00,60", "2025-01-01 02:00,"),
        "load_mw.csv",
        4,
        "load H",
        "expected a number",
    ),
    (
        "duplicate timestamp",
        edit(TS, "2025-01-01 01:00", "2025-01-01 00:00"),
        "load_mw.csv",
        3,
        "timestamp",
        "duplicate timestamp",
    ),
    (
        "gap in series",
        edit(TS, "2025-01-01 02:00", "2025-01-01 05:00"),
        "load_mw.csv",
        4,
        "timestamp",
        "must be hourly",
    ),
    (
        "bad timestamp",
        edit(TS, "2025-01-01 03:00", "tomorrow"),
        "load_mw.csv",
        5,
        "timestamp",
        "not a date and time",
    ),
    (
        "series one row short",
        edit(TS, "2025-01-01 03:00,60\n", ""),
        "pprd" if False else "tiny_hydro_cascade.yaml",
        None,
        "horizon",
        "is not covered by",
    ),
    (
        "downstream unknown",
        edit(NET + "hydro.csv", ",Lower,2,", ",Lowr,2,"),
        "hydro.csv",
        2,
        "downstream",
        "does not exist in hydro",
    ),
    (
        "cascade loop",
        edit(NET + "hydro.csv", "free,,,0,", "free,,Upper,0,"),
        "hydro.csv",
        2,
        "downstream",
        "loop",
    ),
    (
        "initial storage above maximum",
        edit(NET + "hydro.csv", "0.72,0.36", "0.72,0.9"),
        "hydro.csv",
        2,
        "storage_initial_hm3",
        "outside",
    ),
    (
        "unknown end rule",
        edit(NET + "hydro.csv", "0.36,free", "0.36,sometimes"),
        "hydro.csv",
        2,
        "end_rule",
        "must be one of fixed, cyclic, free",
    ),
    (
        "conversion not a number",
        edit(NET + "hydro.csv", "30,1.0,", "30,one,"),
        "hydro.csv",
        2,
        "mw_per_m3s",
        "expected a number",
    ),
    (
        "negative travel time",
        edit(NET + "hydro.csv", ",Lower,2,", ",Lower,-2,"),
        "hydro.csv",
        2,
        "travel_time_h",
        "must be at least 0",
    ),
    (
        "storage efficiency above 1",
        write(
            NET + "storage_units.csv",
            "name,bus,carrier,p_max_mw,energy_max_mwh,efficiency_charge\nb,H,hydro,1,2,1.5\n",
        ),
        "storage_units.csv",
        2,
        "efficiency_charge",
        "must be at most 1",
    ),
    (
        "storage initial above energy",
        write(
            NET + "storage_units.csv",
            "name,bus,carrier,p_max_mw,energy_max_mwh,soc_initial_mwh\nb,H,hydro,1,2,3\n",
        ),
        "storage_units.csv",
        2,
        "soc_initial_mwh",
        "exceeds energy_max_mwh",
    ),
    (
        "line to itself",
        write(NET + "lines.csv", "name,bus0,bus1,x_ohm,s_max_mw\nl,H,H,1,1\n"),
        "lines.csv",
        2,
        "bus1",
        "must differ",
    ),
    (
        "link efficiency above 1",
        write(NET + "links.csv", "name,bus0,bus1,p_max_mw,efficiency\nk,H,H2,1,1.5\n"),
        "links.csv",
        2,
        "efficiency",
        "must be at most 1",
    ),
    (
        "reversible lossy link",
        write(NET + "links.csv", "name,bus0,bus1,p_max_mw,p_min_pu,efficiency\nk,H,H,1,-1,0.9\n"),
        "links.csv",
        2,
        "efficiency",
        "must be lossless",
    ),
    (
        "load on an island without supply",
        both(
            write(NET + "buses.csv", "name,region\nH,Valley\nQ,Far\n"),
            write(NET + "loads.csv", "name,bus,profile\nload H,H,\nfar,Q,load H\n"),
        ),
        "loads.csv",
        3,
        "bus",
        "island with no generator",
    ),
    (
        "generators file is binary",
        write(NET + "generators.csv", b"\x00\xff\xfe\x00garbage"),
        "generators.csv",
        None,
        None,
        "cannot be read",
    ),
    (
        "buses table missing",
        remove(NET + "buses.csv"),
        "buses.csv",
        None,
        None,
        "required table is missing",
    ),
    (
        "unknown case setting",
        edit(CASE_FILE, "model: dispatch", "modle: dispatch"),
        f"{CASE}.yaml",
        "modle:",
        "modle",
        "Extra inputs are not permitted",
    ),
    (
        "negative snapshots",
        edit(CASE_FILE, "snapshots: 4", "snapshots: -4"),
        f"{CASE}.yaml",
        "snapshots:",
        "horizon.snapshots",
        "greater than 0",
    ),
    (
        "override of a missing component",
        edit(
            CASE_FILE,
            "model: dispatch",
            "model: dispatch\noverrides: [{table: hydro, name: Up, column: p_max_mw, value: 1}]",
        ),
        f"{CASE}.yaml",
        "name: Up",
        "overrides[0].name",
        "no component of that name",
    ),
    (
        "override of a missing column",
        edit(
            CASE_FILE,
            "model: dispatch",
            "model: dispatch\noverrides: [{table: hydro, name: Upper, column: size, value: 1}]",
        ),
        f"{CASE}.yaml",
        "column: size",
        "overrides[0].column",
        "has no such column",
    ),
    (
        "scaling an unknown carrier",
        edit(CASE_FILE, "model: dispatch", "model: dispatch\nscale: {capacity: {fusion: 2}}"),
        f"{CASE}.yaml",
        "capacity:",
        "scale.capacity",
        "unknown carrier",
    ),
    (
        "network outside the project",
        edit(CASE_FILE, "../networks/tiny_hydro_cascade", "../../../../etc"),
        f"{CASE}.yaml",
        None,
        "network",
        "leaves the project folder",
    ),
    (
        "broken YAML",
        edit(CASE_FILE, "model: dispatch", "model: [dispatch"),
        f"{CASE}.yaml",
        None,
        None,
        "not valid YAML",
    ),
]


@pytest.mark.parametrize(
    ("change", "file", "row", "column", "rule"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_is_reported_with_exit_code_2(tmp_path, change, file, row, column, rule):
    case = copy_case(tmp_path, CASE)
    change(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(case)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = result.stderr
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if file in line and rule in line]
    assert lines, f"no line names {file!r} with {rule!r}:\n{text}"
    line = lines[0]
    if isinstance(row, str):  # the line of the case file that holds this text
        text_lines = case.read_text().splitlines()
        row = next(i + 1 for i, t in enumerate(text_lines) if row in t)
    if row is not None:
        assert re.search(rf"\brow {row}\b", line), line
    if column is not None:
        assert f"column '{column}'" in line, line


def test_at_least_thirty_distinct_bad_inputs():
    assert len({b[0] for b in BAD}) >= 30


def test_a_change_into_a_plain_setting_is_an_input_error():
    from gridopt.errors import InputError
    from gridopt.inputs.case_file import read_case
    from tests.conftest import CASES

    with pytest.raises(InputError, match=r"column 'name\.x'"):
        read_case(CASES / f"{CASE}.yaml", {"name.x": 1})
