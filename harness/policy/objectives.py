"""Latency objectives: what a passing probe of one target should meet, as pure values.

A target's :class:`Objectives` come from ``[objectives]`` in harness.toml (defaults,
then ``"Provider"``, then ``"Provider/model"``, each overriding the one before; see
:class:`ObjectiveSet`). :func:`misses` checks one passing result against them; the
status policy counts a pass with any miss as a *slow pass*.

The regression objective compares a result with the target's own history: its p50 over
:data:`REGRESSION_WINDOW`, fetched from the store by the pipeline and handed in as a
:class:`Baseline`. It applies only once the baseline holds ``min_history`` passes, so
a new target is never judged against a handful of samples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from harness.result import ProbeResult

REGRESSION_WINDOW = timedelta(days=7)
"""The history a regression is measured against."""

REGRESSION_LABEL = "7-day"
""":data:`REGRESSION_WINDOW` in the words of a reason."""

MIN_HISTORY = 20
"""Passes in the window needed before the regression objective applies."""

OBJECTIVE_NAMES = (
    "max_ttfc",
    "max_ttft",
    "max_total",
    "min_chars_per_s",
    "min_tokens_per_s",
    "regression",
)
"""Every objective, by the name harness.toml, the page and the JSON outputs use."""


@dataclass(frozen=True)
class Objectives:
    """The objectives of one target; ``None`` where none is set.

    Times in milliseconds (``max_ttft_ms`` bounds the first token of any kind, thinking
    included; ``max_ttfc_ms`` the first answer text); throughputs per second after the
    first chunk; ``regression`` a factor over the target's own p50 (time to first chunk
    and total time).
    """

    max_ttfc_ms: float | None = None
    max_total_ms: float | None = None
    min_chars_per_s: float | None = None
    min_tokens_per_s: float | None = None
    regression: float | None = None
    min_history: int = MIN_HISTORY
    max_ttft_ms: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_ttfc_ms",
            "max_ttft_ms",
            "max_total_ms",
            "min_chars_per_s",
            "min_tokens_per_s",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if self.regression is not None and self.regression <= 1:
            # A factor of 1 or less would call half of all ordinary passes slow.
            raise ValueError(f"regression must be greater than 1, not {self.regression}")
        if self.min_history < 1:
            raise ValueError(f"min_history must be at least 1, not {self.min_history}")

    def overlay(self, changes: Mapping[str, Any]) -> Objectives:
        """A copy with the given fields replaced; ``None`` values leave a field as it is."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def limits(self) -> dict[str, float]:
        """The objectives that are set, by name (:data:`OBJECTIVE_NAMES`), in their units:
        seconds for times, per second for throughputs, a factor for regression."""
        values = {
            "max_ttfc": None if self.max_ttfc_ms is None else self.max_ttfc_ms / 1000,
            "max_ttft": None if self.max_ttft_ms is None else self.max_ttft_ms / 1000,
            "max_total": None if self.max_total_ms is None else self.max_total_ms / 1000,
            "min_chars_per_s": self.min_chars_per_s,
            "min_tokens_per_s": self.min_tokens_per_s,
            "regression": self.regression,
        }
        return {name: value for name, value in values.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping: every field, times in milliseconds, unset ones null."""
        return dataclasses.asdict(self)

    def describe(self, name: str) -> str:
        """One objective in words, e.g. ``ttfc ≤ 1.5 s`` or ``≤ 2x 7-day p50``."""
        limit = self.limits()[name]
        if name == "max_ttfc":
            return f"ttfc ≤ {seconds(limit * 1000)}"
        if name == "max_ttft":
            return f"ttft ≤ {seconds(limit * 1000)}"
        if name == "max_total":
            return f"total ≤ {seconds(limit * 1000)}"
        if name == "min_chars_per_s":
            return f"≥ {_figure(limit)} chars/s"
        if name == "min_tokens_per_s":
            return f"≥ {_figure(limit)} tokens/s"
        return f"≤ {limit:g}x {REGRESSION_LABEL} p50 (after {self.min_history} passes)"


@dataclass(frozen=True)
class Baseline:
    """A target's own latency over :data:`REGRESSION_WINDOW`: how many passes, and p50s."""

    passes: int
    ttfc_p50_ms: float | None
    total_p50_ms: float | None


@dataclass(frozen=True)
class Miss:
    """One objective a passing result missed, with the figures in words."""

    objective: str
    reason: str


def seconds(ms: float) -> str:
    """A duration for a reason: two significant digits below 100 s (``2.4 s``, ``0.78 s``)."""
    value = ms / 1000
    return f"{value:.0f} s" if value >= 100 else f"{value:.2g} s"


def _figure(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.2g}"


def tokens_per_s(result: ProbeResult) -> float | None:
    """Completion tokens per second after the first chunk, when the upstream reported usage."""
    if result.completion_tokens is None:
        return None
    if result.ttfc_ms is None or result.total_ms is None or result.total_ms <= result.ttfc_ms:
        return None
    return result.completion_tokens / ((result.total_ms - result.ttfc_ms) / 1000)


def misses(
    result: ProbeResult, objectives: Objectives, baseline: Baseline | None = None
) -> tuple[Miss, ...]:
    """The objectives a passing ``result`` missed, in :data:`OBJECTIVE_NAMES` order.

    A failed result misses nothing (it is judged as a failure), nor does a figure the
    result did not measure (throughput of a one-chunk answer, tokens without usage).
    """
    if not result.ok:
        return ()
    found: list[Miss] = []
    ttfc, total = result.ttfc_ms, result.total_ms
    if objectives.max_ttfc_ms is not None and ttfc is not None and ttfc > objectives.max_ttfc_ms:
        found.append(Miss("max_ttfc", f"ttfc {seconds(ttfc)} > {seconds(objectives.max_ttfc_ms)}"))
    ttft, first_limit = result.ttft_ms, objectives.max_ttft_ms
    if first_limit is not None and ttft is not None and ttft > first_limit:
        found.append(Miss("max_ttft", f"ttft {seconds(ttft)} > {seconds(first_limit)}"))
    limit = objectives.max_total_ms
    if limit is not None and total is not None and total > limit:
        found.append(Miss("max_total", f"total {seconds(total)} > {seconds(limit)}"))
    for name, rate, unit in (
        ("min_chars_per_s", result.chars_per_s, "chars/s"),
        ("min_tokens_per_s", tokens_per_s(result), "tokens/s"),
    ):
        floor = getattr(objectives, name)
        if floor is not None and rate is not None and rate < floor:
            found.append(Miss(name, f"throughput {_figure(rate)} {unit} < {_figure(floor)} {unit}"))
    factor = objectives.regression
    if factor is not None and baseline is not None and baseline.passes >= objectives.min_history:
        for label, value, p50 in (
            ("ttfc", ttfc, baseline.ttfc_p50_ms),
            ("total", total, baseline.total_p50_ms),
        ):
            if value is not None and p50 is not None and p50 > 0 and value > factor * p50:
                found.append(
                    Miss(
                        "regression",
                        f"{label} {seconds(value)} = {value / p50:.1f}x its "
                        f"{REGRESSION_LABEL} p50 of {seconds(p50)}",
                    )
                )
    return tuple(found)


@dataclass(frozen=True)
class ObjectiveSet:
    """Objectives for every target: ``defaults``, overridden per ``"Provider"`` and then
    per ``"Provider/model"`` key of ``overrides`` (field name -> value, ``None`` unset)."""

    defaults: Objectives = Objectives()
    overrides: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def for_target(self, provider: str, model: str) -> Objectives:
        """The objectives of ``provider``/``model``."""
        objectives = self.defaults
        for key in (provider, f"{provider}/{model}"):
            if key in self.overrides:
                objectives = objectives.overlay(self.overrides[key])
        return objectives
