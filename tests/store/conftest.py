"""Store fixtures: every contract test runs once per backend listed in BACKENDS."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from harness.store import Store, make_store

BACKENDS = ["sqlite", "postgresql"]

NewStore = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> NewStore:
    """Makes unopened stores of the backend under test.

    ``new_store()`` gives a fresh, empty location each call; ``new_store("name")``
    gives the same location for the same name, to reopen a store.
    """
    backend = request.param
    cluster = request.getfixturevalue("postgres") if backend == "postgresql" else None
    counter = itertools.count()

    def make(name: str | None = None) -> Store:
        label = name if name is not None else f"store-{next(counter)}"
        if backend == "sqlite":
            return make_store(tmp_path / "data" / f"{label}.db")
        assert cluster is not None
        if name is None:
            return make_store(cluster.new_schema())
        return make_store(cluster.new_schema(f"{tmp_path.name}_{name}"[-60:]))

    return make


@pytest.fixture
async def store(new_store: NewStore) -> AsyncIterator[Store]:
    """An open, empty store of the backend under test."""
    opened = new_store()
    await opened.open()
    yield opened
    await opened.close()
