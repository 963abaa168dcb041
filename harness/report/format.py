"""How numbers and times read on the pages: pure functions used as Jinja2 filters."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.policy.aggregate import HistoryCell


def duration_ms(value: float | None) -> str:
    """``812 ms`` below a second, ``1.2 s`` above, ``–`` when not measured."""
    if value is None:
        return "–"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


def span(seconds: float) -> str:
    """How long, roughly: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def uptime_class(ratio: float | None) -> str:
    """The colour class of a day's uptime: ``empty`` without probes, ``ok`` from 99 %,
    ``throttled`` (the in-between colour) from 95 %, else ``fail``."""
    if ratio is None:
        return "empty"
    if ratio >= 0.99:
        return "ok"
    return "throttled" if ratio >= 0.95 else "fail"


def rate(value: float | None) -> str:
    """A per-second rate: ``1,234``, ``3.5`` below ten, ``–`` when not measured."""
    if value is None:
        return "–"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def flag_word(working: bool | None) -> str:
    """A working flag in words: ``yes``, ``no`` or ``unknown`` (no conclusive state)."""
    return "unknown" if working is None else ("yes" if working else "no")


def percent(ratio: float | None) -> str:
    """``99.5 %``; ``100 %`` only when nothing failed; ``–`` when nothing was measured."""
    if ratio is None:
        return "–"
    if ratio >= 1:
        return "100 %"
    # Never round a failure away: 0.9996 reads 99.9 %, not 100 %.
    return f"{min(ratio * 100, 99.9):.1f} %"


def absolute(moment: datetime | None) -> str:
    """``2025-01-31 14:05 UTC``, or ``never``."""
    if moment is None:
        return "never"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC (for ``<time datetime>`` and JSON), or an empty string."""
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def relative(moment: datetime | None, now: datetime) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago`` as of ``now``; ``never``."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "just now"  # a clock a little ahead of ours; not worth a "from now"
    if seconds < 60:
        return "just now" if seconds < 10 else f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} d ago"


def cell_title(cell: HistoryCell) -> str:
    """A history cell's tooltip: ``2025-01-31 14:05 UTC · fail (http_server) · ttfc 812 ms``.

    A function rather than a template macro: a page of hundreds of targets has tens of
    thousands of cells, and a macro call costs ten times as much.
    """
    title = f"{absolute(cell.at)} · {cell.outcome.value}"
    if cell.kind is not None:
        title += f" ({cell.kind.value})"
    if cell.ttft_ms is not None and cell.ttft_ms != cell.ttfc_ms:
        title += f" · ttft {duration_ms(cell.ttft_ms)}"
    if cell.ttfc_ms is not None:
        title += f" · ttfc {duration_ms(cell.ttfc_ms)}"
    if cell.reasoning_tokens:
        title += f" · {cell.reasoning_tokens} reasoning tokens"
    if cell.loop_lag_ms is not None:
        title += f" · loop lag {duration_ms(cell.loop_lag_ms)}"
    return title


def size(n_bytes: float) -> str:
    """Bytes in decimal units: ``812 B``, ``4.2 kB``, ``1.3 MB``, ``72.0 GB``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes:.0f} B"


def money(value: float | None) -> str:
    """An amount in the prices' currency: ``12.34``, ``0.0012`` below a cent, ``–``
    when unpriced."""
    if value is None:
        return "–"
    return f"{value:,.2f}" if value == 0 or value >= 0.01 else f"{value:.4f}"


def whole(value: int) -> str:
    """A whole number with thousands separated: ``12,345``."""
    return f"{value:,}"
