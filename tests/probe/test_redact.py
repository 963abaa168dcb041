"""Redaction and trimming of the error texts and answer samples the harness keeps."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.redact import (
    _MAYBE_SECRET,
    _PATTERNS,
    MASK,
    clean_error,
    clean_sample,
    redact,
    trim,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.DEF-123", "abc.DEF-123"),
        ("sent bearer tok_123 to /chat", "tok_123"),
        (f"token {JWT} refused", JWT),
        (f"token {JWT[:30]}", JWT[:30]),
        ('{"sid": "07f3c70b-9d2e", "prompt": "hi"}', "07f3c70b-9d2e"),
        ("sid=07f3c70b&agent=x", "07f3c70b"),
        ("{'access_token': 'xyz987', 'n': 1}", "xyz987"),
        ("Cookie: session=abc; theme=dark", "session=abc"),
        ("Set-Cookie: cf_clearance=zzz; Path=/", "cf_clearance=zzz"),
        ("via http://alice:s3cret@proxy.local:3128/", "alice:s3cret"),
        ("UniqueId: 5f1e2d", "5f1e2d"),
        ("Proxy-Authorization: Basic YWxpY2U6czNjcmV0", "YWxpY2U6czNjcmV0"),
        ('{"api_key": "sk-live-1"}', "sk-live-1"),
        ("x-api-key: sk-ant-api03-abc", "sk-ant-api03-abc"),
        ("X-Goog-Api-Key: AIzaSecret", "AIzaSecret"),
        (f"GET /v1beta/models?key={'AIza' + 'x' * 35} failed", "AIza" + "x" * 35),
        (f"the key {'AIza' + 'Q1_-' * 8 + 'abc'} is invalid", "AIza" + "Q1_-" * 8 + "abc"),
    ],
)
def test_credentials_are_masked(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert MASK in cleaned


def test_configured_secrets_are_masked_wherever_they_appear() -> None:
    assert redact("the key hunter2 leaked in hunter2x", ["hunter2"]) == (
        f"the key {MASK} leaked in {MASK}x"
    )


def test_the_longest_configured_secret_is_masked_first() -> None:
    assert redact("abcdef", ["abc", "abcdef"]) == MASK


@pytest.mark.parametrize(
    "text",
    [
        "Cannot connect to host 127.0.0.1:8080 ssl:default [Connect call failed]",
        "Model is not supported: x in: RobocodersAPI Valid models: ['a']",
        "consider this: sidebar tokens are fine",
        "PONG-a1b2c3",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_trim_keeps_short_text_and_marks_a_cut() -> None:
    assert trim("short", 10) == "short"
    assert trim("0123456789abc", 10) == "012345678…"


def test_an_error_becomes_one_trimmed_line() -> None:
    cleaned = clean_error("line one\n  line two\tend " + "x" * 1000, limit=50)
    assert "\n" not in cleaned
    assert cleaned.startswith("line one line two end ")
    assert len(cleaned) == 50


def test_a_secret_cut_by_the_trim_is_still_masked() -> None:
    text = "x" * 190 + " Bearer " + "t" * 100
    assert "ttt" not in clean_sample(text)


def test_a_sample_keeps_the_answers_line_breaks() -> None:
    assert clean_sample("PONG\nthere") == "PONG\nthere"


def test_a_huge_answer_is_sampled_without_scanning_all_of_it() -> None:
    assert clean_sample("a" * 5_000_000, limit=200) == "a" * 199 + "…"


@given(
    before=st.text(max_size=50),
    after=st.text(max_size=50),
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=40),
)
def test_a_configured_secret_never_survives(before: str, after: str, secret: str) -> None:
    assert secret not in clean_error(before + secret + after, [secret], limit=10_000)


@given(text=st.text(max_size=2000), limit=st.integers(1, 600))
def test_cleaned_text_never_exceeds_its_limit(text: str, limit: int) -> None:
    assert len(clean_error(text, limit=limit)) <= limit
    assert len(clean_sample(text, limit=limit)) <= limit


@given(st.text(alphabet=st.sampled_from(list("bearBASICsicyeJ:=@/ \"'sidtokn-_.x\n")), max_size=80))
def test_the_quick_check_never_lets_a_pattern_match_through(text: str) -> None:
    if _MAYBE_SECRET.search(text) is None:
        assert all(pattern.search(text) is None for pattern, _ in _PATTERNS)
