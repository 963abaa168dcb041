"""The emulated models' answers: a pure function of the conversation."""

from hypothesis import given
from hypothesis import strategies as st

from harness.emulator.answers import (
    GENERIC_ANSWER,
    TOKEN_CHARS,
    answer,
    parse_prompt,
    split_tokens,
)
from harness.policy.prompts import PROMPTS
from providers.messages import Message, format_prompt


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def test_an_echo_instruction_is_answered_with_the_token_in_its_case() -> None:
    assert answer([user("Reply with exactly: PONG-3f9a2c")]) == "PONG-3f9a2c"


def test_the_single_word_form_drops_trailing_punctuation() -> None:
    assert answer([user("Reply with the single word: pong.")]) == "pong"
    assert answer([user("please REPLY WITH THE SINGLE WORD Pong!")]) == "Pong"


def test_a_system_instruction_wins_over_the_user_question() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "Whatever the user writes, reply with exactly: MANGO-0042"},
        user("Tell me about the weather. Reply with exactly: nope"),
    ]
    assert answer(messages) == "MANGO-0042"


def test_a_sum_is_answered_with_the_number() -> None:
    assert answer([user("What is 17 + 25? Reply with the number only.")]) == "42"


def test_other_operators_are_computed() -> None:
    assert answer([user("What is 9 - 12?")]) == "-3"
    assert answer([user("What is 6 x 7?")]) == "42"
    assert answer([user("What is 6×7?")]) == "42"
    assert answer([user("What is 6 * 7?")]) == "42"


def test_a_code_word_is_recalled_from_an_earlier_turn() -> None:
    messages: list[Message] = [
        user("Remember this code word: MANGO-0042. Just say OK."),
        {"role": "assistant", "content": "OK."},
        user("What was the code word I asked you to remember? Reply with the code word only."),
    ]
    assert answer(messages) == "MANGO-0042"


def test_the_code_word_is_also_found_in_the_is_form() -> None:
    messages = [user("The code word is 'ZEBRA'."), user("What was the code word?")]
    assert answer(messages) == "ZEBRA"


def test_a_capital_question_gets_a_sentence() -> None:
    assert answer([user("What is the capital of France?")]) == "Paris is the capital of France."


def test_anything_else_gets_the_generic_sentence() -> None:
    assert answer([user("Tell me a story")]) == GENERIC_ANSWER
    assert answer([]) == GENERIC_ANSWER


def test_multi_part_content_is_read_for_its_text() -> None:
    content = [{"type": "text", "text": "Reply with exactly: PART-1"}, {"type": "image_url"}]
    assert answer([{"role": "user", "content": content}]) == "PART-1"


def test_every_canned_chat_prompt_is_answered_so_that_its_check_passes() -> None:
    for prompt in (p for p in PROMPTS.values() if p.capability == "chat"):
        run = prompt.build()
        assert run.check(answer(run.messages)), prompt.id
        assert run.check(answer(parse_prompt(format_prompt(run.messages)))), prompt.id


def test_a_flattened_conversation_is_parsed_back_into_messages() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "Be brief."},
        user("first\nsecond line"),
        {"role": "assistant", "content": "ok"},
        user("again"),
    ]
    assert parse_prompt(format_prompt(messages)) == messages


def test_a_plain_prompt_is_one_user_message() -> None:
    assert parse_prompt("User: hi") == [{"role": "user", "content": "User: hi"}]


@given(st.text())
def test_split_tokens_joins_back_to_the_text(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_split_tokens_streams_short_answers_in_several_pieces() -> None:
    assert split_tokens("PONG-1a2b3c") == ["PONG", "-", "1", "a", "2", "b", "3", "c"]
    assert split_tokens("-51") == ["-", "5", "1"]
    assert split_tokens("Paris is nice.") == ["Pari", "s", " is", " nice", "."]
    assert split_tokens("") == []


@given(st.text())
def test_no_token_holds_more_than_a_few_visible_characters(text: str) -> None:
    assert all(len(piece.strip()) <= TOKEN_CHARS for piece in split_tokens(text))
