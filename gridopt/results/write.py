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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from gridopt.results import folders
from gridopt.results.excel_charts import add_native_charts

EXCEL_MAX_ROWS = 1_048_576
FORMATS = ("xlsx", "csv", "parquet")
# text that a spreadsheet would run as a formula if it started a cell
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that look like formulas with a quote so they stay text."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            mask = s.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            if mask.any():
                out.loc[mask, col] = "'" + s[mask]
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table; a table longer than Excel allows continues on sheets `name_2`..."""
    limit = EXCEL_MAX_ROWS - 1
    with pd.ExcelWriter(path, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as xw:
        for name, df in tables.items():
            df = _safe_text(df)
            parts = max(1, math.ceil(len(df) / limit))
            for k in range(parts):
                sheet = name[:31] if k == 0 else f"{name[:27]}_{k + 1}"
                chunk = df.iloc[k * limit:(k + 1) * limit]
                chunk.to_excel(xw, sheet_name=sheet, index=False)
                ws = xw.sheets[sheet]
                ws.freeze_panes(1, 0)
                for j, col in enumerate(chunk.columns):
                    width = 20 if col == "snapshot" else max(10, min(40, len(str(col)) + 2))
                    ws.set_column(j, j, width)
        add_native_charts(xw.book, xw.sheets, tables)


def write_results(out_dir: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                  formats: Iterable[str] = ("xlsx",), extra_files: dict[str, Path] | None = None
                  ) -> dict[str, Any]:
    """Write everything to a temporary folder, then move it into place as `out_dir`.

    summary.json is written last and records `write_seconds` (the time to write the tables),
    which the workbook's summary sheet, written before it is known, does not show.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    tmp = folders.staging(out_dir)  # refuses a folder gridopt may not replace
    try:
        formats = list(formats)
        if "xlsx" in formats:
            write_xlsx(tables, tmp / "results.xlsx")
        if "csv" in formats:
            folder = tmp / "csv"
            folder.mkdir()
            for name, df in tables.items():
                _safe_text(df).to_csv(folder / f"{name}.csv", index=False,
                                      date_format="%Y-%m-%d %H:%M")
        if "parquet" in formats:
            folder = tmp / "parquet"
            folder.mkdir()
            for name, df in tables.items():
                df.to_parquet(folder / f"{name}.parquet", index=False)
        for name, src in (extra_files or {}).items():
            if Path(src).exists():
                shutil.copyfile(src, tmp / name)
        summary = {**summary, "write_seconds": round(time.perf_counter() - started, 4)}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default)
                                          + "\n")
        folders.publish(tmp, out_dir, summary, folders.run_complete(summary, tables))
    except BaseException as exc:
        folders.discard(tmp, out_dir)
        raise folders.write_error(exc, out_dir) from None
    return summary


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
