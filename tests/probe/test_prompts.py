"""The canned prompts: their exact texts, their checks, and who gets which prompt."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.policy.prompts import CODE_WORDS, PROMPTS, applicable, chosen_for
from providers import AiChatOnline, AutonomousAI, CodeLinkAva, RobocodersAPI


def test_ping_asks_for_a_fresh_nonce() -> None:
    run = PROMPTS["ping"].build({"nonce": "a1b2c3"})
    assert run.messages == [{"role": "user", "content": "Reply with exactly: PONG-a1b2c3"}]


def test_math_asks_for_the_sum_of_two_numbers() -> None:
    run = PROMPTS["math"].build({"a": 12, "b": 34})
    assert run.messages == [
        {"role": "user", "content": "What is 12 + 34? Reply with the number only."}
    ]


def test_system_puts_the_code_word_in_the_system_message() -> None:
    run = PROMPTS["system"].build({"word": "MANGO-0042"})
    assert run.messages == [
        {
            "role": "system",
            "content": "You are a code-word machine. Whatever the user writes, "
            "reply with exactly: MANGO-0042",
        },
        {"role": "user", "content": "Tell me about the weather."},
    ]


def test_history_asks_for_a_word_from_an_earlier_turn() -> None:
    run = PROMPTS["history"].build({"word": "GUAVA-1234"})
    assert run.messages == [
        {"role": "user", "content": "Remember this code word: GUAVA-1234. Just say OK."},
        {"role": "assistant", "content": "OK."},
        {
            "role": "user",
            "content": "What was the code word I asked you to remember? "
            "Reply with the code word only.",
        },
    ]


@pytest.mark.parametrize(
    "answer", ["PONG-a1b2c3", "pong-A1B2C3", "  Pong-a1b2c3.\n", "Sure! PONG-a1b2c3"]
)
def test_ping_accepts_the_nonce_in_any_case_and_surroundings(answer: str) -> None:
    assert PROMPTS["ping"].build({"nonce": "a1b2c3"}).check(answer)


@pytest.mark.parametrize("answer", ["PONG", "pong", "PONG-a1b2c4", "PONG a1b2c3", ""])
def test_ping_rejects_anything_without_this_runs_nonce(answer: str) -> None:
    assert not PROMPTS["ping"].build({"nonce": "a1b2c3"}).check(answer)


def test_a_cached_answer_to_another_ping_fails() -> None:
    earlier = PROMPTS["ping"].build({"nonce": "000001"})
    now = PROMPTS["ping"].build({"nonce": "000002"})
    assert not now.check("PONG-000001")
    assert earlier.check("PONG-000001")


@pytest.mark.parametrize("answer", ["46", " 46\n", "The answer is 46.", "12 + 34 = 46"])
def test_math_accepts_the_sum_as_a_standalone_number(answer: str) -> None:
    assert PROMPTS["math"].build({"a": 12, "b": 34}).check(answer)


@pytest.mark.parametrize("answer", ["45", "460", "146", "4.6", "46.5", "-46", "forty-six", ""])
def test_math_rejects_other_numbers_and_numbers_containing_the_sum(answer: str) -> None:
    assert not PROMPTS["math"].build({"a": 12, "b": 34}).check(answer)


@pytest.mark.parametrize("prompt", ["system", "history"])
@pytest.mark.parametrize("answer", ["MANGO-0042", "mango-0042", "  The code word is Mango-0042."])
def test_code_words_are_accepted_in_any_case(prompt: str, answer: str) -> None:
    assert PROMPTS[prompt].build({"word": "MANGO-0042"}).check(answer)


@pytest.mark.parametrize("prompt", ["system", "history"])
@pytest.mark.parametrize("answer", ["MANGO", "MANGO-0043", "It is sunny today.", "OK."])
def test_code_words_reject_other_words(prompt: str, answer: str) -> None:
    assert not PROMPTS[prompt].build({"word": "MANGO-0042"}).check(answer)


def test_explain_names_what_was_expected_and_is_none_on_a_pass() -> None:
    run = PROMPTS["ping"].build({"nonce": "a1b2c3"})
    assert run.explain("PONG-a1b2c3") is None
    assert run.explain("PONG") == "expected 'PONG-a1b2c3' (any case)"


@pytest.mark.parametrize("prompt", list(PROMPTS))
def test_each_run_draws_fresh_parameters(prompt: str) -> None:
    runs = {tuple(sorted(PROMPTS[prompt].build().params.items())) for _ in range(20)}
    assert len(runs) > 1


@pytest.mark.parametrize("prompt", list(PROMPTS))
def test_recorded_parameters_rebuild_the_same_run(prompt: str) -> None:
    original = PROMPTS[prompt].build(random.Random(7))
    again = PROMPTS[prompt].build(dict(original.params))
    assert again.messages == original.messages
    assert again.params == original.params


def test_the_same_seed_draws_the_same_run() -> None:
    assert (
        PROMPTS["ping"].build(random.Random(3)).params
        == PROMPTS["ping"].build(random.Random(3)).params
    )


def test_missing_recorded_parameters_are_an_error() -> None:
    with pytest.raises(ValueError, match="nonce"):
        PROMPTS["ping"].build({"nonc": "a1b2c3"})


def test_code_words_come_from_the_word_list_with_four_digits() -> None:
    word = str(PROMPTS["system"].build().params["word"])
    name, digits = word.split("-")
    assert name in CODE_WORDS
    assert len(digits) == 4
    assert digits.isdigit()


def test_ping_nonces_are_six_hex_characters() -> None:
    nonce = str(PROMPTS["ping"].build().params["nonce"])
    assert len(nonce) == 6
    int(nonce, 16)


@pytest.mark.parametrize(
    ("provider", "prompts"),
    [
        (AutonomousAI, ["ping", "math", "system", "history"]),
        (RobocodersAPI, ["ping", "math", "history"]),
        (AiChatOnline, ["ping", "math"]),
        (CodeLinkAva, ["ping", "math"]),
    ],
)
def test_prompts_apply_by_declared_capabilities(provider: type, prompts: list[str]) -> None:
    assert applicable(provider) == prompts


@given(seed=st.integers(), noise=st.text(alphabet=" \n\t.!"))
def test_ping_accepts_its_own_answer_whatever_the_seed(seed: int, noise: str) -> None:
    run = PROMPTS["ping"].build(random.Random(seed))
    assert run.check(f"{noise}PONG-{str(run.params['nonce']).upper()}{noise}")


@given(a=st.integers(10, 99), b=st.integers(10, 99), off=st.integers(1, 50))
def test_math_accepts_the_sum_and_rejects_any_other(a: int, b: int, off: int) -> None:
    run = PROMPTS["math"].build({"a": a, "b": b})
    assert run.check(f"The answer is {a + b}.")
    assert not run.check(str(a + b + off))


@pytest.mark.parametrize(
    "answer",
    [
        "![image](https://example.invalid/a.png)",
        "Here you go:\n[![a red apple](https://cdn.invalid/x.jpg)](https://cdn.invalid/x.jpg)",
        "![image](data:image, 2048 bytes)",
        "![](/media/1700000000_apple.png)",
    ],
)
def test_image_accepts_a_markdown_image(answer: str) -> None:
    assert PROMPTS["image"].build().check(answer)


@pytest.mark.parametrize(
    "answer",
    ["A red apple on a plain background.", "[link](https://x.invalid/a.png)", "![image]()", ""],
)
def test_image_rejects_text_and_plain_links(answer: str) -> None:
    assert not PROMPTS["image"].build().check(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "[audio](data:audio/mpeg;base64, 120 chars)",
        "[listen](https://cdn.invalid/speech.mp3?sig=1)",
        "[voice](data:audio/wav;base64,UklGRg==)",
    ],
)
def test_audio_accepts_a_link_to_audio(answer: str) -> None:
    assert PROMPTS["audio"].build().check(answer)


@pytest.mark.parametrize(
    "answer", ["The code word is MANGO-0042.", "[page](https://x.invalid/a.html)", ""]
)
def test_audio_rejects_text_and_links_to_other_things(answer: str) -> None:
    assert not PROMPTS["audio"].build().check(answer)


@given(st.text())
def test_media_checks_never_raise_on_any_answer(answer: str) -> None:
    for prompt in ("image", "audio"):
        assert PROMPTS[prompt].build().check(answer) in (True, False)


class _Painter(AutonomousAI):
    capability = "image"


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["ping"], ["image"]),
        (["math"], []),
        (list(PROMPTS), ["image"]),
        (["ping", "math"], ["image"]),
    ],
)
def test_ping_stands_for_a_media_providers_own_prompt(
    chosen: list[str], expected: list[str]
) -> None:
    assert chosen_for(_Painter, chosen) == expected


def test_a_chat_provider_keeps_the_prompts_chosen_for_it_in_order() -> None:
    assert chosen_for(AutonomousAI, ["math", "ping", "image"]) == ["math", "ping"]
