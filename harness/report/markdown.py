"""The status as a Markdown table, to paste into a README (``status.md``)."""

from __future__ import annotations

from harness.policy.aggregate import LatencySummary
from harness.report.format import absolute, duration_ms, flag_word, percent
from harness.report.view import StatusPage


def _cell(text: str) -> str:
    # A pipe ends a cell and a newline ends the table; backslashes would escape either.
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _percentiles(latency: LatencySummary) -> str:
    shown = [latency.ttfc_p50, latency.ttfc_p95]
    if latency.ttfc_p99 is not None:
        shown.append(latency.ttfc_p99)
    return " / ".join(duration_ms(v) for v in shown)


def status_markdown(page: StatusPage) -> str:
    """One row per provider/model: working flag, state, uptime per window, ttfc
    p50/p95 (and p99 from 100 samples), last checked; a heading line with the
    generation time and version."""
    windows = list(page.uptime_windows)
    header = ["provider", "working", "model", "state", *(f"uptime {w}" for w in windows)]
    header += [f"ttfc p50/p95/p99 ({page.latency_window})", "last checked"]
    lines = [
        f"Provider status as of {absolute(page.generated_at)} "
        f"({page.working_providers} of {len(page.providers)} providers working; "
        f"harness {_cell(page.version)})."
        + (f" Source: {page.source.value}, {page.source_note}." if page.source_note else ""),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    for provider in page.providers:
        for model in provider.models:
            row = [
                _cell(provider.name),
                flag_word(provider.working),
                _cell(model.model),
                model.state.value,
                *(f"{percent(model.uptime[w].ratio)} ({model.uptime[w].total})" for w in windows),
                _percentiles(model.latency),
                absolute(model.last_checked),
            ]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
