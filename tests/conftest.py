"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from harness.emulator import Emulator
from providers import PROVIDERS
from tests.postgres_cluster import REQUIRE_ENV, PostgresCluster, unavailable_reason

# Machines here are shared and noisy: a slow example is no failure of the code under test.
settings.register_profile("harness", deadline=None)
settings.load_profile("harness")


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
    monkeypatch.delenv("HARNESS_ALERT_URLS", raising=False)
    monkeypatch.delenv("HARNESS_STORE", raising=False)
    return home


@pytest.fixture(autouse=True)
def restore_working_flags() -> Iterator[None]:
    """Runs apply measured flags to the provider classes, and configurations register
    providers: put the shipped flags and the registry as they were back."""
    known = dict(PROVIDERS)
    shipped = {name: provider.working for name, provider in known.items()}
    yield
    PROVIDERS.clear()
    PROVIDERS.update(known)
    for name, working in shipped.items():
        PROVIDERS[name].working = working


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The four upstream emulators, started on a free port of 127.0.0.1, with no faults."""
    async with Emulator(host="127.0.0.1", port=0) as emu:
        yield emu


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real, throwaway PostgreSQL server for the whole session (see postgres_cluster.py).

    Skipped when PostgreSQL is not installed, unless ``$HARNESS_REQUIRE_POSTGRES`` is set
    (CI sets it): then its absence fails the tests that need it.
    """
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{reason}, and ${REQUIRE_ENV} is set")
        pytest.skip(reason)
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


SOAK_SECONDS_ENV = "HARNESS_SOAK_SECONDS"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        help=f"run the long soak tests (also run when ${SOAK_SECONDS_ENV} is set)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``soak`` run only with ``--soak`` or ``$HARNESS_SOAK_SECONDS``."""
    if config.getoption("--soak") or os.environ.get(SOAK_SECONDS_ENV):
        return
    skip = pytest.mark.skip(reason=f"long soak: run with --soak or ${SOAK_SECONDS_ENV}")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
