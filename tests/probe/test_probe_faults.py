"""Every emulator fault, for every provider, ends as the failure kind it stands for,
within its deadline."""

import dataclasses
import time

import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.policy.prompts import PROMPTS, applicable
from harness.probing.probe import Deadlines, probe
from harness.result import FailureKind, StreamEnd
from providers import PROVIDERS
from providers.upstream import redirect

LIMITS = Deadlines(connect=2.0, first_chunk=0.5, stall=0.5, total=5.0, max_chars=500)
SLACK_S = 2.0
"""How far past its deadline a probe may end (scheduling, cleanup) in these tests."""

EXPECTED = {
    Fault.hang_headers: FailureKind.TIMEOUT_FIRST_CHUNK,
    Fault.hang_mid_stream: FailureKind.TIMEOUT_TOTAL,
    Fault.reset_mid_stream: FailureKind.STREAM_CUT,
    Fault.http_429: FailureKind.RATE_LIMITED,
    Fault.http_500: FailureKind.HTTP_SERVER,
    Fault.http_502: FailureKind.HTTP_SERVER,
    Fault.http_503: FailureKind.HTTP_SERVER,
    Fault.cloudflare_403: FailureKind.CLOUDFLARE,
    Fault.http_401: FailureKind.HTTP_AUTH,
    Fault.garbage: FailureKind.PROTOCOL,
    Fault.empty_200: FailureKind.EMPTY,
    Fault.invalid_utf8: FailureKind.PROTOCOL,
    Fault.endless: FailureKind.TOO_LARGE,  # LIMITS.max_chars is small
    Fault.wrong_answer: FailureKind.WRONG_ANSWER,
    Fault.huge_line: FailureKind.TOO_LARGE,
}
PASSING = (Fault.none, Fault.first_chunk_delay, Fault.chunk_delay)


def spec(mode: Fault) -> FaultSpec:
    # A 5 MiB line already exceeds the providers' 4 MiB line cap; 50 MiB would only be slower.
    return FaultSpec(mode, size=5 * 1024 * 1024) if mode is Fault.huge_line else FaultSpec(mode)


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("mode", list(EXPECTED), ids=str)
async def test_each_fault_gives_its_kind(emulator: Emulator, name: str, mode: Fault) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, spec(mode))
    started = time.perf_counter()
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    elapsed = time.perf_counter() - started
    assert result.kind is EXPECTED[mode], result.error
    assert not result.ok
    assert result.error
    assert elapsed < LIMITS.total + SLACK_S


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("mode", PASSING, ids=str)
async def test_slow_but_correct_answers_pass(emulator: Emulator, name: str, mode: Fault) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(mode, first_chunk_delay=0.2, chunk_delay=0.05))
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert result.ok, result.error
    assert result.end in (StreamEnd.FINISH, StreamEnd.EOF)


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_slow_first_chunk_shows_in_ttfc(emulator: Emulator, name: str) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(Fault.first_chunk_delay, first_chunk_delay=0.2))
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert result.ok, result.error
    assert result.ttfc_ms is not None
    assert result.ttfc_ms >= 200


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_hanging_headers_end_at_the_first_chunk_deadline(
    emulator: Emulator, name: str
) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(Fault.hang_headers))
    started = time.perf_counter()
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert time.perf_counter() - started < LIMITS.first_chunk + SLACK_S
    assert result.kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert result.ttfb_ms is None  # the chat request never answered


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_hang_mid_stream_is_reported_as_stalled(emulator: Emulator, name: str) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(Fault.hang_mid_stream))
    started = time.perf_counter()
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert time.perf_counter() - started < LIMITS.stall + SLACK_S
    assert result.kind is FailureKind.TIMEOUT_TOTAL
    assert "stalled" in (result.error or "")
    assert result.chunks >= 1


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_an_endless_stream_ends_at_the_total_deadline_without_a_cap(
    emulator: Emulator, name: str
) -> None:
    provider = PROVIDERS[name]
    limits = dataclasses.replace(LIMITS, total=1.0, max_chars=10_000_000)
    emulator.set_fault(name, FaultSpec(Fault.endless))
    started = time.perf_counter()
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=limits
        )
    assert time.perf_counter() - started < limits.total + SLACK_S
    assert result.kind is FailureKind.TIMEOUT_TOTAL
    assert "total deadline" in (result.error or "")


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_rate_limit_keeps_its_status_and_retry_after(emulator: Emulator, name: str) -> None:
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(Fault.http_429, retry_after=3))
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert result.kind is FailureKind.RATE_LIMITED
    assert result.http_status == 429
    assert "retry after 3 s" in (result.error or "")


@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_changed_framing_fails_as_a_content_failure(emulator: Emulator, name: str) -> None:
    # Undecodable lines make a ProtocolError; decodable records without text in the
    # expected place leave the answer empty. Either way the probe fails, without retry.
    provider = PROVIDERS[name]
    emulator.set_fault(name, FaultSpec(Fault.changed_framing))
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert result.kind in (FailureKind.PROTOCOL, FailureKind.EMPTY)


async def test_robocoders_continues_past_a_resource_limit(emulator: Emulator) -> None:
    provider = PROVIDERS["RobocodersAPI"]
    emulator.set_fault("RobocodersAPI", FaultSpec(Fault.resource_limit))
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS["ping"].build(), deadlines=LIMITS
        )
    assert result.ok, result.error


@pytest.mark.parametrize(
    ("name", "prompt"),
    [(name, prompt) for name, p in PROVIDERS.items() for prompt in applicable(p)],
)
async def test_every_applicable_prompt_passes_against_the_emulator(
    emulator: Emulator, name: str, prompt: str
) -> None:
    provider = PROVIDERS[name]
    with redirect(emulator.url):
        result = await probe(
            provider, provider.default_model, PROMPTS[prompt].build(), deadlines=LIMITS
        )
    assert result.ok, result.error
