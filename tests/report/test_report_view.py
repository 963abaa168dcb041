"""The page as values: what build_page makes of the store's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from status_samples import failed, passed

from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.status import Outcome, State
from harness.report import StatusPage, TargetFacts, build_page
from harness.report.view import HISTORY_LENGTH, provider_state
from harness.result import FailureKind

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def facts(provider: str, model: str, results=(), status=None) -> TargetFacts:
    return TargetFacts(
        provider=provider,
        model=model,
        status=status,
        recent=list(results),
        uptime={"24h": Uptime(0, 0), "7d": Uptime(0, 0), "30d": Uptime(0, 0)},
        latency=LatencySummary.from_samples([]),
    )


def build(*items: TargetFacts, **kwargs) -> StatusPage:
    return build_page(list(items), [], now=T0, version="1.2.3", **kwargs)


def test_providers_follow_the_given_order_then_the_rest_by_name() -> None:
    page = build(
        facts("Zed", "m"), facts("Beta", "m"), facts("Alpha", "m"), provider_order=["Beta"]
    )

    assert [p.name for p in page.providers] == ["Beta", "Alpha", "Zed"]


def test_models_of_a_provider_are_grouped_in_the_given_order() -> None:
    page = build(facts("P", "b"), facts("Q", "x"), facts("P", "a"))

    assert [m.model for m in page.provider("P").models] == ["b", "a"]


def test_a_target_without_status_is_unknown() -> None:
    page = build(facts("P", "m"))

    assert page.provider("P").models[0].state is State.UNKNOWN
    assert page.provider("P").state is State.UNKNOWN


def test_a_provider_is_working_when_any_model_is_up_or_degraded(page: StatusPage) -> None:
    assert page.provider("AutonomousAI").working is True  # llama up, qwen_coder down
    assert page.provider("RobocodersAPI").working is True  # RepoAgent degraded


def test_a_provider_with_nothing_conclusive_is_unknown_not_not_working(page: StatusPage) -> None:
    assert page.provider("AiChatOnline").working is False  # throttled: measured, not working
    assert page.provider("CodeLinkAva").working is None  # inconclusive only


def test_each_provider_carries_what_it_makes() -> None:
    page = build(facts("Painter", "m"), facts("P", "m"), capabilities={"Painter": "image"})

    assert page.provider("Painter").capability == "image"
    assert page.provider("P").capability == "chat"


def test_a_provider_shows_the_best_state_of_its_models() -> None:
    assert provider_state([State.DOWN, State.UP, State.UNKNOWN]) is State.UP
    assert provider_state([State.DOWN, State.THROTTLED]) is State.THROTTLED
    assert provider_state([State.DOWN, State.UNKNOWN]) is State.DOWN
    assert provider_state([]) is State.UNKNOWN


def test_summary_counts_models_and_providers_by_state(page: StatusPage) -> None:
    models = sum(len(p.models) for p in page.providers)

    assert sum(page.model_counts.values()) == models
    assert page.model_counts[State.UP] == 1
    assert page.model_counts[State.DOWN] == 1
    assert page.model_counts[State.THROTTLED] == 1
    assert page.model_counts[State.DEGRADED] == 1
    assert page.provider_counts == {
        State.UP: 1,
        State.DEGRADED: 1,
        State.THROTTLED: 1,
        State.DOWN: 0,
        State.FLAPPING: 0,
        State.UNKNOWN: 1,
    }
    assert page.working_providers == 2


def test_every_planned_model_is_on_the_page_even_without_results(page: StatusPage) -> None:
    from providers import PROVIDERS

    for name, provider in PROVIDERS.items():
        shown = [m.model for m in page.provider(name).models]
        assert set(provider.all_models()) <= set(shown)


def test_history_shows_the_newest_fifty_oldest_first() -> None:
    results = [passed("P", "m", T0 + timedelta(minutes=i)) for i in range(70)]

    history = build(facts("P", "m", reversed(results))).providers[0].models[0].history

    assert len(history) == HISTORY_LENGTH
    assert [c.at for c in history] == [r.started_at for r in results[-HISTORY_LENGTH:]]


def test_inconclusive_results_show_as_inconclusive(page: StatusPage) -> None:
    model = page.provider("CodeLinkAva").models[0]

    assert {c.outcome for c in model.history} == {Outcome.INCONCLUSIVE}
    assert model.last_outcome is Outcome.INCONCLUSIVE
    assert model.state is State.UNKNOWN


def test_inconclusive_results_are_left_out_of_uptime(page: StatusPage) -> None:
    model = page.provider("CodeLinkAva").models[0]

    assert model.uptime["24h"].total == 0
    assert model.uptime["24h"].ratio is None


def test_uptime_counts_conclusive_probes_per_window(page: StatusPage) -> None:
    llama = page.provider("AutonomousAI").models[0]

    assert llama.model == "llama"
    assert (llama.uptime["24h"].ok, llama.uptime["24h"].total) == (60, 60)


def test_each_check_shows_the_newest_result_of_its_prompt_in_prompt_order() -> None:
    results = [
        passed("P", "m", T0, prompt="math"),
        failed("P", "m", T0 + timedelta(minutes=1), FailureKind.WRONG_ANSWER, "no", prompt="math"),
        passed("P", "m", T0 + timedelta(minutes=2), prompt="ping"),
    ]

    checks = build(facts("P", "m", results), prompt_order=["ping", "math"]).providers[0]
    checks = checks.models[0].checks

    assert [(c.prompt, c.outcome) for c in checks] == [
        ("ping", Outcome.OK),
        ("math", Outcome.FAIL),
    ]
    assert checks[1].kind is FailureKind.WRONG_ANSWER


def test_the_sparkline_draws_passing_ttfc_only() -> None:
    results = [
        passed("P", "m", T0, ttfc_ms=100),
        failed("P", "m", T0 + timedelta(minutes=1), FailureKind.TIMEOUT_TOTAL, "slow"),
        passed("P", "m", T0 + timedelta(minutes=2), ttfc_ms=300),
    ]

    spark = build(facts("P", "m", results)).providers[0].models[0].ttfc_sparkline

    assert spark is not None
    assert (spark.n, spark.low, spark.high) == (2, 100, 300)


def test_the_last_error_comes_from_the_status(page: StatusPage) -> None:
    qwen = next(m for m in page.provider("AutonomousAI").models if m.model == "qwen_coder")

    assert qwen.state is State.DOWN
    assert qwen.last_kind is FailureKind.HTTP_SERVER
    assert qwen.last_error is not None
    assert "<script>" in qwen.last_error


def test_flips_are_listed_newest_first(page: StatusPage) -> None:
    times = [f.at for f in page.flips]

    assert times == sorted(times, reverse=True)
    assert any(f.provider == "AutonomousAI" and f.new is State.DOWN for f in page.flips)


def test_vantages_are_listed_once(page: StatusPage) -> None:
    assert page.vantages == ("test-vantage",)
