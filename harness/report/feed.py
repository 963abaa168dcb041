"""The incident feeds: Atom, one entry when an incident opens and one when it resolves.

Built with feedgen, so the XML (escaping, dates, namespaces) is the library's. Ids are
URNs of the incidents themselves, so an entry keeps its id wherever the feed is served
from; links point at the page (``page_url``, absolute when served, relative beside the
report's ``index.html``), at the provider's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from harness import __version__
from harness.policy.incidents import Incident, newest_first
from harness.report.format import span

FEED_INCIDENTS = 50
"""How many of the newest incidents a feed holds (two entries each once resolved)."""


def _models(incident: Incident) -> str:
    return ", ".join(incident.models)


def _entries(incident: Incident, now: datetime) -> list[tuple[str, datetime, str, str]]:
    """(id suffix, time, title, text) of each entry ``incident`` makes, newest first."""
    opened = (
        "opened",
        incident.started_at,
        f"{incident.provider}: {incident.state.value} ({_models(incident)})",
        f"{incident.provider} is {incident.state.value} since "
        f"{incident.started_at:%Y-%m-%d %H:%M} UTC.\nModels: {_models(incident)}\n"
        f"Reason: {incident.reason}",
    )
    if incident.resolved_at is None:
        return [opened]
    lasted = span(incident.duration_s(now))
    resolved = (
        "resolved",
        incident.resolved_at,
        f"{incident.provider}: resolved after {lasted} ({_models(incident)})",
        f"{incident.provider} works again since {incident.resolved_at:%Y-%m-%d %H:%M} UTC, "
        f"after {lasted} {incident.state.value}.\nModels: {_models(incident)}\n"
        f"Reason: {incident.reason}",
    )
    return [resolved, opened]


def incident_feed(
    incidents: Sequence[Incident],
    *,
    page_url: str,
    now: datetime,
    provider: str | None = None,
) -> bytes:
    """The Atom feed of ``incidents`` (every provider's, or ``provider``'s alone), newest
    entries first, as UTF-8 XML."""
    chosen = newest_first([i for i in incidents if provider is None or i.provider == provider])
    feed = FeedGenerator()
    feed.id("urn:harness:incidents" + (f":{provider}" if provider else ""))
    feed.title(f"{provider} incidents" if provider else "Provider incidents")
    feed.subtitle("When LLM chat providers stop working, and when they work again")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.generator("harness", version=__version__)
    feed.language("en")
    entries = [
        (incident, *entry)
        for incident in chosen[:FEED_INCIDENTS]
        for entry in _entries(incident, now)
    ]
    entries.sort(key=lambda e: e[2], reverse=True)
    feed.updated(entries[0][2] if entries else now)
    # feedgen puts each added entry first; add the oldest first so the newest leads.
    for incident, suffix, at, title, text in reversed(entries):
        entry = feed.add_entry()
        entry.id(f"urn:harness:incident:{incident.id}:{suffix}")
        entry.title(title)
        entry.updated(at)
        entry.published(at)
        entry.link(href=f"{page_url}#provider-{incident.provider}", rel="alternate")
        entry.author(name="harness")
        entry.content(text, type="text")
    xml: bytes = feed.atom_str(pretty=True)
    return xml
