"""The offline check: name resolution only, through an injected resolver in tests."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from harness.probing.connectivity import (
    ConnectivityCheck,
    needs_no_lookup,
    points_somewhere,
    target_hosts,
)
from providers import AiChatOnline, AutonomousAI, CodeLinkAva
from providers.upstream import redirect


def resolving(*names: str, asked: list[str] | None = None) -> Callable[[str], Awaitable[bool]]:
    """A resolver for which exactly ``names`` resolve (recording what it was asked)."""

    async def resolve(name: str) -> bool:
        if asked is not None:
            asked.append(name)
        return name in names

    return resolve


async def hangs(name: str) -> bool:
    await asyncio.sleep(3600)
    return True


async def refuses(name: str) -> bool:
    raise OSError(-3, "Temporary failure in name resolution")


async def test_the_host_is_offline_when_no_name_resolves() -> None:
    check = ConnectivityCheck(names=("pypi.org", "github.com"), resolver=resolving())
    state = await check.assess(["api.example.test"])
    assert not state.online
    assert state.reason == (
        "this host appears offline: no name resolved (api.example.test, pypi.org, github.com)"
    )


async def test_one_resolving_name_is_enough() -> None:
    check = ConnectivityCheck(names=("pypi.org", "github.com"), resolver=resolving("github.com"))
    state = await check.assess(["api.example.test"])
    assert state.online
    assert state.reason == "github.com resolves"


async def test_a_target_host_that_resolves_makes_the_host_online() -> None:
    check = ConnectivityCheck(names=(), resolver=resolving("api.example.test"))
    assert (await check.assess(["api.example.test"])).online


async def test_targets_and_well_known_names_are_all_asked() -> None:
    asked: list[str] = []
    check = ConnectivityCheck(names=("pypi.org",), resolver=resolving(asked=asked))
    await check.assess(["a.test", "b.test", "a.test"])
    assert sorted(asked) == ["a.test", "b.test", "pypi.org"]


async def test_resolver_errors_count_as_not_resolving() -> None:
    check = ConnectivityCheck(names=("pypi.org",), resolver=refuses)
    assert not (await check.assess()).online


async def test_a_hanging_resolver_costs_at_most_the_timeout() -> None:
    check = ConnectivityCheck(names=("pypi.org", "github.com"), timeout=0.2, resolver=hangs)
    started = time.perf_counter()
    state = await check.assess()
    assert time.perf_counter() - started < check.timeout + 2
    assert not state.online


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "emu.localhost"])
async def test_a_target_needing_no_lookup_counts_as_online_without_asking(host: str) -> None:
    asked: list[str] = []
    check = ConnectivityCheck(resolver=resolving(asked=asked))
    state = await check.assess([host])
    assert state.online
    assert asked == []


async def test_a_disabled_check_says_online() -> None:
    assert (await ConnectivityCheck(enabled=False, resolver=resolving()).assess()).online


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "10.1.2.3"])
def test_local_names_and_ip_literals_need_no_resolution(host: str) -> None:
    assert needs_no_lookup(host)


@pytest.mark.parametrize("host", ["pypi.org", "localhost.example.com", "127.0.0.1.nip.io"])
def test_other_names_need_resolution(host: str) -> None:
    assert not needs_no_lookup(host)


def test_target_hosts_are_the_real_upstream_hosts_by_default() -> None:
    assert target_hosts([AutonomousAI, CodeLinkAva]) == [
        "chatgpt.autonomous.ai",
        "ava-alpha-api.codelink.io",
    ]


def test_a_redirection_replaces_the_upstream_host() -> None:
    with redirect("http://127.0.0.1:8765", {"CodeLinkAva": "https://mirror.test/ava"}):
        assert target_hosts([AutonomousAI, CodeLinkAva]) == ["127.0.0.1", "mirror.test"]


def test_a_proxy_replaces_the_upstream_host() -> None:
    hosts = target_hosts([AiChatOnline], {"AiChatOnline": "http://user:pw@proxy.test:3128"})
    assert hosts == ["proxy.test"]


@pytest.mark.parametrize(
    ("address", "real"),
    [
        ("142.250.74.46", True),
        ("10.1.2.3", True),  # split-horizon DNS may answer with private addresses
        ("2a00:1450:4001::200e", True),
        ("127.0.0.1", False),
        ("0.0.0.0", False),  # a DNS sinkhole's answer
        ("203.0.113.80", False),  # documentation ranges: a sandbox's stand-in
        ("192.0.2.1", False),
        ("2001:db8::1", False),
        ("not an address", False),
    ],
)
def test_only_answers_pointing_at_a_real_host_count_as_resolving(address: str, real: bool) -> None:
    assert points_somewhere(address) is real
