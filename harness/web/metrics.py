"""Prometheus metrics of ``harness serve``, on a registry of their own.

Each app gets its own :class:`~prometheus_client.CollectorRegistry`, so two apps in
one process (tests, embedding) never share or clash over metrics.

* ``harness_target_up{provider,model}``: 1 while the model is working (up or degraded);
* ``harness_target_state{provider,model,state}``: 1 for the model's current state;
* ``harness_provider_working{provider}``: the measured ``working`` flag, for providers
  with a conclusive one (absent while unknown);
* ``harness_provider_flag{provider,harness_provider_flag}``: 1 for the provider's flag
  among ``working``, ``not_working`` and ``unknown``;
* ``harness_vantage_target_up{provider,model,vantage}``: 1 while that vantage sees the
  model working (the gauges above show the consensus of all vantages);
* ``harness_probe_ttfc_seconds`` / ``harness_probe_total_seconds{provider,model,vantage}``:
  histograms over passing probes; ``harness_probe_ttft_seconds`` beside them, the first
  token of any kind (a reasoning model's thinking included);
* ``harness_probe_reasoning_tokens_total{provider,model,vantage}``: the reasoning tokens that
  passing probes' upstreams reported;
* ``harness_probes_total{provider,model,vantage,outcome,kind}``: every probe, by outcome
  (ok, fail, throttled, inconclusive) and failure kind (``none`` for a pass);
* ``harness_objective{provider,model,objective}``: each latency objective that is set,
  in seconds (``max_ttfc``, ``max_ttft``, ``max_total``), per second (``min_chars_per_s``,
  ``min_tokens_per_s``) or as a factor (``regression``);
* ``harness_objective_missed{provider,model,objective}``: 1 when the newest pass missed it;
* ``harness_schedule_overruns_total{provider,tier}``: scheduled runs of the provider's
  tier (:mod:`harness.settings.tiers`) skipped because the previous one was still going
  (it overran its period);
* ``harness_target_tokens_per_day{provider,model,kind}``: the tokens (``prompt``,
  ``completion``) its upstream reported for the target's results of the last 24 h,
  read from the store when the exposition is written (at most once a second:
  :data:`SCRAPE_FRESH_S`); ``harness_target_cost_per_day{provider,model}`` beside it
  for the targets of priced endpoints.

``vantage`` is the probing host's name, as on the results, so one Prometheus scraping
several ``harness serve`` processes keeps their figures apart.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    generate_latest,
)

from harness.policy.consensus import VantageStatus
from harness.policy.objectives import ObjectiveSet
from harness.policy.status import State, TargetStatus, outcome_of, provider_working
from harness.policy.usage import DailyUsage
from harness.result import ProbeResult

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
"""Seconds: chat answers range from a fraction of a second to the 120 s deadline."""

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS", "Metrics"]


FLAG_STATES = {True: "working", False: "not_working", None: "unknown"}
"""The ``harness_provider_flag`` state of each value of a provider's working flag."""


class Metrics:
    """The metrics of one app, fed by probe results and status updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        target = ["provider", "model"]
        self.up = Gauge(
            "harness_target_up",
            "1 while the provider/model is working (up or degraded), else 0.",
            target,
            registry=self.registry,
        )
        self.state = Gauge(
            "harness_target_state",
            "1 for the provider/model's current state, 0 for the others.",
            [*target, "state"],
            registry=self.registry,
        )
        self.working = Gauge(
            "harness_provider_working",
            "The measured working flag of the provider.",
            ["provider"],
            registry=self.registry,
        )
        self.flag = Enum(
            "harness_provider_flag",
            "The provider's measured flag: working, not working or unknown.",
            ["provider"],
            states=list(FLAG_STATES.values()),
            registry=self.registry,
        )
        self.vantage_up = Gauge(
            "harness_vantage_target_up",
            "1 while this vantage sees the provider/model working, else 0.",
            [*target, "vantage"],
            registry=self.registry,
        )
        probed = [*target, "vantage"]
        self.ttfc = Histogram(
            "harness_probe_ttfc_seconds",
            "Time to first chunk of passing probes.",
            probed,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ttft = Histogram(
            "harness_probe_ttft_seconds",
            "Time to the first token of any kind (thinking included) of passing probes.",
            probed,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reasoning = Counter(
            "harness_probe_reasoning_tokens",
            "Reasoning tokens reported by the upstream for passing probes.",
            probed,
            registry=self.registry,
        )
        self.total = Histogram(
            "harness_probe_total_seconds",
            "Total time of passing probes.",
            probed,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.probes = Counter(
            "harness_probes",
            "Probes run, by outcome and failure kind.",
            [*probed, "outcome", "kind"],
            registry=self.registry,
        )

        self.objective = Gauge(
            "harness_objective",
            "A latency objective of the provider/model (seconds, per second, or a factor).",
            [*target, "objective"],
            registry=self.registry,
        )
        self.objective_missed = Gauge(
            "harness_objective_missed",
            "1 when the newest pass of the provider/model missed the objective, else 0.",
            [*target, "objective"],
            registry=self.registry,
        )

        self.overruns = Counter(
            "harness_schedule_overruns",
            "Scheduled runs of the provider's tier skipped because the previous run overran "
            "its period.",
            ["provider", "tier"],
            registry=self.registry,
        )

        self.tokens = Gauge(
            "harness_target_tokens_per_day",
            "Tokens the upstream reported for the provider/model's results of the last 24 h.",
            [*target, "kind"],
            registry=self.registry,
        )
        self.cost = Gauge(
            "harness_target_cost_per_day",
            "What the provider/model's tokens of the last 24 h cost, at its endpoint's prices.",
            target,
            registry=self.registry,
        )

    def set_usage(self, daily: Mapping[tuple[str, str], DailyUsage]) -> None:
        """Set each target's tokens (and cost, where priced) of the last day; targets
        with no result in it any more lose their series."""
        self.tokens.clear()
        self.cost.clear()
        for (provider, model), each in daily.items():
            labels = {"provider": provider, "model": model}
            self.tokens.labels(**labels, kind="prompt").set(each.usage.prompt_tokens)
            self.tokens.labels(**labels, kind="completion").set(each.usage.completion_tokens)
            if each.cost is not None:
                self.cost.labels(**labels).set(each.cost)

    def overran(self, provider: str, tier: str) -> None:
        """Count a scheduled run of ``provider``'s ``tier`` skipped because its previous
        one overran."""
        self.overruns.labels(provider=provider, tier=tier).inc()

    def observe(self, result: ProbeResult) -> None:
        """Count one probe; a passing one also feeds the latency histograms."""
        labels = {"provider": result.provider, "model": result.model, "vantage": result.vantage}
        kind = result.kind.value if result.kind is not None else "none"
        self.probes.labels(**labels, outcome=outcome_of(result).value, kind=kind).inc()
        if result.ok:
            if result.ttfc_ms is not None:
                self.ttfc.labels(**labels).observe(result.ttfc_ms / 1000)
            if result.ttft_ms is not None:
                self.ttft.labels(**labels).observe(result.ttft_ms / 1000)
            if result.reasoning_tokens is not None:
                self.reasoning.labels(**labels).inc(result.reasoning_tokens)
            if result.total_ms is not None:
                self.total.labels(**labels).observe(result.total_ms / 1000)

    def set_statuses(
        self, statuses: Iterable[TargetStatus], objectives: ObjectiveSet | None = None
    ) -> None:
        """Set the up and state gauges of each target, and each provider's working flag;
        with ``objectives``, each target's objective gauges too."""
        by_provider: dict[str, list[TargetStatus]] = {}
        for status in statuses:
            by_provider.setdefault(status.provider, []).append(status)
            labels = {"provider": status.provider, "model": status.model}
            self.up.labels(**labels).set(1 if status.state.is_working else 0)
            for state in State:
                self.state.labels(**labels, state=state.value).set(status.state is state)
            if objectives is not None:
                limits = objectives.for_target(status.provider, status.model).limits()
                for name, limit in limits.items():
                    self.objective.labels(**labels, objective=name).set(limit)
                    missed = self.objective_missed.labels(**labels, objective=name)
                    missed.set(name in status.missed)
        for provider, group in by_provider.items():
            working = provider_working(group)
            self.flag.labels(provider=provider).state(FLAG_STATES[working])
            if working is not None:
                self.working.labels(provider=provider).set(working)
            else:  # no series rather than a 0 that would read as "not working"
                with suppress(KeyError):
                    self.working.remove(provider)

    def set_vantages(self, views: Iterable[VantageStatus]) -> None:
        """Set each vantage's up gauge of each target."""
        for view in views:
            labels = {"provider": view.status.provider, "model": view.status.model}
            self.vantage_up.labels(**labels, vantage=view.vantage).set(
                1 if view.status.state.is_working else 0
            )

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (content type :data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


SCRAPE_FRESH_S = 1.0
"""How old a scrape's answer may be. At a thousand targets the exposition is a
megabyte of text and over a tenth of a second of CPU to write and compress; a
scraper (or a page refreshing each second) is not told anything truer by a newer one,
and several scraping at once share one writing."""


@dataclass(frozen=True)
class Exposition:
    """One writing of the metrics: the text, and its gzip."""

    text: bytes
    gzipped: bytes
    written_at: float


class Scrapes:
    """The exposition of ``metrics`` for each scrape, written again at most once every
    ``fresh_s`` seconds (``clock``: monotonic seconds)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        fresh_s: float = SCRAPE_FRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._fresh_s = fresh_s
        self._clock = clock
        self._kept: Exposition | None = None
        self._lock = asyncio.Lock()

    async def latest(self, before: Callable[[], Awaitable[None]]) -> Exposition:
        """The exposition written within ``fresh_s``, else a new one, after ``before()``
        (which sets what is read at each writing, such as the tokens of the day). The
        writing runs in a worker thread, so the server's loop goes on answering others."""
        async with self._lock:  # a scrape arriving meanwhile waits for this one's
            kept = self._kept
            if kept is not None and self._clock() - kept.written_at < self._fresh_s:
                return kept
            await before()
            self._kept = await asyncio.to_thread(self._write)
            return self._kept

    def _write(self) -> Exposition:
        text = self._metrics.exposition()
        return Exposition(text, gzip.compress(text, compresslevel=6, mtime=0), self._clock())
