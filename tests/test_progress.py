"""Progress of long work: a MIP's live line without --log, counted steps with the time left,
drawn as bars on a terminal and as plain lines elsewhere."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
import threading
import time

from rich.console import Console

from gridopt.progress import Reporter, Steps, duration, steps
from tests.conftest import CASES, ROOT


def test_mip_progress_line_appears_within_ten_seconds_without_log(tmp_path):
    """The PPRD unit-commitment week (a MIP of minutes), stopped by a 15 s time limit."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gridopt",
            "solve",
            str(CASES / "pprd_uc_week.yaml"),
            "--time-limit",
            "15",
            "--out",
            str(tmp_path / "uc"),
            "--format",
            "parquet",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.perf_counter(), line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=300)
    finally:
        proc.kill()
    reader.join(timeout=10)
    text = "\n".join(line for _, line in lines)
    solving = next(t for t, line in lines if "solving with HiGHS" in line)
    mip = [(t, line) for t, line in lines if line.startswith("gridopt: MIP")]
    assert mip, text
    assert mip[0][0] - solving <= 10.0, text
    # the search's state: incumbent (or none yet), bound, gap and the time elapsed
    full = [line for _, line in mip if "bound" in line and "gap" in line]
    assert full, text
    assert re.search(
        r"(incumbent [\d,]+ CNY|no incumbent yet), (bound [\d,]+ CNY|no bound"
        r" yet), gap [\d.%-]+, \d+ s elapsed",
        full[0],
    ), full[0]
    # a line every few seconds: no silence of more than 10 s while the solver runs
    times = [t for t, _ in mip]
    assert max((b - a for a, b in itertools.pairwise(times)), default=0.0) <= 10.0, text
    assert "--log" not in text and "Running HiGHS" not in text  # not the solver's log


def test_steps_say_the_count_and_the_time_left():
    said: list[str] = []
    with steps(said.append, "solves", 4) as counted:
        counted.started -= 30.0  # as if the first solve had taken 30 s
        counted.advance("first")
    assert said and said[0].startswith("solves: 1/4, 30 s, about 1 min 30 s left (first)")
    assert duration(3725) == "1 h 02 min" and duration(65) == "1 min 05 s"
    quiet = Steps(said.append, "charts", 10, every_s=3600)
    quiet.advance()
    quiet.advance()
    assert len(said) == 2  # throttled: the first line only, until the last
    for _ in range(8):
        quiet.advance()
    assert said[-1].startswith("charts: 10/10")


def test_reporter_draws_bars_on_a_terminal_and_lines_elsewhere(capsys):
    out = io.StringIO()
    live = Reporter(console=Console(file=out, force_terminal=True, width=100))
    assert live.live
    with live.steps("windows", 3) as counted:
        for k in range(3):
            counted.advance(f"window {k + 1}")
    live.status("MIP: no incumbent yet, bound 1 CNY, gap -, 3 s elapsed")
    live.end_status()
    drawn = out.getvalue()
    assert "windows: 3/3" in drawn  # the closing line after the bar
    plain = Reporter(console=Console(file=io.StringIO(), force_terminal=False))
    assert not plain.live
    with plain.steps("charts", 2) as counted:
        counted.advance("dispatch")
        counted.advance("prices")
    plain.status("MIP: first")
    plain.status("MIP: second, within the interval: not printed")
    err = capsys.readouterr().err
    assert "gridopt: charts: 1/2" in err and "gridopt: charts: 2/2" in err
    assert "MIP: first" in err and "second" not in err
