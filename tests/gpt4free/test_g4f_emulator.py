"""gpt4free's own OpenAI-style provider classes, pointed at the emulator's ``/v1`` routes
through ``base_url``: the ping passes through the adapter, and each fault mode ends in
the kind it should, with the network absent."""

from __future__ import annotations

import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.faults import OPENAI
from harness.emulator.openai import base_url
from harness.policy.prompts import PROMPTS
from harness.probing.probe import Deadlines, probe
from harness.result import FailureKind, StreamEnd
from providers.gpt4free import G4FInfo, load, wrap

# gpt4free's own code leaves some client sessions unclosed (aiohttp reports them when
# they are collected): its bug, not the probed behaviour under test.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

DEADLINES = Deadlines(connect=1.0, first_chunk=2.0, stall=1.0, total=4.0, max_chars=200_000)
MODEL = "emulated-chat"


async def loaded(name: str) -> G4FInfo:
    entry = await load(name)
    assert isinstance(entry, G4FInfo), entry
    assert entry.accepts_base_url
    return entry


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", ["Groq", "LLM7", "OpenRouterFree", "HuggingFace"])
async def test_real_g4f_providers_pass_the_ping_against_the_emulator(
    emulator: Emulator, name: str
) -> None:
    provider = wrap(await loaded(name), base_url=base_url(emulator.url), models=[MODEL])
    assert provider.name() == f"g4f.{name}"
    assert provider.upstream_hosts == ("127.0.0.1",)
    result = await probe(provider, MODEL, PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert result.ok, result.error
    assert result.ttfc_ms is not None
    assert result.finish_reason == "stop"
    assert result.end is StreamEnd.FINISH


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.http_401, FailureKind.HTTP_AUTH),
        (Fault.http_429, FailureKind.RATE_LIMITED),
        (Fault.http_500, FailureKind.HTTP_SERVER),
        (Fault.http_502, FailureKind.HTTP_SERVER),
        (Fault.http_503, FailureKind.HTTP_SERVER),
        (Fault.cloudflare_403, FailureKind.CLOUDFLARE),
        (Fault.hang_headers, FailureKind.TIMEOUT_FIRST_CHUNK),
        (Fault.hang_mid_stream, FailureKind.TIMEOUT_TOTAL),
        (Fault.reset_mid_stream, FailureKind.STREAM_CUT),
        (Fault.empty_200, FailureKind.EMPTY),
        (Fault.wrong_answer, FailureKind.WRONG_ANSWER),
        (Fault.invalid_utf8, FailureKind.PROTOCOL),
        (Fault.huge_line, FailureKind.TOO_LARGE),
        (Fault.endless, FailureKind.TIMEOUT_TOTAL),
        (Fault.stream_error, FailureKind.PROTOCOL),
    ],
)
async def test_g4f_groq_fails_with_the_right_kind_under_each_fault(
    emulator: Emulator, fault: Fault, kind: FailureKind
) -> None:
    emulator.set_fault(OPENAI, FaultSpec(fault))
    provider = wrap(await loaded("Groq"), base_url=base_url(emulator.url), models=[MODEL])
    result = await probe(provider, MODEL, PROMPTS["ping"].build(), deadlines=DEADLINES)
    assert not result.ok
    assert result.kind is kind, result.error
    assert result.error


@pytest.mark.usefixtures("no_network")
async def test_an_api_key_from_the_environment_is_sent_and_kept_out_of_errors(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_GROQ_KEY", "sk-test-0123456789abcdef")
    emulator.set_fault(OPENAI, FaultSpec(Fault.http_401))
    provider = wrap(
        await loaded("Groq"),
        base_url=base_url(emulator.url),
        models=[MODEL],
        api_key_env="TEST_GROQ_KEY",
    )
    result = await probe(
        provider,
        MODEL,
        PROMPTS["ping"].build(),
        deadlines=DEADLINES,
        secrets=["sk-test-0123456789abcdef"],
    )
    assert result.kind is FailureKind.HTTP_AUTH
    assert "sk-test-0123456789abcdef" not in (result.error or "")


async def test_a_base_url_is_refused_for_a_provider_that_takes_none() -> None:
    entry = await load("Yqcloud")
    assert isinstance(entry, G4FInfo)
    with pytest.raises(ValueError, match="does not accept a base_url"):
        wrap(entry, base_url="http://127.0.0.1:1/v1")
