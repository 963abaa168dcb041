"""What each gpt4free provider makes, from its own metadata: chat providers get the chat
prompts, image and audio providers a probe of their own, base classes and kinds the
harness cannot check are left out with a reason."""

from __future__ import annotations

import pytest
from g4f_doubles import Double, Good, Painter, Speaker

from harness.policy.prompts import PROMPTS
from harness.probing.probe import probe
from harness.probing.runner import plan
from harness.settings.g4f import G4FSettings
from harness.targets.g4f import choose
from providers.gpt4free import G4FInfo, describe, load, wrap

pytestmark = pytest.mark.usefixtures("no_network")


async def loaded(name: str) -> G4FInfo:
    entry = await load(name)
    assert isinstance(entry, G4FInfo), entry
    return entry


@pytest.mark.parametrize(
    ("name", "capability"),
    [
        ("Groq", "chat"),
        ("Qwen", "chat"),  # chat models beside image ones: probed as a chat provider
        ("HuggingSpace", "chat"),  # a chat default beside an image default
        ("StabilityAI_SD35Large", "image"),
        ("PollinationsImage", "image"),
        ("MicrosoftDesigner", "image"),
        ("gTTS", "audio"),
        ("OpenAIFM", "audio"),
        ("SearXNG", "search"),
        ("YouTube", "search"),
        ("OpenaiTemplate", "template"),
    ],
)
async def test_each_provider_gets_its_capability_from_gpt4free_metadata(
    name: str, capability: str
) -> None:
    assert (await loaded(name)).capability == capability


async def test_an_image_provider_is_probed_on_its_image_model() -> None:
    info = await loaded("StabilityAI_SD35Large")

    assert info.probe_model == info.cls.default_image_model
    assert wrap(info).default_model == info.probe_model


async def test_base_classes_and_unchecked_kinds_are_left_out_with_a_reason() -> None:
    names = ["Groq", "OpenaiTemplate", "SearXNG", "StabilityAI_SD35Large", "gTTS"]
    entries = {name: await loaded(name) for name in names}

    choice = choose(entries, G4FSettings(), every=True, include_auth=True)

    assert choice.chosen == ["Groq", "StabilityAI_SD35Large", "gTTS"]
    assert choice.left_out == {
        "OpenaiTemplate": "a base class, not a provider",
        "SearXNG": "search provider, no probe for it",
    }


@pytest.mark.parametrize("prompts", [("ping",), "all", ("ping", "math", "system", "history")])
async def test_an_image_provider_is_never_probed_with_a_chat_prompt(
    prompts: tuple[str, ...] | str,
) -> None:
    image = wrap(await loaded("StabilityAI_SD35Large"))
    audio = wrap(await loaded("gTTS"))
    chat = wrap(await loaded("Groq"), models=["m"])

    targets = plan([image, audio, chat], prompts=prompts)  # type: ignore[arg-type]

    by_provider = {(t.provider.capability, t.prompt) for t in targets}
    assert {p for c, p in by_provider if c == "image"} == {"image"}
    assert {p for c, p in by_provider if c == "audio"} == {"audio"}
    assert "ping" in {p for c, p in by_provider if c == "chat"}
    assert not {p for c, p in by_provider if c == "chat"} & {"image", "audio"}


async def test_a_media_provider_gets_no_probe_when_only_chat_checks_are_asked() -> None:
    image = wrap(await loaded("StabilityAI_SD35Large"))

    assert plan([image], prompts=("math",)) == []


@pytest.mark.parametrize(("double", "prompt"), [(Painter, "image"), (Speaker, "audio")])
async def test_a_media_result_passes_the_media_probe(double: type[Double], prompt: str) -> None:
    provider = wrap(describe(double.__name__, double))

    (target,) = plan([provider])
    result = await probe(provider, target.model, PROMPTS[target.prompt].build())

    assert target.prompt == prompt
    assert result.ok, result.error
    assert result.ttfc_ms is not None


async def test_a_text_answer_fails_the_image_probe() -> None:
    provider = wrap(describe("Good", Good))

    result = await probe(provider, "double-model", PROMPTS["image"].build())

    assert not result.ok
    assert (result.error or "").startswith("expected an image (a URL or image data)")
