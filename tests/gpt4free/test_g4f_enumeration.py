"""Every provider of the pinned gpt4free, with the network absent: listed without the
network, each one loaded or its failure kept, each probed and recorded with a kind,
within the deadlines; with the host offline, everything is inconclusive except a
provider configured with a local base_url."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator import Emulator
from harness.emulator.openai import base_url
from harness.pipeline.run import deadlines_of, plan_targets, probe_and_record
from harness.probing.connectivity import ConnectivityCheck
from harness.probing.runner import run
from harness.result import FailureKind, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.g4f import install
from providers import PROVIDERS
from providers.gpt4free import G4FInfo, LoadFailure, load_all, provider_names, target_name

# gpt4free's own code leaves some client sessions unclosed (aiohttp reports them when
# they are collected): its bug, not the probed behaviour under test.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PINNED_NAMES = 84
"""ProviderLoader.names + .extra of g4f 8.8.6."""

DEADLINES = {"connect": 1.0, "first_chunk": 2.0, "stall": 1.0, "total": 4.0}


@pytest.mark.usefixtures("no_network")
async def test_listing_and_loading_need_no_network_and_never_raise() -> None:
    names = await provider_names()
    assert len(names) == PINNED_NAMES
    loaded = await load_all(names)
    assert list(loaded) == names
    infos = [e for e in loaded.values() if isinstance(e, G4FInfo)]
    failures = [e for e in loaded.values() if isinstance(e, LoadFailure)]
    assert len(infos) + len(failures) == PINNED_NAMES
    assert infos, "no provider loaded"
    assert all(str(f.error) for f in failures)
    assert {i.name for i in infos} >= {"Groq", "DeepInfra", "LLM7", "OpenRouterFree", "Qwen"}


async def test_every_provider_is_probed_or_recorded_with_a_kind(
    no_network: list[str], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        concurrency=200,
        connectivity={"enabled": False},  # probe for real: every call meets the absent network
        deadlines=DEADLINES,
    )
    installed = await install(settings.g4f, every=True, include_auth=True)
    names = await provider_names()
    probed = [n for n in names if n not in installed.left_out]
    assert installed.names == [target_name(n) for n in probed]
    assert set(installed.left_out.values()) == {
        "a base class, not a provider",
        "search provider, no probe for it",
    }
    assert all(name in PROVIDERS for name in installed.names)
    targets = plan_targets(settings, installed.names)
    async with open_store(settings.store_url) as store:
        summary = await probe_and_record(settings, store, targets, source=Source.LIVE)
        stored = await store.results(limit=1000)
    assert {r.provider for r in summary.results} == set(installed.names)
    assert len(stored) == len(summary.results)
    for result in summary.results:
        assert not result.ok, result
        assert isinstance(result.kind, FailureKind)
        assert result.kind is not FailureKind.HARNESS_OFFLINE
        assert result.error, result
    kinds = {r.kind for r in summary.results}
    assert FailureKind.MISSING_REQUIREMENT in kinds  # names gpt4free lists but cannot load
    assert kinds & {FailureKind.DNS, FailureKind.CONNECT}
    assert no_network, "nothing tried the network?"


async def test_offline_everything_is_inconclusive_but_a_local_base_url(
    no_network: list[str], tmp_path: Path, emulator: Emulator
) -> None:
    local = base_url(emulator.url)
    settings = Settings(
        data_dir=tmp_path,
        deadlines=DEADLINES,
        g4f={
            "include": ["Groq", "LLM7", "DeepInfra", "Qwen"],
            "providers": {"LLM7": {"base_url": local, "models": ["emulated-chat"]}},
        },
    )
    installed = await install(settings.g4f)
    targets = plan_targets(settings, installed.names)
    asked: list[str] = []

    async def nothing_resolves(name: str) -> bool:
        asked.append(name)
        return False

    outcome = await run(
        targets,
        deadlines=deadlines_of(settings),
        connectivity=ConnectivityCheck(names=("example.org",), resolver=nothing_resolves),
    )
    assert outcome.offline
    by_name = {r.provider: r for r in outcome.results}
    assert by_name["g4f.LLM7"].ok, by_name["g4f.LLM7"].error
    for name in ("g4f.Groq", "g4f.DeepInfra", "g4f.Qwen"):
        assert by_name[name].kind is FailureKind.HARNESS_OFFLINE
        assert by_name[name].attempts == 0
    assert "127.0.0.1" not in asked  # the local provider took no part in the check
    assert not [n for n in no_network if not n.startswith("resolve ")]  # only name lookups
