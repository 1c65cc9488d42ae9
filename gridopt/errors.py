"""Errors that reach the analyst as words, not tracebacks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can.

    `row` is the spreadsheet row number (the header is row 1, the first data row is row 2),
    so an analyst can jump straight to it.
    """

    file: str
    rule: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f" (value: {self.value!r})"
        return f"{where}: {self.rule}{shown}"


class InputError(Exception):
    """Bad input: one or more problems, all reported together. The CLI exits with code 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SolveError(Exception):
    """The solver could not return a usable answer (infeasible, unbounded, error)."""

    def __init__(self, message: str, status: str):
        self.status = status
        super().__init__(message)
