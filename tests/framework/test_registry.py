"""The provider registry: run-time providers join and leave what every stage sees."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from providers import (
    PROVIDERS,
    AsyncGeneratorProvider,
    ProviderNameError,
    get_provider,
    register,
    registered,
    unregister,
)
from providers.messages import Chunk, Messages


def make_provider(name: str) -> type[AsyncGeneratorProvider]:
    """A provider class called ``name`` that answers "pong"."""

    async def _stream(
        cls: type[AsyncGeneratorProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Chunk, None]:
        yield "pong"

    return type(name, (AsyncGeneratorProvider,), {"_stream": classmethod(_stream)})


def test_a_registered_provider_is_known_by_name_until_unregistered() -> None:
    provider = make_provider("Local")
    register(provider)
    assert PROVIDERS["Local"] is provider
    assert get_provider("local") is provider
    unregister("LOCAL")
    assert "Local" not in PROVIDERS
    with pytest.raises(KeyError, match="unknown provider"):
        get_provider("Local")


@pytest.mark.parametrize("name", ["RobocodersAPI", "autonomousai", "CODELINKAVA"])
def test_a_built_in_name_is_refused_in_any_letter_case(name: str) -> None:
    with pytest.raises(ProviderNameError, match="clashes with the built-in provider"):
        register(make_provider(name))
    assert len(PROVIDERS) == 4


def test_built_in_providers_cannot_be_unregistered() -> None:
    with pytest.raises(ProviderNameError, match="cannot be unregistered"):
        unregister("AiChatOnline")
    assert "AiChatOnline" in PROVIDERS


def test_registering_a_name_again_replaces_the_earlier_provider() -> None:
    first, second = make_provider("Edge"), make_provider("edge")
    register(first)
    register(second)
    assert [p for p in PROVIDERS.values() if p.name().lower() == "edge"] == [second]


def test_a_batch_with_a_bad_name_registers_nothing() -> None:
    with pytest.raises(ProviderNameError, match="twice"):
        register(make_provider("Twin"), make_provider("twin"))
    assert "Twin" not in PROVIDERS
    assert "twin" not in PROVIDERS


def test_registering_applies_the_measured_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"providers": {"Measured": {"working": True}}}))
    monkeypatch.setenv("HARNESS_FLAGS_FILE", str(flags))
    provider = make_provider("Measured")
    assert provider.working is False
    with registered(provider):
        assert provider.working is True
        assert "Measured" in PROVIDERS
    assert "Measured" not in PROVIDERS
