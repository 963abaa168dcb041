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
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .pipeline import RunSummary
from .result import ProbeResult

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


def results_table(summary: RunSummary) -> Table:
    """One row per result: provider, model, prompt, state, ttfc, total, kind/error."""
    table = Table(title=f"{len(summary.results)} probes")
    for name in ("provider", "model", "prompt", "result", "state", "ttfc", "total", "kind / error"):
        table.add_column(name, overflow="fold")
    ordered = sorted(summary.results, key=lambda r: (r.provider, r.model, r.prompt))
    for result in ordered:
        status = summary.statuses.get(result.target)
        if result.ok:
            verdict = Text("pass", style="green")
        elif result.inconclusive:
            verdict = Text("inconclusive", style="yellow")
        else:
            verdict = Text("FAIL", style="red")
        problem = ""
        if result.kind is not None:
            problem = f"{result.kind.value}: {printable(result.error or '')}".rstrip(": ")
        table.add_row(
            result.provider,
            result.model,
            result.prompt,
            verdict,
            status.state.value if status else "-",
            _ms(result.ttfc_ms),
            _ms(result.total_ms),
            Text(problem),
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
    console.print(results_table(summary))
    for flip in summary.flips:
        change = f"{flip.old.value} -> {flip.new.value}"
        console.print(Text(f"{flip.provider}/{flip.model}: {change} ({flip.reason})"))
    console.print(
        Text(
            f"{summary.passed} passed, {summary.failed} failed, {summary.inconclusive} inconclusive"
        )
    )


def json_document(summary: RunSummary) -> str:
    """``{"results": [...], "summary": {...}}``: the whole output of ``--json``."""
    document: dict[str, Any] = {
        "results": [r.to_dict() for r in summary.results],
        "summary": {
            "total": len(summary.results),
            "passed": summary.passed,
            "failed": summary.failed,
            "inconclusive": summary.inconclusive,
            "offline": summary.offline,
            "offline_reason": summary.offline_reason,
            "working": summary.working,
            "states": {f"{p}/{m}": s.state.value for (p, m), s in sorted(summary.statuses.items())},
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
            "exit_code": summary.exit_code,
        },
    }
    text = json.dumps(document, ensure_ascii=False)
    # JSON's own syntax is ASCII, so these can only stand inside strings: escape them there.
    return _UNESCAPED_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
