"""MATPOWER cases: import a `.m` case file as a single-snapshot DC dispatch case.

The file is read as text (no MATLAB needed): the matrices `mpc.bus`, `mpc.gen`, `mpc.branch`,
`mpc.gencost` and the scalar `mpc.baseMVA` (the version-1 names without `mpc.` work too).
The mapping follows MATPOWER's DC optimal power flow (`rundcopf`):

- buses (type 4, isolated, are left out with everything on them): name = `bus_i`,
  region = "area <area>", v_nom_kv = baseKV (1 kV where baseKV is 0);
- demand: one load per bus with Pd + Gs MW (MATPOWER's DC model counts the shunt conductance
  Gs at 1 p.u. voltage as demand), on one snapshot at 2025-01-01 00:00;
- in-service branches -> lines: x_ohm = x * tap * baseKV(from bus)^2 / baseMVA (tap = 1 where
  the ratio is 0), so x_ohm / v_nom^2 is proportional to MATPOWER's x * tap, which is all a DC
  power flow uses; r and b are not used. s_max_mw = rateA; rateA = 0 (unlimited) becomes
  the sum of the imported generators' Pmax and of all |demand| + 1 MW, which no DC flow
  can exceed.
  Phase shifters (angle != 0) and angle-difference limits (as MATPOWER applies them: angmin
  or angmax non-zero and inside +-360 degrees) are refused;
- in-service generators: p_max_mw = Pmax, p_min_mw = Pmin (MATPOWER's DC OPF keeps Pmin);
  Pmin < 0 (dispatchable loads) is refused;
- costs (`gencost`): polynomial (model 2) of degree <= 1 -> marginal cost c1; a quadratic
  term is refused unless `quadratic_segments` is given, which replaces c2 P^2 + c1 P + c0 by
  its piecewise-linear interpolation at `quadratic_segments` + 1 equally spaced points from
  Pmin to Pmax (exact at those points, above the quadratic between them). Piecewise linear
  (model 1) costs must be convex; the generator becomes one gridopt generator per segment
  between Pmin and Pmax (the first and last segments extended as MATPOWER does): the first,
  named like the MATPOWER generator, runs from Pmin to the first interior breakpoint, each
  further one "<name> seg <k>" from 0 to its segment's length, each at its segment's slope.
  Since the slopes increase, the cheaper segments fill first, as on the convex cost curve.
- constant cost terms (c0, or the intercept of a piecewise curve at its first segment) do
  not depend on the dispatch; gridopt's objective leaves them out and the import warns with
  their total, so gridopt objective + that total = MATPOWER's objective.

Start-up and shut-down costs play no part in an OPF and are ignored with a warning; reactive
power costs likewise. DC lines (`mpc.dcline`) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gridopt.errors import InputError, Problem
from gridopt.inputs.schema import TABLES
from gridopt.interop import DEFAULT_START, ImportedCase, names_preview, write_case

# MATPOWER column positions (0-based), from its caseformat
BUS_I, BUS_TYPE, PD, GS, BUS_AREA, BASE_KV = 0, 1, 2, 4, 6, 9
GEN_BUS, PMAX, PMIN, GEN_STATUS = 0, 8, 9, 7
F_BUS, T_BUS, BR_X, RATE_A, TAP, SHIFT, BR_STATUS, ANGMIN, ANGMAX = 0, 1, 3, 5, 8, 9, 10, 11, 12
MODEL, STARTUP, SHUTDOWN, NCOST, COST = 0, 1, 2, 3, 4
PW_LINEAR, POLYNOMIAL = 1, 2
ISOLATED = 4

_MATRIX = re.compile(r"(?:\bmpc\s*\.\s*)?\b(bus|gen|branch|gencost|dcline)\s*=\s*\[(.*?)\]",
                     re.S)
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


def _parse_matrix(body: str, name: str, file: str) -> np.ndarray:
    rows = []
    for chunk in re.split(r"[;\n]", body):
        tokens = [t for t in re.split(r"[\s,]+", chunk.strip()) if t]
        if not tokens:
            continue
        try:
            rows.append([_NUMBER[t.lower()] if t.lower() in _NUMBER else float(t)
                         for t in tokens])
        except ValueError:
            raise InputError([Problem(file, f"mpc.{name}: not a number in row {len(rows) + 1}"
                                      f" ({chunk.strip()!r})")]) from None
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
    found = {m.group(1): _parse_matrix(m.group(2), m.group(1), file)
             for m in _MATRIX.finditer(text)}
    base = _SCALAR.search(text)
    missing = [k for k in ("bus", "gen", "branch") if k not in found]
    if base is None:
        missing.insert(0, "baseMVA")
    if missing:
        raise InputError([Problem(file, "not a MATPOWER case: no " + ", ".join(
            f"mpc.{k}" for k in missing))])
    widths = {"bus": 13, "gen": 10, "branch": 11}
    short = [k for k, w in widths.items() if found[k].size and found[k].shape[1] < w]
    if short:
        raise InputError([Problem(file, f"mpc.{k} has {found[k].shape[1]} columns, at least"
                                  f" {widths[k]} expected") for k in short])
    return MatpowerCase(base_mva=float(base.group(1)), bus=found["bus"], gen=found["gen"],
                        branch=found["branch"], gencost=found.get("gencost"),
                        dcline=found.get("dcline"))


def _bus_name(numbers: np.ndarray) -> np.ndarray:
    return np.array([f"{int(b)}" if float(b).is_integer() else f"{b:g}" for b in numbers],
                    dtype=object)


def from_matpower(mpc: MatpowerCase, source: str = "MATPOWER case", name: str = "matpower",
                  quadratic_segments: int | None = None) -> ImportedCase:
    """Map a MATPOWER case to gridopt tables (see the module docstring for the rules)."""
    problems: list[Problem] = []
    notes: list[str] = []

    def refuse(rule: str) -> None:
        problems.append(Problem(source, rule))

    if mpc.dcline is not None and mpc.dcline.size:
        refuse(f"mpc.dcline: {len(mpc.dcline)} DC lines are not supported")
    bus = mpc.bus
    live = bus[:, BUS_TYPE] != ISOLATED
    if (~live).any():
        notes.append(f"isolated buses (type 4) left out with their generators and branches:"
                     f" {names_preview(_bus_name(bus[~live, BUS_I]))}")
    bus = bus[live]
    numbers = bus[:, BUS_I]
    names = pd.Index(_bus_name(numbers))
    base_kv = bus[:, BASE_KV]
    if (base_kv <= 0).any():
        notes.append(f"buses {names_preview(names[base_kv <= 0])} have no baseKV; 1 kV is used"
                     " (reactances are scaled consistently, flows are unaffected)")
    v_nom = np.where(base_kv > 0, base_kv, 1.0)
    buses = pd.DataFrame({"region": [f"area {int(a)}" for a in bus[:, BUS_AREA]],
                          "carrier": "AC", "v_nom_kv": v_nom}, index=names)
    kv_of = pd.Series(v_nom, index=numbers)

    demand_mw = bus[:, PD] + bus[:, GS]
    has_load = demand_mw != 0
    if (bus[:, GS] != 0).any():
        notes.append("bus shunt conductance Gs is counted as demand (MW at 1 p.u. voltage), as"
                     " MATPOWER's DC model does")
    loads = pd.DataFrame({"bus": names[has_load], "scale": 1.0},
                         index=pd.Index([f"load {b}" for b in names[has_load]]))
    load_mw = pd.DataFrame([demand_mw[has_load]], columns=loads.index)

    gen_rows = np.flatnonzero((mpc.gen[:, GEN_STATUS] > 0) & np.isin(mpc.gen[:, GEN_BUS],
                                                                     numbers))
    gen = mpc.gen[gen_rows]
    if (gen[:, PMIN] < 0).any():
        bad = [f"gen {r + 1}" for r in gen_rows[gen[:, PMIN] < 0]]
        refuse(f"generators {names_preview(bad)}: Pmin < 0 (dispatchable loads) is not"
               " supported")
    generators, constant = _generators(mpc, gen_rows, refuse, notes, quadratic_segments)
    if constant != 0:
        notes.append(f"constant cost terms total {constant:.6g} per hour; gridopt's objective"
                     " leaves them out (add them to compare with MATPOWER's objective)")

    lines = _branches(mpc, numbers, kv_of, float(np.abs(gen[:, PMAX]).sum()
                                                 + np.abs(demand_mw).sum()), refuse, notes)
    if problems:
        raise InputError(problems)
    load_mw.index = pd.DatetimeIndex([DEFAULT_START], name="timestamp")
    tables = {"buses": buses, "loads": loads, "generators": generators, "lines": lines}
    case = {
        "name": name,
        "description": f"DC dispatch of the MATPOWER case {Path(source).name} (baseMVA"
                       f" {mpc.base_mva:g}); constant cost terms {constant:.6g} not included",
        "network": ".",
        "horizon": {"start": DEFAULT_START.strftime("%Y-%m-%d %H:%M"), "snapshots": 1,
                    "resolution_h": 1},
        "model": "dispatch",
        "load_shedding": {"enabled": False},
    }
    return ImportedCase(tables=tables, series={"load_mw": load_mw}, case=case, warnings=notes)


def _generators(mpc: MatpowerCase, rows: np.ndarray, refuse, notes: list[str],
                quadratic_segments: int | None) -> tuple[pd.DataFrame, float]:
    """Generator table (segments of piecewise costs as extra generators), constant cost."""
    gen = mpc.gen
    cost = mpc.gencost
    n_gen = len(gen)
    if cost is None or cost.size == 0:
        refuse("no mpc.gencost: a dispatch needs generator costs")
        return pd.DataFrame(columns=TABLES["generators"].column_names[1:]), 0.0
    if len(cost) not in (n_gen, 2 * n_gen):
        refuse(f"mpc.gencost has {len(cost)} rows for {n_gen} generators")
        return pd.DataFrame(columns=TABLES["generators"].column_names[1:]), 0.0
    if len(cost) == 2 * n_gen and (cost[n_gen:, COST:] != 0).any():
        notes.append("reactive power costs (the second half of mpc.gencost) are ignored in a"
                     " DC dispatch")
    startup = cost[rows][:, [STARTUP, SHUTDOWN]]
    if (startup != 0).any():
        notes.append("start-up and shut-down costs are ignored (they play no part in an OPF)")
    records: list[dict] = []
    constant = 0.0
    for r in rows:
        label = f"gen {r + 1}"
        p_min, p_max = float(gen[r, PMIN]), float(gen[r, PMAX])
        model, ncost = int(cost[r, MODEL]), int(cost[r, NCOST])
        c = cost[r, COST:]
        base = {"bus": _bus_name(gen[r:r + 1, GEN_BUS])[0], "carrier": "generator",
                "p_max_mw": p_max, "p_min_mw": p_min}
        if model == POLYNOMIAL:
            coef = c[:ncost][::-1]  # c0, c1, c2, ...
            if len(coef) > 2 and (coef[2:] != 0).any():
                if len(coef) > 3 and (coef[3:] != 0).any():
                    refuse(f"{label}: polynomial costs above degree 2 are not supported")
                    continue
                if quadratic_segments is None:
                    refuse(f"{label}: a quadratic cost is not supported; give a number of"
                           " segments to linearise quadratic costs")
                    continue
                if p_max > p_min:
                    xs = np.linspace(p_min, p_max, quadratic_segments + 1)
                    ys = coef[0] + coef[1] * xs + coef[2] * xs**2
                    segs, const = _segments(xs, ys, p_min, p_max)
                else:  # a fixed output: any slope gives the same cost; take the tangent
                    slope = coef[1] + 2 * coef[2] * p_min
                    segs = [(p_min, p_max, slope)]
                    const = coef[0] + coef[1] * p_min + coef[2] * p_min**2 - slope * p_min
            else:
                c0 = float(coef[0]) if len(coef) > 0 else 0.0
                c1 = float(coef[1]) if len(coef) > 1 else 0.0
                segs, const = [(p_min, p_max, c1)], c0
        elif model == PW_LINEAR:
            pts = c[:2 * ncost].reshape(ncost, 2)
            if ncost < 2 or (np.diff(pts[:, 0]) <= 0).any():
                refuse(f"{label}: piecewise-linear cost needs at least two points with"
                       " increasing MW")
                continue
            slopes = np.diff(pts[:, 1]) / np.diff(pts[:, 0])
            if (np.diff(slopes) < -1e-9 * np.abs(slopes).max()).any():
                refuse(f"{label}: piecewise-linear cost is not convex (slopes must not"
                       " decrease)")
                continue
            segs, const = _segments(pts[:, 0], pts[:, 1], p_min, p_max)
        else:
            refuse(f"{label}: unknown cost model {model}")
            continue
        constant += const
        for k, (lo, hi, slope) in enumerate(segs):
            first = k == 0
            records.append({**base, "name": label if first else f"{label} seg {k + 1}",
                            "p_max_mw": hi if first else hi - lo,
                            "p_min_mw": p_min if first else 0.0,
                            "marginal_cost_cny_per_mwh": float(slope)})
    if not records:
        return pd.DataFrame(columns=TABLES["generators"].column_names[1:]), constant
    return pd.DataFrame.from_records(records).set_index("name"), constant


def _segments(xs: np.ndarray, ys: np.ndarray, p_min: float, p_max: float
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
    return [(float(a), float(b), float(slopes[k]))
            for a, b, k in zip(cuts[:-1], cuts[1:], piece, strict=True)], constant


def _branches(mpc: MatpowerCase, numbers: np.ndarray, kv_of: pd.Series, total_mw: float,
              refuse, notes: list[str]) -> pd.DataFrame:
    """In-service branches between live buses -> lines; `total_mw` is all the generation
    capacity and demand imported, which bounds any DC flow."""
    br = mpc.branch
    rows = np.flatnonzero((br[:, BR_STATUS] > 0) & np.isin(br[:, F_BUS], numbers)
                          & np.isin(br[:, T_BUS], numbers))
    b = br[rows]
    labels = [f"{f}-{t}" for f, t in zip(_bus_name(b[:, F_BUS]), _bus_name(b[:, T_BUS]),
                                          strict=True)]
    index = pd.Index(labels)
    dup = index.duplicated(keep=False)
    if dup.any():
        count = pd.Series(1, index=index).groupby(level=0).cumsum().to_numpy()
        index = pd.Index([f"{n} #{k}" if d else n
                          for n, k, d in zip(labels, count, dup, strict=True)])
    shift = b[:, SHIFT] != 0
    if shift.any():
        refuse(f"branches {names_preview(index[shift])}: phase shifters are not supported")
    if b.shape[1] > ANGMAX:
        lo, hi = b[:, ANGMIN], b[:, ANGMAX]
        limited = ((lo != 0) & (lo > -360)) | ((hi != 0) & (hi < 360))
        if limited.any():
            refuse(f"branches {names_preview(index[limited])}: angle-difference limits are"
                   " not supported")
    if (b[:, BR_X] <= 0).any():
        refuse(f"branches {names_preview(index[b[:, BR_X] <= 0])}: reactance x must be"
               " positive")
    tap = np.where(b[:, TAP] == 0, 1.0, b[:, TAP])
    kv = kv_of.reindex(b[:, F_BUS]).to_numpy()
    x_ohm = b[:, BR_X] * tap * kv**2 / mpc.base_mva
    unlimited = b[:, RATE_A] == 0
    bound = total_mw + 1.0
    if unlimited.any():
        notes.append(f"{int(unlimited.sum())} branches have rateA = 0 (no limit); their"
                     f" s_max_mw is {bound:.6g}, more than any DC flow can reach")
    if (tap != 1).any():
        notes.append(f"{int((tap != 1).sum())} transformers with an off-nominal tap: reactance"
                     " x * tap, as in MATPOWER's DC model")
    return pd.DataFrame({"bus0": _bus_name(b[:, F_BUS]), "bus1": _bus_name(b[:, T_BUS]),
                         "x_ohm": x_ohm, "s_max_mw": np.where(unlimited, bound, b[:, RATE_A]),
                         "carrier": "AC"}, index=index)


def import_matpower(src: Path | str, out_dir: Path | str, overwrite: bool = False,
                    quadratic_segments: int | None = None) -> list[str]:
    """Read a MATPOWER `.m` file and write a single-snapshot gridopt case folder.

    Returns the warnings; raises `InputError` for what gridopt cannot represent.
    """
    src = Path(src)
    if quadratic_segments is not None and quadratic_segments < 1:
        raise InputError([Problem(str(src), "the number of segments for quadratic costs must"
                                  " be at least 1", value=quadratic_segments)])
    mpc = read_matpower(src)
    imported = from_matpower(mpc, source=str(src), name=src.stem,
                             quadratic_segments=quadratic_segments)
    write_case(imported, out_dir, overwrite=overwrite)
    return imported.warnings
