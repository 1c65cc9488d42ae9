"""The `gridopt` command line: one package, each command module registering on `app`.

- `common`: the app, exit codes, shared options, progress and bad-input reporting;
- `solve`: solve (also by rolling horizon), validate, info;
- `studies`: security, contingency, calibrate;
- `future_cost`: future-cost functions by dual dynamic programming;
- `sweep`, `plot`, `compare`, `reference` (`gridopt schema`), `interop` (export and import
  groups).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

# importing a command module registers its commands on `app`
from gridopt.cli import (  # noqa: F401
    compare,
    future_cost,
    interop,
    plot,
    reference,
    solve,
    studies,
    sweep,
)
from gridopt.cli.common import EXIT_INPUT, EXIT_INTERRUPTED, app, interrupt_reported

INTERRUPTED = (
    "gridopt: interrupted; results folders are replaced only by complete new ones,"
    " so any earlier results are as they were"
)


def main() -> None:
    """Console entry point: no tracebacks for the analyst unless GRIDOPT_DEBUG is set.

    Ctrl-C (SIGINT) prints that the run was interrupted and exits with 130: the command line
    library turns the interruption into a silent exit, so the signal is noted on arrival."""
    seen: list[int] = []

    def interrupted(signum: int, frame: object) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupted)
    try:
        app()
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        if seen:
            if not interrupt_reported():
                print(INTERRUPTED, file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        raise
    except OSError as exc:  # the machine, not the model: a full disk, a missing permission
        if os.environ.get("GRIDOPT_DEBUG") or not exc.filename:
            _internal(exc)
        print(f"gridopt: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT)
    except Exception as exc:  # the last line of defence: a message, not a traceback
        _internal(exc)


def _internal(exc: Exception) -> None:
    if os.environ.get("GRIDOPT_DEBUG"):
        raise exc
    print(
        f"gridopt: internal error: {type(exc).__name__}: {exc} (set GRIDOPT_DEBUG=1 for details)",
        file=sys.stderr,
    )
    sys.exit(1)


if __name__ == "__main__":
    main()
