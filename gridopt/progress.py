"""Progress of long work, on stderr: messages, counted steps with the time left, and a live
status line (a MIP's incumbent, bound and gap).

Work reports through a `progress` callable taking a message, as it always has; the helpers here
(`steps`, `status`) use what the callable offers. A `Reporter` (what the command line passes)
draws with `rich`: on a terminal a live bar per counted step (done / total, elapsed, time
left) and the status line updated in place; elsewhere (a log file, a pipe) plain lines, a
counted step's line at most every few seconds and a status line at most every `every_s`
seconds, each with its count, elapsed time and time left. Any other callable (or None) gets
plain messages, so library code never needs to know who is listening.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Say = Callable[[str], None]


def duration(seconds: float) -> str:
    """A duration in words an analyst reads at a glance: 42 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class Steps:
    """A counted piece of work (`total` steps): `advance(note)` after each one."""

    def __init__(
        self,
        say: Say,
        what: str,
        total: int,
        every_s: float = 5.0,
        on_advance: Callable[[int, str], None] | None = None,
    ):
        self.say = say
        self.what = what
        self.total = max(int(total), 0)
        self.done = 0
        self.every_s = every_s
        self.started = time.perf_counter()
        self._last = -1e9
        self._on_advance = on_advance
        self._lock = threading.Lock()

    def line(self, note: str = "") -> str:
        """`what: k/n, elapsed, about T left (note)`."""
        elapsed = time.perf_counter() - self.started
        text = f"{self.what}: {self.done}/{self.total}, {duration(elapsed)}"
        if 0 < self.done < self.total:
            text += f", about {duration(elapsed / self.done * (self.total - self.done))} left"
        return text + (f" ({note})" if note else "")

    def advance(self, note: str = "", n: int = 1) -> None:
        with self._lock:
            self.done = min(self.done + n, self.total) if self.total else self.done + n
            if self._on_advance is not None:
                self._on_advance(self.done, note)
                return
            now = time.perf_counter()
            if self.done >= self.total or now - self._last >= self.every_s:
                self._last = now
                self.say(self.line(note))


class Reporter:
    """Progress on stderr, drawn with `rich` (see the module doc). Call it with a message."""

    def __init__(self, prefix: str = "gridopt: ", every_s: float = 5.0, console: Any = None):
        from rich.console import Console

        self.prefix = prefix
        self.every_s = every_s
        self.console = console or Console(stderr=True, highlight=False)
        self._bars: Any = None
        self._tasks = 0
        self._status_task: Any = None
        self._status_last = -1e9

    @property
    def live(self) -> bool:
        """Whether stderr is a terminal (bars and a line updated in place) right now."""
        return bool(self.console.is_terminal)

    # messages ---------------------------------------------------------------------------
    def __call__(self, message: str) -> None:
        text = f"{self.prefix}{message}"
        if self.live:
            self.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    # counted steps ------------------------------------------------------------------------
    def _progress(self) -> Any:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if self._bars is None:
            counted = [
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            ]
            # a status line (no total) is its text alone
            self._bars = Progress(
                TextColumn("{task.description}"),
                *(_counted(c) for c in counted),
                console=self.console,
                transient=True,
            )
            self._bars.start()
        return self._bars

    def _release(self) -> None:
        if self._bars is not None and self._tasks == 0 and self._status_task is None:
            self._bars.stop()
            self._bars = None

    @contextmanager
    def steps(self, what: str, total: int) -> Iterator[Steps]:
        """A counted piece of work; on a terminal a bar, elsewhere lines with the time left."""
        if not self.live:
            counter = Steps(self, what, total, self.every_s)
            yield counter
            return
        bars = self._progress()
        task = bars.add_task(what, total=total)
        self._tasks += 1

        def moved(done: int, note: str) -> None:
            bars.update(
                task, completed=done, description=f"{what}" + (f" ({note})" if note else "")
            )

        counter = Steps(self, what, total, self.every_s, on_advance=moved)
        try:
            yield counter
        finally:
            bars.remove_task(task)
            self._tasks -= 1
            self._release()
            self(counter.line())

    # a live status line -------------------------------------------------------------------
    def status(self, text: str) -> None:
        """A line that replaces the previous one (on a terminal), or is printed at most every
        `every_s` seconds (elsewhere)."""
        if not self.live:
            now = time.perf_counter()
            if now - self._status_last >= self.every_s:
                self._status_last = now
                self(text)
            return
        bars = self._progress()
        if self._status_task is None:
            self._status_task = bars.add_task(text, total=None)
        bars.update(self._status_task, description=text)

    def end_status(self) -> None:
        """The status line's work has ended: clear it and print the next one at once."""
        self._status_last = -1e9
        if self._status_task is not None and self._bars is not None:
            self._bars.remove_task(self._status_task)
            self._status_task = None
            self._release()


def _counted(column: Any) -> Any:
    """A rich column drawn only for counted tasks (with a total), blank for a status line."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Counted(ProgressColumn):
        def render(self, task: Any) -> Any:
            return column.render(task) if task.total is not None else Text("")

    return Counted()


@contextmanager
def steps(progress: Say | None, what: str, total: int) -> Iterator[Steps]:
    """Counted steps reported to `progress`: a `Reporter`'s bars, or plain lines to any other
    callable (one at most every 5 s, and the last), or nothing."""
    if isinstance(progress, Reporter):
        with progress.steps(what, total) as counter:
            yield counter
        return
    yield Steps(progress or (lambda _m: None), what, total)


def status(progress: Say | None, text: str) -> None:
    """A live status line for `progress` (a `Reporter` updates it in place or throttles it;
    other callables are not sent status lines, which would flood a plain log)."""
    if isinstance(progress, Reporter):
        progress.status(text)


def end_status(progress: Say | None) -> None:
    if isinstance(progress, Reporter):
        progress.end_status()
