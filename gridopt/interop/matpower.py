"""MATPOWER cases: import a `.m` case file as a single-snapshot DC dispatch case.

The file is read as text (no MATLAB needed): the matrices `mpc.bus`, `mpc.gen`, `mpc.branch`,
`mpc.gencost`, `mpc.dcline`, the cell array `mpc.genfuel` and the scalar `mpc.baseMVA` (the
version-1 names without `mpc.` work too). Two pieces of MATLAB code that MATPOWER's own
distribution cases end with are applied as MATPOWER would run them (branch impedances given in
ohms, `mpc.branch(:, [BR_R BR_X]) / (Vbase^2 / Sbase)` with Vbase the first bus's baseKV, and
loads in kW, `mpc.bus(:, [PD, QD]) / 1e3`); any other code that changes `mpc` is refused by name.
(`matpowercaseframes` 2.1.1 was tried as the parser: it rejects the short `gencost` rows that
MATPOWER pads with zeros, and reads neither `genfuel` nor that code.)

The mapping follows MATPOWER's DC optimal power flow (`rundcopf`):

- buses (type 4, isolated, are left out with everything on them): name = `bus_i`,
  region = "area <area>", v_nom_kv = baseKV (1 kV where baseKV is 0);
- demand: one load per bus with Pd + Gs MW (MATPOWER's DC model counts the shunt conductance
  Gs at 1 p.u. voltage as demand), on one snapshot at 2025-01-01 00:00;
- in-service branches -> lines: x_ohm = x * tap * baseKV(from bus)^2 / baseMVA (tap = 1 where
  the ratio is 0), so x_ohm / v_nom^2 is proportional to MATPOWER's x * tap, which is all a DC
  power flow uses (r and b are not used); a negative x (series compensation) is kept, a zero x
  refused. phase_shift_deg = SHIFT (phase shifters: the angle across the branch is
  x * tap * P + SHIFT), angle_min_deg / angle_max_deg = ANGMIN / ANGMAX as MATPOWER applies
  them (a branch is limited when ANGMIN is non-zero and above -360 or ANGMAX non-zero and below
  360; then a zero bound means none); `gridopt.model.transmission` turns both into its rows.
  s_max_mw = rateA; rateA = 0 (unlimited) becomes the sum of the imported generators' |Pmax|
  and |Pmin| and of all |demand| + 1 MW, which no DC flow can exceed;
- in-service generators: p_max_mw = Pmax, p_min_mw = Pmin (MATPOWER's DC OPF keeps Pmin).
  A generator with Pmin < 0 (a dispatchable load, or one that can both draw and give) is
  shifted by s = Pmin, exactly: a load "dispatchable load <gen>" of -s MW at its bus plus the
  generator g = P - s in [0, Pmax - s], whose cost is the original cost at s + g (rewritten
  below; the constant part joins the constant terms);
- costs (`gencost`): polynomial (model 2) c2 P^2 + c1 P + c0 -> marginal cost c1 and
  quadratic_cost_cny_per_mw2h c2, solved as they are (a QP; see `gridopt.solve`); degree 3 and
  above are refused. With `quadratic_segments` a quadratic cost is instead replaced by its
  piecewise-linear interpolation at `quadratic_segments` + 1 equally spaced points from Pmin to
  Pmax (exact at those points, above the quadratic between them): an LP, e.g. for unit
  commitment, since HiGHS solves no mixed-integer QP. Piecewise linear (model 1) costs must be
  convex; the generator becomes one gridopt generator per segment between Pmin and Pmax (the
  first and last segments extended as MATPOWER does): the first, named like the MATPOWER
  generator, runs from Pmin to the first interior breakpoint, each further one "<name> seg <k>"
  from 0 to its segment's length, each at its segment's slope. Since the slopes increase, the
  cheaper segments fill first, as on the convex cost curve;
- constant cost terms (c0, the intercept of a piecewise curve at its first segment, and the
  cost of a dispatchable load's shift) do not depend on the dispatch; gridopt's objective
  leaves them out and the import warns with their total, so gridopt objective + that total =
  MATPOWER's objective;
- `genfuel` (e.g. coal, ng, nuclear, hydro, wind, solar, dfo) names each generator's carrier,
  flagged renewable or fossil by name (`gridopt.interop.carrier_flags`); without it every
  generator's carrier is "generator";
- DC lines (`mpc.dcline`, in service) -> links from F_BUS to T_BUS: p_max_mw = PMAX,
  p_min_pu = PMIN / PMAX, efficiency = 1 - LOSS1, and a load of LOSS0 MW at T_BUS, MATPOWER's
  loss LOSS0 + LOSS1 P (a lossy line that also runs backwards: two one-way links, each losing
  LOSS1, since MATPOWER's loss would turn into a gain backwards). MATPOWER's `rundcopf`
  models them only after `toggle_dcline(mpc, 'on')` (and PYPOWER never); `dclines=False`
  leaves them out, with a warning;
- currency: MATPOWER's costs are in $/h, so the case's currency is USD.

Start-up and shut-down costs play no part in an OPF and are ignored with a warning; reactive
power costs likewise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.schema import TABLES
from gridopt.interop import (
    DEFAULT_START,
    ImportedCase,
    carrier_flags,
    names_preview,
    write_case,
)

# MATPOWER column positions (0-based), from its caseformat
BUS_I, BUS_TYPE, PD, QD, GS, BUS_AREA, BASE_KV = 0, 1, 2, 3, 4, 6, 9
GEN_BUS, PMAX, PMIN, GEN_STATUS = 0, 8, 9, 7
DC_F_BUS, DC_T_BUS, DC_STATUS, DC_PMIN, DC_PMAX, DC_LOSS0, DC_LOSS1 = 0, 1, 2, 9, 10, 15, 16
BR_R = 2
F_BUS, T_BUS, BR_X, RATE_A, TAP, SHIFT, BR_STATUS, ANGMIN, ANGMAX = 0, 1, 3, 5, 8, 9, 10, 11, 12
MODEL, STARTUP, SHUTDOWN, NCOST, COST = 0, 1, 2, 3, 4
PW_LINEAR, POLYNOMIAL = 1, 2
ISOLATED = 4

_MATRIX = re.compile(r"(?:\bmpc\s*\.\s*)?\b(bus|gen|branch|gencost|dcline)\s*=\s*\[(.*?)\]", re.S)
_CELL = re.compile(r"(?:\bmpc\s*\.\s*)?\bgenfuel\s*=\s*\{(.*?)\}", re.S)
# the MATLAB code of MATPOWER's distribution cases, which gridopt applies as MATPOWER runs it
_OHMS = re.compile(
    r"mpc\.branch\(\s*:\s*,\s*\[\s*BR_R\s*,?\s*BR_X\s*\]\s*\)\s*=\s*"
    r"mpc\.branch\(\s*:\s*,\s*\[\s*BR_R\s*,?\s*BR_X\s*\]\s*\)\s*/\s*"
    r"\(\s*Vbase\s*\^\s*2\s*/\s*Sbase\s*\)\s*;"
)
_VBASE = re.compile(r"Vbase\s*=\s*mpc\.bus\(\s*1\s*,\s*BASE_KV\s*\)\s*\*\s*1e3\s*;")
_SBASE = re.compile(r"Sbase\s*=\s*mpc\.baseMVA\s*\*\s*1e6\s*;")
_KW = re.compile(
    r"mpc\.bus\(\s*:\s*,\s*\[\s*PD\s*,?\s*QD\s*\]\s*\)\s*=\s*"
    r"mpc\.bus\(\s*:\s*,\s*\[\s*PD\s*,?\s*QD\s*\]\s*\)\s*/\s*1e3\s*;"
)
# loads given in MVA, turned into MW at a power factor (case141)
_PF = re.compile(r"^\s*pf\s*=\s*([0-9.eE+-]+)\s*;", re.M)
_PF_QD = re.compile(
    r"mpc\.bus\(\s*:\s*,\s*QD\s*\)\s*=\s*mpc\.bus\(\s*:\s*,\s*PD\s*\)\s*\*\s*"
    r"sin\(\s*acos\(\s*pf\s*\)\s*\)\s*;"
)
_PF_PD = re.compile(
    r"mpc\.bus\(\s*:\s*,\s*PD\s*\)\s*=\s*mpc\.bus\(\s*:\s*,\s*PD\s*\)\s*\*\s*pf"
    r"\s*;"
)
# a number written as arithmetic (case533mt's baseKV 135/sqrt(3))
_ARITHMETIC = re.compile(r"^[0-9.eE+\-*/() ]*(sqrt\([0-9.eE+\-*/() ]*\)[0-9.eE+\-*/() ]*)*$")
# a block that runs only when a flag set to 0 in the file is true (case8387pegase's `fixed`)
_OFF_BLOCK = re.compile(r"^\s*(\w+)\s*=\s*0\s*;(?P<body>.*?)^\s*if\s+\1\b.*?^\s*end\b", re.S | re.M)
_CHANGES_MPC = re.compile(r"^\s*mpc\s*\.\s*(\w+)\s*\(.*?\)\s*=", re.M)
_SCALAR = re.compile(r"(?:\bmpc\s*\.\s*)?\bbaseMVA\s*=\s*([-+0-9.eE]+)")
_NUMBER = {"inf": np.inf, "+inf": np.inf, "-inf": -np.inf, "nan": np.nan}


@dataclass
class MatpowerCase:
    """The numeric matrices of a MATPOWER case, as in its file (external bus numbers)."""

    base_mva: float
    bus: np.ndarray
    gen: np.ndarray
    branch: np.ndarray
    gencost: np.ndarray | None
    dcline: np.ndarray | None = None
    genfuel: list[str] | None = None


def to_pypower(mpc: MatpowerCase) -> dict[str, Any]:
    """The case as PYPOWER takes it (`ppc`; PYPOWER has no DC lines: they are left out)."""
    return {
        "version": "2",
        "baseMVA": mpc.base_mva,
        "bus": mpc.bus,
        "gen": mpc.gen,
        "branch": mpc.branch,
        "gencost": mpc.gencost,
    }


def _strip_comments(text: str) -> str:
    """Drop `%` comments (outside quoted strings) and join `...` continuation lines."""
    out = []
    for line in text.splitlines():
        quoted = False
        for i, ch in enumerate(line):
            if ch == "'":
                quoted = not quoted
            elif ch == "%" and not quoted:
                line = line[:i]
                break
        out.append(line)
    return re.sub(r"\.\.\.\s*\n", " ", "\n".join(out))


def _number(token: str) -> float:
    """A matrix entry: a number, Inf or NaN, or arithmetic of numbers with sqrt (MATLAB
    evaluates expressions in matrices, e.g. 135/sqrt(3))."""
    key = token.lower()
    if key in _NUMBER:
        return _NUMBER[key]
    try:
        return float(token)
    except ValueError:
        if not _ARITHMETIC.match(token):
            raise
        return float(eval(token, {"__builtins__": {}}, {"sqrt": np.sqrt}))  # checked above


def _parse_matrix(body: str, name: str, file: str) -> np.ndarray:
    rows = []
    for chunk in re.split(r"[;\n]", body):
        tokens = [t for t in re.split(r"[\s,]+", chunk.strip()) if t]
        if not tokens:
            continue
        try:
            rows.append([_number(t) for t in tokens])
        except ValueError:
            raise InputError(
                [
                    Problem(
                        file, f"mpc.{name}: not a number in row {len(rows) + 1} ({chunk.strip()!r})"
                    )
                ]
            ) from None
    if not rows:
        return np.zeros((0, 0))
    width = max(len(r) for r in rows)
    # MATPOWER pads short gencost rows with zeros; other matrices must be rectangular
    if name != "gencost" and any(len(r) != width for r in rows):
        raise InputError([Problem(file, f"mpc.{name}: rows have different lengths")])
    return np.array([r + [0.0] * (width - len(r)) for r in rows], dtype=float)


def read_matpower(path: Path | str) -> MatpowerCase:
    """Parse a MATPOWER `.m` case file (format version 1 or 2)."""
    path = Path(path)
    file = str(path)
    try:
        text = _strip_comments(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise InputError([Problem(file, f"cannot be read ({exc})")]) from None
    found = {
        m.group(1): _parse_matrix(m.group(2), m.group(1), file) for m in _MATRIX.finditer(text)
    }
    base = _SCALAR.search(text)
    fuel = _CELL.search(text)
    missing = [k for k in ("bus", "gen", "branch") if k not in found]
    if base is None:
        missing.insert(0, "baseMVA")
    if missing or base is None:
        raise InputError(
            [Problem(file, "not a MATPOWER case: no " + ", ".join(f"mpc.{k}" for k in missing))]
        )
    widths = {"bus": 13, "gen": 10, "branch": 11}
    short = [k for k, w in widths.items() if found[k].size and found[k].shape[1] < w]
    if short:
        raise InputError(
            [
                Problem(
                    file, f"mpc.{k} has {found[k].shape[1]} columns, at least {widths[k]} expected"
                )
                for k in short
            ]
        )
    mpc = MatpowerCase(
        base_mva=float(base.group(1)),
        bus=found["bus"],
        gen=found["gen"],
        branch=found["branch"],
        gencost=found.get("gencost"),
        dcline=found.get("dcline"),
        genfuel=re.findall(r"'([^']*)'", fuel.group(1)) if fuel else None,
    )
    _run_known_code(mpc, _MATRIX.sub("", text), file)
    _check_bus_numbers(mpc, file)
    return mpc


def _check_bus_numbers(mpc: MatpowerCase, file: str) -> None:
    """Every bus number once in mpc.bus, and every gen, branch and dcline end among them;
    rows counted from 1 within each matrix, as MATPOWER's own messages count them."""
    empty = [k for k in ("bus", "gen") if not getattr(mpc, k).size]
    if empty:
        raise InputError(
            [
                Problem(file, f"mpc.{k} has no rows: a case needs buses and generators")
                for k in empty
            ]
        )
    numbers = mpc.bus[:, BUS_I]
    problems: list[Problem] = []
    seen, first = np.unique(numbers, return_index=True)
    twice = np.setdiff1d(np.arange(len(numbers)), first)
    problems += [
        Problem(file, f"mpc.bus, row {i + 1}: bus number {numbers[i]:g} is given twice", value=None)
        for i in twice
    ]
    ends: list[tuple[str, np.ndarray, tuple[int, ...], str]] = [
        ("gen", mpc.gen, (GEN_BUS,), "its bus")
    ]
    ends.append(("branch", mpc.branch, (F_BUS, T_BUS), "its from or to bus"))
    if mpc.dcline is not None and mpc.dcline.size:
        ends.append(("dcline", mpc.dcline, (0, 1), "its from or to bus"))
    for matrix, rows, columns, what in ends:
        if not rows.size:
            continue
        for i in np.flatnonzero(~np.isin(rows[:, list(columns)], seen).all(axis=1)):
            missing = [f"{rows[i, c]:g}" for c in columns if rows[i, c] not in seen]
            problems.append(
                Problem(
                    file,
                    f"mpc.{matrix}, row {i + 1}: {what} (bus {', '.join(missing)}) is not in"
                    " mpc.bus",
                )
            )
    if problems:
        raise InputError(problems[:20])


def _run_known_code(mpc: MatpowerCase, code: str, file: str) -> None:
    """Apply the MATLAB statements of MATPOWER's distribution cases (module docstring) to the
    parsed matrices; refuse any other statement that changes `mpc`."""
    code = _OFF_BLOCK.sub(lambda m: m.group("body"), code)  # a block switched off runs not
    if _VBASE.search(code) and _SBASE.search(code) and _OHMS.search(code):
        vbase = mpc.bus[0, BASE_KV] * 1e3
        sbase = mpc.base_mva * 1e6
        mpc.branch[:, [BR_R, BR_X]] /= vbase**2 / sbase
        code = _OHMS.sub("", code)
    if _KW.search(code):
        mpc.bus[:, [PD, QD]] /= 1e3
        code = _KW.sub("", code)
    pf = _PF.search(code)
    if pf and _PF_PD.search(code):
        mpc.bus[:, QD] = mpc.bus[:, PD] * np.sin(np.arccos(float(pf.group(1))))
        mpc.bus[:, PD] *= float(pf.group(1))
        code = _PF_PD.sub("", _PF_QD.sub("", code))
    changed = sorted(set(_CHANGES_MPC.findall(code)))
    if changed:
        raise InputError(
            [
                Problem(
                    file,
                    "the case file runs MATLAB code that changes"
                    f" {', '.join('mpc.' + c for c in changed)}; gridopt reads"
                    " the data as written and does not run such code (save the"
                    " case from MATPOWER with savecase to import it)",
                )
            ]
        )


def _bus_name(numbers: np.ndarray) -> np.ndarray:
    return np.array(
        [f"{int(b)}" if float(b).is_integer() else f"{b:g}" for b in numbers], dtype=object
    )


def from_matpower(
    mpc: MatpowerCase,
    source: str = "MATPOWER case",
    name: str = "matpower",
    quadratic_segments: int | None = None,
    dclines: bool = True,
) -> ImportedCase:
    """Map a MATPOWER case to gridopt tables (see the module docstring for the rules)."""
    problems: list[Problem] = []
    notes: list[str] = []

    def refuse(rule: str) -> None:
        problems.append(Problem(source, rule))

    bus = mpc.bus
    live = bus[:, BUS_TYPE] != ISOLATED
    if (~live).any():
        notes.append(
            f"isolated buses (type 4) left out with their generators and branches:"
            f" {names_preview(_bus_name(bus[~live, BUS_I]))}"
        )
    bus = bus[live]
    numbers = bus[:, BUS_I]
    names = pd.Index(_bus_name(numbers))
    base_kv = bus[:, BASE_KV]
    if (base_kv <= 0).any():
        notes.append(
            f"buses {names_preview(names[base_kv <= 0])} have no baseKV; 1 kV is used"
            " (reactances are scaled consistently, flows are unaffected)"
        )
    v_nom = np.where(base_kv > 0, base_kv, 1.0)
    buses = pd.DataFrame(
        {
            "region": [f"area {int(a)}" for a in bus[:, BUS_AREA]],
            "carrier": "AC",
            "v_nom_kv": v_nom,
        },
        index=names,
    )
    kv_of = pd.Series(v_nom, index=numbers)

    demand_mw = bus[:, PD] + bus[:, GS]
    has_load = demand_mw != 0
    if (bus[:, GS] != 0).any():
        notes.append(
            "bus shunt conductance Gs is counted as demand (MW at 1 p.u. voltage), as"
            " MATPOWER's DC model does"
        )
    load_names = [f"load {b}" for b in names[has_load]]
    load_bus = list(names[has_load])
    load_values = list(demand_mw[has_load])

    gen_rows = np.flatnonzero((mpc.gen[:, GEN_STATUS] > 0) & np.isin(mpc.gen[:, GEN_BUS], numbers))
    gen = mpc.gen[gen_rows]
    generators, constant, shifted = _generators(mpc, gen_rows, refuse, notes, quadratic_segments)
    for label, (bus_name, mw) in shifted.items():
        load_names.append(f"dispatchable load {label}")
        load_bus.append(bus_name)
        load_values.append(mw)
    if shifted:
        notes.append(
            f"generators {names_preview(list(shifted))} have Pmin < 0 (dispatchable"
            " loads): each is a load of -Pmin at its bus plus a generator from 0 to"
            " Pmax - Pmin whose output reduces it, at the same cost"
        )
    if constant != 0:
        notes.append(
            f"constant cost terms total {constant:.12g} per hour; gridopt's objective"
            " leaves them out (add them to compare with MATPOWER's objective)"
        )

    links = pd.DataFrame(columns=["bus0", "bus1", "carrier", "p_max_mw", "p_min_pu", "efficiency"])
    if mpc.dcline is not None and mpc.dcline.size:
        on = mpc.dcline[
            (mpc.dcline[:, DC_STATUS] > 0)
            & np.isin(mpc.dcline[:, DC_F_BUS], numbers)
            & np.isin(mpc.dcline[:, DC_T_BUS], numbers)
        ]
        if not dclines:
            notes.append(
                f"{len(on)} DC lines (mpc.dcline) left out, as MATPOWER's rundcopf"
                " does unless toggle_dcline(mpc, 'on') was run"
            )
        elif len(on):
            links, loss_loads = _dclines(on, refuse)
            for link, (bus_name, mw) in loss_loads.items():
                load_names.append(f"{link} loss")
                load_bus.append(bus_name)
                load_values.append(mw)
            notes.append(
                f"{len(on)} DC lines (mpc.dcline) imported as links with their losses;"
                " MATPOWER's rundcopf models them only after toggle_dcline(mpc, 'on')"
            )

    total_mw = float(np.abs(gen[:, [PMAX, PMIN]]).sum() + np.abs(load_values).sum())
    lines = _branches(mpc, numbers, kv_of, total_mw, refuse, notes)
    if problems:
        raise InputError(problems)
    loads = pd.DataFrame(
        {
            "bus": load_bus,
            "scale": 1.0,
            "negative_allowed": np.asarray(load_values, dtype=float) < 0,
        },
        index=pd.Index(load_names),
    )
    load_mw = pd.DataFrame(
        [load_values],
        columns=loads.index,
        index=pd.DatetimeIndex([DEFAULT_START], name="timestamp"),
    )
    carriers = carrier_flags(pd.Index(generators["carrier"].unique()))
    tables = {
        "buses": buses,
        "carriers": carriers.assign(color="#999999"),
        "loads": loads,
        "generators": generators,
        "lines": lines,
        "links": links,
    }
    case = {
        "name": name,
        "description": f"DC dispatch of the MATPOWER case {Path(source).name} (baseMVA"
        f" {mpc.base_mva:g}); constant cost terms {constant:.12g} not included",
        "network": ".",
        "currency": "USD",
        "horizon": {
            "start": DEFAULT_START.strftime("%Y-%m-%d %H:%M"),
            "snapshots": 1,
            "resolution_h": 1,
        },
        "model": "dispatch",
        "load_shedding": {"enabled": False},
    }
    return ImportedCase(tables=tables, series={"load_mw": load_mw}, case=case, warnings=notes)


def _dclines(on: np.ndarray, refuse) -> tuple[pd.DataFrame, dict[str, tuple[str, float]]]:
    """In-service DC lines -> links (module docstring) and their constant losses as loads.

    A lossy DC line that also runs backwards (PMIN < 0, LOSS1 > 0) becomes two one-way links,
    "<name>" and "<name> reverse", each losing LOSS1: MATPOWER's linear loss would gain energy
    run backwards, which gridopt's links refuse."""
    f, t = _bus_name(on[:, DC_F_BUS]), _bus_name(on[:, DC_T_BUS])
    labels = np.array(
        [f"dcline {k + 1} {a}-{b}" for k, (a, b) in enumerate(zip(f, t, strict=True))]
    )
    p_max, p_min = on[:, DC_PMAX], on[:, DC_PMIN]
    wide = on.shape[1] > DC_LOSS1
    loss0 = on[:, DC_LOSS0] if wide else np.zeros(len(on))
    loss1 = on[:, DC_LOSS1] if wide else np.zeros(len(on))
    bad = (p_max <= 0) | (p_min < -p_max) | (p_min > p_max) | (loss1 < 0) | (loss1 >= 1)
    if bad.any():
        refuse(
            f"DC lines {names_preview(labels[bad])}: gridopt's links need PMAX > 0,"
            " -PMAX <= PMIN <= PMAX and 0 <= LOSS1 < 1"
        )
    split = (p_min < 0) & (loss1 > 0)
    links = pd.DataFrame(
        {
            "bus0": f,
            "bus1": t,
            "carrier": "DC",
            "p_max_mw": p_max,
            "p_min_pu": np.where(
                split | (p_max <= 0), 0.0, p_min / np.where(p_max > 0, p_max, 1.0)
            ),
            "efficiency": 1.0 - loss1,
        },
        index=pd.Index(labels),
    )
    back = pd.DataFrame(
        {
            "bus0": t[split],
            "bus1": f[split],
            "carrier": "DC",
            "p_max_mw": -p_min[split],
            "p_min_pu": 0.0,
            "efficiency": 1.0 - loss1[split],
        },
        index=pd.Index([f"{lab} reverse" for lab in labels[split]]),
    )
    return pd.concat([links, back]), {
        lab: (bus, float(l0)) for lab, bus, l0 in zip(labels, t, loss0, strict=True) if l0
    }


def _generators(
    mpc: MatpowerCase, rows: np.ndarray, refuse, notes: list[str], quadratic_segments: int | None
) -> tuple[pd.DataFrame, float, dict[str, tuple[str, float]]]:
    """Generator table (segments of piecewise costs as extra generators), the constant cost,
    and the generators shifted by Pmin < 0: name -> (bus, MW of the load that stands for -Pmin).
    """
    gen = mpc.gen
    cost = mpc.gencost
    n_gen = len(gen)
    empty = pd.DataFrame(columns=TABLES["generators"].column_names[1:])
    if cost is None or cost.size == 0:
        refuse("no mpc.gencost: a dispatch needs generator costs")
        return empty, 0.0, {}
    if len(cost) not in (n_gen, 2 * n_gen):
        refuse(f"mpc.gencost has {len(cost)} rows for {n_gen} generators")
        return empty, 0.0, {}
    if len(cost) == 2 * n_gen and (cost[n_gen:, COST:] != 0).any():
        notes.append(
            "reactive power costs (the second half of mpc.gencost) are ignored in a DC dispatch"
        )
    startup = cost[rows][:, [STARTUP, SHUTDOWN]]
    if (startup != 0).any():
        notes.append("start-up and shut-down costs are ignored (they play no part in an OPF)")
    fuel = mpc.genfuel if mpc.genfuel is not None and len(mpc.genfuel) == n_gen else None
    records: list[dict] = []
    shifted: dict[str, tuple[str, float]] = {}
    nonconvex: list[str] = []
    constant = 0.0
    for r in rows:
        label = f"gen {r + 1}"
        p_min, p_max = float(gen[r, PMIN]), float(gen[r, PMAX])
        model, ncost = int(cost[r, MODEL]), int(cost[r, NCOST])
        c = cost[r, COST:]
        bus = _bus_name(gen[r : r + 1, GEN_BUS])[0]
        base = {"bus": bus, "carrier": fuel[r] if fuel else "generator"}
        quadratic = 0.0
        if model == POLYNOMIAL:
            coef = c[:ncost][::-1]  # c0, c1, c2, ...
            if len(coef) > 3 and (coef[3:] != 0).any():
                refuse(f"{label}: polynomial costs above degree 2 are not supported")
                continue
            c0, c1, c2 = (float(coef[k]) if len(coef) > k else 0.0 for k in range(3))
            if c2 < 0:
                refuse(f"{label}: a concave quadratic cost (c2 < 0) is not supported")
                continue
            if c2 != 0 and quadratic_segments is not None:
                if p_max > p_min:
                    xs = np.linspace(p_min, p_max, quadratic_segments + 1)
                    segs, const = _segments(xs, c0 + c1 * xs + c2 * xs**2, p_min, p_max)
                else:  # a fixed output: any slope gives the same cost; take the tangent
                    slope = c1 + 2 * c2 * p_min
                    segs = [(p_min, p_max, slope)]
                    const = c0 + c1 * p_min + c2 * p_min**2 - slope * p_min
            else:
                segs, const, quadratic = [(p_min, p_max, c1)], c0, c2
        elif model == PW_LINEAR:
            pts = c[: 2 * ncost].reshape(ncost, 2)
            if ncost < 2 or (np.diff(pts[:, 0]) <= 0).any():
                refuse(
                    f"{label}: piecewise-linear cost needs at least two points with increasing MW"
                )
                continue
            slopes = np.diff(pts[:, 1]) / np.diff(pts[:, 0])
            if (np.diff(slopes) < -1e-9 * np.abs(slopes).max()).any():
                nonconvex.append(label)
                pts = _upper_envelope(pts, p_min, p_max)
            segs, const = _segments(pts[:, 0], pts[:, 1], p_min, p_max)
        else:
            refuse(f"{label}: unknown cost model {model}")
            continue
        # Pmin < 0: P = s + g with g >= 0; the first piece's cost at s is a constant, and a
        # quadratic q (s + g)^2 = q g^2 + 2 q s g + q s^2
        shift = min(p_min, 0.0)
        if shift < 0:
            shifted[label] = (bus, -shift)
            lo0, hi0, slope0 = segs[0]
            const += slope0 * shift + quadratic * shift**2
            segs = [(lo0, hi0, slope0 + 2 * quadratic * shift), *segs[1:]]
        constant += const
        for k, (lo, hi, slope) in enumerate(segs):
            first = k == 0
            records.append(
                {
                    **base,
                    "name": label if first else f"{label} seg {k + 1}",
                    "p_max_mw": hi - shift if first else hi - lo,
                    "p_min_mw": p_min - shift if first else 0.0,
                    "marginal_cost_cny_per_mwh": float(slope),
                    "quadratic_cost_cny_per_mw2h": quadratic if first else 0.0,
                }
            )
    if nonconvex:
        notes.append(
            f"generators {names_preview(nonconvex)} have piecewise-linear costs that"
            " are not convex: each costs the largest of its segments' lines, as in"
            " MATPOWER's OPF (its cost rows are y >= each line)"
        )
    if not records:
        return empty, constant, shifted
    return pd.DataFrame.from_records(records).set_index("name"), constant, shifted


def _upper_envelope(pts: np.ndarray, p_min: float, p_max: float) -> np.ndarray:
    """Points (MW, cost) of max_k line_k(P) on [p_min, p_max] (and the curve's own range), the
    convex function MATPOWER optimises for a piecewise cost: one line per segment."""
    slopes = np.diff(pts[:, 1]) / np.diff(pts[:, 0])
    icept = pts[:-1, 1] - slopes * pts[:-1, 0]
    lo, hi = min(p_min, pts[0, 0]), max(p_max, pts[-1, 0])
    found = [lo, hi]
    for i in range(len(slopes)):  # a handful of segments
        for j in range(i + 1, len(slopes)):
            if slopes[i] != slopes[j]:
                x = (icept[j] - icept[i]) / (slopes[i] - slopes[j])
                if lo < x < hi:
                    found.append(x)
    xs = np.unique(found)
    ys = (slopes[None, :] * xs[:, None] + icept[None, :]).max(axis=1)
    # keep the kinks only
    keep = np.ones(len(xs), dtype=bool)
    if len(xs) > 2:
        d = np.diff(ys) / np.diff(xs)
        keep[1:-1] = ~np.isclose(d[1:], d[:-1], rtol=1e-12, atol=1e-12)
    return np.column_stack([xs[keep], ys[keep]])


def _segments(
    xs: np.ndarray, ys: np.ndarray, p_min: float, p_max: float
) -> tuple[list[tuple[float, float, float]], float]:
    """Pieces (from MW, to MW, slope) of a convex curve on [p_min, p_max], and the constant.

    Outside the points the first and last pieces are extended. The constant is the value at 0
    of the first piece's line, so that cost = constant + sum of slope x MW over the pieces.
    """
    slopes = np.diff(ys) / np.diff(xs)
    inner = xs[1:-1]
    cuts = np.unique(np.concatenate([[p_min, p_max], inner[(inner > p_min) & (inner < p_max)]]))
    if len(cuts) == 1:
        cuts = np.array([p_min, p_max])
    mids = 0.5 * (cuts[:-1] + cuts[1:])
    piece = np.clip(np.searchsorted(xs[1:-1], mids, side="right"), 0, len(slopes) - 1)
    first = piece[0]
    constant = float(ys[first] - slopes[first] * xs[first])
    return [
        (float(a), float(b), float(slopes[k]))
        for a, b, k in zip(cuts[:-1], cuts[1:], piece, strict=True)
    ], constant


def _branches(
    mpc: MatpowerCase,
    numbers: np.ndarray,
    kv_of: pd.Series,
    total_mw: float,
    refuse,
    notes: list[str],
) -> pd.DataFrame:
    """In-service branches between live buses -> lines; `total_mw` is all the generation
    capacity and demand imported, which bounds any DC flow."""
    br = mpc.branch
    rows = np.flatnonzero(
        (br[:, BR_STATUS] > 0) & np.isin(br[:, F_BUS], numbers) & np.isin(br[:, T_BUS], numbers)
    )
    b = br[rows]
    labels = [
        f"{f}-{t}" for f, t in zip(_bus_name(b[:, F_BUS]), _bus_name(b[:, T_BUS]), strict=True)
    ]
    index = pd.Index(labels)
    dup = index.duplicated(keep=False)
    if dup.any():
        count = pd.Series(1, index=index).groupby(level=0).cumsum().to_numpy()
        index = pd.Index(
            [f"{n} #{k}" if d else n for n, k, d in zip(labels, count, dup, strict=True)]
        )
    angle_min = np.full(len(b), np.nan)
    angle_max = np.full(len(b), np.nan)
    if b.shape[1] > ANGMAX:
        lo, hi = b[:, ANGMIN], b[:, ANGMAX]
        # as MATPOWER's makeAang: such a branch is limited, a zero bound of it is none
        limited = ((lo != 0) & (lo > -360)) | ((hi != 0) & (hi < 360))
        angle_min = np.where(limited & (lo != 0), np.clip(lo, -360, 360), np.nan)
        angle_max = np.where(limited & (hi != 0), np.clip(hi, -360, 360), np.nan)
        if limited.any():
            notes.append(
                f"{int(limited.sum())} branches have angle-difference limits, applied"
                " as limits on their flow"
            )
    if (b[:, BR_X] == 0).any():
        refuse(
            f"branches {names_preview(index[b[:, BR_X] == 0])}: reactance x must not be 0"
            " (a DC power flow divides by it)"
        )
    if (b[:, BR_X] < 0).any():
        notes.append(
            f"branches {names_preview(index[b[:, BR_X] < 0])} have a negative"
            " reactance (series compensation), kept as it is"
        )
    if (b[:, SHIFT] != 0).any():
        notes.append(
            f"{int((b[:, SHIFT] != 0).sum())} phase-shifting transformers: their"
            " shift enters the power flow as in MATPOWER's DC model"
        )
    tap = np.where(b[:, TAP] == 0, 1.0, b[:, TAP])
    kv = kv_of.reindex(b[:, F_BUS]).to_numpy()
    x_ohm = b[:, BR_X] * tap * kv**2 / mpc.base_mva
    unlimited = b[:, RATE_A] == 0
    bound = total_mw + 1.0
    if unlimited.any():
        notes.append(
            f"{int(unlimited.sum())} branches have rateA = 0 (no limit); their"
            f" s_max_mw is {bound:.6g}, more than any DC flow can reach"
        )
    if (tap != 1).any():
        notes.append(
            f"{int((tap != 1).sum())} transformers with an off-nominal tap: reactance"
            " x * tap, as in MATPOWER's DC model"
        )
    return pd.DataFrame(
        {
            "bus0": _bus_name(b[:, F_BUS]),
            "bus1": _bus_name(b[:, T_BUS]),
            "x_ohm": x_ohm,
            "s_max_mw": np.where(unlimited, bound, b[:, RATE_A]),
            "carrier": "AC",
            "phase_shift_deg": b[:, SHIFT],
            "angle_min_deg": angle_min,
            "angle_max_deg": angle_max,
        },
        index=index,
    )


def import_matpower(
    src: Path | str,
    out_dir: Path | str,
    overwrite: bool = False,
    quadratic_segments: int | None = None,
    dclines: bool = True,
) -> list[str]:
    """Read a MATPOWER `.m` file and write a single-snapshot gridopt case folder.

    Returns the warnings; raises `InputError` for what gridopt cannot represent.
    """
    src = Path(src)
    if quadratic_segments is not None and quadratic_segments < 1:
        raise InputError(
            [
                Problem(
                    str(src),
                    "the number of segments for quadratic costs must be at least 1",
                    value=quadratic_segments,
                )
            ]
        )
    mpc = read_matpower(src)
    imported = from_matpower(
        mpc, source=str(src), name=src.stem, quadratic_segments=quadratic_segments, dclines=dclines
    )
    write_case(imported, out_dir, overwrite=overwrite, inputs=(src,))
    return imported.warnings
