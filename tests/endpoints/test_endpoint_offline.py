"""The host-offline rule is per target: local and private endpoints are probed anyway."""

from __future__ import annotations

import pytest
from rich.console import Console

from harness.cli.console import print_summary
from harness.emulator import Emulator
from harness.pipeline.run import RunSummary
from harness.probing.connectivity import ConnectivityCheck, is_local_host, needs_internet
from harness.probing.runner import Target, run
from harness.result import FailureKind
from providers import CodeLinkAva, openai_compatible
from providers.upstream import redirect


async def nothing_resolves(name: str) -> bool:
    return False


OFFLINE = ConnectivityCheck(names=("pypi.org",), timeout=0.5, resolver=nothing_resolves)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "ollama.localhost",
        "127.0.0.1",
        "[::1]",
        "10.0.0.7",
        "172.16.3.4",
        "192.168.1.20",
        "169.254.0.9",
        "fd00::1",
        "gpu-box.local",
        "vllm.lan",
        "llm.internal",
        "box.home.arpa",
    ],
)
def test_local_and_private_hosts_need_no_internet(host: str) -> None:
    assert is_local_host(host)


@pytest.mark.parametrize(
    "host", ["api.groq.com", "8.8.8.8", "openrouter.ai", "2606:4700::1111", "local.example.com"]
)
def test_public_hosts_need_the_internet(host: str) -> None:
    assert not is_local_host(host)


def test_an_endpoint_needs_the_internet_by_its_base_url() -> None:
    assert not needs_internet(openai_compatible("o", "http://127.0.0.1:11434/v1"))
    assert not needs_internet(openai_compatible("v", "http://192.168.1.20:8000/v1"))
    assert needs_internet(openai_compatible("g", "https://api.groq.com/openai/v1"))
    lan_proxy = {"g": "http://10.0.0.2:3128"}
    assert not needs_internet(openai_compatible("g", "https://api.groq.com/openai/v1"), lan_proxy)


async def test_offline_the_local_endpoint_is_probed_and_the_remote_is_inconclusive(
    emulator: Emulator,
) -> None:
    local = openai_compatible("ollama", emulator.openai_url(), models=["llama3"])
    remote = openai_compatible("groq", "https://api.groq.com/openai/v1", models=["llama"])
    targets = [
        Target(remote, "llama", "ping"),
        Target(local, "llama3", "ping"),
        Target(CodeLinkAva, "gpt-3.5-turbo", "ping"),
    ]
    outcome = await run(targets, connectivity=OFFLINE)
    groq, ollama, seed = outcome.results
    assert outcome.offline
    assert ollama.ok
    assert ollama.attempts == 1
    assert (groq.kind, seed.kind) == (FailureKind.HARNESS_OFFLINE, FailureKind.HARNESS_OFFLINE)
    assert groq.attempts == seed.attempts == 0
    assert emulator.requests[("openai", "/v1/chat/completions")] == 1


async def test_a_redirected_seed_provider_on_this_machine_counts_as_local(
    emulator: Emulator,
) -> None:
    with redirect(emulator.url):
        outcome = await run([Target(CodeLinkAva, "gpt-3.5-turbo", "ping")], connectivity=OFFLINE)
    assert not outcome.offline
    assert outcome.results[0].ok


async def test_the_offline_notice_says_local_targets_were_probed(emulator: Emulator) -> None:
    local = openai_compatible("ollama", emulator.openai_url(), models=["llama3"])
    remote = openai_compatible("groq", "https://api.groq.com/openai/v1", models=["llama"])
    outcome = await run(
        [Target(remote, "llama", "ping"), Target(local, "llama3", "ping")], connectivity=OFFLINE
    )
    console = Console(record=True, width=200)
    print_summary(RunSummary(outcome.results, outcome.offline, outcome.reason), console)
    text = console.export_text()
    assert "Targets that need the internet are recorded as inconclusive" in text
    assert "1 passed, 0 failed, 1 inconclusive" in text
