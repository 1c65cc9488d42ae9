"""The `gridopt` command line: one package, each command module registering on `app`.

- `common`: the app, exit codes, shared options, progress and bad-input reporting;
- `solve`: solve (also by rolling horizon), validate, info;
- `studies`: security, contingency, calibrate;
- `sweep`, `plot`, `interop` (export and import groups).
"""

from __future__ import annotations

import os
import sys

# importing a command module registers its commands on `app`
from gridopt.cli import interop, plot, solve, studies, sweep  # noqa: F401
from gridopt.cli.common import app


def main() -> None:
    """Console entry point: no tracebacks for the analyst unless GRIDOPT_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        print("gridopt: interrupted; no results were written or replaced", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("GRIDOPT_DEBUG"):
            raise
        print(f"gridopt: internal error: {type(exc).__name__}: {exc}"
              " (set GRIDOPT_DEBUG=1 for details)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
