"""Fixtures for the gpt4free adapter's tests: the network made absent (here and in the
worker processes), the real g4f, one pool of workers for the session."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("g4f", reason="the g4f extra is not installed: pip install -e '.[g4f]'")

from network_guard import REFUSED_LOG_ENV, refuse_network

from providers.gpt4free import Workers, configure

POOL_SIZE = 6
GRACE_S = 1.0
MEMORY_MB = 512


@pytest.fixture(scope="session", autouse=True)
def g4f_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """The pool the wrapped providers call through, its workers kept off the network;
    started once (importing gpt4free takes a second a worker)."""
    log = tmp_path_factory.mktemp("refused") / "worker.log"
    log.touch()
    os.environ[REFUSED_LOG_ENV] = str(log)
    pool = configure(
        POOL_SIZE, memory_mb=MEMORY_MB, grace_s=GRACE_S, setup="network_guard:in_worker"
    )
    yield pool
    pool.close()


@pytest.fixture(autouse=True)
async def workers(g4f_workers: Workers) -> Workers:
    """The session's pool with every idle worker ready, for every test: the first ones
    and the replacements an earlier test started have gpt4free imported (a call on a
    worker still importing is stopped at its deadline without blaming the provider,
    which never ran; a timing test would see the import in its time to first chunk)."""
    await g4f_workers.until_ready(60)
    return g4f_workers


class Refused:
    """What was refused since the test began: here (``here``) and in the workers."""

    def __init__(self) -> None:
        self.here: list[str] = []
        self._log = Path(os.environ[REFUSED_LOG_ENV])
        self._from = self._log.stat().st_size

    def _in_workers(self) -> list[str]:
        with self._log.open("rb") as log:
            log.seek(self._from)
            return log.read().decode().splitlines()

    def __iter__(self) -> Iterator[str]:
        return iter([*self.here, *self._in_workers()])

    def __bool__(self) -> bool:
        return bool(self.here or self._in_workers())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Refused]:
    """Name resolution and connections reach this machine only, from every thread of
    this process (the workers always have it so), as on a host without network; yields
    what was refused (``resolve NAME``, ``connect ADDR``)."""
    monkeypatch.chdir(tmp_path)  # gpt4free writes ./generated_media and the like
    refused = Refused()
    refuse_network(monkeypatch.setattr, refused.here.append)
    yield refused
    gc.collect()  # what gpt4free's code left unclosed is reported here, not in a later test
