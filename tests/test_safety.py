"""Nothing lost, nothing silently wrong.

Each row of REPRODUCTIONS is a hostile or clumsy use of the command line on a copied project
(`cases/`, `networks/`): it states the exit code, words the message must hold (and words it
must not), and the one path allowed to change; every file of the project, hidden ones
included, is hashed before and after, so a command that refuses also leaves everything as it
was. Interruptions, killed writes and concurrent writers need real processes and have their
own tests below.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gridopt.results.folders as folders
import gridopt.results.write as write
import gridopt.solver.highs as highs
from gridopt.cli import app
from gridopt.solver.types import Outcome, Status
from tests.conftest import ROOT, copy_case

CASE = "cases/tiny_two_bus.yaml"
NET = "networks/tiny_two_bus"
LOADS = f"{NET}/timeseries/load_mw.csv"
SECRET = "TOPSECRET-ROW"


def tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every file, folder and link under `root` with a digest of its content."""
    out = {}
    for path in sorted(root.rglob("*")):
        if any(path == s or path.is_relative_to(s) for s in skip):
            continue
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link -> " + os.readlink(path)
        elif path.is_dir():
            out[rel] = "folder"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def append(text: str, case: str = CASE) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / case
        path.write_text(path.read_text() + "\n" + textwrap.dedent(text))

    return apply


def replace(file: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / file
        assert old in path.read_text(), f"{old!r} not in {file}"
        path.write_text(path.read_text().replace(old, new, 1))

    return apply


def put(file: str, text: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return apply


def solved(out: str = "runs/x", case: str = CASE) -> Callable[[Path], None]:
    """An earlier, good run written to `out`."""

    def apply(root: Path) -> None:
        res = invoke(root, ["solve", case, "--out", out, "--format", "csv"])
        assert res.exit_code == 0, res.output

    return apply


def infeasible_case(root: Path) -> None:
    text = (root / CASE).read_text() + "\nscale: {demand: 5.0}\n"
    (root / "cases" / "infeasible.yaml").write_text(text)


def steps(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for change in changes:
            change(root)

    return apply


def link(name: str, target: Callable[[Path], Path]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / name
        if path.exists() or path.is_symlink():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        path.symlink_to(target(root))

    return apply


def elsewhere(root: Path) -> Path:
    """A folder beside the project, outside it, holding a file with a secret and a network."""
    out = root.parent / "elsewhere"
    if not out.exists():
        out.mkdir()
        (out / "secret.csv").write_text(f"name,bus\n{SECRET},A\n")
        shutil.copytree(root / NET, out / "net")
    return out


def invoke(root: Path, args: list[str]):
    cwd = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(app, args)
    finally:
        os.chdir(cwd)


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "results.xlsx")


def zero_answer(matrix, options, **_kwargs) -> Outcome:
    """A backend that calls 'optimal' a point that serves nothing and sheds nothing."""
    return Outcome(Status.OPTIMAL, "Optimal", 0.0, [0.0] * matrix.A.shape[1], None)


@dataclass
class Repro:
    name: str
    args: list[str]
    code: int
    says: list[str]
    setup: Callable[[Path], None] = lambda root: None
    may_change: list[str] = field(default_factory=list)  # paths that may change
    never_says: list[str] = field(default_factory=list)
    patch: tuple[object, str, object] | None = None  # (module, attribute, replacement)
    after: Callable[[Path], None] | None = None


def _summary_status(out: str, status: str) -> Callable[[Path], None]:
    def check(root: Path) -> None:
        assert json.loads((root / out / "summary.json").read_text())["status"] == status

    return check


SOLVE = ["solve", CASE]
REPRODUCTIONS = [
    # ---- data destroyed by --out
    Repro(
        "out is the cases folder",
        [*SOLVE, "--out", "cases"],
        2,
        ["cases: lies in the project's cases/ folder, which holds inputs"],
    ),
    Repro(
        "out is the network being solved",
        [*SOLVE, "--out", NET],
        2,
        ["lies in the project's networks/ folder"],
    ),
    Repro(
        "out is a new folder among the cases",
        [*SOLVE, "--out", "cases/run1"],
        2,
        ["lies in the project's cases/ folder"],
    ),
    Repro(
        "out is an existing plain file",
        [*SOLVE, "--out", "notes.txt"],
        2,
        ["notes.txt: exists and is not a folder"],
        setup=put("notes.txt", "my notes\n"),
    ),
    Repro(
        "out is the project root (--out .)",
        [*SOLVE, "--out", "."],
        2,
        ["is the folder gridopt runs in"],
    ),
    Repro(
        "out is a folder gridopt did not write",
        [*SOLVE, "--out", "docs"],
        2,
        ["docs: is a folder that gridopt did not write"],
        setup=put("docs/readme.md", "keep me\n"),
    ),
    Repro(
        "out is a symbolic link",
        [*SOLVE, "--out", "latest"],
        2,
        ["latest: is a symbolic link"],
        setup=steps(solved(), link("latest", lambda root: root / "runs" / "x")),
    ),
    Repro(
        "out is a sweep folder",
        [*SOLVE, "--out", "sw"],
        2,
        ["is a sweep folder, not a results folder"],
        setup=put("sw/.gridopt.json", '{"kind": "sweep"}'),
    ),
    Repro(
        "an infeasible run keeps an earlier good one",
        ["solve", "cases/infeasible.yaml", "--out", "runs/x"],
        3,
        [
            "the model is infeasible",
            "power balance at bus B cannot be met",
            "the earlier results in",
            "are kept",
            "--overwrite",
        ],
        setup=steps(solved(), infeasible_case),
    ),
    Repro(
        "--overwrite lets an infeasible run replace a good one",
        ["solve", "cases/infeasible.yaml", "--out", "runs/x", "--overwrite"],
        3,
        ["the model is infeasible", "summary written to runs/x"],
        setup=steps(solved(), infeasible_case),
        may_change=["runs/x"],
        after=_summary_status("runs/x", "infeasible"),
    ),
    Repro(
        "a good run replaces a good one",
        [*SOLVE, "--out", "runs/x", "--format", "csv"],
        0,
        ["optimal"],
        setup=solved(),
        may_change=["runs/x"],
        after=_summary_status("runs/x", "optimal"),
    ),
    Repro(
        "plot into the cases folder",
        ["plot", "runs/x", "--out", "cases"],
        2,
        ["lies in the project's cases/ folder"],
        setup=solved(),
    ),
    Repro(
        "export over the network",
        ["export", "pypsa", CASE, NET],
        2,
        ["lies in the project's networks/ folder"],
    ),
    Repro(
        "export over an existing file",
        ["export", "pypsa", CASE, "model.nc"],
        2,
        ["model.nc: exists; gridopt does not replace a file"],
        setup=put("model.nc", b"not ours"),
    ),
    Repro(
        "calibrate into the networks folder",
        ["calibrate", CASE, "--out", NET],
        2,
        ["lies in the project's networks/ folder"],
    ),
    Repro(
        "security study over a plain file",
        ["security", "cases/tiny_security.yaml", "--out", "notes.txt"],
        2,
        ["exists and is not a folder"],
        setup=put("notes.txt", "x"),
    ),
    Repro(
        "sweep into the cases folder",
        ["sweep", CASE, "-s", "s.yaml", "-o", "cases"],
        2,
        ["lies in the project's cases/ folder"],
        setup=put("s.yaml", "scenarios: [{name: a}]\n"),
    ),
    # ---- silently wrong answers
    Repro(
        "capacity scaled by NaN",
        SOLVE,
        2,
        ["column 'scale.capacity.coal': Input should be a finite number"],
        setup=append("scale: {capacity: {coal: .nan}}"),
    ),
    Repro(
        "value of lost load infinite",
        SOLVE,
        2,
        ["column 'load_shedding.voll_cny_per_mwh': Input should be a finite number"],
        setup=append("load_shedding: {enabled: true, voll_cny_per_mwh: .inf}"),
    ),
    Repro(
        "negative load",
        SOLVE,
        2,
        [
            "load_mw.csv, row 4, column 'load B': must be at least 0",
            "negative_allowed",
            "(value: -300.0)",
        ],
        setup=replace(LOADS, "02:00,300", "02:00,-300"),
    ),
    Repro(
        "a negative load its table allows",
        ["validate", CASE],
        0,
        ["valid"],
        setup=steps(
            replace(LOADS, "02:00,300", "02:00,-30"),
            put(f"{NET}/loads.csv", "name,bus,negative_allowed\nload B,B,true\n"),
        ),
    ),
    Repro(
        "feasibility tolerance of 1e9",
        SOLVE,
        2,
        ["column 'solver.options.primal_feasibility_tolerance': a tolerance above 0.001"],
        setup=append("solver: {options: {primal_feasibility_tolerance: 1.0e9}}"),
    ),
    Repro(
        "an invalid solver option value",
        SOLVE,
        2,
        [
            "column 'solver.options.presolve': HiGHS does not take this value",
            '"off", "choose" or "on"',
        ],
        setup=append("solver: {options: {presolve: banana}}"),
    ),
    Repro(
        "an unknown solver option",
        SOLVE,
        2,
        ["column 'solver.options.presolv': is not a HiGHS option (did you mean presolve?)"],
        setup=append("solver: {options: {presolv: 'off'}}"),
    ),
    Repro(
        "a solver option that writes a file",
        SOLVE,
        2,
        ["solver.options.solution_file': reads or writes files"],
        setup=append("solver: {options: {solution_file: /tmp/x.sol}}"),
    ),
    Repro(
        "a load series column given twice",
        SOLVE,
        2,
        ["load_mw.csv, row 1, column 'load B': column name given twice"],
        setup=put(
            LOADS,
            "timestamp,load B,load B\n"
            + "".join(f"2025-01-01 0{h}:00,100,900\n" for h in range(4)),
        ),
    ),
    Repro(
        "an answer that breaks the balances is not optimal",
        [*SOLVE, "--out", "runs/x"],
        1,
        [
            "the solver failed",
            "breaks the model's own rows",
            "power balance at bus B: supply short by 300 MW at 2025-01-01 02:00",
        ],
        never_says=["optimal: objective"],
        may_change=["runs"],
        patch=(highs, "solve_matrix", zero_answer),
        after=_summary_status("runs/x", "error"),
    ),
    # ---- confinement
    Repro(
        "a table linked to a file outside the project",
        ["validate", CASE],
        2,
        ["generators.csv: is a link to a file outside the project folder"],
        setup=link(f"{NET}/generators.csv", lambda root: elsewhere(root) / "secret.csv"),
        never_says=[SECRET],
    ),
    Repro(
        "a case at the project root reading ../",
        ["validate", "top.yaml"],
        2,
        ["top.yaml, column 'network': network leaves the project folder"],
        setup=lambda root: (
            elsewhere(root),
            (root / "top.yaml").write_text(
                "name: top\nnetwork: ../elsewhere/net\nhorizon: {snapshots: 4}\n"
            ),
        ),
    ),
    Repro(
        "a network folder linked outside the project",
        ["validate", "cases/linked.yaml"],
        2,
        ["column 'network': network leaves the project folder"],
        setup=steps(
            link("networks/linked", lambda root: elsewhere(root) / "net"),
            put(
                "cases/linked.yaml",
                "name: l\nnetwork: ../networks/linked\nhorizon: {snapshots: 4}\n",
            ),
        ),
    ),
    Repro(
        "a project folder that is not above the case",
        ["validate", CASE],
        2,
        ["column 'project': project must be the case file's folder or a folder above it"],
        setup=append("project: ../networks"),
    ),
    # ---- internal errors that were exit 1 without a file
    Repro(
        "mixed time zones in a series",
        SOLVE,
        2,
        [
            "load_mw.csv, row 2, column 'timestamp': a time stamp is a local date and time"
            " without a time zone"
        ],
        setup=steps(
            replace(LOADS, "2025-01-01 00:00", "2025-01-01 00:00+08:00"),
            replace(LOADS, "2025-01-01 01:00", "2025-01-01 01:00Z"),
        ),
    ),
    Repro(
        "a horizon of 10^11 snapshots",
        SOLVE,
        2,
        ["column 'horizon.snapshots': Input should be less than or equal to 1000000"],
        setup=append('horizon: {start: "2025-01-01 00:00", snapshots: 100000000000}'),
    ),
    Repro(
        "a YAML alias bomb in the solver options",
        SOLVE,
        2,
        ["tiny_two_bus.yaml: holds more than 200,000 values once its aliases are expanded"],
        setup=append("""
              a: &a [x, x, x, x, x, x, x, x, x, x]
              b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
              c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
              d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
              e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
              f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
              g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
              solver: {options: {bomb: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]}}
              """),
    ),
    Repro(
        "a results folder whose summary.json is not JSON",
        ["plot", "runs/x"],
        2,
        ["summary.json, row 1: not valid JSON"],
        setup=steps(solved(), put("runs/x/summary.json", "{oops")),
    ),
    Repro(
        "a full disk while writing",
        [*SOLVE, "--out", "runs/x"],
        2,
        [
            "runs/x: cannot be written: No space left on device",
            "earlier results there are unchanged",
        ],
        setup=solved(),
        patch=(write, "write_xlsx", no_space),
    ),
    Repro(
        "a read-only folder for the results",
        [*SOLVE, "--out", "ro/x"],
        2,
        ["ro/x: cannot be written: no permission to write in"],
        setup=put("ro/keep.txt", "x"),
        patch=(folders, "_writable", lambda _folder: False),
    ),
    Repro(
        "results under a plain file",
        [*SOLVE, "--out", "notes.txt/x"],
        2,
        ["notes.txt/x: cannot be made", "is not a folder"],
        setup=put("notes.txt", "x"),
    ),
    # ---- unclear messages
    Repro(
        "a corrupt network workbook",
        ["validate", CASE],
        2,
        ["network.xlsx: cannot be read as an XLSX workbook"],
        never_says=["required table is missing"],
        setup=lambda root: (
            [p.unlink() for p in (root / NET).glob("*.csv")],
            (root / NET / "network.xlsx").write_bytes(b"PK\x03\x04 not a workbook"),
        ),
    ),
    Repro(
        "a misspelt sweep key blames the scenario file",
        ["sweep", CASE, "-s", "s.yaml", "-o", "sw"],
        1,
        ["s.yaml, row 2, column 'scale.demnd': Extra inputs are not permitted"],
        never_says=["tiny_two_bus.yaml, row"],
        may_change=["sw"],
        setup=put("s.yaml", "scenarios:\n  - {name: a, changes: {scale.demnd: 1.1}}\n"),
    ),
    Repro(
        "a column given twice in a table",
        ["validate", CASE],
        2,
        ["generators.csv, row 1, column 'p_max_mw': column name given twice"],
        never_says=["p_max_mw.1"],
        setup=replace(f"{NET}/generators.csv", "co2_t_per_mwh", "p_max_mw"),
    ),
    Repro(
        "a value '2,5' in a series",
        ["validate", CASE],
        2,
        ["load_mw.csv, row 3, column 'load B': expected a number (value: '2,5')"],
        never_says=["profile not found"],
        setup=replace(LOADS, "01:00,250", '01:00,"2,5"'),
    ),
    Repro(
        "a NaN override",
        SOLVE,
        2,
        ["column 'overrides.0.value': Input should be a finite number"],
        setup=append(
            "overrides: [{table: generators, name: cheap, column: p_max_mw, value: .nan}]"
        ),
    ),
    Repro(
        "an infinite override given as text",
        SOLVE,
        2,
        ["column 'overrides[0].value': must be a finite number"],
        setup=append(
            "overrides: [{table: generators, name: cheap, column: p_max_mw, value: 'inf'}]"
        ),
    ),
    Repro(
        "an override naming a bus that does not exist",
        SOLVE,
        2,
        ["column 'overrides[0].value': refers to a component that does not exist in buses"],
        setup=append("overrides: [{table: generators, name: cheap, column: bus, value: Z}]"),
    ),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    copy_case(root, "tiny_two_bus")
    copy_case(root, "tiny_security")
    return root


@pytest.mark.parametrize("repro", REPRODUCTIONS, ids=[r.name for r in REPRODUCTIONS])
def test_reproduction(project: Path, repro: Repro, monkeypatch: pytest.MonkeyPatch):
    repro.setup(project)
    skip = tuple(project / p for p in repro.may_change)
    before = tree(project, skip)
    if repro.patch is not None:
        monkeypatch.setattr(*repro.patch)
    result = invoke(project, repro.args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    text = result.output
    assert "Traceback" not in text
    assert result.exit_code == repro.code, text
    for words in repro.says:
        assert words in text, f"{words!r} not in:\n{text}"
    for words in repro.never_says:
        assert words not in text, f"{words!r} in:\n{text}"
    assert tree(project, skip) == before
    if repro.after is not None:
        repro.after(project)


def test_at_least_one_reproduction_per_item_of_the_list():
    assert len({r.name for r in REPRODUCTIONS}) == len(REPRODUCTIONS) >= 40


# ---- real processes: interruption, a killed writer, two writers at once


def _python(script: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _wait_for(proc: subprocess.Popen, stream: str, words: str) -> str:
    seen = ""
    pipe = getattr(proc, stream)
    while words not in seen:
        line = pipe.readline()
        assert line, f"{words!r} never came; got:\n{seen}"
        seen += line
    return seen


def test_ctrl_c_says_interrupted_exits_130_and_keeps_earlier_results(project: Path):
    solved()(project)
    before = tree(project)
    proc = _python(
        """
        import sys, time
        import gridopt.studies.run as run

        def slow(*args, **kwargs):
            print("gridopt: solving (held)", file=sys.stderr, flush=True)
            time.sleep(60)

        run.solve_data = slow
        from gridopt.cli import main
        sys.argv = ["gridopt", "solve", "cases/tiny_two_bus.yaml", "--out", "runs/x"]
        main()
        """,
        project,
    )
    seen = _wait_for(proc, "stderr", "solving (held)")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + err
    assert "gridopt: interrupted" in err and "Traceback" not in err
    assert tree(project) == before


def test_a_killed_write_is_cleaned_up_by_the_next_writer(project: Path):
    solved()(project)
    good = tree(project / "runs" / "x")
    proc = _python(
        """
        import os, sys
        import gridopt.results.write as write

        def killed(tables, path):
            path.write_bytes(b"")  # the workbook is begun, then the process dies
            os._exit(9)

        write.write_xlsx = killed
        from gridopt.cli import main
        sys.argv = ["gridopt", "solve", "cases/tiny_two_bus.yaml", "--out", "runs/x"]
        main()
        """,
        project,
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 9, err
    assert tree(project / "runs" / "x") == good  # the earlier results are untouched
    left = sorted(p.name for p in (project / "runs").iterdir())
    staged = [n for n in left if n.startswith(".x.gridopt-new-")]
    assert len(staged) == 1, left
    assert (project / "runs" / staged[0] / "results.xlsx").stat().st_size == 0
    result = invoke(project, ["solve", CASE, "--out", "runs/x", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "runs").iterdir()) == ["x"]
    assert json.loads((project / "runs" / "x" / "summary.json").read_text())["status"] == "optimal"


def test_a_second_writer_is_refused_while_the_first_writes(project: Path):
    holder = _python(
        """
        import sys
        from gridopt.results.folders import claim_output
        with claim_output("runs/x"):
            print("held", flush=True)
            sys.stdin.readline()
        """,
        project,
    )
    try:
        _wait_for(holder, "stdout", "held")
        before = tree(project)
        result = invoke(project, ["solve", CASE, "--out", "runs/x"])
        assert result.exit_code == 2, result.output
        assert "runs/x: another gridopt run is writing it now" in result.output
        assert tree(project) == before
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    # the first writer gone, its lock is gone too and the folder can be written
    assert sorted(p.name for p in project.iterdir()) == ["cases", "networks"]
    result = invoke(project, ["solve", CASE, "--out", "runs/x", "--format", "csv"])
    assert result.exit_code == 0, result.output


def test_a_swap_stopped_half_way_is_put_back(project: Path):
    """A writer killed between moving the earlier folder aside and moving the new one in."""
    solved()(project)
    runs = project / "runs"
    good = tree(runs / "x")
    (runs / "x").rename(runs / ".x.gridopt-old-k1ll3d")
    with folders.claim_output(runs / "x"):
        assert tree(runs / "x") == good
    assert sorted(p.name for p in runs.iterdir()) == ["x"]
