"""``harness g4f table``: gpt4free's providers table, regenerated from measurements.

gpt4free's documentation carries a hand-kept Markdown table of its providers: the
website, the provider class, the text, image and audio models, a status badge and
whether it needs auth, in one section for providers without auth and one for those
with. :func:`providers_table` writes a table of that shape whose status is measured:
working, not working or unknown (never measured conclusively), with since when and
the p50 time to first chunk of the fastest working model. :func:`table_rows` and
:func:`providers_table` are pure; :func:`read_table` loads gpt4free's classes and
reads the store for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from yarl import URL

from harness.policy.status import TargetStatus, working_flag
from harness.report.g4f_working import LATENCY_WINDOW
from harness.settings.g4f import G4FSettings
from harness.store.base import Store
from harness.targets.g4f import known_names
from providers.gpt4free import CHECKED, PREFIX, TEMPLATE, G4FInfo, load_all

_BADGES = {
    True: "![Active](https://img.shields.io/badge/Active-brightgreen)",
    False: "![Inactive](https://img.shields.io/badge/Inactive-red)",
    None: "![Unknown](https://img.shields.io/badge/Unknown-lightgrey)",
}
_YES, _NO = "✔", "❌"
_HEADER = (
    "Website",
    "Provider",
    "Text generation",
    "Image generation",
    "Audio generation",
    "Status",
    "Since",
    "ttfc p50",
    "Auth",
)


@dataclass(frozen=True)
class TableRow:
    """One provider as the table shows it."""

    info: G4FInfo
    working: bool | None
    """``None`` while unknown: never measured, or nothing conclusive."""
    since: datetime | None
    ttfc_p50_ms: float | None


def table_rows(
    infos: Sequence[G4FInfo],
    statuses: Mapping[tuple[str, str], TargetStatus],
    ttfc_p50: Mapping[tuple[str, str], float | None],
) -> list[TableRow]:
    """Each provider's measured flag, since when it holds, and its fastest working model's
    p50 time to first chunk, by name (any letter case)."""
    by_target: dict[str, list[TargetStatus]] = {}
    for (provider, _model), status in statuses.items():
        by_target.setdefault(provider, []).append(status)
    rows = []
    for info in sorted(infos, key=lambda i: i.name.lower()):
        group = by_target.get(PREFIX + info.name, [])
        flag = working_flag(s.state for s in group)
        if flag is None:
            since = None
        elif flag:  # working at least since its first working model started to
            since = min(s.since for s in group if s.state.is_working)
        else:  # not working since its last model went down
            since = max(s.since for s in group)
        latencies = [
            p50 for s in group if s.state.is_working and (p50 := ttfc_p50.get(s.target)) is not None
        ]
        rows.append(TableRow(info, flag, since, min(latencies, default=None)))
    return rows


def providers_table(
    rows: Sequence[TableRow],
    left_out: Mapping[str, str],
    *,
    generated_at: datetime,
    g4f_version: str,
) -> str:
    """The Markdown document: a section for providers without auth, one for those with,
    then the classes the loader lists that were not measured, and why."""
    lines = [
        "# gpt4free providers, as measured",
        "",
        f"Measured by harness against gpt4free {g4f_version}; generated "
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Status is what the probes saw: "
        "Active (a model answered correctly), Inactive (every model failed), Unknown "
        "(never measured, or only inconclusive results such as an offline run).",
    ]
    for title, needs_auth in (("No auth required", False), ("Needs auth", True)):
        section = [r for r in rows if r.info.needs_auth is needs_auth]
        if not section:
            continue
        lines += ["", f"## Providers: {title.lower()}", "", _row(_HEADER), _rule(len(_HEADER))]
        lines += [_row(_cells(r)) for r in section]
    if left_out:
        lines += ["", "## Not measured", "", _row(("Provider", "Why")), _rule(2)]
        lines += [_row((f"`{n}`", why)) for n, why in sorted(left_out.items(), key=_lower)]
    return "\n".join(lines) + "\n"


def _lower(item: tuple[str, str]) -> str:
    return item[0].lower()


def _cells(row: TableRow) -> tuple[str, ...]:
    info = row.info
    host = URL(info.url).host if info.url else None
    website = f"[{host}]({info.url})" if host else "–"
    return (
        website,
        f"`g4f.Provider.{info.name}`",
        _models(info, "chat"),
        _models(info, "image"),
        _models(info, "audio"),
        _BADGES[row.working],
        f"{row.since.astimezone(UTC):%Y-%m-%d}" if row.since else "–",
        f"{row.ttfc_p50_ms:,.0f} ms" if row.ttfc_p50_ms is not None else "–",
        _YES if info.needs_auth else _NO,
    )


def _models(info: G4FInfo, kind: str) -> str:
    names = info.models.get(kind, ())
    if names:
        return "`" + ", ".join(names) + "`"
    if info.capability == kind:  # it makes this, but lists its models only online
        return f"`{info.probe_model}`" if info.probe_model else _YES
    return _NO


def _row(cells: Sequence[str]) -> str:
    return "|" + "|".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + "|"


def _rule(n: int) -> str:
    return "|" + "|".join("---" for _ in range(n)) + "|"


async def read_table(
    store: Store, settings: G4FSettings, now: datetime
) -> tuple[list[TableRow], dict[str, str]]:
    """The rows of every provider of the installed gpt4free the harness can probe, and
    the names it lists that are left out of the table, with why."""
    loaded = await load_all(await known_names(settings), settings.load_timeout)
    infos: list[G4FInfo] = []
    left_out: dict[str, str] = {}
    for name, entry in loaded.items():
        if not isinstance(entry, G4FInfo):
            left_out[name] = f"not loaded: {type(entry.error).__name__}"
        elif entry.capability == TEMPLATE:
            left_out[name] = "a base class, not a provider"
        elif entry.capability not in CHECKED:
            left_out[name] = f"{entry.capability} provider: no probe for it"
        else:
            infos.append(entry)
    statuses = {k: s for k, s in (await store.statuses()).items() if k[0].startswith(PREFIX)}
    latency: dict[tuple[str, str], float | None] = {}
    for target, status in statuses.items():
        if status.state.is_working:
            summary = await store.latency(*target, now - LATENCY_WINDOW)
            latency[target] = summary.ttfc_p50
    return table_rows(infos, statuses, latency), left_out
