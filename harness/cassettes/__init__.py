"""Cassettes: record providers' traffic as it streams, scrub it, replay it offline.

Entry points (the CLI's ``harness record`` and ``harness probe --replay``)::

    report = await record(targets, out_dir=Path("cassettes"), sandbox=True, settings=s)
    results = await replay(Path("cassettes"), speed=1.0, settings=s)  # None: instant
    drift = await check_drift(targets, against=Path("cassettes"), sandbox=True, settings=s)

Modules: ``cassette`` (the file format), ``recorder`` (streaming capture via aiohttp
tracing), ``scrub`` (secrets out, stable placeholders in), ``match`` (the vcrpy
matcher), ``playback`` (chunk-paced vcrpy responses), ``isolation`` (fresh caches,
real hosts), ``record``, ``replay`` and ``drift`` (the three commands).
"""

from __future__ import annotations

from harness.cassettes.cassette import (
    Cassette,
    CassetteError,
    cassette_path,
    find_cassettes,
    load,
    save,
)
from harness.cassettes.drift import Drift, DriftReport, check_drift
from harness.cassettes.record import Recorded, RecordReport, record
from harness.cassettes.replay import REAL_TIME, probe_recorded, replay, replay_cassette

__all__ = [
    "REAL_TIME",
    "Cassette",
    "CassetteError",
    "Drift",
    "DriftReport",
    "RecordReport",
    "Recorded",
    "cassette_path",
    "check_drift",
    "find_cassettes",
    "load",
    "probe_recorded",
    "record",
    "replay",
    "replay_cassette",
    "save",
]
