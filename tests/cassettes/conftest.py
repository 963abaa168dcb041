"""pytest-recording setup for the cassette tests.

The shipped cassettes live in ``cassettes/`` at the top of the repository. They are
replayed with pytest-recording's ``vcr`` fixture (record mode from the command line,
``none`` by default) and our matcher; ``vcr_config`` deliberately has no
``record_mode``, which would override ``--record-mode=none``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vcr import VCR

from harness.cassettes import find_cassettes, match
from harness.settings.config import Settings

SHIPPED = Path(__file__).resolve().parents[2] / "cassettes"
"""The cassettes the repository ships."""


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    """Teach every pytest-recording VCR instance the harness matcher."""
    match.configure(vcr)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """How the shipped cassettes are matched (and nothing about the record mode)."""
    return dict(match.VCR_OPTIONS)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """pytest-recording looks for cassettes in the shipped folder."""
    return str(SHIPPED)


@pytest.fixture
def settings() -> Settings:
    """Default settings (deadlines, no configured secrets)."""
    return Settings()


@pytest.fixture
def shipped_dir() -> Path:
    """The folder of the shipped cassettes."""
    return SHIPPED


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``shipped_cassette`` runs once per shipped cassette file, with
    pytest-recording's ``default_cassette`` pointing at that file."""
    if "shipped_cassette" not in metafunc.fixturenames:
        return
    params = []
    for path in find_cassettes(SHIPPED):
        name = f"{path.parent.name}/{path.stem}"
        params.append(pytest.param(path, id=name, marks=pytest.mark.default_cassette(name)))
    metafunc.parametrize("shipped_cassette", params)
