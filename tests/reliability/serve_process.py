"""``harness serve`` as a child process: started, watched through /proc and HTTP, stopped.

Output goes to files, never to pipes, so a chatty server can never block on a full pipe.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HARNESS = Path(sys.executable).with_name("harness")
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0
_URL = re.compile(r"status page at (http://\S+)")


class ServeProcess:
    """One ``harness --data-dir DIR serve ...`` child, with its stdout and stderr in files."""

    def __init__(self, data_dir: Path, args: Sequence[str], env: dict[str, str] | None = None):
        self.data_dir = data_dir
        # A sandbox server keeps its results apart from live ones (harness.targets.sources).
        self.db = (
            data_dir / "sandbox" / "harness.db" if "--sandbox" in args else data_dir / "harness.db"
        )
        logs = data_dir.parent / f"{data_dir.name}-logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._run = len(list(logs.glob("*.out")))
        self.stdout_path = logs / f"{self._run}.out"
        self.stderr_path = logs / f"{self._run}.err"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [str(HARNESS), "--data-dir", str(data_dir), "serve", *args],
                stdout=out,
                stderr=err,
                env={**os.environ, **(env or {})},
            )
        self.url = self._wait_for_url()

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            match = _URL.search(self.stdout_path.read_text(errors="replace"))
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"harness serve exited early:\n{self.stderr()}")
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"harness serve printed no URL in {STARTUP_TIMEOUT_S} s")

    def request(
        self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """(status, body) of one request to the server; HTTP errors are answers too."""
        request = urllib.request.Request(
            self.url.rstrip("/") + path, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str) -> Any:
        status, body = self.request(path)
        assert status == 200, (status, body)
        return json.loads(body)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        """Poll ``condition`` until it holds; fail the test (not hang) when it never does."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"harness serve died:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(0.02)

    def wait_for_results(self, at_least: int, timeout: float = 20.0) -> None:
        """Wait until the store holds ``at_least`` results."""
        self.wait_until(lambda: result_count(self.db) >= at_least, timeout)

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        self.process.kill()
        self.process.wait(STOP_TIMEOUT_S)

    def terminate(self) -> int:
        """SIGTERM, as systemd stops a service; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT_S)

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.kill()


def read_only(db: Path) -> sqlite3.Connection:
    """A connection that cannot write, for looking at a live server's store."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def rows(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Everything ``sql`` selects from ``db``, read without writing."""
    if not db.exists():
        return []
    conn = read_only(db)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # the server has not created its schema yet
        raise
    finally:
        conn.close()


def result_count(db: Path) -> int:
    found = rows(db, "SELECT COUNT(*) FROM results")
    return int(found[0][0]) if found else 0
