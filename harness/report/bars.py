"""The cells of a history bar as SVG markup, built in Python for speed.

A page of hundreds of targets draws tens of thousands of cells; a template loop
spends most of the page's render time on them. Every text that varies is escaped
here, as the template engine would; the ``<svg>`` around the cells stays in the
template.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from harness.policy.aggregate import HistoryCell
from harness.policy.daily import StripDay
from harness.report.format import cell_title, percent, uptime_class
from harness.report.view import HISTORY_LENGTH, ModelCell

CELL_PITCH = 6
"""Horizontal distance between cells, in viewBox units (a cell is one narrower)."""

DAY_PITCH = 4
"""Horizontal distance between the days of an uptime strip, in viewBox units."""


def history_rects(cells: Sequence[HistoryCell | ModelCell], length: int = HISTORY_LENGTH) -> Markup:
    """``length`` ``<rect>`` s, oldest left: empty slots first, then one per cell,
    classed by outcome, titled with its time, kind and ttfc (and model, for a provider's)."""
    empty = max(length - len(cells), 0)
    parts = [
        f'<rect class="empty" x="{slot * CELL_PITCH}" width="5" height="20"/>'
        for slot in range(empty)
    ]
    for offset, item in enumerate(cells[-length:] if length else ()):
        cell = item.cell if isinstance(item, ModelCell) else item
        title = cell_title(cell)
        if isinstance(item, ModelCell):
            title = f"{item.model} · {title}"
        parts.append(
            f'<rect class="{escape(cell.outcome.value)}" x="{(empty + offset) * CELL_PITCH}"'
            f' width="5" height="20"><title>{escape(title)}</title></rect>'
        )
    return Markup("".join(parts))


def strip_rects(days: Sequence[StripDay]) -> Markup:
    """One ``<rect>`` per day of an uptime strip, oldest left, classed by its uptime and
    titled with the day, its uptime, probes and incidents."""
    parts = []
    for offset, day in enumerate(days):
        incidents = f"{day.incidents} incident{'' if day.incidents == 1 else 's'}"
        title = (
            f"{day.day.isoformat()}: uptime {percent(day.uptime.ratio)}, "
            f"{day.uptime.total} probes, {incidents}"
        )
        parts.append(
            f'<rect class="{uptime_class(day.uptime.ratio)}" x="{offset * DAY_PITCH}"'
            f' width="3" height="16"><title>{escape(title)}</title></rect>'
        )
    return Markup("".join(parts))
