"""Every case in cases/ whose network the PyPSA export maps round-trips: export, import, solve
to the same objective. The others are refused by name (what PyPSA cannot express) and say so.

The PPRD cases are refused for their contracts and corridor delivery shapes
(`test_interop_pypsa` names every part of the PPRD week that the export does not map); loading
each of them here would only repeat it.
"""

from __future__ import annotations

import pytest

from gridopt.errors import InputError
from gridopt.inputs.case import load_case
from gridopt.interop.pypsa import export_pypsa, import_pypsa
from gridopt.model.registry import build_model
from gridopt.solver.solve import solve
from tests.conftest import CASES

TINY = sorted(p.stem for p in CASES.glob("tiny_*.yaml"))
# the cases the export refuses, each with a part of the refusal message
REFUSED = {
    "tiny_contract": "table 'contracts'",
    "tiny_corridor": "curtailment penalty",
    "tiny_expansion": "investment periods",
    "tiny_expansion_periods": "investment periods",
    "tiny_obligation": "table 'energy_obligations'",
    "tiny_security": "supply-security zones",
    "tiny_water": "supply-security zones",
}


def _objective(case) -> float:
    data = load_case(case, {"solver.mip_gap": 0.0})
    sol = solve(build_model(data), data.case.solver)
    assert sol.status == "optimal", sol.message
    return sol.objective_cny


@pytest.mark.parametrize("name", TINY)
def test_cases_round_trip_through_pypsa_or_are_refused_by_name(tmp_path, name):
    case = CASES / f"{name}.yaml"
    if name in REFUSED:
        with pytest.raises(InputError, match=REFUSED[name]):
            export_pypsa(case, tmp_path / "net.nc")
        return
    export_pypsa(case, tmp_path / "net.nc")
    import_pypsa(tmp_path / "net.nc", tmp_path / "back")
    back = load_case(tmp_path / "back" / "case.yaml")
    original = load_case(case)
    assert back.case.model == original.case.model
    assert back.case.currency == original.case.currency == "CNY"
    # the gas network comes back as gas tables, its plants as generators burning gas
    for table in ("gas_nodes", "gas_supplies", "pipelines", "gas_storage", "gas_demands"):
        assert sorted(back.tables[table].index) == sorted(original.tables[table].index), table
    burning = original.tables["generators"]["gas_node"].notna()
    assert (
        back.tables["generators"]
        .loc[original.tables["generators"].index[burning], "gas_node"]
        .notna()
        .all()
    )
    assert _objective(tmp_path / "back" / "case.yaml") == pytest.approx(_objective(case), rel=1e-9)
