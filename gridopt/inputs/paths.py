"""Where a case may read from: its project folder, found from the case file, never left.

The project of a case is the folder named on the command line (`gridopt --project-root DIR`,
for a case whose network is kept elsewhere), else the folder stated in the case (`project:
..`, relative to the case file and one of its ancestors), else the nearest folder at or above
the case file's folder that holds both `cases/` and `networks/`, else the case file's own
folder. Every path a case names (network, security file) and every file read from its network
is resolved, symbolic links included, before it is checked to lie inside that project: a link
to a file elsewhere is refused without being read.
"""

from __future__ import annotations

import os
from pathlib import Path

from gridopt.errors import InputError, Problem
from gridopt.inputs.settings import Case

PROJECT_FOLDERS = ("cases", "networks")
# a project folder set deliberately (`gridopt --project-root DIR`), for case files whose
# network lies elsewhere; read from the environment so that worker processes see it too
PROJECT_ROOT_ENV = "GRIDOPT_PROJECT_ROOT"


def is_project(folder: Path) -> bool:
    """Whether a folder is a project root: it holds both `cases/` and `networks/`."""
    return all((folder / name).is_dir() for name in PROJECT_FOLDERS)


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above `start` (resolved) holding `cases/` and `networks/`."""
    start = Path(start).resolve()
    return next((d for d in (start, *start.parents) if is_project(d)), None)


def project_root(case_file: Path, stated: str | None = None) -> tuple[Path, str | None]:
    """The project folder of a case file (resolved), and the rule `stated` breaks, if any."""
    folder = Path(case_file).absolute().parent.resolve()
    given = os.environ.get(PROJECT_ROOT_ENV)
    if given:
        return Path(given).resolve(), None
    if stated is not None:
        if Path(stated).is_absolute():
            return folder, "must be a path relative to the case file, not an absolute path"
        root = (folder / stated).resolve()
        if not folder.is_relative_to(root):
            return folder, "must be the case file's folder or a folder above it"
        return root, None
    return find_project(folder) or folder, None


def confined_path(
    case_file: Path, given: str, project: Path | None = None
) -> tuple[Path | None, str | None]:
    """A path named in a case file, resolved; or the rule it breaks.

    It must be relative to the case file and, symbolic links resolved, stay inside the
    project (`project`, default: `project_root` of the case file), so a case cannot make
    gridopt read files elsewhere.
    """
    if Path(given).is_absolute():
        return None, "must be a path relative to the case file, not an absolute path"
    root = project if project is not None else project_root(case_file)[0]
    target = (Path(case_file).absolute().parent / given).resolve()
    if not target.is_relative_to(root):
        return None, (
            f"leaves the project folder {root} (to allow a folder elsewhere, name"
            " a project folder holding both: gridopt --project-root DIR ...)"
        )
    return target, None


def outside(path: Path, root: Path | None) -> Problem | None:
    """A problem when a file to be read lies outside `root` once links are resolved."""
    if root is None:
        return None
    real = Path(path).resolve()
    if real.is_relative_to(root):
        return None
    return Problem(
        str(path),
        f"is a link to a file outside the project folder {root}; it is"
        " not read (copy the file into the project)",
    )


def case_project(case: Case, path: Path) -> Path:
    """The project folder of a case (see `project_root`); a bad `project:` setting raises."""
    root, rule = project_root(path, case.project)
    if rule is not None:
        raise InputError(
            [Problem(str(path), f"project {rule}", column="project", value=case.project)]
        )
    return root


def network_folder(case: Case, path: Path) -> Path:
    """The case's network folder (see `confined_path` for where it may be)."""
    folder, rule = confined_path(path, case.network, case_project(case, path))
    if folder is None:
        raise InputError(
            [Problem(str(path), f"network {rule}", column="network", value=case.network)]
        )
    return folder
