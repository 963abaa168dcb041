"""``record --check``: a changed response shape is named; unchanged ones are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cassettes import check_drift
from harness.cassettes.drift import Shape, compare_shapes, framing_of, key_paths
from harness.emulator import Emulator, Fault, FaultSpec
from harness.probing.runner import Target
from harness.settings.config import Settings
from providers import AiChatOnline, AutonomousAI

# Only the local test servers are reachable, even under `pytest --block-network`.
pytestmark = pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1$", "localhost$"])


async def test_a_changed_framing_is_named(
    emulator: Emulator, shipped_dir: Path, settings: Settings
) -> None:
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.changed_framing))
    target = Target(AutonomousAI, "llama", "ping")

    report = await check_drift(
        [target], against=shipped_dir, upstream=emulator.url, settings=settings
    )

    (entry,) = report.drifted
    assert any(
        "POST https://chatgpt.autonomous.ai/api/v1/ai/chat: framing: SSE" in change
        for change in entry.changes
    ), entry.changes
    assert report.exit_code == 1


async def test_renamed_json_keys_are_named(
    emulator: Emulator, shipped_dir: Path, settings: Settings
) -> None:
    emulator.set_fault("AiChatOnline", FaultSpec(Fault.changed_framing))
    target = Target(AiChatOnline, "gpt-4o-mini", "ping")

    report = await check_drift(
        [target], against=shipped_dir, upstream=emulator.url, settings=settings
    )

    (entry,) = report.drifted
    assert any("JSON keys gone: data.message" in change for change in entry.changes)


async def test_an_unchanged_upstream_reports_no_drift(
    emulator: Emulator, shipped_dir: Path, settings: Settings
) -> None:
    targets = [Target(AutonomousAI, "llama", "ping"), Target(AiChatOnline, "gpt-4o-mini", "math")]

    report = await check_drift(
        targets, against=shipped_dir, upstream=emulator.url, settings=settings
    )

    assert report.drifted == []
    assert report.exit_code == 0


async def test_a_target_without_a_cassette_is_reported_unchecked(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    report = await check_drift(
        [Target(AutonomousAI, "llama", "ping")],
        against=tmp_path,
        upstream=emulator.url,
        settings=settings,
    )

    (entry,) = report.unchecked
    assert "no cassette to compare with" in (entry.problem or "")
    assert report.exit_code == 1


@pytest.mark.parametrize(
    ("body", "framing"),
    [
        (b"", "empty"),
        (b'data: {"a": 1}\n\ndata: [DONE]\n\n', "sse+done"),
        (b'data: {"a": 1}\n\n', "sse"),
        (b'{"a": 1}\n{"a": 2}\n', "ndjson"),
        (b'{"a": 1}\n[DONE]\n', "ndjson+text"),
        (b'{"sid": "x"}', "json"),
        (b"<!DOCTYPE html><html></html>", "html"),
        (b"hello", "text"),
    ],
)
def test_framing_is_recognised(body: bytes, framing: str) -> None:
    assert framing_of(body) == framing


def test_key_paths_name_nested_keys_and_lists() -> None:
    event = json.loads('{"choices": [{"delta": {"content": "x"}, "finish_reason": null}]}')

    assert set(key_paths(event)) == {
        "choices",
        "choices[].delta",
        "choices[].delta.content",
        "choices[].finish_reason",
    }


def test_generated_text_is_not_a_change() -> None:
    shape = Shape(200, "text/event-stream", "sse+done", frozenset({"choices"}))

    assert compare_shapes(shape, shape) == []


def test_status_and_content_type_changes_are_named() -> None:
    old = Shape(200, "text/event-stream", "sse+done", frozenset())
    new = Shape(500, "text/html", "html", frozenset())

    assert compare_shapes(old, new) == [
        "status 200 -> 500",
        "content type text/event-stream -> text/html",
        "framing: SSE `data:` lines ending in `data: [DONE]` -> an HTML page",
    ]


def test_named_events_are_a_framing_of_their_own() -> None:
    anthropic = (
        b'event: message_start\ndata: {"type": "message_start"}\n\nevent: ping\ndata: {}\n\n'
    )
    gemini = b'data: {"candidates": []}\r\n\r\n'
    assert framing_of(anthropic) == "sse+events"
    assert framing_of(gemini) == "sse"
