"""The status page as values: what every output (HTML, JSON, Markdown, badges) shows.

:func:`build_page` is pure: it turns the facts read from the store
(:class:`TargetFacts`, flips) into a :class:`StatusPage`. Formatting is left to the
renderers; escaping to the template engine.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from harness.policy.aggregate import HistoryCell, LatencySummary, Uptime, history_cells, percentile
from harness.policy.consensus import VantageStatus, voters
from harness.policy.daily import StripDay
from harness.policy.deliveries import TargetAlert
from harness.policy.incidents import Incident, newest_first
from harness.policy.objectives import Objectives
from harness.policy.status import Flip, Outcome, State, TargetStatus, outcome_of, working_flag
from harness.policy.usage import DailyUsage
from harness.report.sparkline import Sparkline, sparkline
from harness.result import FailureKind, ProbeResult, Source
from harness.targets.sources import SOURCE_NOTES

UPTIME_WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
)
"""The uptime windows, by label, shortest first."""

LATENCY_WINDOW: tuple[str, timedelta] = ("7d", timedelta(days=7))
"""The window the latency percentiles are taken over."""

USAGE_WINDOW: tuple[str, timedelta] = ("24h", timedelta(hours=24))
"""The window a target's measured tokens (and their cost) are summed over: a day."""

STRIP_DAYS = 90
"""How many UTC days a provider's uptime strip shows."""

INCIDENT_WINDOW: tuple[str, timedelta] = ("30d", timedelta(days=30))
"""How far back the page lists resolved incidents."""

HISTORY_LENGTH = 50
"""How many probes a history bar shows."""

OVERVIEW_UPTIME = "24h"
"""The uptime window the one-row-per-provider overview shows."""

_BEST_FIRST = (
    State.UP,
    State.DEGRADED,
    State.THROTTLED,
    State.FLAPPING,
    State.DOWN,
    State.UNKNOWN,
)


@dataclass(frozen=True)
class VantageRow:
    """One vantage's view of one model: its own state, whether it votes, its numbers."""

    name: str
    state: State
    voting: bool
    last_checked: datetime
    ttfc_p50: float | None
    """Median time to first chunk over this vantage's passes among the recent results."""


def vantage_rows(
    views: Iterable[VantageStatus],
    recent: Sequence[ProbeResult],
    *,
    now: datetime,
    window: timedelta,
) -> list[VantageRow]:
    """One row per vantage that has reported on the target, by name."""
    views = list(views)
    voting = {v.vantage for v in voters(views, now=now, window=window)}
    rows = []
    for view in sorted(views, key=lambda v: v.vantage):
        ttfc = [
            r.ttfc_ms
            for r in recent
            if r.vantage == view.vantage and r.ok and r.ttfc_ms is not None
        ]
        rows.append(
            VantageRow(
                name=view.vantage,
                state=view.status.state,
                voting=view.vantage in voting,
                last_checked=view.reported_at,
                ttfc_p50=percentile(ttfc, 50) if ttfc else None,
            )
        )
    return rows


@dataclass(frozen=True)
class TargetFacts:
    """What the store knows about one provider/model, as read for one page."""

    provider: str
    model: str
    status: TargetStatus | None
    recent: Sequence[ProbeResult]
    """The newest results of the target (any order); the history bar shows the newest 50."""
    uptime: Mapping[str, Uptime]
    """Uptime per window label of :data:`UPTIME_WINDOWS`."""
    latency: LatencySummary
    objectives: Objectives | None = None
    """The target's latency objectives (None: not known to the page)."""
    last_alert: TargetAlert | None = None
    """The newest alert sent about the target."""
    vantages: Sequence[VantageRow] = ()
    usage: DailyUsage | None = None
    """Its results and their reported tokens over :data:`USAGE_WINDOW`, priced when its
    endpoint has prices."""


@dataclass(frozen=True)
class Check:
    """The newest result of one canned prompt against one model."""

    prompt: str
    outcome: Outcome
    at: datetime
    kind: FailureKind | None


@dataclass(frozen=True)
class Throughput:
    """How fast a model streams once it has started: medians over its ``n`` newest
    passes that measured it (those of its history bar)."""

    n: int
    chars_per_s: float | None
    tokens_per_s: float | None = None
    """Only from passes whose upstream reported usage (OpenAI-compatible endpoints)."""

    @classmethod
    def of(cls, newest_first: Sequence[ProbeResult]) -> Throughput:
        """The throughput of the passes among ``newest_first``."""
        passes = [r for r in newest_first if r.ok]
        chars = [r.chars_per_s for r in passes if r.chars_per_s is not None]
        tokens = [r.tokens_per_s for r in passes if r.tokens_per_s is not None]
        return cls(
            len(chars),
            statistics.median(chars) if chars else None,
            statistics.median(tokens) if tokens else None,
        )


@dataclass(frozen=True)
class FirstToken:
    """When a model starts producing tokens (thinking included) against when it starts
    answering: medians over its ``n`` newest passes that measured both."""

    n: int
    ttft_p50: float | None
    ttfc_p50: float | None
    reasoning_tokens_p50: float | None
    thinks: bool
    """Whether any of those passes thought before answering (ttft before ttfc)."""

    @classmethod
    def of(cls, newest_first: Sequence[ProbeResult]) -> FirstToken:
        """The first-token figures of the passes among ``newest_first``."""
        passes = [
            r for r in newest_first if r.ok and r.ttft_ms is not None and r.ttfc_ms is not None
        ]
        reasoning = [r.reasoning_tokens for r in passes if r.reasoning_tokens is not None]
        return cls(
            len(passes),
            statistics.median(r.ttft_ms for r in passes if r.ttft_ms is not None)
            if passes
            else None,
            statistics.median(r.ttfc_ms for r in passes if r.ttfc_ms is not None)
            if passes
            else None,
            statistics.median(reasoning) if reasoning else None,
            any(r.ttft_ms != r.ttfc_ms for r in passes) or any(reasoning),
        )


@dataclass(frozen=True)
class ModelView:
    """One provider/model on the page."""

    provider: str
    model: str
    state: State
    since: datetime | None
    uptime: Mapping[str, Uptime]
    latency: LatencySummary
    history: Sequence[HistoryCell]
    ttfc_sparkline: Sparkline | None
    last_checked: datetime | None
    """When the newest result (conclusive or not) was taken."""
    last_outcome: Outcome | None
    last_kind: FailureKind | None
    last_error: str | None
    """The error of the last failure, shown while the model is not passing."""
    checks: Sequence[Check]
    throughput: Throughput
    first_token: FirstToken = FirstToken(0, None, None, None, False)
    objectives: Objectives | None = None
    missed: tuple[str, ...] = ()
    """The objectives the newest pass missed, by name."""
    reason: str = ""
    """Why the model shows its state."""
    last_alert: TargetAlert | None = None
    """The newest alert sent about this model."""
    vantages: Sequence[VantageRow] = ()
    """Each vantage's own view, when more than one probes the model."""
    down_from: tuple[str, ...] = ()
    """The voting vantages that see the model not working."""
    usage: DailyUsage | None = None
    """Its measured tokens (and cost, where priced) over :data:`USAGE_WINDOW`."""


@dataclass(frozen=True)
class ModelCell:
    """One probe in a provider's history bar, with the model it probed."""

    model: str
    cell: HistoryCell


@dataclass(frozen=True)
class ProviderView:
    """One provider: its measured ``working`` flag, its overall state and its models,
    with the figures of its one-row overview (filtered and sorted on the page)."""

    name: str
    working: bool | None
    """``None`` while unknown (no model with a conclusive state)."""
    state: State
    models: Sequence[ModelView]
    model_states: Mapping[State, int]
    """How many of its models are in each state (only states present, best first)."""
    uptime: Uptime
    """Its models' probes pooled over :data:`OVERVIEW_UPTIME`."""
    ttfc_p50: float | None
    """The p50 time to first chunk of its fastest model (working models first)."""
    history: Sequence[ModelCell]
    """Its newest probes across all models, oldest first."""
    capability: str = "chat"
    """What it makes (``chat``, ``image``, ``audio``): what its probes check."""
    strip: Sequence[StripDay] = ()
    """Its daily uptime over :data:`STRIP_DAYS`, oldest first, with its incidents."""
    overruns: int | None = None
    """Scheduled runs of its tiers skipped because the one before overran its period;
    ``None`` where no schedule runs (a report written by ``harness report``)."""

    @property
    def state_rank(self) -> int:
        """Where its state sorts: 0 for up, then worse, unknown last."""
        return _BEST_FIRST.index(self.state)


@dataclass(frozen=True)
class StatusPage:
    """Everything the status page shows, as of ``generated_at``."""

    generated_at: datetime
    version: str
    vantages: Sequence[str]
    providers: Sequence[ProviderView]
    flips: Sequence[Flip]
    model_counts: Mapping[State, int]
    provider_counts: Mapping[State, int]
    uptime_windows: Sequence[str]
    latency_window: str
    usage_window: str = USAGE_WINDOW[0]
    source: Source = Source.LIVE
    """Whose answers the page shows; only live pages speak of the real providers."""
    incidents: Sequence[Incident] = ()
    """The incidents open now or within :data:`INCIDENT_WINDOW`, newest first."""
    details: bool = True
    """Whether each provider's details (its strip and models in full) are on the page;
    when not, the page is the overview alone and a provider's details are fetched when
    it is opened (the live page at hundreds of targets)."""

    @property
    def open_incidents(self) -> list[Incident]:
        """The incidents still open, newest first."""
        return [i for i in self.incidents if i.is_open]

    @property
    def past_incidents(self) -> list[Incident]:
        """The resolved incidents the page lists, newest first."""
        return [i for i in self.incidents if not i.is_open]

    @property
    def source_note(self) -> str | None:
        """What a sandbox or replay page must say about itself; ``None`` when live."""
        return SOURCE_NOTES[self.source]

    @property
    def working_providers(self) -> int:
        """How many providers are working (any model up or degraded)."""
        return sum(1 for p in self.providers if p.working)

    def provider(self, name: str) -> ProviderView | None:
        """The provider called ``name``, if the page shows it."""
        return next((p for p in self.providers if p.name == name), None)


def with_overruns(page: StatusPage, overruns: Mapping[str, int]) -> StatusPage:
    """``page`` with the overruns of the providers a running schedule probes
    (provider -> count); the others keep ``None``."""
    providers = [replace(p, overruns=overruns.get(p.name, p.overruns)) for p in page.providers]
    return replace(page, providers=providers)


def provider_state(states: Iterable[State]) -> State:
    """A provider's state: the best of its models' (up first, unknown last)."""
    present = set(states)
    return next((s for s in _BEST_FIRST if s in present), State.UNKNOWN)


def provider_view(
    name: str,
    models: Sequence[ModelView],
    capability: str = "chat",
    strip: Sequence[StripDay] = (),
) -> ProviderView:
    """A provider's overview row, from its models' views, with its daily ``strip``."""
    present = {m.state for m in models}
    counts = {s: sum(1 for m in models if m.state is s) for s in _BEST_FIRST if s in present}
    pooled = [m.uptime[OVERVIEW_UPTIME] for m in models if OVERVIEW_UPTIME in m.uptime]
    # The fastest model that works is what a user would pick; the others only when none does.
    working = [m.latency.ttfc_p50 for m in models if m.state.is_working]
    measured = [p for p in working if p is not None] or [
        m.latency.ttfc_p50 for m in models if m.latency.ttfc_p50 is not None
    ]
    cells = sorted(
        (ModelCell(m.model, c) for m in models for c in m.history), key=lambda mc: mc.cell.at
    )
    return ProviderView(
        name=name,
        working=working_flag(m.state for m in models),
        state=provider_state(present),
        models=models,
        model_states=counts,
        uptime=Uptime(sum(u.ok for u in pooled), sum(u.total for u in pooled)),
        ttfc_p50=min(measured, default=None),
        history=cells[-HISTORY_LENGTH:],
        capability=capability,
        strip=strip,
    )


def provider_history(
    results: Iterable[ProbeResult], model_order: Sequence[str] = ()
) -> list[ModelCell]:
    """A provider's history bar from its newest results (any order, models pooled): the
    newest :data:`HISTORY_LENGTH`, oldest first, each with its model; results taken at
    the same moment in ``model_order`` (as :func:`provider_view` orders them)."""
    rank = {model: i for i, model in enumerate(model_order)}
    newest = sorted(results, key=lambda r: (r.started_at, rank.get(r.model, len(rank))))
    newest = newest[-HISTORY_LENGTH:]
    return [
        ModelCell(r.model, cell)
        for r, cell in zip(newest, history_cells(newest, HISTORY_LENGTH), strict=True)
    ]


def model_view(facts: TargetFacts, prompt_order: Sequence[str] = ()) -> ModelView:
    """One target's row: its state, aggregates, history bar and newest check per prompt."""
    recent = sorted(facts.recent, key=lambda r: r.started_at, reverse=True)
    status = facts.status
    history = history_cells(recent, HISTORY_LENGTH)
    ttfc = [c.ttfc_ms for c in history if c.outcome is Outcome.OK and c.ttfc_ms is not None]
    newest = recent[0] if recent else None
    last_kind = status.last_kind if status is not None else None
    last_error = status.last_error if status is not None else None
    if status is None and newest is not None and not newest.ok:
        last_kind, last_error = newest.kind, newest.error
    last_checked = newest.started_at if newest is not None else None
    if status is not None and status.last_result_at is not None:
        last_checked = max(last_checked or status.last_result_at, status.last_result_at)
    return ModelView(
        provider=facts.provider,
        model=facts.model,
        state=status.state if status is not None else State.UNKNOWN,
        since=status.since if status is not None else None,
        uptime=dict(facts.uptime),
        latency=facts.latency,
        history=history,
        ttfc_sparkline=sparkline(ttfc),
        last_checked=last_checked,
        last_outcome=outcome_of(newest) if newest is not None else None,
        last_kind=last_kind,
        last_error=last_error,
        checks=_checks(recent, prompt_order),
        throughput=Throughput.of(recent[:HISTORY_LENGTH]),
        first_token=FirstToken.of(recent[:HISTORY_LENGTH]),
        objectives=facts.objectives,
        missed=status.missed if status is not None else (),
        reason=status.reason if status is not None else "",
        last_alert=facts.last_alert,
        vantages=facts.vantages if len(facts.vantages) > 1 else (),
        down_from=tuple(v.name for v in facts.vantages if v.voting and not v.state.is_working)
        if len(facts.vantages) > 1
        else (),
        usage=facts.usage,
    )


def _checks(newest_first: Sequence[ProbeResult], prompt_order: Sequence[str]) -> list[Check]:
    seen: dict[str, Check] = {}
    for result in newest_first:
        if result.prompt not in seen:
            seen[result.prompt] = Check(
                result.prompt, outcome_of(result), result.started_at, result.kind
            )
    rank = {p: i for i, p in enumerate(prompt_order)}
    return sorted(seen.values(), key=lambda c: (rank.get(c.prompt, len(rank)), c.prompt))


def build_page(
    facts: Sequence[TargetFacts],
    flips: Sequence[Flip],
    *,
    now: datetime,
    version: str,
    vantages: Sequence[str] = (),
    provider_order: Sequence[str] = (),
    capabilities: Mapping[str, str] | None = None,
    prompt_order: Sequence[str] = (),
    source: Source = Source.LIVE,
    incidents: Sequence[Incident] = (),
    strips: Mapping[str, Sequence[StripDay]] | None = None,
    histories: Mapping[str, Sequence[ProbeResult]] | None = None,
) -> StatusPage:
    """The page for ``facts``: providers in ``provider_order`` (others after, by name),
    models in the order given, flips and ``incidents`` newest first; ``capabilities`` says
    what each provider makes (default ``chat``); ``source`` says whose answers; ``strips``
    are the providers' daily uptime strips, by name.

    With ``histories`` (each provider's newest results, its models pooled) the page is
    the overview alone (:attr:`StatusPage.details` false): the providers' history bars
    come from them, and ``facts`` need only the models' states and latency."""
    views = provider_views(
        facts,
        capabilities=capabilities,
        prompt_order=prompt_order,
        strips=strips,
        histories=histories,
    )
    return assemble_page(
        ordered(views, provider_order),
        flips,
        now=now,
        version=version,
        vantages=vantages,
        source=source,
        incidents=incidents,
        details=histories is None,
    )


def provider_views(
    facts: Sequence[TargetFacts],
    *,
    capabilities: Mapping[str, str] | None = None,
    prompt_order: Sequence[str] = (),
    strips: Mapping[str, Sequence[StripDay]] | None = None,
    histories: Mapping[str, Sequence[ProbeResult]] | None = None,
) -> dict[str, ProviderView]:
    """The views of the providers of ``facts``, by name, with their models in the order
    given (see :func:`build_page` for the rest)."""
    grouped: dict[str, list[ModelView]] = {}
    for item in facts:
        grouped.setdefault(item.provider, []).append(model_view(item, prompt_order))
    views = {
        name: provider_view(
            name, models, (capabilities or {}).get(name, "chat"), (strips or {}).get(name, ())
        )
        for name, models in grouped.items()
    }
    if histories is not None:
        views = {
            name: replace(
                view,
                history=provider_history(histories.get(name, ()), [m.model for m in view.models]),
            )
            for name, view in views.items()
        }
    return views


def ordered(views: Mapping[str, ProviderView], provider_order: Sequence[str]) -> list[ProviderView]:
    """``views`` in ``provider_order``, the others after it by name."""
    rank = {name: i for i, name in enumerate(provider_order)}
    return [views[n] for n in sorted(views, key=lambda n: (rank.get(n, len(rank)), n))]


def assemble_page(
    providers: Sequence[ProviderView],
    flips: Sequence[Flip],
    *,
    now: datetime,
    version: str,
    vantages: Sequence[str] = (),
    source: Source = Source.LIVE,
    incidents: Sequence[Incident] = (),
    details: bool = True,
) -> StatusPage:
    """The page of ``providers`` (in that order) with its counts; flips and incidents
    newest first."""
    model_counts = dict.fromkeys(State, 0)
    for provider in providers:
        for model in provider.models:
            model_counts[model.state] += 1
    provider_counts = dict.fromkeys(State, 0)
    for provider in providers:
        provider_counts[provider.state] += 1
    return StatusPage(
        generated_at=now,
        version=version,
        vantages=tuple(dict.fromkeys(v for v in vantages if v)),
        providers=list(providers),
        flips=sorted(flips, key=lambda f: f.at, reverse=True),
        model_counts=model_counts,
        provider_counts=provider_counts,
        uptime_windows=[label for label, _ in UPTIME_WINDOWS],
        latency_window=LATENCY_WINDOW[0],
        usage_window=USAGE_WINDOW[0],
        source=source,
        incidents=newest_first(incidents),
        details=details,
    )
