"""The machine a benchmark ran on: the context every figure needs to be read in."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")


def cpu_model(cpuinfo: str) -> str | None:
    """The first ``model name`` in the text of ``/proc/cpuinfo``, if any. Pure."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name":
            return value.strip() or None
    return None


def machine_info() -> dict[str, Any]:
    """CPU count and model, platform, Python and aiohttp versions, as JSON-ready values."""
    try:
        model = cpu_model(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        model = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor() or None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "aiohttp": metadata.version("aiohttp"),
        "harness": metadata.version("harness"),
    }
