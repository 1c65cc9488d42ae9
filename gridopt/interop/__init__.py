"""Exchange with other tools: PyPSA networks (both ways) and MATPOWER cases (import).

Importers build an `ImportedCase` (gridopt tables, hourly series and the settings of a case
YAML) and `write_case` writes it as a case folder: one CSV per table, `timeseries/*.csv` and a
`case.yaml` whose `network:` is the folder itself, so `gridopt solve OUT_DIR/case.yaml` runs it
unchanged. Whatever an importer cannot represent exactly is either refused (an `InputError`
naming the component and attribute) or reported in the warnings it returns; nothing is dropped
silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.inputs.schema import TABLES
from gridopt.results.folders import claim_output

CASE_FILE = "case.yaml"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"
# when a source has no calendar, its snapshots become hours counted from here
DEFAULT_START = pd.Timestamp("2025-01-01 00:00")


@dataclass
class ImportedCase:
    """A case ready to be written: tables indexed by name, hourly series, case settings."""

    tables: dict[str, pd.DataFrame]
    series: dict[str, pd.DataFrame]
    case: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# carrier names (lower case) of each kind, as PyPSA-Eur, MATPOWER's `genfuel` and common usage
# spell them; a carrier counts as renewable (or fossil) when its name is one of these or starts
# with one of them followed by a separator ("offwind-ac", "solar rooftop", "coal CHP")
RENEWABLE_NAMES = (
    "wind",
    "onwind",
    "offwind",
    "solar",
    "pv",
    "solar-hsat",
    "ror",
    "run-of-river",
    "hydro",
    "geothermal",
    "biomass",
    "solid biomass",
    "biogas",
    "wave",
    "tidal",
    "marine",
    "wood",
)
FOSSIL_NAMES = (
    "coal",
    "hard coal",
    "lignite",
    "gas",
    "ng",
    "natural gas",
    "ocgt",
    "ccgt",
    "oil",
    "dfo",
    "rfo",
    "diesel",
    "peat",
    "lng",
)


def _named(name: str, kinds: tuple[str, ...]) -> bool:
    text = str(name).strip().lower()
    return any(
        text == k or (text.startswith(k) and text[len(k)] in " -_")
        for k in kinds
        if len(text) >= len(k)
    )


def carrier_flags(names: pd.Index | list[str]) -> pd.DataFrame:
    """`renewable` and `fossil` flags of carriers known by name (module constants); unknown
    names get neither."""
    index = pd.Index(names)
    return pd.DataFrame(
        {
            "renewable": [_named(n, RENEWABLE_NAMES) for n in index],
            "fossil": [_named(n, FOSSIL_NAMES) for n in index],
        },
        index=index,
    )


def names_preview(names: Any, limit: int = 5) -> str:
    """'a', 'b', 'c' and 7 more: a short quoted list of component names for messages."""
    names = [str(n) for n in names]
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def write_case(
    imported: ImportedCase,
    out_dir: Path | str,
    overwrite: bool = False,
    inputs: tuple[Path | str, ...] = (),
) -> Path:
    """Write the case folder and return the path of its case YAML.

    The folder is claimed as gridopt's output (`gridopt.results.folders`, kind "case"): it
    must be new, empty, or an imported case folder written earlier (its marker), and it is
    replaced only with `overwrite`, whole and only once the new folder is complete. `inputs`
    are the files the import reads, which the folder may not hold. Only the schema's columns
    are written, in its order. The written case is read back with the normal loader before
    it replaces anything, so a case that gridopt would not accept is reported here rather
    than at solve time.
    """
    out_dir = Path(out_dir)
    with claim_output(out_dir, "case", overwrite=overwrite, inputs=inputs, inputs_ok=True) as out:
        staged = out.staging()
        try:
            _write_case_files(imported, staged)
        except InputError as err:
            # named where the case would have been written: the staging folder is gone
            raise InputError(
                [
                    dataclasses.replace(p, file=p.file.replace(str(staged), str(out_dir)))
                    for p in err.problems
                ]
            ) from None
        out.publish(staged)
    return out_dir / CASE_FILE


def _write_case_files(imported: ImportedCase, folder: Path) -> None:
    """The tables, series and case YAML of `imported` into the (new) `folder`, read back."""
    (folder / "timeseries").mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        df = imported.tables.get(name)
        if df is None or (df.empty and not table.required):
            continue
        cols = [c for c in table.column_names if c != "name" and c in df.columns]
        df[cols].rename_axis("name").to_csv(folder / f"{name}.csv")
    for name, df in imported.series.items():
        if df.shape[1] == 0:
            continue
        out = df.copy()
        out.index = pd.DatetimeIndex(out.index).strftime(TIMESTAMP_FORMAT)
        out.rename_axis("timestamp").to_csv(folder / "timeseries" / f"{name}.csv")
    case_path = folder / CASE_FILE
    case_path.write_text(
        yaml.safe_dump(imported.case, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    load_case(case_path)


def hourly_series(values: pd.DataFrame, start: pd.Timestamp, resolution_h: int) -> pd.DataFrame:
    """Per-snapshot values as an hourly series: each value held for `resolution_h` hours.

    A case with that resolution averages each block of hours, which gives the values back.
    """
    out = pd.DataFrame(values.to_numpy().repeat(resolution_h, axis=0), columns=values.columns)
    out.index = pd.date_range(start, periods=len(out), freq="h", name="timestamp")
    return out
