"""Failed probes say what the provider answered, next to what was expected: quoted,
trimmed, redacted, control characters escaped, in every output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from rich.console import Console

from harness.cli.console import json_document, print_summary
from harness.emulator import Emulator, Fault, FaultSpec
from harness.policy.prompts import PROMPTS
from harness.probing.probe import Deadlines, probe
from harness.redact import quoted_excerpt
from harness.report import read_page, status_document
from harness.result import FailureKind
from harness.store import open_store
from providers import PROVIDERS
from providers.upstream import redirect
from tests.hostile_answer import SHOWN, hostile_app, hostile_settings, probe_hostile

LIMITS = Deadlines(connect=2.0, first_chunk=2.0, stall=2.0, total=5.0)


def test_an_excerpt_is_quoted_escaped_redacted_and_trimmed() -> None:
    assert quoted_excerpt('say "hi"\n\\ \x1b[31m\x9b') == '"say \\"hi\\"\\n\\\\ \\x1b[31m\\x9b"'
    assert quoted_excerpt("Authorization: Bearer abc.def") == '"Authorization: [REDACTED]"'
    assert quoted_excerpt("my-secret here", secrets=["my-secret"]) == '"[REDACTED] here"'
    long = quoted_excerpt("x" * 1000)
    assert len(long) == 202
    assert long.endswith('…"')


async def probe_with(emulator: Emulator, name: str, fault: Fault) -> Any:
    emulator.set_fault(name, FaultSpec(fault))
    provider = PROVIDERS[name]
    with redirect(emulator.url):
        return await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_wrong_answer_quotes_the_answer(emulator: Emulator, name: str) -> None:
    result = await probe_with(emulator, name, Fault.wrong_answer)

    assert result.kind is FailureKind.WRONG_ANSWER
    assert result.error.startswith("expected 'PONG-")
    assert result.error.endswith(', got: "I am not able to help with that."')


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_an_unreadable_stream_quotes_its_first_line(emulator: Emulator, name: str) -> None:
    result = await probe_with(emulator, name, Fault.garbage)

    assert result.kind is FailureKind.PROTOCOL
    assert ', got: "<br />' in result.error


async def test_an_error_page_is_quoted(emulator: Emulator) -> None:
    result = await probe_with(emulator, "CodeLinkAva", Fault.cloudflare_403)

    assert result.kind is FailureKind.CLOUDFLARE
    assert ', got: "<!DOCTYPE html>' in result.error


async def test_a_hostile_answer_is_shown_escaped_in_every_output(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    server: TestServer = await aiohttp_server(hostile_app())
    settings = hostile_settings(tmp_path / "data", str(server.make_url("")))

    summary = await probe_hostile(settings)

    (result,) = summary.results
    assert result.kind is FailureKind.WRONG_ANSWER
    assert result.error.endswith(SHOWN)
    assert SHOWN in json.loads(json_document(summary))["results"][0]["error"]

    screen = Console(width=400, record=True, force_terminal=True, color_system=None)
    print_summary(summary, screen)
    text = screen.export_text()
    assert 'got: "<script>alert(1)</script><img src=x onerror=alert(2)>\\x1b[2J' in text
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\x07" not in text

    async with open_store(settings.store_url) as store:
        page = await read_page(store, settings, now=datetime.now(UTC))
    model = status_document(page)["providers"]["CodeLinkAva"]["models"]["gpt-3.5-turbo"]
    assert model["last_error"].endswith(SHOWN)


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("fault", [Fault.http_429, Fault.http_502], ids=str)
async def test_an_http_error_quotes_its_body(emulator: Emulator, name: str, fault: Fault) -> None:
    result = await probe_with(emulator, name, fault)

    assert result.kind in (FailureKind.RATE_LIMITED, FailureKind.HTTP_SERVER)
    assert ', got: "' in result.error
