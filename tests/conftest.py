"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data, cache and flags locations and no redirection,
    so nothing leaks between tests or into the developer's real directories."""
    home = tmp_path / "env"
    monkeypatch.setenv("HARNESS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("HARNESS_FLAGS_FILE", raising=False)
    monkeypatch.delenv("HARNESS_UPSTREAM", raising=False)
    monkeypatch.delenv("HARNESS_ADMIN_TOKEN", raising=False)
    yield home
