"""The benchmark's own failure: its set-up could not be done (emulator, cassettes)."""

from __future__ import annotations

from harness.errors import HarnessError


class BenchError(HarnessError):
    """A benchmark could not run; the message says which and why."""
