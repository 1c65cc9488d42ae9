"""Long tables to CSV and to worksheet XML in bulk, in chunks of rows (constant memory).

A year of hourly results is tens of millions of cells. Writing them one Python call per cell
(pandas' `to_excel`, xlsxwriter's `write`) costs 10-30 microseconds a cell: minutes for a year
and more than the solve of a week. Here every column of a chunk of rows is turned into text by
Arrow's compute kernels (C++), cells and rows are joined element-wise, and the chunk's bytes go
straight to the file, so the time is a fraction of a microsecond per cell and the memory used
is that of one chunk, whatever the table's length.

- `arrow_columns` converts a DataFrame's columns once: text that a spreadsheet would run as a
  formula gets a leading quote (as it always had), NaN becomes a missing value.
- `write_csv` writes a table as CSV (missing values empty, snapshots as `YYYY-MM-DD HH:MM`).
- `sheet_rows` yields the `<row>` elements of a worksheet's `<sheetData>`: numbers as numbers,
  date-times as Excel serial days in a date style, booleans, and text as inline strings;
  a missing value is an absent cell.
- `fill_workbook` streams those rows into a workbook that xlsxwriter wrote with header rows
  only (and its charts, formats and column widths), one sheet at a time.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# text that a spreadsheet would run as a formula if it started a cell
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+\\-@\\t\\r]"
# characters XML 1.0 does not allow in a document
_BAD_XML_RE = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"
CHUNK_ROWS = 65_536
# Excel counts days from 1899-12-30 (with its 1900 leap-year quirk folded in)
_EXCEL_EPOCH_DAYS = 25_569.0
_SECONDS_PER_DAY = 86_400.0


def _text(values: pd.Series) -> pa.Array:
    """A column as Arrow text, formula-like text quoted (missing values stay missing).

    Result tables repeat a few names over many rows, so the work is done once per distinct
    value (a dictionary) and the rows take theirs by index."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: each value as text
        arr = pa.array(
            values.astype(object)
            .where(values.notna(), None)
            .map(lambda v: v if v is None or isinstance(v, str) else str(v)),
            type=pa.string(),
        )
    if isinstance(arr, pa.ChunkedArray):  # pandas' Arrow-backed text
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    coded = pc.dictionary_encode(arr)
    words = coded.dictionary
    looks = pc.fill_null(pc.match_substring_regex(words, _FORMULA_RE), False)
    words = pc.if_else(looks, pc.binary_join_element_wise("'", words, ""), words)
    return pc.take(words, coded.indices)


def arrow_columns(df: pd.DataFrame) -> list[pa.Array]:
    """Each column of `df` as an Arrow array: numbers (NaN missing), booleans, timestamps
    (ns, no time zone), or text (formula-like text quoted)."""
    out = []
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
            out.append(pa.array(s.to_numpy(dtype=bool)))
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            stamps = pd.DatetimeIndex(s)
            if stamps.tz is not None:
                stamps = stamps.tz_localize(None)
            out.append(
                pa.array(stamps.as_unit("ns").to_numpy(), type=pa.timestamp("ns"), from_pandas=True)
            )
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out.append(pa.array(s.to_numpy(dtype=float), from_pandas=True))
        else:
            out.append(_text(s))
    return out


def _csv_field(arr: pa.Array) -> pa.Array:
    """One column as CSV fields (text quoted where it must be); null where missing."""
    if pa.types.is_timestamp(arr.type):
        return pc.strftime(arr, "%Y-%m-%d %H:%M")
    if pa.types.is_boolean(arr.type):
        return pc.if_else(arr, "True", "False")
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
        finite = pc.is_finite(arr) if pa.types.is_floating(arr.type) else pc.is_valid(arr)
        # Arrow's cast writes the shortest text that reads back to the same number
        return pc.if_else(finite, pc.cast(arr, pa.string()), pa.scalar(None, pa.string()))
    special = pc.fill_null(pc.match_substring_regex(arr, '[,"\\r\\n]'), False)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(special, quoted, arr)


def _ahead(chunks: Iterator[memoryview]) -> Iterator[memoryview]:
    """The chunks of `chunks`, the next one made in a thread while the caller writes (and
    compresses) this one: Arrow's kernels and zlib both release the GIL."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _csv_lines(df: pd.DataFrame, chunk_rows: int) -> Iterator[memoryview]:
    for start in range(0, len(df), chunk_rows):
        fields = [_csv_field(a) for a in arrow_columns(df.iloc[start : start + chunk_rows])]
        if len(fields) == 1:
            line = pc.fill_null(fields[0], "")
        else:
            line = pc.binary_join_element_wise(
                *fields, ",", null_handling="replace", null_replacement=""
            )
        yield _bytes(pc.binary_join_element_wise(line, "\n", ""))


def write_csv(df: pd.DataFrame, path: Path, chunk_rows: int = CHUNK_ROWS) -> None:
    """`df` as CSV, a chunk of rows at a time: a header row, missing values empty,
    date-times as YYYY-MM-DD HH:MM, numbers as the shortest text that reads back exactly."""
    header = _csv_field(pa.array([str(c) for c in df.columns], type=pa.string()))
    with open(path, "wb") as out:
        out.write(",".join(header.to_pylist()).encode() + b"\n")
        if len(df.columns):
            for chunk in _ahead(_csv_lines(df, chunk_rows)):
                out.write(chunk)


def column_letter(j: int) -> str:
    """Excel's name of column j (0-based): A..Z, AA.."""
    name = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        name = chr(65 + rem) + name
    return name


def _escape(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring_regex(arr, _BAD_XML_RE, "")
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, raw, entity)
    return arr


def _cells(arr: pa.Array, ref: str, rows: pa.Array, date_style: int) -> pa.Array:
    """`<c>` elements of one column of a chunk; null where the value is missing."""
    if pa.types.is_timestamp(arr.type):
        seconds = pc.divide(pc.cast(arr, pa.int64()), 1_000_000_000)  # whole seconds
        days = pc.add(
            pc.divide(pc.cast(seconds, pa.float64()), _SECONDS_PER_DAY), _EXCEL_EPOCH_DAYS
        )
        return pc.binary_join_element_wise(
            f'<c r="{ref}',
            rows,
            f'" s="{date_style}"><v>',
            pc.cast(days, pa.string()),
            "</v></c>",
            "",
        )
    if pa.types.is_boolean(arr.type):
        return pc.binary_join_element_wise(
            f'<c r="{ref}',
            rows,
            '" t="b"><v>',
            pc.cast(pc.cast(arr, pa.int8()), pa.string()),
            "</v></c>",
            "",
        )
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
        finite = pc.is_finite(arr) if pa.types.is_floating(arr.type) else pc.is_valid(arr)
        value = pc.if_else(finite, pc.cast(arr, pa.string()), pa.scalar(None, pa.string()))
        return pc.binary_join_element_wise(f'<c r="{ref}', rows, '"><v>', value, "</v></c>", "")
    return pc.binary_join_element_wise(
        f'<c r="{ref}',
        rows,
        '" t="inlineStr"><is><t xml:space="preserve">',
        _escape(arr),
        "</t></is></c>",
        "",
    )


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _is_mixed(values: pd.Series) -> bool:
    """A column of numbers and text (e.g. the summary's values): each cell keeps its type."""
    return (
        values.dtype == object
        and any(_is_number(v) for v in values)
        and any(isinstance(v, str) for v in values)
    )


def _mixed_cells(values: pd.Series, ref: str, rows: pa.Array, date_style: int) -> pa.Array:
    """`<c>` elements of a column of numbers and text: numbers as numbers, text as text."""
    numbers = np.array([float(v) if _is_number(v) else np.nan for v in values], dtype=float)
    texts = values.map(lambda v: None if _is_number(v) or v is None else str(v))
    return pc.coalesce(
        _cells(pa.array(numbers, from_pandas=True), ref, rows, date_style),
        _cells(_text(texts), ref, rows, date_style),
    )


def _bytes(arr: pa.Array) -> memoryview:
    """The concatenated contents of a text array without nulls, without a copy."""
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def sheet_rows(
    df: pd.DataFrame, first_row: int, date_style: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[memoryview]:
    """The `<row>` elements of `df`'s rows, the first on worksheet row `first_row` (1-based),
    as chunks of bytes."""
    letters = [column_letter(j) for j in range(len(df.columns))]
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start : start + chunk_rows]
        rows = pc.cast(
            pa.array(np.arange(first_row + start, first_row + start + len(part))), pa.string()
        )
        cells = [
            _mixed_cells(part.iloc[:, j], ref, rows, date_style)
            if _is_mixed(part.iloc[:, j])
            else _cells(arr, ref, rows, date_style)
            for j, (arr, ref) in enumerate(zip(arrow_columns(part), letters, strict=True))
        ]
        joined = pc.binary_join_element_wise(
            '<row r="',
            rows,
            '">',
            *cells,
            "</row>",
            "",
            null_handling="replace",
            null_replacement="",
        )
        yield _bytes(joined)


@dataclass
class SheetData:
    """Rows to stream into a worksheet below what xlsxwriter wrote on it (its header)."""

    table: pd.DataFrame
    first_row: int = 2  # 1-based, below one header row


def _sheet_paths(book: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> its part in the package (from the workbook and its relations)."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", ns)}
    out: dict[str, str] = {}
    for sheet in workbook.findall("m:sheets/m:sheet", ns):
        part = str(target[sheet.get(f"{{{ns['r']}}}id")])
        out[str(sheet.get("name"))] = part.lstrip("/") if part.startswith("/") else f"xl/{part}"
    return out


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def fill_workbook(path: Path, sheets: Mapping[str, SheetData], date_style: int) -> None:
    """Stream each sheet's rows into the workbook at `path` (written by xlsxwriter with the
    header rows only); the workbook is rewritten beside itself and moved into place."""
    if not sheets:
        return
    tmp = path.with_name(path.name + ".part")
    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        parts = _sheet_paths(src)
        filled = {parts[name]: data for name, data in sheets.items()}
        for item in src.infolist():
            data = filled.get(item.filename)
            if data is None:
                dst.writestr(item, src.read(item.filename))
                continue
            xml = src.read(item.filename)
            head, sep, tail = xml.partition(b"</sheetData>")
            if not sep:  # an empty sheet is written as <sheetData/>
                head, sep, tail = xml.partition(b"<sheetData/>")
                head += b"<sheetData>"
            last = data.first_row + len(data.table) - 1
            ref = f"A1:{column_letter(max(len(data.table.columns), 1) - 1)}{max(last, 1)}"
            head = _DIMENSION.sub(f'<dimension ref="{ref}"/>'.encode(), head, count=1)
            with dst.open(item.filename, "w", force_zip64=True) as out:
                out.write(head)
                for chunk in _ahead(sheet_rows(data.table, data.first_row, date_style)):
                    out.write(chunk)
                out.write(b"</sheetData>")
                out.write(tail)
    shutil.move(tmp, path)
