"""Drain one data directory's spool into a store, as a process of its own.

    python drain_process.py DATA_DIR STORE_URL [--crash-after-commit]

Prints how many results went in. With ``--crash-after-commit`` the process ends with
``os._exit`` at the moment a spooled run is committed and its file not yet removed:
the crash that idempotent storing exists for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from harness.pipeline.run import spool_of, store_spooled
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.spool import Spool

CRASH_EXIT = 17


def crash(claimed: Path) -> None:
    os._exit(CRASH_EXIT)


async def drain(data_dir: Path, store_url: str) -> int:
    settings = Settings(data_dir=data_dir)
    async with open_store(store_url) as store:
        return await store_spooled(settings, store, spool_of(settings))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if "--crash-after-commit" in sys.argv[3:]:
        Spool.done = staticmethod(crash)  # type: ignore[method-assign]
    print(asyncio.run(drain(Path(sys.argv[1]), sys.argv[2])))
