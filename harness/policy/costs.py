"""What a schedule costs: probes per tier, rows and disk, tokens and money per endpoint.

``harness plan`` prints a :class:`CostPlan` and ``harness serve`` refuses one above
``serve.max_cost_per_day``; the pipeline reads the settings and the store and hands
the figures in here. A day is 86,400 s, a month 30 days. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.policy.usage import Price

DAY_S = 86_400.0
MONTH_DAYS = 30
"""A month, for the money per month."""


@dataclass(frozen=True)
class TierLoad:
    """One probe tier over every target: the probes it makes each ``interval`` seconds."""

    name: str
    interval: float
    probes: int
    """Probes per period: each target once per prompt of the tier it can answer."""

    @property
    def per_hour(self) -> float:
        """Probes per hour."""
        return self.probes * 3600.0 / self.interval


@dataclass(frozen=True)
class PromptLoad:
    """How often an endpoint sends one prompt, and what one probe of it uses."""

    prompt: str
    per_day: float
    prompt_tokens: float
    completion_tokens: float
    measured: bool
    """True when the tokens are the mean of stored usage, False when estimated."""


@dataclass(frozen=True)
class EndpointLoad:
    """A configured endpoint's probes and tokens a day, priced when it has prices."""

    name: str
    targets: int
    prompts: Sequence[PromptLoad]
    price: Price | None = None

    @property
    def probes_per_day(self) -> float:
        """Probes a day over its targets."""
        return sum(p.per_day for p in self.prompts)

    @property
    def prompt_tokens_per_day(self) -> float:
        """Prompt tokens a day."""
        return sum(p.per_day * p.prompt_tokens for p in self.prompts)

    @property
    def completion_tokens_per_day(self) -> float:
        """Completion tokens a day."""
        return sum(p.per_day * p.completion_tokens for p in self.prompts)

    @property
    def tokens_from(self) -> str:
        """Where its token figures come from: ``stored usage``, ``prompt sizes`` or both."""
        kinds = {p.measured for p in self.prompts}
        if kinds == {True}:
            return "stored usage"
        return "prompt sizes" if kinds != {True, False} else "stored usage and prompt sizes"

    @property
    def cost_per_day(self) -> float | None:
        """Money a day; None without prices."""
        if self.price is None:
            return None
        return self.price.of(self.prompt_tokens_per_day, self.completion_tokens_per_day)


@dataclass(frozen=True)
class CostPlan:
    """What a configuration costs as it stands (see the module docstring)."""

    targets: int
    targets_from: str
    tiers: Sequence[TierLoad]
    bytes_per_result: float
    bytes_from: str
    retention_days: float | None
    """Days of raw results kept (``retention.raw``); None: kept forever."""
    endpoints: Sequence[EndpointLoad]
    max_cost_per_day: float | None = None

    @property
    def probes_per_hour(self) -> float:
        """Probes per hour, every tier."""
        return sum(t.per_hour for t in self.tiers)

    @property
    def rows_per_day(self) -> float:
        """Results stored a day: one per probe."""
        return self.probes_per_hour * 24

    @property
    def bytes_per_day(self) -> float:
        """Disk a day of results takes."""
        return self.rows_per_day * self.bytes_per_result

    @property
    def bytes_at_retention(self) -> float | None:
        """Disk the results take once the store keeps ``retention_days`` of them; None
        when they are kept forever (the store grows by :attr:`bytes_per_day`)."""
        if self.retention_days is None:
            return None
        return self.bytes_per_day * self.retention_days

    @property
    def cost_per_day(self) -> float | None:
        """Money a day over the priced endpoints; None when none is priced."""
        costs = [c for e in self.endpoints if (c := e.cost_per_day) is not None]
        return sum(costs) if costs else None

    @property
    def cost_per_month(self) -> float | None:
        """Money a month (:data:`MONTH_DAYS` days)."""
        day = self.cost_per_day
        return None if day is None else day * MONTH_DAYS

    @property
    def over_budget(self) -> bool:
        """Whether the money a day exceeds ``max_cost_per_day``."""
        day = self.cost_per_day
        return self.max_cost_per_day is not None and day is not None and day > self.max_cost_per_day

    def budget_refusal(self) -> str:
        """One line: the planned cost against the budget, and what each endpoint costs."""
        each = ", ".join(
            f"{e.name} {e.cost_per_day:.2f}"
            for e in sorted(self.endpoints, key=lambda e: -(e.cost_per_day or 0))
            if e.cost_per_day
        )
        return (
            f"the schedule would cost {self.cost_per_day or 0:.2f} a day, above "
            f"serve.max_cost_per_day = {self.max_cost_per_day:g}: {each} "
            "(lengthen intervals, drop prompts or models; see harness plan)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready values (``harness plan --json``)."""
        return {
            "targets": self.targets,
            "targets_from": self.targets_from,
            "tiers": [
                {
                    "name": t.name,
                    "interval_s": t.interval,
                    "probes_per_period": t.probes,
                    "probes_per_hour": t.per_hour,
                }
                for t in self.tiers
            ],
            "probes_per_hour": self.probes_per_hour,
            "rows_per_day": self.rows_per_day,
            "bytes_per_result": self.bytes_per_result,
            "bytes_per_result_from": self.bytes_from,
            "bytes_per_day": self.bytes_per_day,
            "retention_days": self.retention_days,
            "bytes_at_retention": self.bytes_at_retention,
            "endpoints": {
                e.name: {
                    "targets": e.targets,
                    "probes_per_day": e.probes_per_day,
                    "prompt_tokens_per_day": e.prompt_tokens_per_day,
                    "completion_tokens_per_day": e.completion_tokens_per_day,
                    "tokens_from": e.tokens_from,
                    "price_in": e.price.per_million_in if e.price else None,
                    "price_out": e.price.per_million_out if e.price else None,
                    "cost_per_day": e.cost_per_day,
                    "cost_per_month": None
                    if e.cost_per_day is None
                    else e.cost_per_day * MONTH_DAYS,
                }
                for e in self.endpoints
            },
            "cost_per_day": self.cost_per_day,
            "cost_per_month": self.cost_per_month,
            "max_cost_per_day": self.max_cost_per_day,
        }


def tier_loads(
    schedule: Iterable[tuple[str, float, int]],
) -> list[TierLoad]:
    """The load of each tier from ``(tier, interval, probes per period)`` of every
    target, tiers of the same name and interval added up, in first-seen order."""
    probes: dict[tuple[str, float], int] = {}
    for name, interval, count in schedule:
        probes[(name, interval)] = probes.get((name, interval), 0) + count
    return [TierLoad(name, interval, n) for (name, interval), n in probes.items()]


def prompt_loads(
    sent: Mapping[str, float],
    measured: Mapping[str, tuple[float, float] | None],
    estimated: Mapping[str, tuple[int, int]],
) -> list[PromptLoad]:
    """Each prompt an endpoint sends (``sent``: probes a day by prompt), its tokens per
    probe the stored mean where there is one (``measured``), else ``estimated``."""
    loads = []
    for prompt, per_day in sent.items():
        mean = measured.get(prompt)
        tokens = mean if mean is not None else estimated[prompt]
        loads.append(PromptLoad(prompt, per_day, tokens[0], tokens[1], mean is not None))
    return loads
