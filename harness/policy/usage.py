"""Tokens that probing uses, and what they cost: measured from stored results, or
estimated from the prompts before any was stored.

The store keeps, with the results, their usage summed per (provider, model, prompt)
and UTC hour (:func:`fold_usage`), so that a day of it is a few rows per target
whatever the results; it sums those hours over a window (:class:`TokenUsage` per
provider, model and prompt), :func:`daily_usage` folds the sums into each target's
tokens of the last day, priced where the endpoint has prices, and :func:`by_provider`
adds those up per endpoint. :func:`estimated_usage` is what one probe of a prompt costs
before any was stored. Pure.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from harness.policy.prompts import PROMPTS
from harness.policy.rollup import hour_of
from harness.result import ProbeResult

PER_MILLION = 1_000_000
"""Prices are per million tokens."""

CHARS_PER_TOKEN = 4
"""The usual English text per token of the common tokenizers: estimates only."""

MESSAGE_OVERHEAD_TOKENS = 4
"""What a chat message costs beyond its text (role and separators), as OpenAI counts it."""

ANSWER_TOKENS = 16
"""The completion estimated for a prompt when the endpoint sets no ``max_tokens``: the
prompts ask for a word or a number, which a model answers in a few tokens."""


@dataclass(frozen=True)
class TokenUsage:
    """Probes and the tokens their upstreams reported, summed.

    ``reported`` counts the probes whose upstream reported usage; the tokens are theirs
    (seed providers report none).
    """

    probes: int = 0
    reported: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.probes + other.probes,
            self.reported + other.reported,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens

    def per_probe(self) -> tuple[float, float] | None:
        """The mean (prompt, completion) tokens of a probe that reported usage; None
        when none did."""
        if not self.reported:
            return None
        return self.prompt_tokens / self.reported, self.completion_tokens / self.reported


@dataclass(frozen=True)
class Price:
    """An endpoint's prices: money per million prompt (``per_million_in``) and
    completion (``per_million_out``) tokens."""

    per_million_in: float = 0.0
    per_million_out: float = 0.0

    def of(self, prompt_tokens: float, completion_tokens: float) -> float:
        """What that many tokens cost."""
        return (
            prompt_tokens * self.per_million_in + completion_tokens * self.per_million_out
        ) / PER_MILLION


@dataclass(frozen=True)
class DailyUsage:
    """A target's (or an endpoint's) measured tokens over the last day; ``cost`` is None
    where no price is set."""

    usage: TokenUsage
    cost: float | None = None

    def __add__(self, other: DailyUsage) -> DailyUsage:
        costs = [c for c in (self.cost, other.cost) if c is not None]
        return DailyUsage(self.usage + other.usage, sum(costs) if costs else None)


UsageKey = tuple[str, str, str]
"""(provider, model, prompt): what the store sums usage by."""


UsageHourKey = tuple[str, str, str, datetime]
"""(provider, model, prompt, start of the UTC hour): what the store keeps usage by."""


def fold_usage(results: Iterable[ProbeResult]) -> dict[UsageHourKey, TokenUsage]:
    """The results' probes and reported tokens, summed per provider, model, prompt and
    UTC hour."""
    hours: dict[UsageHourKey, TokenUsage] = {}
    for r in results:
        key = (r.provider, r.model, r.prompt, hour_of(r.started_at))
        reported = r.prompt_tokens is not None or r.completion_tokens is not None
        one = TokenUsage(1, int(reported), r.prompt_tokens or 0, r.completion_tokens or 0)
        hours[key] = hours[key] + one if key in hours else one
    return hours


def daily_usage(
    usage: Mapping[UsageKey, TokenUsage], prices: Mapping[str, Price]
) -> dict[tuple[str, str], DailyUsage]:
    """Each target's usage of the last day (``usage``: the store's sums over it, by
    provider, model and prompt), priced by its provider's entry in ``prices``."""
    summed: dict[tuple[str, str], TokenUsage] = {}
    for (provider, model, _), each in usage.items():
        summed[(provider, model)] = summed.get((provider, model), TokenUsage()) + each
    daily = {}
    for (provider, model), total in summed.items():
        price = prices.get(provider)
        cost = price.of(total.prompt_tokens, total.completion_tokens) if price else None
        daily[(provider, model)] = DailyUsage(total, cost)
    return daily


def by_provider(daily: Iterable[tuple[tuple[str, str], DailyUsage]]) -> dict[str, DailyUsage]:
    """The targets' daily usage (``(target, usage)`` pairs) added up per provider."""
    totals: dict[str, DailyUsage] = {}
    for (provider, _), usage in daily:
        totals[provider] = totals[provider] + usage if provider in totals else usage
    return totals


def estimated_usage(prompt: str, max_tokens: int | None) -> tuple[int, int]:
    """The (prompt, completion) tokens one probe of ``prompt`` is estimated to use: its
    messages' text at :data:`CHARS_PER_TOKEN` plus :data:`MESSAGE_OVERHEAD_TOKENS` a
    message; the answer at ``max_tokens`` (the most it may take), else
    :data:`ANSWER_TOKENS`."""
    # A fixed draw: the parameters' length hardly varies, and the estimate must not.
    run = PROMPTS[prompt].build(random.Random(0))
    text = sum(math.ceil(len(str(m.get("content", ""))) / CHARS_PER_TOKEN) for m in run.messages)
    answer = max_tokens if max_tokens is not None else ANSWER_TOKENS
    return text + MESSAGE_OVERHEAD_TOKENS * len(run.messages), answer
