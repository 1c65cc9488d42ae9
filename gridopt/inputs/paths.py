from pathlib import Path

from gridopt.errors import InputError, Problem
from gridopt.inputs.settings import Case


def confined_path(case_file: Path, given: str) -> tuple[Path | None, str | None]:
    """A path named in a case file, resolved; or the rule it breaks.

    It must be relative to the case file and stay inside the project holding the case (the
    case file's folder or the folder above it, as in `cases/x.yaml` -> `../networks/x`), so
    a case cannot make gridopt read files elsewhere.
    """
    if Path(given).is_absolute():
        return None, "must be a path relative to the case file, not an absolute path"
    target = (case_file.parent / given).resolve()
    project = case_file.resolve().parent.parent
    if not target.is_relative_to(project):
        return None, f"leaves the project folder {project}"
    return target, None


def network_folder(case: Case, path: Path) -> Path:
    """The case's network folder (see `confined_path` for where it may be)."""
    folder, rule = confined_path(path, case.network)
    if folder is None:
        raise InputError([Problem(str(path), f"network {rule}", column="network",
                                  value=case.network)])
    return folder
