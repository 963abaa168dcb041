"""The store and the status page at scale: a long history written, then read and shown.

1. Insert ``rows`` synthetic results in batches (one transaction each, as a run
   does) into a fresh SQLite store in a temporary directory (or, given a PostgreSQL
   URL, into a scratch schema of that database, dropped afterwards): rows per second,
   counting only the time spent in ``add_results``. The statuses are then folded
   from the newest batch, as the pipeline would have left them. Bytes per result:
   what the store grew by from empty (its schema made), indexes and rollups included,
   over the results (SQLite: the file; PostgreSQL: every table's
   ``pg_total_relation_size``, after a ``VACUUM``).
2. In a fresh process (so nothing from step 1 inflates its memory): the status
   aggregation (:func:`harness.report.read_page`: uptime windows, p50/p95 per
   target, history bars, flips) and the HTML render (:func:`render_page`), once cold
   and ``repeats`` times warm; the process's resident-memory high-water mark
   (``VmHWM``) after those, and the Python allocation peak (``tracemalloc``) of one
   more page, measured on its own since tracing slows everything down. Compiling
   the templates (once per process, whatever the history) is timed apart, on an
   empty page rendered first.
3. With ``scale_up``: the same store made ``scale_up`` times larger by a bulk path
   (:func:`replicate`: every result written again, microseconds apart in the same
   hour, by SQL on the file; the rollups' counts multiplied to match, through the
   store), then step 2 again. The page must cost about the same: what it reads grows
   with targets and hours, not with results.
4. Pruning beside runs (:mod:`harness.bench.pruning`): the longest batch, and a run's
   write with and without pruning going on.
5. With ``record_targets``: what recording one provider's run costs beside a fleet of
   that many targets (:mod:`harness.bench.record`), in a store of its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness import __version__
from harness.bench.distribution import median
from harness.bench.errors import BenchError
from harness.bench.pruning import prune_beside_runs
from harness.bench.record import record_beside_fleet
from harness.bench.synthetic import batches, synthetic_results
from harness.pipeline.run import thresholds_of
from harness.policy.rollup import HourRollup, Sketch
from harness.policy.status import replay
from harness.report import build_page, read_page, render_page
from harness.result import ProbeResult
from harness.settings.config import Settings
from harness.store import SQLiteStore, open_store
from harness.store.rows import RESULT_COLUMNS

PAGE_PROCESS_TIMEOUT_S = 600.0
PROC_STATUS = Path("/proc/self/status")
_MB = 1024 * 1024


def proc_status_mb(status: str, field: str) -> float | None:
    """A ``kB`` field of ``/proc/<pid>/status`` text (``VmRSS``, ``VmHWM``) in MiB. Pure."""
    for line in status.splitlines():
        name, sep, value = line.partition(":")
        if sep and name == field:
            number, _, unit = value.strip().partition(" ")
            if unit == "kB" and number.isdigit():
                return int(number) / 1024
    return None


def _memory_mb(field: str) -> float | None:
    try:
        return proc_status_mb(PROC_STATUS.read_text(encoding="ascii"), field)
    except OSError:
        return None


async def fill_store(
    path: Path | str, *, rows: int, batch: int, now: datetime, size: Callable[[], int]
) -> dict[str, Any]:
    """Write ``rows`` results into a new store at ``path``, then their statuses; ``size``
    gives the store's bytes, read once it is made and again after."""
    spent = 0.0
    newest: list[ProbeResult] = []
    async with open_store(path):
        pass
    empty = size()
    async with open_store(path) as store:
        for chunk in batches(synthetic_results(rows, now=now), batch):
            start = time.perf_counter()
            await store.add_results(chunk)
            spent += time.perf_counter() - start
            newest = chunk
        changed, flips = replay(newest, thresholds_of(Settings()))
        await store.save_statuses(list(changed.values()), flips)
    return {
        "rows": rows,
        "batch": batch,
        "insert_s": round(spent, 3),
        "rows_per_s": round(rows / spent) if spent else None,
        "bytes_per_result": round((size() - empty) / rows, 1) if rows else None,
    }


def file_bytes(path: Path) -> int:
    """The bytes of the SQLite file at ``path``, with its write-ahead log if one is left."""
    wal = path.with_name(f"{path.name}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


async def _pages(path: Path | str, now: datetime, repeats: int) -> dict[str, Any]:
    settings = Settings(data_dir=Path(tempfile.gettempdir()), store=str(path))
    # Compiling the templates is a once-per-process cost that no history changes:
    # measured on its own (an empty page), so that "cold" is the cold store.
    start = time.perf_counter()
    render_page(build_page([], [], now=now, version=__version__))
    templates_ms = (time.perf_counter() - start) * 1000
    baseline = _memory_mb("VmRSS")
    aggregation: list[float] = []
    render: list[float] = []
    async with open_store(path) as store:
        for _ in range(1 + repeats):
            start = time.perf_counter()
            page = await read_page(store, settings, now=now)
            read = time.perf_counter()
            html = render_page(page)
            aggregation.append((read - start) * 1000)
            render.append((time.perf_counter() - read) * 1000)
        high_water = _memory_mb("VmHWM")
        tracemalloc.start()
        try:
            render_page(await read_page(store, settings, now=now))
            traced_peak = tracemalloc.get_traced_memory()[1] / _MB
        finally:
            tracemalloc.stop()
    warm_aggregation = median(aggregation[1:]) if repeats else aggregation[0]
    warm_render = median(render[1:]) if repeats else render[0]
    return {
        "targets": sum(len(p.models) for p in page.providers),
        "templates_ms": round(templates_ms, 1),
        "html_kb": round(len(html.encode()) / 1024, 1),
        "cold": {
            "aggregation_ms": round(aggregation[0], 1),
            "render_ms": round(render[0], 1),
            "page_ms": round(aggregation[0] + render[0], 1),
        },
        "warm": {
            "repeats": repeats,
            "aggregation_ms": round(warm_aggregation, 1),
            "render_ms": round(warm_render, 1),
            "page_ms": round(warm_aggregation + warm_render, 1),
        },
        "rss_baseline_mb": None if baseline is None else round(baseline, 1),
        "rss_peak_mb": None if high_water is None else round(high_water, 1),
        "tracemalloc_peak_mb": round(traced_peak, 1),
    }


def _page_process(path: str, now: datetime, repeats: int, out: Connection) -> None:
    out.send(asyncio.run(_pages(path, now, repeats)))
    out.close()


def page_in_fresh_process(path: Path | str, *, now: datetime, repeats: int) -> dict[str, Any]:
    """:func:`_pages` in a newly spawned interpreter; its figures."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_page_process,
        args=(str(path), now, repeats, sender),
        name="harness-bench-page",
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(PAGE_PROCESS_TIMEOUT_S):
            raise BenchError("the page process did not finish in time")
        try:
            figures: dict[str, Any] = receiver.recv()
        except EOFError:
            raise BenchError(f"the page process failed (exit code {process.exitcode})") from None
    finally:
        receiver.close()
        process.join(PAGE_PROCESS_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
    return figures


_HOUR_US = 3_600_000_000


def replicate(path: Path, factor: int) -> dict[str, Any]:
    """Write every result of the SQLite store at ``path`` ``factor - 1`` more times, each
    copy a few microseconds from its original and in the same hour (by SQL on the file,
    in one transaction), and multiply the rollups' counts to match (through the store):
    a store ``factor`` times larger."""
    columns = ", ".join(f'"{c}"' for c in RESULT_COLUMNS)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        (base,) = conn.execute("SELECT MAX(id) FROM results").fetchone()
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for k in range(1, factor):
            # Times are microseconds since the epoch in the SQLite store.
            shifted = (
                f"CASE WHEN started_at % {_HOUR_US} < {_HOUR_US - factor}"
                f" THEN started_at + {k} ELSE started_at - {k} END"
            )
            picked = columns.replace('"started_at"', shifted)
            conn.execute(
                f"INSERT INTO results ({columns}) SELECT {picked} FROM results WHERE id <= ?",
                (base,),
            )
        conn.execute("COMMIT")
        asyncio.run(_scale_rollups(path, factor))
        spent = time.perf_counter() - start
        (rows,) = conn.execute("SELECT COUNT(*) FROM results").fetchone()
    finally:
        conn.close()
    return {
        "rows": rows,
        "bulk": f"x{factor} by SQL from the smaller store",
        "insert_s": round(spent, 3),
        "rows_per_s": round((rows - rows // factor) / spent) if spent else None,
        "db_mb": round(path.stat().st_size / _MB, 1),
    }


_EVERY_ROLLUP = 10_000_000
"""More rollups than a benchmark's store holds: all of them, in one read."""


async def _scale_rollups(path: Path, factor: int) -> None:
    store = SQLiteStore(path)
    await store.open()
    try:
        for daily in (False, True):
            every = await store.rollups_after(None, _EVERY_ROLLUP, daily=daily)
            await store.put_rollups([scaled(rollup, factor) for rollup in every], daily=daily)
    finally:
        await store.close()


def scaled(rollup: HourRollup, factor: int) -> HourRollup:
    """``rollup`` with every count multiplied by ``factor``. Pure."""
    return HourRollup(
        rollup.provider,
        rollup.model,
        rollup.hour,
        ok=rollup.ok * factor,
        failed=rollup.failed * factor,
        throttled=rollup.throttled * factor,
        inconclusive=rollup.inconclusive * factor,
        suspect=rollup.suspect * factor,
        ttfc=Sketch(rollup.ttfc.offset, array("I", (c * factor for c in rollup.ttfc.counts))),
        total=Sketch(rollup.total.offset, array("I", (c * factor for c in rollup.total.counts))),
    )


def store_at_scale(
    *,
    rows: int,
    batch: int,
    repeats: int,
    scale_up: int | None = None,
    store: str | None = None,
    record_targets: int | None = None,
    record_runs: int = 0,
) -> dict[str, Any]:
    """Fill a temporary store, then measure the page over it; both sets of figures
    (and, with ``scale_up``, those of the SQLite store made that many times larger;
    with ``record_targets``, those of ``record_runs`` runs recorded beside a fleet of
    that many targets, as ``record``).

    ``store`` is a PostgreSQL URL to measure that backend instead of SQLite: the
    figures are taken in a scratch schema of that database, dropped at the end.
    """
    now = datetime.now(UTC)
    if store is not None:
        with scratch_schema(store) as (url, size):

            def vacuumed_size() -> int:
                _vacuum(url)
                return size()

            insert = asyncio.run(
                fill_store(url, rows=rows, batch=batch, now=now, size=vacuumed_size)
            )
            insert["db_mb"] = round(size() / _MB, 1)
            page = page_in_fresh_process(url, now=now, repeats=repeats)
            prune = asyncio.run(prune_beside_runs(url, now=now))
        figures = {"backend": "postgresql", "insert": insert, "page": page, "prune": prune}
        if record_targets:
            with scratch_schema(store) as (fleet_url, _):
                figures["record"] = asyncio.run(
                    record_beside_fleet(fleet_url, targets=record_targets, runs=record_runs)
                )
        return figures
    with tempfile.TemporaryDirectory(prefix="harness-bench-store-") as folder:
        path = Path(folder) / "harness.db"
        insert = asyncio.run(
            fill_store(path, rows=rows, batch=batch, now=now, size=lambda: file_bytes(path))
        )
        insert["db_mb"] = round(path.stat().st_size / _MB, 1)
        page = page_in_fresh_process(path, now=now, repeats=repeats)
        figures = {"backend": "sqlite", "insert": insert, "page": page}
        if scale_up:
            large = replicate(path, scale_up)
            large["batch"] = large["rows"] - rows
            figures["large"] = {
                "insert": large,
                "page": page_in_fresh_process(path, now=now, repeats=repeats),
            }
        figures["prune"] = asyncio.run(prune_beside_runs(str(path), now=now))
        if record_targets:
            figures["record"] = asyncio.run(
                record_beside_fleet(
                    str(Path(folder) / "fleet.db"), targets=record_targets, runs=record_runs
                )
            )
    return figures


def _vacuum(url: str) -> None:
    """What autovacuum does soon after a bulk load, done now to the scratch schema's
    tables: fresh planner statistics and a visibility map, without which index-only
    scans keep visiting the table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        if tables:
            conn.execute(f"VACUUM (ANALYZE) {', '.join(t for (t,) in tables)}")


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its tables looked up (and created) in ``schema``. Pure."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def scratch_schema(url: str) -> Iterator[tuple[str, Callable[[], int]]]:
    """A new schema in the database at ``url``, dropped with everything in it at the end;
    yields its URL and a function giving its size in bytes (every table's, with its
    indexes and TOAST)."""
    import psycopg

    schema = f"harness_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a scratch schema in the PostgreSQL store: {exc}") from exc

    def size() -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                """SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %s AND c.relkind = 'r'""",
                (schema,),
            ).fetchone()
        return int(row[0] if row else 0)

    try:
        yield with_search_path(url, schema), size
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
