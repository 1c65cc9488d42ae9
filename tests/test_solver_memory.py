"""Memory the solver frees is reused while it runs, and returned when it ends
(`gridopt.solver.memory.kept_heap`).

An interior point allocates its factor anew in every iteration. These tests do the same with
a 64 MB block: allocated, written, freed, eight times. By default glibc maps each such block
fresh from the kernel, so every round page-faults it all in again; within `kept_heap` the
rounds after the first reuse the same pages.
"""

from __future__ import annotations

import ctypes
import resource

import pytest

from gridopt.solver.memory import _glibc, kept_heap

BLOCK_BYTES = 64 * 1024 * 1024
PAGES_PER_BLOCK = BLOCK_BYTES // resource.getpagesize()
ROUNDS = 8

needs_glibc = pytest.mark.skipif(_glibc() is None, reason="malloc's settings are glibc's")


def _faults_of_rounds() -> int:
    libc = _glibc()
    assert libc is not None
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(ROUNDS):
        block = libc.malloc(BLOCK_BYTES)
        assert block
        ctypes.memset(block, 1, BLOCK_BYTES)
        libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@needs_glibc
def test_a_large_block_freed_and_allocated_again_is_not_faulted_in_again() -> None:
    default = _faults_of_rounds()
    with kept_heap():
        kept = _faults_of_rounds()
    # by default every round faults the whole block in (one fault per page, or per huge page
    # where the kernel gives them); kept, only the first round does
    assert default >= ROUNDS * PAGES_PER_BLOCK // 2
    assert kept <= 2 * PAGES_PER_BLOCK


@needs_glibc
def test_the_defaults_are_back_after_the_solver() -> None:
    with kept_heap():
        _faults_of_rounds()
    # outside again: blocks this large are mapped fresh (and returned) as before
    assert _faults_of_rounds() >= ROUNDS * PAGES_PER_BLOCK // 2


def test_the_defaults_are_back_even_when_the_solver_fails() -> None:
    with pytest.raises(RuntimeError, match="solver failed"), kept_heap():
        raise RuntimeError("solver failed")
    if _glibc() is not None:
        assert _faults_of_rounds() >= ROUNDS * PAGES_PER_BLOCK // 2


@needs_glibc
def test_a_solve_ending_beside_another_leaves_the_other_its_heap() -> None:
    """Solves in threads of one process overlap: the first to end must not take the kept heap
    from the one still running."""
    with kept_heap():
        with kept_heap():
            pass
        assert _faults_of_rounds() <= 2 * PAGES_PER_BLOCK
    assert _faults_of_rounds() >= ROUNDS * PAGES_PER_BLOCK // 2
