"""Offline, targets on this machine or its own network are still probed; only the others
are inconclusive."""

from __future__ import annotations

import pytest
from probe_doubles import QUICK

from harness.connectivity import ConnectivityCheck, is_local, is_local_host
from harness.emulator import Emulator
from harness.result import FailureKind
from harness.runner import Target, run
from providers import AutonomousAI, CodeLinkAva
from providers.upstream import redirect


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("10.1.2.3", True),
        ("192.168.0.7", True),
        ("8.8.8.8", False),
        ("example.org", False),
    ],
)
def test_local_hosts(host: str, local: bool) -> None:
    assert is_local_host(host) is local


async def test_offline_a_local_target_is_probed_and_the_others_are_inconclusive(
    emulator: Emulator,
) -> None:
    asked: list[str] = []

    async def resolver(name: str) -> bool:
        asked.append(name)
        return False

    targets = [Target(CodeLinkAva, "gpt-3.5-turbo", "ping"), Target(AutonomousAI, "llama", "ping")]
    with redirect(None, {"CodeLinkAva": emulator.url}):
        assert is_local(CodeLinkAva)
        assert not is_local(AutonomousAI)
        outcome = await run(
            targets,
            deadlines=QUICK,
            connectivity=ConnectivityCheck(names=("example.org",), resolver=resolver),
        )
    local, remote = outcome.results
    assert outcome.offline
    assert local.ok, local.error
    assert remote.kind is FailureKind.HARNESS_OFFLINE
    assert remote.attempts == 0
    assert "127.0.0.1" not in asked
    assert set(asked) >= set(AutonomousAI.upstream_hosts)
