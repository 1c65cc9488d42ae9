"""How the C library hands memory to the solver while it runs.

HiGHS' interior point (HiPO) factorises its Newton system anew in every iteration, and
allocates and frees the factor with it: over 1 GB on the PPRD year. glibc's malloc serves
every block above its mmap threshold (at most 32 MB) with fresh pages from the kernel and
returns them on free, so each iteration page-faults the whole factor in again. `kept_heap`
tells malloc to serve such blocks from its heap and to keep freed memory there for reuse while
HiGHS runs, then gives the free memory back to the system. Measured on the PPRD year, the
same 92 iterations: 37.5 million page faults and 139 s of system time without, 2.1 million and
17 s with; the iterations took 1,182 s against 1,040 s, and the peak 0.16 GB more
(benchmarks/RESULTS.md, "The PPRD year in one piece").

Only glibc has these settings; elsewhere `kept_heap` does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import platform
import threading
from collections.abc import Iterator

# mallopt's parameters and glibc's defaults for them (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_TRIM_THRESHOLD_BYTES = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
# free memory at the top of the heap is given back only beyond this while the solver runs
# (mallopt takes an int, so 2 GB is the most it can be; HiPO's factor on the year is 1.1 GB)
_KEPT_BYTES = 2**31 - 1


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _mallopt(libc: ctypes.CDLL, parameter: int, value: int) -> None:
    libc.mallopt(parameter, ctypes.c_int(value))


# solves running in threads of one process share malloc's settings: the first to start sets
# them, the last to end restores them
_lock = threading.Lock()
_running = 0


@contextlib.contextmanager
def kept_heap() -> Iterator[None]:
    """Within the block, large blocks come from malloc's heap and freed memory stays there for
    the next allocation; on leaving it, the defaults are back and free memory is returned."""
    global _running
    libc = _glibc()
    if libc is None:
        yield
        return
    with _lock:
        _running += 1
        if _running == 1:
            _mallopt(libc, _M_MMAP_MAX, 0)
            _mallopt(libc, _M_TRIM_THRESHOLD, _KEPT_BYTES)
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                _mallopt(libc, _M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _mallopt(libc, _M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD_BYTES)
                libc.malloc_trim(0)
