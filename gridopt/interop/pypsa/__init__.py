"""PyPSA networks, both ways: `exporter` writes a gridopt case as a PyPSA network, `importer`
reads a PyPSA network into a gridopt case folder; `common` holds what both use."""

from gridopt.interop.pypsa.common import HINT, LOAD_SHEDDING, _quiet
from gridopt.interop.pypsa.exporter import EXPORTED_TABLES, export_pypsa, to_pypsa
from gridopt.interop.pypsa.importer import from_pypsa, import_pypsa, read_pypsa

__all__ = [
    "EXPORTED_TABLES",
    "HINT",
    "LOAD_SHEDDING",
    "_quiet",
    "export_pypsa",
    "from_pypsa",
    "import_pypsa",
    "read_pypsa",
    "to_pypsa",
]
