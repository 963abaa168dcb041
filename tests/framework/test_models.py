import pytest

from providers import AutonomousAI, CodeLinkAva, ModelNotSupportedError, RobocodersAPI


def test_an_empty_model_means_the_default_model() -> None:
    assert AutonomousAI.get_model("") == "llama"
    assert RobocodersAPI.get_model("") == "GeneralCodingAgent"


@pytest.mark.parametrize(
    ("alias", "model"),
    [
        ("llama-3.3-70b", "llama"),
        ("qwen-2.5-coder-32b", "qwen_coder"),
        ("hermes-3", "hermes"),
        ("llama-3.2-90b", "vision"),
        ("llama-3.2-70b", "summary"),
    ],
)
def test_aliases_resolve_to_their_model(alias: str, model: str) -> None:
    assert AutonomousAI.get_model(alias) == model


def test_an_unknown_model_is_refused_with_the_valid_ones_named() -> None:
    with pytest.raises(ModelNotSupportedError, match=r"gpt-99 in: AutonomousAI Valid models: \["):
        AutonomousAI.get_model("gpt-99")


def test_unknown_models_are_refused_when_the_generator_is_created() -> None:
    with pytest.raises(ModelNotSupportedError):
        CodeLinkAva.create_async_generator(model="gpt-99", messages=[])


def test_every_provider_lists_the_models_to_probe() -> None:
    assert AutonomousAI.all_models() == ["llama", "qwen_coder", "hermes", "vision", "summary"]
    assert CodeLinkAva.all_models() == ["gpt-3.5-turbo"]


def test_options_a_provider_does_not_take_are_not_passed_on() -> None:
    assert CodeLinkAva.stream_options == {"temperature", "top_p", "max_tokens"}
    assert RobocodersAPI.stream_options == {"auto_continue", "max_continues", "cache_dir"}
    assert AutonomousAI.stream_options == frozenset()
