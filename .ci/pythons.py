"""The CPythons of 3.11 or newer on this machine, one per minor version, and the claimed
ones it lacks (CI runs the suite on each; see .ci/run).

Prints one line per version, oldest first: ``found 3.12 /path/to/python3.12`` or
``missing 3.12``. Claimed versions are pyproject.toml's ``Programming Language ::
Python :: 3.N`` classifiers. Candidates are every ``python3.N`` on PATH and under
pyenv's versions; one counts only when it runs and says it is CPython 3.N, since a
pyenv shim exists for every installed version but runs only the selected ones.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

OLDEST = (3, 11)
_NAME = re.compile(r"python3\.(\d+)")
_CLASSIFIER = re.compile(r"Programming Language :: Python :: 3\.(\d+)")
_ASK = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3])"


def claimed(pyproject: Path) -> set[tuple[int, int]]:
    """The minor versions pyproject.toml's classifiers name."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return {
        (3, int(m[1])) for c in project.get("classifiers", []) if (m := _CLASSIFIER.fullmatch(c))
    }


def candidates() -> list[tuple[tuple[int, int], Path]]:
    """Every ``python3.N`` on PATH, then under pyenv's versions (newest patch first),
    with the minor version its name claims."""
    dirs = [Path(d) for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if versions.is_dir():
        installed = [v for v in versions.iterdir() if re.fullmatch(r"3\.\d+\.\d+", v.name)]
        installed.sort(key=lambda v: tuple(int(p) for p in v.name.split(".")), reverse=True)
        dirs += [v / "bin" for v in installed]
    return [
        ((3, int(m[1])), d / name)
        for d in dirs
        if d.is_dir()
        for name in sorted(os.listdir(d))
        if (m := _NAME.fullmatch(name))
    ]


def version(python: Path) -> tuple[int, int, int] | None:
    """The version of ``python`` when it runs and is CPython, else None."""
    try:
        out = subprocess.run(
            [python, "-c", _ASK], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) != 4 or out[0] != "CPython":
        return None
    return int(out[1]), int(out[2]), int(out[3])


def main() -> None:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    chosen: dict[tuple[int, int], Path] = {}
    for minor, python in candidates():
        if minor < OLDEST or minor in chosen:
            continue
        found = version(python)
        if found is not None and found[:2] == minor:
            chosen[minor] = python
    for minor in sorted(claimed(pyproject) | set(chosen)):
        shown = ".".join(map(str, minor))
        print(f"found {shown} {chosen[minor]}" if minor in chosen else f"missing {shown}")


if __name__ == "__main__":
    main()
