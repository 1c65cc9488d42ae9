"""Output folders: where a command may write, and how it replaces what was there.

Every command that writes (solve, rolling, security, contingency, calibrate, sweep, plot,
export, import) claims its output with `claim_output` before it starts work. The rules:

- gridopt writes a marker file, `.gridopt.json`, into every folder it makes (its kind:
  results, sweep, plots, ...; whether the run had a solution; when). A folder is gridopt's
  only if it holds that marker: nothing is recognised by its look;
- the output may be a new path, an empty folder, or a folder of the same kind with the
  marker. It may not be an existing file (unless the output is a file and `overwrite` is
  given), a folder without the marker, a symbolic link, the folder the command runs in or
  one above it, a folder holding the case being solved, a project folder (one holding
  `cases/` and `networks/`) or any folder inside its `cases/` or `networks/` (unless the
  output is a case, `inputs_ok`);
- an imported case folder is replaced only with `overwrite` (its user may have edited it);
- a results folder is replaced whole, and only by a complete new one: the new one is
  written beside it in a hidden staging folder (`.NAME.gridopt-new-*`) and swapped in when
  complete; the earlier one is removed only after the swap;
- a run without a solution does not replace a folder whose run had one unless `overwrite`
  is given (`KeptEarlierResults` is raised and nothing is changed);
- one writer at a time: a lock beside the output (`.NAME.gridopt-lock`, removed afterwards,
  held with `filelock`) refuses a second writer at once;
- staging folders left by a killed writer are removed by the next writer of the same
  output (they carry the marker); a swap interrupted half-way is completed backwards (the
  earlier folder is put back).

Errors are `OutputError`s (bad input, exit code 2) naming the path and the rule.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from gridopt import __version__
from gridopt.errors import InputError, Problem
from gridopt.inputs.paths import PROJECT_FOLDERS, find_project

MARKER = ".gridopt.json"
KINDS = {
    "results": "a results folder",
    "sweep": "a sweep folder",
    "plots": "a folder of charts",
    "pypsa": "an exported PyPSA network",
    "case": "an imported case folder",
}
# outputs their users edit (an imported case): replaced only with `overwrite`
EDITED_KINDS = frozenset({"case"})
# statuses of a run that has a solution to report
SOLVED = frozenset({"optimal", "time_limit"})


class OutputError(InputError):
    """An output that gridopt refuses to write (exit code 2), with the path and the rule."""

    def __init__(self, path: Path | str, rule: str):
        super().__init__([Problem(str(path), rule)])


class KeptEarlierResults(Exception):
    """A run without a solution was not written over an earlier folder that has one."""

    def __init__(self, folder: Path, summary: Mapping[str, Any], earlier: Mapping[str, Any]):
        self.folder = folder
        self.summary = dict(summary)
        self.earlier = dict(earlier)
        super().__init__(
            f"the earlier results in {folder} ({earlier.get('status', 'solved')}, written"
            f" {earlier.get('written', 'before')}) are kept: a run without a solution replaces"
            " a run with one only when asked (--overwrite)"
        )


@dataclass
class Output:
    """A claimed output path (see `claim_output`)."""

    path: Path  # the output, its folder's links resolved
    kind: str
    overwrite: bool = False
    is_file: bool = False
    lock: FileLock | None = None
    # folders made to hold the output (and its lock), removed again if left empty
    made: list[Path] = field(default_factory=list)
    # set by `staging` when no command claimed the path: released after publish / discard
    transient: bool = False
    staged: list[Path] = field(default_factory=list)

    @property
    def parent(self) -> Path:
        return self.path.parent

    def _stem(self) -> str:
        return f".{self.path.name}.gridopt-"

    def staging(self) -> Path:
        """A new hidden folder beside the output, marked as gridopt's, to write into."""
        self.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=self._stem() + "new-", dir=self.parent))
        _write_marker(tmp, {"kind": self.kind, "state": "writing", "pid": os.getpid()})
        self.staged.append(tmp)
        return tmp

    def open_in_place(self) -> Path:
        """The output folder, made (with its marker) if new: for outputs written file by file
        into the folder (sweeps, charts), each file replaced atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        if read_marker(self.path) is None:
            _write_marker(self.path, {"kind": self.kind})
        return self.path

    def publish(
        self, staged: Path, summary: Mapping[str, Any] | None = None, complete: bool = True
    ) -> None:
        """Put a complete staging folder (or, for a file output, the file of that name in it)
        in the output's place; the earlier folder goes only once the new one is in place."""
        summary = summary or {}
        if self.is_file:
            self._check_current()
            os.replace(staged / self.path.name, self.path)
            self.discard(staged)
            self._published(staged)
            return
        _write_marker(
            staged,
            {
                "kind": self.kind,
                "complete": bool(complete),
                "status": str(summary.get("status", "")),
                "written": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
        earlier = self._check_current()
        if earlier is not None and earlier.get("complete") and not complete and not self.overwrite:
            raise KeptEarlierResults(self.path, summary, earlier)
        if earlier is None:  # nothing there, or an empty folder, which a rename replaces
            os.replace(staged, self.path)
            self._published(staged)
            return
        old = Path(tempfile.mkdtemp(prefix=self._stem() + "old-", dir=self.parent))
        os.replace(self.path, old)  # a folder replaces an empty folder of the same name
        try:
            os.replace(staged, self.path)
        except BaseException:
            os.replace(old, self.path)
            raise
        self._published(staged)
        shutil.rmtree(old, ignore_errors=True)

    def _published(self, staged: Path) -> None:
        if staged in self.staged:
            self.staged.remove(staged)

    def discard(self, staged: Path) -> None:
        """Remove a staging folder that will not be published."""
        if staged.name.startswith(self._stem() + "new-"):
            shutil.rmtree(staged, ignore_errors=True)

    def _check_current(self) -> dict[str, Any] | None:
        """The marker of what is at the output now (None: nothing, or an empty folder);
        raises if it has become something gridopt may not replace since the claim."""
        rule, marker = _existing_rule(self.path, self.kind, self.is_file, self.overwrite)
        if rule is not None:
            raise OutputError(self.path, rule)
        return marker


_claims: dict[Path, Output] = {}


def _key(path: Path | str) -> Path:
    """The output path with its folder's links resolved (the path itself is not followed)."""
    path = Path(path).absolute()
    return path.parent.resolve() / path.name


@contextmanager
def claim_output(
    path: Path | str,
    kind: str = "results",
    *,
    overwrite: bool = False,
    inputs: Iterable[Path | str] = (),
    inputs_ok: bool = False,
    is_file: bool = False,
) -> Iterator[Output]:
    """Check an output against the rules above, take its lock and clean what a killed writer
    left; yield it. Within the claim, `write_results` and `Output.staging` / `publish` use
    it (and its `overwrite`). A claim already held by this process on the same path is
    reused. `inputs`: files the command reads, which the output may not hold."""
    key = _key(path)
    held = _claims.get(key)
    if held is not None:
        yield held
        return
    rule = output_rule(
        path, kind, inputs=inputs, inputs_ok=inputs_ok, is_file=is_file, overwrite=overwrite
    )
    if rule is not None:
        raise OutputError(path, rule)
    out = Output(key, kind, overwrite=overwrite, is_file=is_file)
    _acquire(out)
    try:
        _clean_stale(out)
        rule = output_rule(
            path, kind, inputs=inputs, inputs_ok=inputs_ok, is_file=is_file, overwrite=overwrite
        )
        if rule is not None:
            raise OutputError(path, rule)
        _claims[key] = out
        yield out
    finally:
        _claims.pop(key, None)
        for staged in out.staged:
            out.discard(staged)
        _release(out)


def staging(path: Path | str, kind: str = "results") -> Path:
    """A staging folder for the output at `path`: of the claim this process holds on it, or
    of a new claim (the default rules) released by `publish` or `discard`."""
    key = _key(path)
    out = _claims.get(key)
    if out is None:
        rule = output_rule(path, kind)
        if rule is not None:
            raise OutputError(path, rule)
        out = Output(key, kind, transient=True)
        _acquire(out)
        try:
            _clean_stale(out)
        except BaseException:
            _release(out)
            raise
        _claims[key] = out
    return out.staging()


def publish(
    staged: Path, path: Path | str, summary: Mapping[str, Any] | None = None, complete: bool = True
) -> None:
    """Publish a staging folder made by `staging` (see `Output.publish`)."""
    out = _claims[_key(path)]
    try:
        out.publish(staged, summary, complete)
    finally:
        _end_transient(out)


def discard(staged: Path, path: Path | str) -> None:
    """Drop a staging folder made by `staging` (after a failed or interrupted write)."""
    out = _claims.get(_key(path))
    if out is None:
        return
    out.discard(staged)
    if staged in out.staged:
        out.staged.remove(staged)
    _end_transient(out)


def write_error(exc: BaseException, path: Path | str) -> BaseException:
    """An operating-system error while writing an output, as an `OutputError` naming it (a
    full disk, a read-only folder); other exceptions are returned as they are."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        return OutputError(
            path, f"cannot be written: {what}{where}; any earlier results there are unchanged"
        )
    return exc


def run_complete(summary: Mapping[str, Any], tables: Mapping[str, Any]) -> bool:
    """Whether a run's outputs hold a solution: solved (optimal, or stopped by the time
    limit with a solution), no failed window, and tables besides the summary."""
    return (
        str(summary.get("status", "")) in SOLVED
        and "failed_window" not in summary
        and any(name != "summary" for name in tables)
    )


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker gridopt wrote in a folder, or None (no marker, or not one of ours)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("kind") in KINDS else None


def output_rule(
    path: Path | str,
    kind: str = "results",
    *,
    inputs: Iterable[Path | str] = (),
    inputs_ok: bool = False,
    is_file: bool = False,
    overwrite: bool = False,
) -> str | None:
    """The rule an output path breaks (see the module's rules), or None."""
    given = Path(path)
    if given.is_symlink():
        return (
            "is a symbolic link; give the folder it points to, or a new path (a link is"
            " never written through)"
        )
    real = _key(given)
    here = Path.cwd().resolve()
    if here.is_relative_to(real):
        return (
            "is the folder gridopt runs in, or holds it; give a new folder for the"
            " results (e.g. runs/NAME)"
        )
    if not inputs_ok:
        roots = {
            r
            for r in (
                find_project(real.parent),
                *(find_project(Path(i).absolute().parent) for i in inputs),
            )
            if r
        }
        for root in roots:
            if real == root:
                return (
                    "is a project folder (it holds cases/ and networks/); give a new"
                    " folder inside it, e.g. runs/NAME"
                )
            for name in PROJECT_FOLDERS:
                if real.is_relative_to(root / name):
                    return (
                        f"lies in the project's {name}/ folder, which holds inputs;"
                        " results go elsewhere, e.g. runs/NAME"
                    )
    for item in inputs:
        src = Path(item).absolute().resolve()
        if src.is_relative_to(real):
            return f"holds {item}, an input of this command; give a new folder"
    return (
        _existing_rule(real, kind, is_file, overwrite)[0]
        if real.exists() or real.is_symlink()
        else _parent_rule(real)
    )


def _existing_rule(
    path: Path, kind: str, is_file: bool, overwrite: bool
) -> tuple[str | None, dict[str, Any] | None]:
    """(rule broken, marker) of what exists at an output path now."""
    if path.is_symlink():
        return "is a symbolic link; a link is never written through", None
    if not path.exists():
        return None, None
    if is_file:
        if path.is_dir():
            return "is a folder; the output is a file", None
        if not overwrite:
            return (
                "exists; gridopt does not replace a file it cannot tell it wrote (give a"
                " new name, or --overwrite to replace it)"
            ), None
        return None, None
    if not path.is_dir():
        return (
            "exists and is not a folder; gridopt writes a folder here and replaces no"
            " file (give a new folder name)"
        ), None
    marker = read_marker(path)
    if marker is None:
        try:
            empty = not any(path.iterdir())
        except OSError as exc:
            return f"cannot be read ({exc.strerror})", None
        if empty:
            return None, None
        return (
            f"is a folder that gridopt did not write (it has no {MARKER} marker);"
            f" gridopt replaces only its own folders: give a new or empty folder"
        ), None
    if marker.get("kind") != kind:
        return (
            f"is {KINDS.get(str(marker.get('kind')), 'another output')}, not"
            f" {KINDS.get(kind, kind)}; give another folder"
        ), None
    if kind in EDITED_KINDS and not overwrite:
        # a case is an input its user may have edited since: replaced only when asked
        return (
            f"is not empty: it holds {KINDS[kind]} written earlier; give a new folder, or"
            " --force to replace it whole"
        ), marker
    return None, marker


def _parent_rule(path: Path) -> str | None:
    """Whether the output's nearest existing folder can be written in."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"cannot be made: {folder} is not a folder"
    if not _writable(folder):
        return f"cannot be written: no permission to write in {folder}"
    return None


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _write_marker(folder: Path, content: dict[str, Any]) -> None:
    content = {**content, "gridopt": __version__}
    tmp = folder / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _lock_path(out: Output) -> Path:
    return out.parent / f"{out._stem()}lock"


def _acquire(out: Output) -> None:
    try:
        missing = [d for d in (out.parent, *out.parent.parents) if not d.exists()]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.made = missing
        lock = FileLock(_lock_path(out), timeout=0)
        lock.acquire()
    except Timeout:
        _remove_made(out)
        raise OutputError(
            out.path,
            "another gridopt run is writing it now; wait for that run"
            " to finish, or give another folder",
        ) from None
    except OSError as exc:
        _remove_made(out)
        raise write_error(exc, out.path) from None
    out.lock = lock


def _release(out: Output) -> None:
    if out.lock is None:
        return
    # removed while still held: a writer waiting on this file finds it gone and retries
    # on a new one (filelock checks), so no two writers ever hold different files
    with suppress(OSError):
        Path(out.lock.lock_file).unlink(missing_ok=True)
    out.lock.release()
    out.lock = None
    _remove_made(out)


def _remove_made(out: Output) -> None:
    """The folders made for the output, deepest first, if nothing was written in them."""
    for folder in out.made:
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (the results are in it), or not ours to remove any more
    out.made = []


def _end_transient(out: Output) -> None:
    if out.transient and not out.staged:
        _claims.pop(out.path, None)
        _release(out)


def _clean_stale(out: Output) -> None:
    """With the lock held, what an interrupted writer of this output left beside it:
    staging folders (marked, or empty) are removed; an earlier folder moved aside by a swap
    that never finished is put back, or removed when the swap did finish."""
    stem = out._stem()
    try:
        entries = [p for p in out.parent.iterdir() if p.name.startswith(stem)]
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir() or entry.is_symlink():
            continue
        rest = entry.name[len(stem) :]
        ours = read_marker(entry) is not None or not any(entry.iterdir())
        if not ours:
            continue
        if rest.startswith("new-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif rest.startswith("old-"):
            if out.path.exists() or out.path.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                os.replace(entry, out.path)
