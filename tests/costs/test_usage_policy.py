"""Tokens per target per day and what they cost (pure: harness.policy.usage)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_samples import passed

from harness.policy.prompts import PROMPTS
from harness.policy.usage import (
    ANSWER_TOKENS,
    DailyUsage,
    Price,
    TokenUsage,
    by_provider,
    daily_usage,
    estimated_usage,
    fold_usage,
)

T0 = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)

counts = st.integers(min_value=0, max_value=10**9)
usages = st.builds(
    lambda probes, reported, inp, out: TokenUsage(probes + reported, reported, inp, out),
    counts,
    counts,
    counts,
    counts,
)
keys = st.tuples(
    st.sampled_from(["groq", "claude", "Seed"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from(list(PROMPTS)),
)
prices = st.builds(
    Price,
    st.floats(min_value=0, max_value=1000, allow_nan=False),
    st.floats(min_value=0, max_value=1000, allow_nan=False),
)


@given(st.dictionaries(keys, usages), st.dictionaries(st.sampled_from(["groq", "claude"]), prices))
def test_a_targets_day_adds_up_its_prompts(
    usage: dict[tuple[str, str, str], TokenUsage], priced: dict[str, Price]
) -> None:
    daily = daily_usage(usage, priced)

    assert set(daily) == {(p, m) for p, m, _ in usage}
    for (provider, model), day in daily.items():
        mine = [u for (p, m, _), u in usage.items() if (p, m) == (provider, model)]
        assert day.usage.probes == sum(u.probes for u in mine)
        assert day.usage.prompt_tokens == sum(u.prompt_tokens for u in mine)
        assert day.usage.completion_tokens == sum(u.completion_tokens for u in mine)


@given(st.dictionaries(keys, usages), st.dictionaries(st.sampled_from(["groq", "claude"]), prices))
def test_only_priced_providers_have_a_cost(
    usage: dict[tuple[str, str, str], TokenUsage], priced: dict[str, Price]
) -> None:
    for (provider, _), day in daily_usage(usage, priced).items():
        assert (day.cost is None) == (provider not in priced)


@given(usages, prices)
def test_cost_is_tokens_times_price_per_million(usage: TokenUsage, price: Price) -> None:
    (day,) = daily_usage({("groq", "a", "ping"): usage}, {"groq": price}).values()

    expected = (
        usage.prompt_tokens * price.per_million_in + usage.completion_tokens * price.per_million_out
    ) / 1_000_000
    assert day.cost == pytest.approx(expected)


@given(st.dictionaries(keys, usages), st.dictionaries(st.sampled_from(["groq", "claude"]), prices))
def test_a_providers_total_is_the_sum_of_its_targets(
    usage: dict[tuple[str, str, str], TokenUsage], priced: dict[str, Price]
) -> None:
    daily = daily_usage(usage, priced)
    totals = by_provider(daily.items())

    for provider, total in totals.items():
        mine = [d for (p, _), d in daily.items() if p == provider]
        assert total.usage.tokens == sum(d.usage.tokens for d in mine)
        costs = [d.cost for d in mine if d.cost is not None]
        assert total.cost == (pytest.approx(sum(costs)) if costs else None)


def test_mean_per_probe_counts_only_probes_that_reported_usage() -> None:
    usage = TokenUsage(probes=10, reported=4, prompt_tokens=40, completion_tokens=8)

    assert usage.per_probe() == (10.0, 2.0)
    assert TokenUsage(probes=3).per_probe() is None


def test_unpriced_and_priced_days_add_to_the_priced_cost() -> None:
    priced = DailyUsage(TokenUsage(1, 1, 10, 1), cost=0.5)
    unpriced = DailyUsage(TokenUsage(2, 2, 20, 2))

    assert (priced + unpriced).cost == 0.5
    assert (unpriced + unpriced).cost is None


@pytest.mark.parametrize("prompt", [p for p in PROMPTS])
def test_the_estimate_counts_every_message_of_the_prompt(prompt: str) -> None:
    messages = PROMPTS[prompt].build().messages
    text = sum(len(str(m["content"])) for m in messages)

    prompt_tokens, answer = estimated_usage(prompt, None)

    assert prompt_tokens >= math.ceil(text / 4) + len(messages)
    assert answer == ANSWER_TOKENS


def test_the_estimated_answer_is_capped_by_max_tokens() -> None:
    assert estimated_usage("ping", 32)[1] == 32


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["ping", "math"]),
            st.integers(min_value=0, max_value=3 * 3600),
            st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
            st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
        )
    )
)
def test_hourly_usage_keeps_every_probe_and_token(
    probes: list[tuple[str, str, int, int | None, int | None]],
) -> None:
    results = [
        replace(
            passed("groq", model, T0 + timedelta(seconds=s), prompt=prompt),
            prompt_tokens=tokens_in,
            completion_tokens=tokens_out,
        )
        for model, prompt, s, tokens_in, tokens_out in probes
    ]

    hours = fold_usage(results)

    assert all(hour.minute == hour.second == 0 for _, _, _, hour in hours)
    total = sum(hours.values(), TokenUsage())
    assert total.probes == len(results)
    assert total.reported == sum(1 for _, _, _, i, o in probes if i is not None or o is not None)
    assert total.prompt_tokens == sum(i or 0 for _, _, _, i, _ in probes)
    assert total.completion_tokens == sum(o or 0 for _, _, _, _, o in probes)
