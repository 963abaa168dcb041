"""Provider code runs off the caller's loop: blocking, deaf and endless providers cannot
hold up other probes, and only text counts as the answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from g4f_doubles import Endless, Good, blocking, deaf, info

from harness.policy.prompts import PROMPTS
from harness.probing.probe import Deadlines, probe
from harness.probing.runner import Target, run
from harness.result import FailureKind, StreamEnd
from providers.gpt4free import G4FInfo, Lane, LoadFailure, catalog, isolation, wrap

DEADLINES = Deadlines(connect=1.0, first_chunk=2.0, stall=1.0, total=4.0, max_chars=100_000)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so the misbehaving doubles' threads end."""
    event = threading.Event()
    yield event
    event.set()
    for thread in threading.enumerate():
        if thread.name.startswith("provider "):
            thread.join(5)


async def test_only_text_is_the_answer_and_finish_and_usage_are_recorded() -> None:
    provider = wrap(info(Good))
    result = await probe(provider, "double-model", PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert result.ok, result.error
    assert result.provider == "g4f.Good"
    assert result.chunks == 2
    assert "thinking" not in result.sample
    assert result.finish_reason == "stop"
    assert result.end is StreamEnd.FINISH
    assert (result.prompt_tokens, result.completion_tokens) == (7, 3)


async def test_misbehaving_providers_do_not_hold_up_the_others(release: threading.Event) -> None:
    providers = [wrap(info(Good)), wrap(info(blocking(release))), wrap(info(deaf(release)))]
    providers.append(wrap(info(Endless)))
    targets = [Target(p, "double-model", "ping") for p in providers]
    outcome = await run(targets, deadlines=DEADLINES, retry_backoff=0.0)
    good, blocked, deaf_result, endless = outcome.results
    # Each verdict comes from the caller's own deadline: had a provider stopped the
    # caller's loop, the good probe could not pass and the others' deadlines could not fire.
    assert good.ok, good.error
    assert blocked.kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert deaf_result.kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert endless.kind is FailureKind.TIMEOUT_TOTAL
    assert endless.chunks > 0


async def test_a_provider_still_stuck_after_cancellation_gets_no_new_call(
    release: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "STUCK_AFTER_S", 0.0)
    provider = wrap(info(deaf(release)))
    first = await probe(provider, "double-model", PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert first.kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert provider.lane.lingering() == 1
    second = await probe(provider, "double-model", PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert second.kind is FailureKind.PROVIDER_BUG
    assert "still running" in (second.error or "")
    assert provider.lane.lingering() == 1  # no second thread was started
    release.set()
    for thread in threading.enumerate():
        if thread.name == "provider g4f.Deaf":
            await asyncio.to_thread(thread.join, 10)  # it hands its answer to this loop
    assert provider.lane.lingering() == 0
    third = await probe(provider, "double-model", PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert third.ok, third.error


async def test_a_lane_relays_items_in_order_and_raises_the_callers_error() -> None:
    async def items() -> AsyncIterator[object]:
        for i in range(200):  # more than the queue holds: the producer waits for the reader
            yield i
        raise ValueError("boom")

    seen: list[object] = []

    async def read() -> None:
        async for item in Lane("test").stream(items):
            seen.append(item)

    with pytest.raises(ValueError, match="boom"):
        await read()
    assert seen == list(range(200))


async def test_closing_the_stream_early_cancels_the_call() -> None:
    cancelled = threading.Event()

    async def items() -> AsyncIterator[object]:
        try:
            while True:
                yield "x"
                await asyncio.sleep(0)
        finally:
            cancelled.set()

    lane = Lane("test")
    stream = lane.stream(items)
    assert await anext(stream) == "x"
    await stream.aclose()
    assert await asyncio.to_thread(cancelled.wait, 10)


async def test_a_load_that_hangs_is_given_up_after_its_deadline(
    release: threading.Event,
) -> None:
    with pytest.raises(TimeoutError, match=r"loading Slow did not finish within 0\.2 s"):
        await isolation.in_thread(lambda: release.wait(30), 0.2, "loading Slow")


async def test_loading_goes_on_past_a_module_that_hangs_or_fails_to_import(
    release: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Loader:
        @staticmethod
        def from_name(name: str) -> type:
            if name == "Hangs":
                release.wait(30)  # an import that calls out and never hears back
            if name == "Fails":
                raise ImportError("No module named 'browser_cookie3'")
            return Good

    monkeypatch.setattr(catalog, "_loader", lambda: Loader)
    loaded = await catalog.load_all(["Good", "Hangs", "Fails", "Last"], timeout=0.5)
    assert isinstance(loaded["Good"], G4FInfo)
    assert isinstance(loaded["Last"], G4FInfo)
    hung, failed = loaded["Hangs"], loaded["Fails"]
    assert isinstance(hung, LoadFailure)
    assert isinstance(hung.error, TimeoutError)
    assert isinstance(failed, LoadFailure)
    assert isinstance(failed.error, ImportError)
