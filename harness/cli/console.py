"""Terminal output of ``harness probe``: progress, the results table, the JSON document.

Provider-supplied text (errors, samples) may carry ANSI escapes or control bytes
meant to rewrite the operator's terminal; :func:`printable` neutralises them before
anything reaches the screen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from harness.pipeline.run import RunSummary
from harness.result import ProbeResult
from providers import PROVIDERS

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|\x1b\[[0-?]*[ -/]*[@-~]")
_UNESCAPED_CONTROL = re.compile(r"[\x7f-\x9f]")
"""Controls that ``json.dumps(ensure_ascii=False)`` leaves raw (it escapes only C0);
0x9b alone starts an escape sequence on some terminals."""


def printable(text: str) -> str:
    """``text`` with ANSI escape sequences and control characters shown as ``�``."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text).replace("\n", " ")


@contextmanager
def progress(total: int, *, enabled: bool) -> Iterator[Callable[[ProbeResult], None]]:
    """A live progress bar on stderr; yields the per-result callback that advances it."""
    if not enabled:
        yield lambda result: None
        return
    bar = Progress(
        TextColumn("probing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("probe", total=total, last="")

        def advance(result: ProbeResult) -> None:
            mark = "ok" if result.ok else (result.kind.value if result.kind else "fail")
            bar.update(task, advance=1, last=f"{result.provider}/{result.model}: {mark}")

        yield advance


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


OFFLINE_VERDICT = "offline"
"""What a row says when the host was offline: short enough to stay whole at 80 columns;
the notice above the table says once that such results are inconclusive, and why."""

_PADDING = 2
"""Columns each cell takes beyond its text: one of padding, one of the box's divider."""
_MIN_ERROR = 26
"""The error column keeps this many characters (or all it needs, if fewer) before
other columns give way."""


@dataclass(frozen=True)
class _Row:
    """One result's cells, as plain text (no markup)."""

    cells: dict[str, str]
    style: str


def _row(result: ProbeResult, summary: RunSummary) -> _Row:
    status = summary.statuses.get(result.target)
    if result.ok:
        verdict, style = "pass", "green"
    elif result.inconclusive:
        verdict, style = OFFLINE_VERDICT, "yellow"
    else:
        verdict, style = "FAIL", "red"
    problem = ""
    if result.kind is not None and not result.inconclusive:
        problem = f"{result.kind.value}: {printable(result.error or '')}".rstrip(": ")
    elif missed := summary.misses(result):
        problem = "slow: " + "; ".join(m.reason for m in missed)
    cells = {
        "provider": result.provider,
        "model": result.model,
        "prompt": result.prompt,
        "result": verdict,
        "state": status.state.value if status else "-",
        "ttfc": _ms(result.ttfc_ms),
        "total": _ms(result.total_ms),
        "kind / error": problem,
    }
    return _Row({k: printable(v) for k, v in cells.items()}, style)


_MIN_NAME = 12
"""Provider and model names keep this many characters when they must give way."""


def _fitting_columns(rows: list[_Row], width: int) -> tuple[list[str], dict[str, int]]:
    """The columns that fit ``width`` with one line per row, and the widest each may be.

    Given up first: total, state, the prompt when every row has the same one, ttfc,
    then the prompt anyway; provider, model and result always stay. When they still do
    not fit, the longer of the provider and model names is cut (with an ellipsis), never
    the result.
    """
    names = list(rows[0].cells) if rows else []
    fixed = [n for n in names if n != "kind / error"]
    natural = {n: max(len(n), *(len(r.cells[n]) for r in rows)) + _PADDING for n in fixed}
    single_prompt = len({r.cells["prompt"] for r in rows}) <= 1
    order = ["total", "state", *(["prompt"] if single_prompt else []), "ttfc", "prompt"]
    needed = max(len("kind / error"), *(len(r.cells["kind / error"]) for r in rows))
    least = min(_MIN_ERROR, needed)
    kept = list(fixed)
    for name in order:
        if sum(natural[n] for n in kept) + least + 1 <= width:  # the last column has no divider
            break
        if name in kept:
            kept.remove(name)
    widths = {n: natural[n] for n in kept}
    excess = sum(widths.values()) + least + 1 - width
    while excess > 0:
        longer = max(("provider", "model"), key=lambda n: widths.get(n, 0))
        if widths.get(longer, 0) <= _MIN_NAME + _PADDING:
            break
        widths[longer] -= 1
        excess -= 1
    limits = {n: w - _PADDING for n, w in widths.items()}
    limits["kind / error"] = max(least, width - sum(widths.values()) - 1)
    return [n for n in names if n in kept or n == "kind / error"], limits


def results_table(summary: RunSummary, width: int = 200) -> Table:
    """One line per result, sorted by provider, model and prompt, fitting ``width``
    columns: provider, model, prompt, result, state, ttfc, total and kind/error, with
    the least needed columns dropped and long errors cut with an ellipsis when narrow.
    ``--json`` keeps everything."""
    ordered = sorted(summary.results, key=lambda r: (r.provider, r.model, r.prompt))
    rows = [_row(result, summary) for result in ordered]
    columns, limits = _fitting_columns(rows, width)
    table = Table(
        title=f"{len(summary.results)} probes",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )
    for name in columns:
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=limits[name])
    for row in rows:
        table.add_row(
            *(
                Text(row.cells[name], style=row.style if name == "result" else "")
                for name in columns
            )
        )
    return table


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """The results table, the offline notice, flips and a one-line tally."""
    console = console or Console(highlight=False)
    if summary.offline:
        reason = printable(summary.offline_reason or "this host appears offline")
        outcome = (
            "Failures are recorded as inconclusive; no flag was changed."
            if summary.inconclusive == len(summary.results)
            else "Targets that need the internet are recorded as inconclusive; "
            "local ones were probed."
        )
        console.print(Text(f"{reason[:1].upper()}{reason[1:]}. {outcome}", style="bold yellow"))
    console.print(results_table(summary, console.width))
    for flip in summary.flips:
        change = f"{flip.old.value} -> {flip.new.value}"
        console.print(Text(f"{flip.provider}/{flip.model}: {change} ({flip.reason})"))
    console.print(
        Text(
            f"{summary.passed} passed, {summary.failed} failed, {summary.inconclusive} inconclusive"
        )
    )


def capability_of(provider: str) -> str:
    """What a registered provider makes; ``chat`` for one no longer registered."""
    registered = PROVIDERS.get(provider)
    return registered.capability if registered is not None else "chat"


def json_document(
    summary: RunSummary, *, exit_code: int | None = None, fail_on: str = "failed"
) -> str:
    """``{"results": [...], "summary": {...}}``: the whole output of ``--json``.

    The summary carries each probed target's objectives, every objective a pass of the
    run missed (``misses``), the reason for each state, and the exit code the run ends
    with under ``fail_on`` (default: the summary's own).
    """
    probed = sorted({r.target for r in summary.results})
    document: dict[str, Any] = {
        # Each result as stored, with its throughput (derived, so not a stored field) and
        # what its provider makes (a property of the provider, not of the result).
        "results": [
            {
                **r.to_dict(),
                "chars_per_s": r.chars_per_s,
                "tokens_per_s": r.tokens_per_s,
                "capability": capability_of(r.provider),
            }
            for r in summary.results
        ],
        "summary": {
            "total": len(summary.results),
            "passed": summary.passed,
            "failed": summary.failed,
            "inconclusive": summary.inconclusive,
            "offline": summary.offline,
            "offline_reason": summary.offline_reason,
            "working": summary.working,
            "states": {f"{p}/{m}": s.state.value for (p, m), s in sorted(summary.statuses.items())},
            "reasons": {f"{p}/{m}": s.reason for (p, m), s in sorted(summary.statuses.items())},
            "objectives": {
                f"{p}/{m}": summary.objectives.for_target(p, m).to_dict() for p, m in probed
            },
            "misses": [
                {
                    "provider": r.provider,
                    "model": r.model,
                    "prompt": r.prompt,
                    "started_at": r.started_at.isoformat(),
                    "objective": miss.objective,
                    "reason": miss.reason,
                }
                for r in summary.results
                for miss in summary.misses(r)
            ],
            "flips": [
                {
                    "provider": f.provider,
                    "model": f.model,
                    "at": f.at.isoformat(),
                    "old": f.old.value,
                    "new": f.new.value,
                    "reason": f.reason,
                }
                for f in summary.flips
            ],
            "fail_on": fail_on,
            "exit_code": summary.exit_code if exit_code is None else exit_code,
        },
    }
    text = json.dumps(document, ensure_ascii=False)
    # JSON's own syntax is ASCII, so these can only stand inside strings: escape them there.
    return _UNESCAPED_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
