"""Replay: every shipped cassette through the real probe path, at instant speed."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from harness.cassettes import find_cassettes, replay
from harness.settings.config import Settings


async def replay_all(cassette_dir: Path) -> dict[str, Any]:
    """Replay the cassettes under ``cassette_dir`` one after another, unpaced."""
    count = len(find_cassettes(cassette_dir))
    with tempfile.TemporaryDirectory(prefix="harness-bench-replay-") as folder:
        settings = Settings(data_dir=Path(folder))
        cpu_before = time.process_time()
        start = time.perf_counter()
        results = await replay(cassette_dir, speed=None, settings=settings)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_before
    return {
        "cassettes": count,
        "passed": sum(r.ok for r in results),
        "wall_s": round(wall, 3),
        "per_cassette_ms": round(wall / len(results) * 1000, 1),
        "cpu_s": round(cpu, 3),
    }
