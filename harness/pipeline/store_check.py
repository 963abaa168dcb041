"""``harness store check``: read a whole store and check its integrity, never creating one."""

from __future__ import annotations

from harness.errors import StoreError
from harness.store import SQLiteStore, make_store


async def store_intact(location: str) -> bool:
    """Whether the store at ``location`` passes its full integrity check;
    :class:`StoreError` when there is none or it cannot be opened
    (:class:`~harness.errors.StoreDamagedError` when its file is not a database)."""
    store = make_store(location)
    if isinstance(store, SQLiteStore) and not store.path.is_file():
        raise StoreError(f"there is no store at {store.path}")  # checking must not create one
    await store.open()
    try:
        return await store.integrity_ok()
    finally:
        await store.close()
