"""One quick run of every benchmark, shared by the tests that read its document."""

from pathlib import Path
from typing import Any

import pytest

from harness.bench.sizes import QUICK
from harness.bench.suite import run_benchmarks

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


@pytest.fixture
def cassettes() -> Path:
    """The shipped cassettes."""
    return CASSETTES


@pytest.fixture(scope="module")
def quick_document() -> dict[str, Any]:
    """The document of ``harness bench --quick`` (every benchmark, tiny sizes)."""
    return run_benchmarks(QUICK, cassette_dir=CASSETTES, quick=True)
