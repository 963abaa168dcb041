"""Fixtures for the endpoint tests: the emulators and a leaky endpoint, served from a
thread (see ``endpoint_servers``), and a CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from endpoint_servers import in_thread, leaky_app

from harness.emulator import Emulator


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """The emulators (OpenAI routes included), served from a thread."""
    yield from in_thread(lambda: Emulator().app)


@pytest.fixture
def leaky_url() -> Iterator[str]:
    yield from in_thread(leaky_app)


@pytest.fixture
def data_dir(isolated_environment: Path) -> Path:
    """The data directory the CLI uses in this test (from HARNESS_DATA_DIR)."""
    return isolated_environment / "data"
