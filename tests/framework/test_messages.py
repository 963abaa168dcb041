from providers.messages import Messages, format_prompt, random_string


def test_a_single_message_is_sent_as_its_content_alone() -> None:
    assert format_prompt([{"role": "user", "content": "Hi"}]) == "Hi"


def test_a_conversation_becomes_role_lines_ending_with_the_assistant_cue() -> None:
    messages: Messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    assert format_prompt(messages) == (
        "System: Be brief.\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:"
    )


def test_random_strings_use_lowercase_letters_and_digits() -> None:
    value = random_string(32)
    assert len(value) == 32
    assert value.isalnum()
    assert value == value.lower()
    assert random_string() != random_string()
