"""``harness serve`` killed mid-probe loses nothing it committed; SIGTERM stops it cleanly.

The server runs as a child process probing the sandbox every half second, one
provider's emulator slowed down so that some probe is nearly always in flight. The
store is watched through a read-only connection: whatever a reader saw committed
before the kill must be there, unchanged, afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from serve_process import ServeProcess, result_count, rows

from harness.pipeline.run import plan_targets
from harness.settings.config import Settings
from providers import PROVIDERS

SERVE_ARGS = [
    "--sandbox",
    "--port",
    "0",
    "--interval",
    "0.5",
    "--fault",
    "AutonomousAI=chunk_delay:0.04",
]
KILLS = 3
ROWS_PER_LIFE = 10
"""Results each life of the server must commit before it is killed."""

TARGETS_PER_RUN = {name: len(plan_targets(Settings(), [name])) for name in PROVIDERS}
"""One scheduled run probes every planned target of one provider, stored as one batch."""


def all_results(db: Path) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT * FROM results ORDER BY id")


def integrity(db: Path) -> list[str]:
    conn = sqlite3.connect(db)  # read-write, so that a leftover WAL is recovered
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def half_runs(db: Path) -> dict[str, tuple[str, int]]:
    """Runs whose stored batch is not exactly one provider's planned targets."""
    found = rows(
        db,
        "SELECT o.run, MIN(t.provider), COUNT(DISTINCT t.provider), COUNT(*)"
        " FROM results r JOIN target_ids t ON t.id = r.target"
        " JOIN origins o ON o.id = r.origin GROUP BY o.run",
    )
    return {
        run: (provider, count)
        for run, provider, providers, count in found
        if providers != 1 or count != TARGETS_PER_RUN[provider]
    }


def duplicates(db: Path) -> list[tuple[Any, ...]]:
    return rows(
        db,
        "SELECT o.run, r.target, r.prompt, COUNT(*)"
        " FROM results r JOIN origins o ON o.id = r.origin"
        " GROUP BY o.run, r.target, r.prompt HAVING COUNT(*) > 1",
    )


def probing_now(server: ServeProcess) -> bool:
    return bool(server.json("/healthz")["probing"])


def test_sigkill_mid_probe_loses_no_committed_result(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for life in range(KILLS):
        with ServeProcess(data, SERVE_ARGS) as server:
            start = result_count(server.db)
            server.wait_for_results(start + ROWS_PER_LIFE)
            server.wait_until(lambda: probing_now(server))
            committed = all_results(server.db)
            server.kill()

        assert integrity(data / "sandbox" / "harness.db") == ["ok"], f"after kill {life + 1}"
        after = all_results(data / "sandbox" / "harness.db")
        assert after[: len(committed)] == committed, f"rows lost or changed by kill {life + 1}"
        assert half_runs(data / "sandbox" / "harness.db") == {}
        assert duplicates(data / "sandbox" / "harness.db") == []


def test_a_server_restarted_after_sigkill_goes_on_recording(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServeProcess(data, SERVE_ARGS) as server:
        server.wait_for_results(ROWS_PER_LIFE)
        server.wait_until(lambda: probing_now(server))
        server.kill()
    before = result_count(data / "sandbox" / "harness.db")

    with ServeProcess(data, SERVE_ARGS) as server:
        server.wait_for_results(before + ROWS_PER_LIFE)
        status = server.json("/api/status")

    assert set(status["providers"]) == set(PROVIDERS)
    assert half_runs(data / "sandbox" / "harness.db") == {}


def test_sigterm_mid_probe_exits_cleanly_with_a_checkpointed_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServeProcess(data, SERVE_ARGS) as server:
        server.wait_for_results(ROWS_PER_LIFE)
        server.wait_until(lambda: probing_now(server))
        code = server.terminate()
        stderr = server.stderr()

    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "Error" not in stderr
    wal = data / "sandbox" / "harness.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not checkpointed"
    assert integrity(data / "sandbox" / "harness.db") == ["ok"]
    assert half_runs(data / "sandbox" / "harness.db") == {}
