"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from harness.emulator import Emulator
from providers import PROVIDERS


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data, cache and flags locations and no redirection,
    so nothing leaks between tests or into the developer's real directories."""
    home = tmp_path / "env"
    monkeypatch.setenv("HARNESS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("HARNESS_FLAGS_FILE", raising=False)
    monkeypatch.delenv("HARNESS_UPSTREAM", raising=False)
    monkeypatch.delenv("HARNESS_ADMIN_TOKEN", raising=False)
    return home


@pytest.fixture(autouse=True)
def restore_working_flags() -> Iterator[None]:
    """Runs apply measured flags to the provider classes; put the shipped ones back."""
    shipped = {name: provider.working for name, provider in PROVIDERS.items()}
    yield
    for name, working in shipped.items():
        PROVIDERS[name].working = working


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The four upstream emulators, started on a free port of 127.0.0.1, with no faults."""
    async with Emulator(host="127.0.0.1", port=0) as emu:
        yield emu
