"""Store fixtures: every contract test runs once per backend listed in BACKENDS."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from harness.store import Store, make_store

# A PostgreSQL backend joins the contract suite by adding its name here and a branch below.
BACKENDS = ["sqlite"]

NewStore = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> NewStore:
    """Makes unopened stores of the backend under test.

    ``new_store()`` gives a fresh, empty location each call; ``new_store("name")``
    gives the same location for the same name, to reopen a store.
    """
    backend = request.param
    counter = itertools.count()

    def make(name: str | None = None) -> Store:
        label = name if name is not None else f"store-{next(counter)}"
        if backend == "sqlite":
            return make_store(tmp_path / "data" / f"{label}.db")
        raise AssertionError(f"no fixture for backend {backend}")

    return make


@pytest.fixture
async def store(new_store: NewStore) -> AsyncIterator[Store]:
    """An open, empty store of the backend under test."""
    opened = new_store()
    await opened.open()
    yield opened
    await opened.close()
