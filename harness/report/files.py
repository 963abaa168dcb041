"""``harness report``: the static report written to a directory."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from harness.report.badge import badge_svg
from harness.report.document import status_document
from harness.report.feed import incident_feed
from harness.report.html import render_page
from harness.report.markdown import status_markdown
from harness.report.snapshot import read_page
from harness.report.view import StatusPage
from harness.result import Source
from harness.settings.config import Settings
from harness.store.base import Store


def report_files(page: StatusPage, *, page_url: str = "index.html") -> dict[str, str]:
    """Relative path -> text of every file of the report of ``page``; the feed's links
    point at ``page_url`` (by default the ``index.html`` beside it)."""
    feed = incident_feed(page.incidents, page_url=page_url, now=page.generated_at)
    files = {
        "index.html": render_page(page),
        "feed.atom": feed.decode("utf-8"),
        "status.json": json.dumps(status_document(page), indent=2) + "\n",
        "status.md": status_markdown(page),
    }
    for provider in page.providers:
        files[f"badges/{provider.name}.svg"] = badge_svg(provider.name, provider.state)
    return files


def _write_atomically(path: Path, text: str) -> None:
    # A web server publishing the directory never sees a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_all(out_dir: Path, files: dict[str, str]) -> list[Path]:
    written = []
    for relative, text in files.items():
        path = out_dir / relative
        _write_atomically(path, text)
        written.append(path)
    return written


async def write_report(
    store: Store,
    out_dir: Path,
    *,
    settings: Settings,
    now: datetime | None = None,
    source: Source = Source.LIVE,
) -> list[Path]:
    """Render the report from ``store`` (the store of ``source``) into ``out_dir``:
    ``index.html``, ``feed.atom``, ``status.json``, ``status.md`` and
    ``badges/<provider>.svg``;
    returns the paths written."""
    page = await read_page(store, settings, now=now, source=source)
    # A live report published where alerts link to links its feed there too.
    public = settings.alerts.public_url if source is Source.LIVE else None
    files = report_files(page, page_url=public or "index.html")
    return await asyncio.to_thread(_write_all, out_dir, files)
