"""The measured ``working`` flags: read from the harness's flags file at import.

The harness writes ``flags.json`` in its data directory after every run; loading
``providers`` applies it, so ``RobocodersAPI.working`` shows the measured value
instead of the shipped default. A flag is ``true``, ``false`` or ``null`` (unknown:
no conclusive state was measured); an unknown flag, like a missing or unreadable file,
changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .base import AsyncGeneratorProvider

FLAGS_FILE_ENV = "HARNESS_FLAGS_FILE"
DATA_DIR_ENV = "HARNESS_DATA_DIR"
DEFAULT_DATA_DIR = ".harness"
FLAGS_FILE_NAME = "flags.json"

log = logging.getLogger(__name__)


def flags_path() -> Path:
    """``$HARNESS_FLAGS_FILE``, else ``flags.json`` in ``$HARNESS_DATA_DIR`` or ``.harness/``."""
    explicit = os.environ.get(FLAGS_FILE_ENV)
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR) / FLAGS_FILE_NAME


def read_flags(path: Path) -> dict[str, bool | None]:
    """Provider name -> working (``None``: measured, but unknown), from a flags file;
    empty when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable flags file %s: %s", path, exc)
        return {}
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, dict):
        return {}
    flags: dict[str, bool | None] = {}
    for name, entry in providers.items():
        working = entry.get("working") if isinstance(entry, dict) else entry
        if working is None or isinstance(working, bool):
            flags[name] = working
    return flags


def apply_flags(
    providers: Iterable[type[AsyncGeneratorProvider]], flags: Mapping[str, bool | None]
) -> None:
    """Set ``working`` on each provider that ``flags`` names: the measured value, or for
    an unknown one (``None``) the shipped flag (unknown is not "not working")."""
    for provider in providers:
        if provider.name() in flags:
            flag = flags[provider.name()]
            provider.working = provider.shipped_working if flag is None else flag
