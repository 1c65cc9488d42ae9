"""Reading a results folder back: its tables from Parquet, CSV or the workbook."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from gridopt.errors import InputError, Problem

# text cells that the writers prefixed with a quote so a spreadsheet keeps them as text
_QUOTED = re.compile(r"^'(?=[=+\-@\t\r])")


class RunTables:
    """The result tables of one results folder, each read on first use.

    Tables come from `parquet/` if present, else `csv/`, else `results.xlsx` (a table longer
    than a sheet continues on sheets `name_2`, ...). Snapshots are returned as datetimes and
    the quote the writers put before formula-like text is removed. Use it as a context manager
    (or call `close`) to release the workbook.
    """

    def __init__(self, run_dir: Path | str):
        self.run_dir = Path(run_dir)
        self.source = self._find_source()
        self._cache: dict[str, pd.DataFrame | None] = {}
        # the workbook is opened once and read sheet by sheet as tables are asked for
        self._book: pd.ExcelFile | None = None
        self.summary: dict[str, Any] = read_summary(self.run_dir / "summary.json")

    def close(self) -> None:
        """Close the workbook, if one was opened."""
        if self._book is not None:
            self._book.close()
            self._book = None

    def __enter__(self) -> RunTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _find_source(self) -> str:
        for kind, path in (
            ("parquet", self.run_dir / "parquet"),
            ("csv", self.run_dir / "csv"),
            ("xlsx", self.run_dir / "results.xlsx"),
        ):
            if path.exists():
                return kind
        raise FileNotFoundError(
            f"{self.run_dir}: no results tables (expected parquet/, csv/"
            " or results.xlsx); is it the --out folder of `gridopt solve`?"
        )

    def names(self) -> list[str]:
        """Names of the tables in the folder."""
        if self.source == "xlsx":
            return [
                s
                for s in self._sheet_names()
                if not re.search(r"_\d+$", s) or s.rsplit("_", 1)[0] not in self._sheet_names()
            ]
        return sorted(p.stem for p in (self.run_dir / self.source).glob(f"*.{self.source}"))

    def _workbook(self) -> pd.ExcelFile:
        if self._book is None:
            self._book = pd.ExcelFile(self.run_dir / "results.xlsx", engine="openpyxl")
        return self._book

    def _sheet_names(self) -> list[str]:
        return [str(s) for s in self._workbook().sheet_names]

    def has(self, name: str) -> bool:
        return name in self.names()

    def get(self, name: str) -> pd.DataFrame | None:
        """Table `name`, or None when the run does not have it."""
        if name not in self._cache:
            self._cache[name] = self._read(name) if self.has(name) else None
        return self._cache[name]

    def _read(self, name: str) -> pd.DataFrame:
        if self.source == "parquet":
            return pd.read_parquet(self.run_dir / "parquet" / f"{name}.parquet")
        if self.source == "csv":
            df = pd.read_csv(self.run_dir / "csv" / f"{name}.csv")
        else:
            sheets = self._sheet_names()
            parts = [name[:31]] + [
                s for k in range(2, len(sheets) + 2) if (s := f"{name[:27]}_{k}") in sheets
            ]
            df = pd.concat(
                [pd.read_excel(self._workbook(), sheet_name=s) for s in parts], ignore_index=True
            )
        currency = str(self.summary.get("currency") or "CNY")
        if currency != "CNY":  # written in the case's currency: back to the code's names
            token = re.compile(rf"(?<![a-z]){currency.lower()}(?![a-z])")
            df = df.rename(columns=lambda c: token.sub("cny", str(c)))
        for col in df.columns:
            if col == "snapshot":
                df[col] = pd.to_datetime(df[col])
            elif df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                df[col] = df[col].map(lambda v: _QUOTED.sub("", v) if isinstance(v, str) else v)
        return df

    @property
    def case_name(self) -> str:
        return str(self.summary.get("case_name") or self.run_dir.name)


def read_summary(path: Path) -> dict[str, Any]:
    """A results folder's summary.json ({} when there is none); one that is not a JSON
    mapping is bad input, located by line and column."""
    if not path.exists():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(str(path), f"not valid JSON ({exc.msg}, column {exc.colno})", row=exc.lineno)]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"cannot be read ({exc})")]) from None
    if not isinstance(summary, dict):
        raise InputError([Problem(str(path), "must be a JSON mapping of the run's figures")])
    return summary
