"""The results table reads well at 80 columns: one line per probe, the offline reason
said once above it, long errors cut with an ellipsis; at 200 columns nothing is dropped."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from harness.cli.console import OFFLINE_VERDICT, print_summary
from harness.pipeline.run import RunSummary
from harness.result import FailureKind, ProbeResult
from tests.status_samples import passed

AT = datetime(2026, 1, 1, tzinfo=UTC)
REASON = "this host appears offline: no name resolved (api.robocoders.ai, pypi.org)"
LONG_ERROR = "expected 'PONG-1a2b3c' (any case), got: \"" + "I cannot help with that. " * 12 + '"'


def failed(provider: str, model: str, prompt: str, error: str) -> ProbeResult:
    return ProbeResult(
        provider=provider,
        model=model,
        prompt=prompt,
        started_at=AT,
        ok=False,
        kind=FailureKind.WRONG_ANSWER,
        error=error,
        ttfc_ms=12.0,
        total_ms=30.0,
    )


def mixed_run() -> RunSummary:
    return RunSummary(
        [
            passed("RobocodersAPI", "GeneralCodingAgent", AT, prompt="history"),
            passed("AutonomousAI", "qwen_coder", AT, prompt="math"),
            failed("AutonomousAI", "llama", "ping", LONG_ERROR),
        ]
    )


def offline_run() -> RunSummary:
    result = dataclasses.replace(
        passed("RobocodersAPI", "GeneralCodingAgent", AT),
        ok=False,
        kind=FailureKind.HARNESS_OFFLINE,
        error=REASON,
        ttfc_ms=None,
        total_ms=None,
    )
    others = [
        dataclasses.replace(result, provider="AutonomousAI", model=m)
        for m in ("llama", "qwen_coder", "hermes")
    ]
    return RunSummary([result, *others], offline=True, offline_reason=REASON)


def screen(summary: RunSummary, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, highlight=False)
    print_summary(summary, console)
    return console.export_text().splitlines()


def probe_lines(lines: list[str], summary: RunSummary) -> list[str]:
    providers = {r.provider for r in summary.results}
    return [line for line in lines if line.split(" ", 1)[0] in providers]


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("run", [mixed_run, offline_run], ids=["mixed", "offline"])
def test_one_line_per_probe_within_the_width(width: int, run: object) -> None:
    assert callable(run)
    summary = run()
    lines = screen(summary, width)

    assert all(len(line) <= width for line in lines), "\n".join(lines)
    assert len(probe_lines(lines, summary)) == len(summary.results), "\n".join(lines)


def test_at_80_columns_a_long_error_is_cut_with_an_ellipsis() -> None:
    lines = screen(mixed_run(), 80)

    (wrong,) = [line for line in lines if "wrong_answer" in line]
    assert wrong.rstrip().endswith("…")
    assert "GeneralCodingAgent" in "\n".join(lines)  # names are never the ones cut


def test_at_200_columns_every_column_is_shown() -> None:
    lines = screen(mixed_run(), 200)
    header = next(line for line in lines if line.startswith("provider"))

    assert header.split() == [
        "provider", "model", "prompt", "result", "state", "ttfc", "total", "kind", "/", "error"
    ]  # fmt: skip
    assert any("expected 'PONG-1a2b3c' (any case), got:" in line for line in lines)


@pytest.mark.parametrize("width", [80, 200])
def test_the_offline_reason_is_said_once_and_rows_say_offline_in_full(width: int) -> None:
    summary = offline_run()
    lines = screen(summary, width)
    text = "\n".join(lines)

    assert text.count("appears offline") == 1
    assert "inconclusive" in text.split("provider")[0]
    assert text.index("appears offline") < text.index("provider")
    rows = probe_lines(lines, summary)
    assert all(re.search(rf"\b{OFFLINE_VERDICT}\b(?! \()", row) for row in rows)
    assert not any("…" in row.split(OFFLINE_VERDICT)[0] for row in rows)
    assert not any("harness_offline" in row for row in rows)


def test_long_names_give_way_and_the_offline_verdict_stays_whole_at_80_columns() -> None:
    template = offline_run().results[0]
    results = [
        dataclasses.replace(
            template,
            provider=f"g4f.BlackForestLabs_Flux1KontextDev{n}",
            model="stabilityai-stable-diffusion-3-5-large",
            prompt=prompt,
        )
        for n, prompt in enumerate(["ping", "image", "audio"])
    ]
    summary = RunSummary(results, offline=True, offline_reason=REASON)

    rows = [line for line in screen(summary, 80) if line.startswith("g4f.")]

    assert len(rows) == 3
    assert all(len(row) <= 80 for row in rows)
    assert all(f" {OFFLINE_VERDICT} " in row + " " for row in rows)
    assert all("…" in row for row in rows)  # the names were cut instead
