"""Hostile upstream text is stored safely and shown harmlessly everywhere it goes.

An upstream controls the text of its answers, its error bodies and even its finish
reasons: markup and script, ANSI escape sequences that rewrite the operator's
terminal, NUL bytes, megabyte lines, invalid UTF-8, lone UTF-16 surrogates (valid JSON
escapes that no UTF-8 encoder accepts). Each scenario is served by a CodeLinkAva
look-alike and probed with the real ``harness probe`` command; then the store, the
results table, the JSON output, the HTML report and the logs are checked.
(tests/browser checks that an error holding a <script> runs nothing in Chromium.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from hostile_upstream import PONG, HostileUpstream, Reply, error_page, sse_answer, sse_raw

from harness.cli.main import main
from harness.policy.prompts import PROMPTS
from harness.probing.eventloop import EVENT_LOOP_ENV
from harness.probing.probe import Deadlines
from harness.probing.probe import probe as run_probe
from harness.report.html import controls_script
from harness.result import FailureKind, ProbeResult
from harness.store import open_store
from harness.store.rows import as_stored
from providers.base import AsyncGeneratorProvider
from providers.messages import Chunk, Messages

SCRIPT = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">'
ANSI = "\x1b[2J\x1b[31mRED\x1b]0;pwned-title\x07\x9b1m"
NUL = "nul\x00byte"
MEGABYTE = 1 << 20
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""What must never reach a terminal from an upstream (tab and newline are ours)."""


@dataclass(frozen=True)
class Scenario:
    id: str
    reply: Reply
    kind: FailureKind | None
    field: str
    """The stored field the upstream's text lands in."""
    kept: str | None = None
    """A hostile fragment that must be stored as it came (proof the text got through)."""


SCENARIOS = [
    Scenario(
        "script-in-error",
        error_page(500, SCRIPT.encode()),
        FailureKind.HTTP_SERVER,
        "error",
        SCRIPT,
    ),
    Scenario(
        "ansi-in-error",
        error_page(500, ANSI.encode()),
        FailureKind.HTTP_SERVER,
        "error",
        "\x1b[31mRED",
    ),
    Scenario("nul-in-error", error_page(500, NUL.encode()), FailureKind.HTTP_SERVER, "error", NUL),
    Scenario(
        "invalid-utf8-in-error",
        error_page(500, b"bad \xff\xfe\xc3\x28 bytes"),
        FailureKind.HTTP_SERVER,
        "error",
        "bad \ufffd",
    ),
    Scenario("megabyte-error", error_page(400, b"E" * MEGABYTE), FailureKind.HTTP_CLIENT, "error"),
    Scenario(
        "hostile-answer",
        sse_answer(SCRIPT, ANSI, NUL, f" {PONG}"),
        None,
        "sample",
        SCRIPT + ANSI + NUL,
    ),
    Scenario("megabyte-line", sse_answer("A" * MEGABYTE), FailureKind.TOO_LARGE, "sample"),
    Scenario(
        "invalid-utf8-stream",
        sse_raw(b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}'),
        FailureKind.PROTOCOL,
        "error",
    ),
    Scenario("lone-surrogate-answer", sse_answer(f"{PONG} \ud800 "), None, "sample", "PONG-"),
    Scenario(
        "hostile-finish-reason",
        sse_raw(
            b"data: "
            + json.dumps(
                {
                    "choices": [
                        {
                            "delta": {"content": PONG},
                            "finish_reason": SCRIPT + ANSI + "\ud800" + "F" * MEGABYTE,
                        }
                    ]
                }
            ).encode(),
            b"data: [DONE]",
        ),
        None,
        "finish_reason",
    ),
]
IDS = [s.id for s in SCENARIOS]


def probe(data_dir: Path, upstream: HostileUpstream, *extra: str) -> Result:
    result = CliRunner().invoke(
        main,
        [
            "--data-dir",
            str(data_dir),
            "probe",
            "-p",
            "CodeLinkAva",
            "--upstream",
            upstream.url,
            *extra,
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def stored(data_dir: Path) -> list[ProbeResult]:
    async def read() -> list[ProbeResult]:
        async with open_store(data_dir / "harness.db") as store:
            return await store.results()

    return asyncio.run(read())


@pytest.fixture(params=SCENARIOS, ids=IDS)
def scenario(request: pytest.FixtureRequest, hostile: HostileUpstream) -> Scenario:
    chosen: Scenario = request.param
    hostile.reply = chosen.reply
    return chosen


def test_hostile_text_round_trips_through_the_store(
    tmp_path: Path, hostile: HostileUpstream, scenario: Scenario
) -> None:
    result = probe(tmp_path, hostile, "--json")
    reported = json.loads(result.stdout)["results"]

    (kept,) = stored(tmp_path)

    assert kept.kind is scenario.kind, kept.error
    (shown,) = reported
    derived = ("chars_per_s", "tokens_per_s", "capability")
    probed = ProbeResult.from_dict({k: v for k, v in shown.items() if k not in derived})
    assert as_stored(probed) == kept
    text = getattr(kept, scenario.field) or ""
    if scenario.kept is not None:
        assert scenario.kept in text
    assert len(kept.error or "") <= 500
    assert len(kept.sample) <= 200
    assert len(kept.finish_reason or "") <= 200


def test_the_results_table_shows_no_control_character(
    tmp_path: Path, hostile: HostileUpstream, scenario: Scenario
) -> None:
    result = probe(tmp_path, hostile)

    assert "CodeLinkAva" in result.stdout
    assert CONTROL.findall(result.output) == []


def test_the_json_output_escapes_every_control_character(
    tmp_path: Path, hostile: HostileUpstream, scenario: Scenario
) -> None:
    result = probe(tmp_path, hostile, "--json")

    assert CONTROL.findall(result.stdout) == []
    json.loads(result.stdout)


def test_the_report_shows_hostile_text_as_text(
    tmp_path: Path, hostile: HostileUpstream, scenario: Scenario
) -> None:
    probe(tmp_path, hostile)
    out = tmp_path / "report"
    rendered = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "report", "--out", str(out)])
    assert rendered.exit_code == 0, rendered.output

    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")

    assert soup.find_all(["img", "iframe", "object", "embed"]) == []
    assert [s.string for s in soup.find_all("script")] == [controls_script()]  # ours alone
    assert [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")] == []
    if scenario.kind is not None and scenario.field == "error":
        shown = soup.select_one('article[data-model="gpt-3.5-turbo"] .error-text')
        assert shown is not None
        assert (scenario.kept or "")[:20] in shown.get_text()
    json.loads((out / "status.json").read_text(encoding="utf-8"))


def test_no_upstream_text_reaches_the_logs(
    tmp_path: Path,
    hostile: HostileUpstream,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # asyncio's own loop logs (at DEBUG) where uvloop, if installed, logs nothing at all.
    monkeypatch.setenv(EVENT_LOOP_ENV, "asyncio")
    caplog.set_level(logging.DEBUG)
    for scenario in SCENARIOS:
        hostile.reply = scenario.reply
        probe(tmp_path, hostile)

    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert CONTROL.findall(caplog.text) == []
    for fragment in ("<script>", "pwned", "nul", "F" * 100, "E" * 100):
        assert fragment not in caplog.text


class CleanupFails(AsyncGeneratorProvider):
    """Streams past the size cap; closing it raises an error quoting the upstream."""

    @classmethod
    async def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Chunk, None]:
        try:
            while True:
                yield "x" * 100
        finally:
            raise RuntimeError(f"upstream said: {SCRIPT}{ANSI}{NUL}")


async def test_a_failing_cleanup_logs_no_upstream_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    result = await run_probe(
        CleanupFails, "m", PROMPTS["ping"].build(), deadlines=Deadlines(max_chars=1000)
    )

    assert result.kind is FailureKind.TOO_LARGE
    assert "closing the provider stream failed: RuntimeError" in caplog.text
    assert CONTROL.findall(caplog.text) == []
