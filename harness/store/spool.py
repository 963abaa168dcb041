"""The spool: results a run could not store, kept on disk until the store is back.

When the database cannot be reached, a run's results go to the spool instead (one
JSON-lines file per run, written to a temporary name and renamed, so a crash never
leaves half a file). Before its next write the pipeline stores the spooled runs,
oldest first; a file is removed only once its results are committed, so nothing is
lost. A file is claimed by renaming it before it is stored, so two runs (or two
processes sharing the data directory) do not both take it; and every spooled run
carries a run id (its results' own, else one given here), which the store keeps with
the run, so a run stored again (a crash between the commit and the file's removal, a
claim given back while its first taker was still at it) is stored once.

A run the store refuses outright (not merely cannot reach) is renamed ``.rejected``
and left for a person, so one bad file never blocks the runs after it.

The spool is bounded: it keeps at most ``max_results`` results, and when a new run
would pass the bound the oldest spooled runs are dropped (and counted) to make room.

When the spool cannot be written (its disk is full), a run is held in memory instead, with
an error in the log, and written or stored first as soon as either is possible again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.result import ProbeResult

log = logging.getLogger(__name__)

SPOOL_MAX_RESULTS = 100_000
"""The default bound: at a run of a few hundred results every few minutes, days of outage."""

ABANDONED_S = 600.0
"""A claim this old was left by a process that died while storing it."""

_SUFFIX = ".jsonl"
_CLAIMED = ".claimed"
_REJECTED = ".rejected"


_HELD: dict[Path, list[list[ProbeResult]]] = {}
"""Runs that could not be written (the disk full), by spool directory, oldest first: kept
for the life of the process, which is what a long-running ``harness serve`` needs to lose
nothing to a full disk while its database is away."""
_HELD_LOCK = threading.Lock()


class Spool:
    """A directory of spooled runs, oldest first by name."""

    def __init__(self, directory: Path, *, max_results: int = SPOOL_MAX_RESULTS) -> None:
        if max_results < 1:
            raise ValueError("max_results must be at least 1")
        self.directory = directory
        self.max_results = max_results

    def pending(self) -> list[Path]:
        """The spooled runs not claimed by anyone, oldest first (a claim older than
        :data:`ABANDONED_S` was left by a crash, and is given back first)."""
        if not self.directory.is_dir():
            return []
        for claimed in self.directory.glob(f"*{_CLAIMED}"):
            try:
                if time.time() - claimed.stat().st_mtime > ABANDONED_S:
                    self.release(claimed)
            except FileNotFoundError:
                continue
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def count(self) -> int:
        """How many results wait in the spool, claimed and held ones included."""
        return self.held() + self._on_disk()

    def _on_disk(self) -> int:
        if not self.directory.is_dir():
            return 0
        files = [*self.directory.glob(f"*{_SUFFIX}"), *self.directory.glob(f"*{_CLAIMED}")]
        return sum(_lines(path) for path in files)

    def put(self, results: Sequence[ProbeResult]) -> int:
        """Spool one run's results; returns how many older results were dropped for room.

        A run that cannot be written (the disk is full) is held in memory instead, with
        an error logged, and written before the next run (or stored, by
        :meth:`take_held`, once the store is back).
        """
        if not results:
            return 0
        run_id = uuid.uuid4().hex
        # Every spooled run carries an id, so that storing it twice stores it once.
        keep = [r if r.run_id else replace(r, run_id=run_id) for r in results[-self.max_results :]]
        dropped = len(results) - len(keep)
        with _HELD_LOCK:
            held = _HELD.setdefault(self.directory, [])
            held.append(keep)
            while sum(map(len, held)) > self.max_results:
                lost = held.pop(0)
                dropped += len(lost)
                log.error("the spool is full: dropped %d results held in memory", len(lost))
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                while held:
                    dropped += self._make_room(len(held[0]))
                    self._write(held[0])
                    held.pop(0)
            except OSError as exc:
                log.error(
                    "cannot write to the spool %s (%s): %d results held in memory until "
                    "the disk or the store is back",
                    self.directory,
                    exc.strerror or exc,
                    sum(map(len, held)),
                )
        return dropped

    def held(self) -> int:
        """How many results wait in memory, the spool's disk having refused them."""
        with _HELD_LOCK:
            return sum(map(len, _HELD.get(self.directory, [])))

    def take_held(self) -> list[ProbeResult] | None:
        """The oldest run held in memory (see :meth:`put`), taken; None when there is none.
        Held runs are newer than every file: they wait behind them."""
        with _HELD_LOCK:
            held = _HELD.get(self.directory)
            return held.pop(0) if held else None

    def give_back(self, run: list[ProbeResult]) -> None:
        """Hold a run taken by :meth:`take_held` again, as the oldest (it was not stored)."""
        with _HELD_LOCK:
            _HELD.setdefault(self.directory, []).insert(0, run)

    def _make_room(self, incoming: int) -> int:
        """Drop the oldest spooled files until ``incoming`` more results fit the bound."""
        dropped = 0
        waiting = self._on_disk()
        for oldest in self.pending():
            if waiting + incoming <= self.max_results:
                break
            lost = _lines(oldest)
            oldest.unlink(missing_ok=True)
            waiting -= lost
            dropped += lost
        if dropped:
            log.error("the spool is full: dropped the %d oldest spooled results", dropped)
        return dropped

    def _write(self, run: Sequence[ProbeResult]) -> None:
        """One run as a file, whole or not at all (a failed write leaves nothing behind)."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        temporary = self.directory / f"{name}.tmp"
        try:
            with temporary.open("w", encoding="utf-8") as file:
                for result in run:
                    file.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(self.directory / f"{name}{_SUFFIX}")
        except OSError:
            temporary.unlink(missing_ok=True)
            raise

    def claim(self, path: Path) -> Path | None:
        """Take a spooled run for storing; None when someone else took it first."""
        claimed = path.with_suffix(_CLAIMED)
        try:
            path.rename(claimed)
        except FileNotFoundError:
            return None
        return claimed

    @staticmethod
    def read(claimed: Path) -> list[ProbeResult]:
        """The results of a claimed run."""
        with claimed.open(encoding="utf-8") as file:
            return [ProbeResult.from_dict(json.loads(line)) for line in file if line.strip()]

    @staticmethod
    def done(claimed: Path) -> None:
        """Forget a claimed run whose results are stored."""
        claimed.unlink(missing_ok=True)

    @staticmethod
    def reject(claimed: Path) -> Path:
        """Set aside a claimed run the store refuses; where it now is."""
        rejected = claimed.with_suffix(_REJECTED)
        claimed.rename(rejected)
        return rejected

    @staticmethod
    def release(claimed: Path) -> None:
        """Give a claimed run back (its results could not be stored)."""
        claimed.rename(claimed.with_suffix(_SUFFIX))


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0
