"""The runner: planning, concurrency limits, one retry for transport failures, and the
offline verdict."""

import asyncio
import socket
import time
from collections.abc import AsyncGenerator

import pytest
from probe_doubles import QUICK, ping_answer

from harness import __version__
from harness.emulator import Emulator, Fault, FaultSpec
from harness.errors import ConfigError
from harness.probing.connectivity import ConnectivityCheck
from harness.probing.runner import Target, plan, run
from harness.result import FailureKind, ProbeResult, Source
from providers import AiChatOnline, AutonomousAI, CodeLinkAva, RobocodersAPI
from providers.base import AsyncGeneratorProvider
from providers.messages import Chunk, Messages
from providers.upstream import redirect


async def nothing_resolves(name: str) -> bool:
    return False


OFFLINE = ConnectivityCheck(names=("pypi.org",), timeout=0.5, resolver=nothing_resolves)


class Gauge:
    """Counts streams running at once, per provider and overall."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self.calls = 0

    def enter(self, name: str) -> None:
        self.calls += 1
        self.now[name] = self.now.get(name, 0) + 1
        self.peak[name] = max(self.peak.get(name, 0), self.now[name])
        self.peak_total = max(self.peak_total, sum(self.now.values()))

    def leave(self, name: str) -> None:
        self.now[name] -= 1


def gauged(name: str, gauge: Gauge) -> type[AsyncGeneratorProvider]:
    """A provider that answers pings correctly after 50 ms, counted by ``gauge``."""

    async def _stream(
        cls: type[AsyncGeneratorProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Chunk, None]:
        gauge.enter(name)
        try:
            await asyncio.sleep(0.05)
            yield ping_answer(messages)
        finally:
            gauge.leave(name)

    return type(name, (AsyncGeneratorProvider,), {"_stream": classmethod(_stream)})


# --- plan ---------------------------------------------------------------------------


def test_plan_expands_providers_models_and_prompts() -> None:
    targets = plan([AutonomousAI], models=["llama", "hermes"], prompts=["ping", "math"])
    assert [(t.model, t.prompt) for t in targets] == [
        ("llama", "ping"),
        ("llama", "math"),
        ("hermes", "ping"),
        ("hermes", "math"),
    ]


def test_plan_defaults_to_every_model_and_the_ping_prompt() -> None:
    targets = plan([RobocodersAPI])
    assert [(t.model, t.prompt) for t in targets] == [(m, "ping") for m in RobocodersAPI.models]


def test_all_prompts_means_every_prompt_the_provider_can_answer() -> None:
    assert [t.prompt for t in plan([CodeLinkAva], prompts="all")] == ["ping", "math"]
    assert [t.prompt for t in plan([AutonomousAI], models=["llama"], prompts="all")] == [
        "ping",
        "math",
        "system",
        "history",
    ]


def test_aliases_resolve_and_duplicates_collapse() -> None:
    targets = plan([AutonomousAI], models=["llama-3.3-70b", "llama"])
    assert [t.model for t in targets] == ["llama"]


def test_an_unknown_model_is_a_config_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="Valid models"):
        plan([AiChatOnline], models=["gpt-9"])


def test_an_unknown_prompt_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown prompt"):
        plan([AiChatOnline], prompts=["poem"])


# --- run against the emulators ------------------------------------------------------


async def test_a_run_probes_every_target_and_shares_one_run_id(emulator: Emulator) -> None:
    targets = plan([RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva], prompts="all")
    seen: list[ProbeResult] = []
    with redirect(emulator.url):
        outcome = await run(targets, deadlines=QUICK, concurrency=5, on_result=seen.append)
    assert [(*r.target, r.prompt) for r in outcome.results] == [
        (t.provider.name(), t.model, t.prompt) for t in targets
    ]
    assert all(r.ok for r in outcome.results), [r.error for r in outcome.results if not r.ok]
    assert sorted(map(id, seen)) == sorted(map(id, outcome.results))
    assert {r.run_id for r in outcome.results} == {outcome.run_id}
    assert len(outcome.run_id) == 32
    assert {(r.concurrency, r.version, r.attempts) for r in outcome.results} == {
        (5, __version__, 1)
    }
    assert not outcome.offline


async def test_the_vantage_defaults_to_the_host_name(emulator: Emulator) -> None:
    with redirect(emulator.url):
        outcome = await run([Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], deadlines=QUICK)
    assert outcome.results[0].vantage == socket.gethostname()


async def test_a_transport_failure_is_retried_once(emulator: Emulator) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.reset_mid_stream, times=1))
    with redirect(emulator.url):
        outcome = await run(
            [Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], deadlines=QUICK, retry_backoff=0
        )
    [result] = outcome.results
    assert result.ok
    assert result.attempts == 2


async def test_a_transport_failure_twice_keeps_the_second_result(emulator: Emulator) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.reset_mid_stream, times=2))
    with redirect(emulator.url):
        outcome = await run(
            [Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], deadlines=QUICK, retry_backoff=0
        )
    [result] = outcome.results
    assert result.kind is FailureKind.STREAM_CUT
    assert result.attempts == 2


@pytest.mark.parametrize("mode", [Fault.wrong_answer, Fault.http_429, Fault.garbage], ids=str)
async def test_content_failures_are_not_retried(emulator: Emulator, mode: Fault) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(mode, times=1))
    with redirect(emulator.url):
        outcome = await run(
            [Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], deadlines=QUICK, retry_backoff=0
        )
    [result] = outcome.results
    assert not result.ok  # a retry would have passed: the fault applied once only
    assert result.attempts == 1


async def test_a_closed_port_fails_as_connect_after_a_retry(closed_port: int) -> None:
    with redirect(f"http://127.0.0.1:{closed_port}"):
        outcome = await run(
            [Target(CodeLinkAva, "gpt-3.5-turbo", "ping")],
            deadlines=QUICK,
            retry_backoff=0,
            connectivity=ConnectivityCheck(resolver=nothing_resolves),
        )
    [result] = outcome.results
    assert (result.kind, result.attempts) == (FailureKind.CONNECT, 2)
    assert not outcome.offline  # 127.0.0.1 needs no name resolution


# --- concurrency ------------------------------------------------------------------------


async def test_concurrency_is_bounded_overall_and_per_provider() -> None:
    gauge = Gauge()
    providers = [gauged(f"P{i}", gauge) for i in range(4)]
    targets = [Target(p, "m", "ping") for p in providers for _ in range(6)]
    outcome = await run(targets, deadlines=QUICK, concurrency=5, per_provider=2)
    assert all(r.ok for r in outcome.results)
    assert gauge.calls == 24
    assert gauge.peak_total <= 5
    assert max(gauge.peak.values()) <= 2
    assert gauge.peak_total > 1  # and they did run side by side


# --- offline ------------------------------------------------------------------------


async def test_offline_targets_are_not_probed_and_are_inconclusive() -> None:
    gauge = Gauge()
    targets = [Target(gauged("P", gauge), "m", "ping"), Target(gauged("Q", gauge), "m", "ping")]
    seen: list[ProbeResult] = []
    started = time.perf_counter()
    outcome = await run(
        targets, deadlines=QUICK, connectivity=OFFLINE, on_result=seen.append, vantage="v"
    )
    assert time.perf_counter() - started < OFFLINE.timeout + 2
    assert gauge.calls == 0
    assert outcome.offline
    assert outcome.reason == "this host appears offline: no name resolved (pypi.org)"
    assert len(seen) == 2
    for result in outcome.results:
        assert result.inconclusive
        assert (result.ok, result.kind, result.attempts) == (
            False,
            FailureKind.HARNESS_OFFLINE,
            0,
        )
        assert result.error == outcome.reason
        assert (result.run_id, result.vantage) == (outcome.run_id, "v")


async def test_the_offline_check_asks_about_the_targets_real_hosts() -> None:
    asked: list[str] = []

    async def record(name: str) -> bool:
        asked.append(name)
        return False

    check = ConnectivityCheck(names=("pypi.org",), resolver=record)
    outcome = await run(
        [Target(AutonomousAI, "llama", "ping"), Target(CodeLinkAva, "gpt-3.5-turbo", "ping")],
        deadlines=QUICK,
        connectivity=check,
        source=Source.LIVE,
    )
    assert sorted(asked) == ["ava-alpha-api.codelink.io", "chatgpt.autonomous.ai", "pypi.org"]
    assert outcome.offline


async def test_a_redirection_to_this_machine_is_never_offline(emulator: Emulator) -> None:
    with redirect(emulator.url):
        outcome = await run(
            [Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], deadlines=QUICK, connectivity=OFFLINE
        )
    assert not outcome.offline
    assert outcome.results[0].ok


async def test_no_connectivity_check_probes_regardless() -> None:
    gauge = Gauge()
    outcome = await run([Target(gauged("P", gauge), "m", "ping")], deadlines=QUICK)
    assert gauge.calls == 1
    assert outcome.results[0].ok


async def test_with_auto_concurrency_every_target_is_probed_within_the_adapted_limit() -> None:
    gauge = Gauge()
    provider = gauged("Gauged", gauge)
    targets = [Target(provider, "", "ping")] * 30
    outcome = await run(targets, deadlines=QUICK, concurrency="auto", per_provider=30)
    assert all(r.ok for r in outcome.results), [r.error for r in outcome.results if not r.ok]
    assert gauge.calls == 30
    limits = {r.concurrency for r in outcome.results}
    assert gauge.peak_total <= max(limits)
    assert all(1 <= limit <= 30 for limit in limits)


async def test_every_result_with_a_first_chunk_says_how_late_the_loop_ran(
    emulator: Emulator,
) -> None:
    targets = plan([CodeLinkAva, AutonomousAI])
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_500))
    with redirect(emulator.url):
        outcome = await run(targets, deadlines=QUICK, retry_backoff=0)
    for result in outcome.results:
        if result.ttfc_ms is None:
            assert result.loop_lag_ms is None
        else:
            assert result.loop_lag_ms is not None
            assert result.loop_lag_ms >= 0
    assert any(r.loop_lag_ms is not None for r in outcome.results)
