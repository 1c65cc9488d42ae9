"""Write a run's results folder: summary.json, results.xlsx and/or CSV / Parquet tables.

Writing is atomic: everything goes to a temporary folder beside the target, which replaces the
target only when complete. An interrupted write leaves any earlier results untouched. Which
folders may be written or replaced, and by what, is `gridopt.results.folders`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from gridopt.progress import steps
from gridopt.results import folders
from gridopt.results.bulk import SheetData, fill_workbook, write_csv
from gridopt.results.excel_charts import add_native_charts

EXCEL_MAX_ROWS = 1_048_576
FORMATS = ("xlsx", "csv", "parquet")


def _mixed_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Columns that mix numbers and text (the summary's values) as text, which Parquet can
    store; the workbook and CSV keep the numbers."""
    mixed = [
        c
        for c in df.columns
        if df[c].dtype == object and len({type(v) for v in df[c] if v is not None}) > 1
    ]
    if not mixed:
        return df
    return df.assign(**{c: df[c].map(lambda v: None if v is None else str(v)) for c in mixed})


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table; a table longer than Excel allows continues on sheets `name_2`...

    xlsxwriter writes the workbook's frame: each sheet's header row, column widths, frozen
    header, the date format and the native charts (`add_native_charts`). The rows are then
    streamed into the sheets in bulk (`gridopt.results.bulk.fill_workbook`), a chunk at a time.
    """
    limit = EXCEL_MAX_ROWS - 1
    rows: dict[str, SheetData] = {}
    with xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    ) as book:
        head = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "top"})
        date = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheets = {}
        for name, df in tables.items():
            parts = max(1, math.ceil(len(df) / limit))
            for k in range(parts):
                sheet = name[:31] if k == 0 else f"{name[:27]}_{k + 1}"
                chunk = df.iloc[k * limit : (k + 1) * limit]
                ws = sheets[sheet] = book.add_worksheet(sheet)
                ws.freeze_panes(1, 0)
                for j, col in enumerate(chunk.columns):
                    ws.write_string(0, j, str(col), head)
                    width = 20 if col == "snapshot" else max(10, min(40, len(str(col)) + 2))
                    is_date = pd.api.types.is_datetime64_any_dtype(chunk[col].dtype)
                    ws.set_column(j, j, width, date if is_date else None)
                rows[sheet] = SheetData(chunk)
        add_native_charts(book, sheets, tables, bulk=rows, date_format=date)
    # the date format's index exists once a column has used it (xlsxwriter sets it on close)
    fill_workbook(path, rows, date.xf_index or 0)


def write_results(
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    summary: dict[str, Any],
    formats: Iterable[str] = ("xlsx",),
    extra_files: dict[str, Path] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write everything to a temporary folder, then move it into place as `out_dir`.

    summary.json is written last and records `write_seconds` (the time to write the tables),
    which the workbook's summary sheet, written before it is known, does not show. Money is
    labelled in the summary's currency (`gridopt.results.label_currency`); the summary
    returned keeps the code's own names.
    """
    from gridopt.results.tables import label_currency

    started = time.perf_counter()
    returned = summary
    tables, summary = label_currency(tables, summary)
    out_dir = Path(out_dir)
    tmp = folders.staging(out_dir)  # refuses a folder gridopt may not replace
    try:
        formats = list(formats)
        with steps(progress, "writing tables", len(tables) * len(formats)) as counted:
            if "xlsx" in formats:
                write_xlsx(tables, tmp / "results.xlsx")
                counted.advance("xlsx", n=len(tables))
            if "csv" in formats:
                folder = tmp / "csv"
                folder.mkdir()
                for name, df in tables.items():
                    write_csv(df, folder / f"{name}.csv")
                    counted.advance(f"csv {name}")
            if "parquet" in formats:
                folder = tmp / "parquet"
                folder.mkdir()
                for name, df in tables.items():
                    _mixed_as_text(df).to_parquet(folder / f"{name}.parquet", index=False)
                    counted.advance(f"parquet {name}")
        for name, src in (extra_files or {}).items():
            if Path(src).exists():
                shutil.copyfile(src, tmp / name)
        seconds = round(time.perf_counter() - started, 4)
        summary = {**summary, "write_seconds": seconds}
        (tmp / "summary.json").write_text(
            json.dumps(summary, indent=2, default=_json_default) + "\n"
        )
        folders.publish(tmp, out_dir, summary, folders.run_complete(summary, tables))
    except BaseException as exc:
        folders.discard(tmp, out_dir)
        raise folders.write_error(exc, out_dir) from None
    return {**returned, "write_seconds": seconds}


def _replace_dir(new: Path, target: Path) -> None:
    """Swap `new` into `target`'s place; the old folder is removed only after the swap."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        try:
            os.replace(new, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
