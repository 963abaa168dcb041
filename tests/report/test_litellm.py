"""The LiteLLM deployment of one endpoint target, for each endpoint protocol."""

from __future__ import annotations

import pytest

from harness.report.litellm import litellm_params


@pytest.mark.parametrize(
    ("protocol", "model", "base"),
    [
        ("openai", "openai/m", "https://host/v1"),
        ("anthropic", "anthropic/m", "https://host"),  # LiteLLM adds /v1/messages itself
        ("gemini", "gemini/m", "https://host/v1"),
    ],
)
def test_each_protocol_has_its_litellm_prefix_and_base(
    protocol: str, model: str, base: str
) -> None:
    params = litellm_params(protocol, "m", "https://host/v1", "KEY_VAR")
    assert params == {
        "model": model,
        "api_base": base,
        "api_key": "os.environ/KEY_VAR",
    }


def test_a_keyless_endpoint_has_no_api_key() -> None:
    assert litellm_params("openai", "m", "http://127.0.0.1:11434/v1", None) == {
        "model": "openai/m",
        "api_base": "http://127.0.0.1:11434/v1",
    }


def test_an_unknown_protocol_is_left_out() -> None:
    assert litellm_params("carrier-pigeon", "m", "https://host", None) is None
