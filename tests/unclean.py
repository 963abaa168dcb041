"""Simulating an unclean shutdown of the store: a process that died with it open."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.store.sqlite import open_marker


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def crashed_with_it_open(db: Path) -> Path:
    """Leave the marker a process dies with while it has ``db`` open; its path."""
    marker = open_marker(db, dead_pid())
    marker.touch()
    return marker
