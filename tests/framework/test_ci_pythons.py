"""Which Pythons CI runs the suite on: ``.ci/pythons.py``, against stand-in interpreters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "pythons.py"


def _interpreter(directory: Path, name: str, says: str, status: int = 0) -> Path:
    """An executable ``name`` that prints ``says`` and exits with ``status``, whatever it
    is asked."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{says}'\nexit {status}\n")
    path.chmod(0o755)
    return path


def _listing(path: Path, pyenv: Path) -> list[str]:
    env = {"PATH": str(path), "PYENV_ROOT": str(pyenv), "HOME": str(pyenv)}
    run = subprocess.run(
        [sys.executable, SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return run.stdout.splitlines()


def test_a_claimed_version_the_machine_lacks_is_listed_missing(tmp_path: Path) -> None:
    found = _interpreter(tmp_path / "bin", "python3.12", "CPython 3 12 1")

    listing = _listing(tmp_path / "bin", tmp_path / "pyenv")

    assert "missing 3.11" in listing  # the oldest claimed (requires-python)
    assert f"found 3.12 {found}" in listing


@pytest.mark.parametrize(
    ("says", "status"),
    [("pyenv: python3.12: command not found", 127), ("PyPy 3 12 1", 0), ("CPython 3 11 9", 0)],
    ids=["a shim that cannot run", "another implementation", "another version"],
)
def test_only_a_cpython_that_runs_as_the_version_it_is_named_counts(
    tmp_path: Path, says: str, status: int
) -> None:
    _interpreter(tmp_path / "shims", "python3.12", says, status)
    real = _interpreter(
        tmp_path / "pyenv" / "versions" / "3.12.1" / "bin", "python3.12", "CPython 3 12 1"
    )

    assert f"found 3.12 {real}" in _listing(tmp_path / "shims", tmp_path / "pyenv")
