"""The measured ``working`` flags: written after every run, patched into source on request.

``flags.json`` lives in the data directory, one entry per provider, each run writing
its own providers' entries; ``providers`` applies it at import
(see ``providers.flags``). For maintainers who ship the flag in code,
:func:`source_patch` produces a unified diff setting ``working = True/False`` in
each provider module, and :func:`apply_source_patch` writes it.
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers import PROVIDERS, is_builtin
from providers.flags import FLAGS_FILE_NAME

_WORKING_LINE = re.compile(r"^(?P<indent>\s+)working\s*(?::\s*[\w\[\]]+\s*)?=\s*(True|False)\s*$")

_UPDATING = threading.Lock()
"""Held while the file is read, merged and replaced: two runs of one process that
finish together would otherwise each keep the other's old entries."""


def write_flags(
    path: Path, working: Mapping[str, bool | None], states: Mapping[str, Mapping[str, str]]
) -> None:
    """Write the flags of the providers ``working`` names into the flags file: each
    one's ``working`` (``null`` when unknown), with each model's state, in place of its
    entry, every other provider's entry kept as the file has it (a run changes its own
    providers' flags only; a missing or unreadable file starts empty).

    The file is replaced atomically; writes within one process take turns, so two runs
    finishing together both land."""
    with _UPDATING:
        entries = _stored_entries(path)
        entries.update(
            (name, {"working": flag, "models": dict(states.get(name, {}))})
            for name, flag in working.items()
        )
        document = {
            "generated_at": datetime.now(UTC).isoformat(),
            "providers": dict(sorted(entries.items())),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".flags-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # One string, one write: json.dump would write it in thousands of pieces.
            handle.write(json.dumps(document, indent=2) + "\n")
        os.replace(tmp, path)


def _stored_entries(path: Path) -> dict[str, Any]:
    """The providers' entries of the flags file at ``path``, as stored; none when it is
    missing or unreadable."""
    try:
        providers = json.loads(path.read_text(encoding="utf-8"))["providers"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return dict(providers) if isinstance(providers, dict) else {}


def read_model_states(path: Path) -> dict[str, dict[str, str]]:
    """Provider -> model -> state name, as the last run wrote them; empty when absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        providers = data["providers"]
        return {
            name: {str(m): str(s) for m, s in entry.get("models", {}).items()}
            for name, entry in providers.items()
            if isinstance(entry, dict)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def flags_file(data_dir: Path) -> Path:
    """Where the flags file of a data directory lives."""
    return data_dir / FLAGS_FILE_NAME


@dataclass(frozen=True)
class SourceEdit:
    """One provider module and its text with the measured flag set."""

    path: Path
    old: str
    new: str


def source_edits(working: Mapping[str, bool | None]) -> list[SourceEdit]:
    """The provider modules whose ``working = ...`` line differs from the measured flag.

    Only a conclusive flag is written: an unknown one (``None``) leaves the module as it
    is. Only built-in providers have a module of their own; providers built at run time
    (configured endpoints, wrapped gpt4free providers) are skipped.
    """
    edits = []
    for name, flag in sorted(working.items()):
        if flag is None:
            continue
        provider = PROVIDERS.get(name) if is_builtin(name) else None
        source = inspect.getsourcefile(provider) if provider else None
        if source is None:
            continue
        path = Path(source)
        old = path.read_text(encoding="utf-8")
        new = _set_working(old, flag)
        if new != old:
            edits.append(SourceEdit(path, old, new))
    return edits


def _set_working(text: str, flag: bool) -> str:
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = _WORKING_LINE.match(line.rstrip("\n"))
        if match:
            lines[index] = f"{match['indent']}working = {flag}\n"
            break  # the class attribute comes first; later matches are other scopes
    return "".join(lines)


def source_patch(edits: list[SourceEdit], root: Path) -> str:
    """A unified diff of ``edits``, with paths relative to ``root`` where possible."""
    chunks: list[str] = []
    for edit in edits:
        try:
            name = edit.path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            name = edit.path.as_posix()
        chunks.extend(
            difflib.unified_diff(
                edit.old.splitlines(keepends=True),
                edit.new.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
    return "".join(chunks)


def apply_source_patch(edits: list[SourceEdit]) -> None:
    """Write each edited module in place."""
    for edit in edits:
        edit.path.write_text(edit.new, encoding="utf-8")
