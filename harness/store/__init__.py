"""The result store: results, current statuses and flips, behind one interface.

    async with open_store(path_or_url) as store:
        await store.add_results(results)

A location is a filesystem path (SQLite) or a URL: ``sqlite:///relative.db`` and
``sqlite:////absolute/path.db`` (SQLAlchemy's spelling), or ``postgresql://user@host/db``
(also ``postgres://``; any libpq URL).

base.py      the Store interface the harness uses
sql.py       the one SQL store, written once over a dialect
dialect.py   what differs between databases: values, SQL fragments, units of work
rows.py      records as rows and back, derived from their dataclasses' fields
sqlite.py    the SQLite dialect: one file, one thread; its schema's migrations
postgres.py  the PostgreSQL dialect: a shared database, a pool; its schema's migrations
copy.py      copying a SQLite store into a PostgreSQL one (``harness store migrate``)
spool.py     results kept on disk while the store cannot be reached
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from harness.errors import StoreError
from harness.store.base import Store
from harness.store.sqlite import SQLiteStore

_SQLITE_PREFIX = "sqlite:///"


def check_location(location: str) -> None:
    """:class:`StoreError` unless ``location`` is a store this harness speaks: a file
    path, ``sqlite:///path.db`` or a ``postgresql://`` (``postgres://``) URL."""
    _backend(location)


def backend_of(location: str) -> str:
    """``"sqlite"`` or ``"postgresql"``: the database the store at ``location`` runs on."""
    return _backend(location)[0]


def store_exists(location: str) -> bool:
    """False for a SQLite store whose file is not there yet (opening would create it);
    True otherwise (a database server's store is found by opening it)."""
    backend, where = _backend(location)
    return backend != "sqlite" or os.path.isfile(where)


def _backend(location: str) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgresql", url)``; see :func:`check_location`."""
    if location.startswith(_SQLITE_PREFIX):
        path = location.removeprefix(_SQLITE_PREFIX)
        if not path:
            raise StoreError(f"no database file in the store URL {location!r}")
        return "sqlite", path
    scheme, sep, _ = location.partition("://")
    if not sep:
        return "sqlite", location
    if scheme in ("postgresql", "postgres"):
        return "postgresql", location
    shown = location if scheme == "sqlite" else f"{scheme}://..."
    raise StoreError(
        f"unsupported store URL {shown!r}: give a file path, sqlite:///path.db "
        "or postgresql://user@host/database"
    )


def make_store(location: str | os.PathLike[str]) -> Store:
    """The store for a path or URL, not yet opened (for callers that manage its lifetime)."""
    if not isinstance(location, str):
        return SQLiteStore(location)
    backend, where = _backend(location)
    if backend == "postgresql":
        from harness.store.postgres import PostgresStore

        return PostgresStore(where)
    return SQLiteStore(where)


@asynccontextmanager
async def open_store(location: str | os.PathLike[str]) -> AsyncIterator[Store]:
    """Open the store at ``location`` for the duration of an ``async with`` block."""
    store = make_store(location)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def store_intact(location: str) -> bool:
    """Whether the store at ``location`` passes its full integrity check (``harness store
    check``); :class:`StoreError` when there is none or it cannot be opened
    (:class:`~harness.errors.StoreDamagedError` when its file is not a database)."""
    store = make_store(location)
    if isinstance(store, SQLiteStore) and not store.path.is_file():
        raise StoreError(f"there is no store at {store.path}")  # checking must not create one
    await store.open()
    try:
        return await store.integrity_ok()
    finally:
        await store.close()


__all__ = [
    "SQLiteStore",
    "Store",
    "StoreError",
    "backend_of",
    "check_location",
    "make_store",
    "open_store",
    "store_exists",
    "store_intact",
]
