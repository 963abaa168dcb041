"""Objectives as values: what a pass misses, how per-target tables resolve, the config."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.pipeline.run import objectives_of
from harness.policy.objectives import Baseline, Miss, Objectives, ObjectiveSet, misses, seconds
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings, load_settings

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def passed(ttfc: float, total: float, chars: int = 40, tokens: int | None = None) -> ProbeResult:
    return ProbeResult(
        "P",
        "m",
        "ping",
        T0,
        ok=True,
        ttfc_ms=ttfc,
        total_ms=total,
        chars=chars,
        completion_tokens=tokens,
    )


@pytest.mark.parametrize(
    ("ms", "text"),
    [(2400, "2.4 s"), (1500, "1.5 s"), (780, "0.78 s"), (8000, "8 s"), (123_456, "123 s")],
)
def test_seconds_read_like_the_reasons(ms: float, text: str) -> None:
    assert seconds(ms) == text


def test_each_objective_names_itself_and_its_figures() -> None:
    objectives = Objectives(
        max_ttfc_ms=1500, max_total_ms=3000, min_chars_per_s=20, min_tokens_per_s=10
    )
    result = passed(ttfc=2400, total=4400, chars=30, tokens=10)
    assert misses(result, objectives) == (
        Miss("max_ttfc", "ttfc 2.4 s > 1.5 s"),
        Miss("max_total", "total 4.4 s > 3 s"),
        Miss("min_chars_per_s", "throughput 15 chars/s < 20 chars/s"),
        Miss("min_tokens_per_s", "throughput 5 tokens/s < 10 tokens/s"),
    )
    assert misses(passed(ttfc=1500, total=3000, chars=100, tokens=50), objectives) == ()


def test_figures_a_result_did_not_measure_miss_nothing() -> None:
    objectives = Objectives(min_chars_per_s=20, min_tokens_per_s=10)
    one_chunk = passed(ttfc=500, total=500, chars=1)
    no_usage = passed(ttfc=500, total=1500, chars=100)
    assert misses(one_chunk, objectives) == ()
    assert misses(no_usage, objectives) == ()


def test_a_failed_result_misses_no_objective() -> None:
    failed = ProbeResult("P", "m", "ping", T0, ok=False, kind=FailureKind.TIMEOUT_TOTAL)
    assert misses(failed, Objectives(max_ttfc_ms=1)) == ()


def test_regression_is_measured_against_the_targets_own_p50_once_history_suffices() -> None:
    objectives = Objectives(regression=2.0)
    result = passed(ttfc=2400, total=2500)
    enough = Baseline(passes=20, ttfc_p50_ms=780, total_p50_ms=2000)
    assert misses(result, objectives, enough) == (
        Miss("regression", "ttfc 2.4 s = 3.1x its 7-day p50 of 0.78 s"),
    )
    assert misses(result, objectives, Baseline(19, 780, 2000)) == ()
    assert misses(result, objectives, None) == ()
    assert misses(result, Objectives(regression=2.0, min_history=5), Baseline(5, 780, 1000)) == (
        Miss("regression", "ttfc 2.4 s = 3.1x its 7-day p50 of 0.78 s"),
        Miss("regression", "total 2.5 s = 2.5x its 7-day p50 of 1 s"),
    )


@pytest.mark.parametrize(
    "bad",
    [{"max_ttfc_ms": 0}, {"min_chars_per_s": -1}, {"regression": 1.0}, {"min_history": 0}],
)
def test_nonsensical_objectives_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Objectives(**bad)  # type: ignore[arg-type]


def settings(text: str) -> Settings:
    return Settings.model_validate(tomllib.loads(text))


def test_per_target_tables_override_the_defaults_provider_then_model() -> None:
    config = settings(
        """
        [thresholds]
        slow_ttfc_ms = 9000
        [objectives]
        max_total = "30s"
        [objectives.AutonomousAI]
        max_ttfc = "2s"
        regression = 2.0
        [objectives."AutonomousAI/hermes-3"]
        max_ttfc = "500ms"
        min_history = 50
        """
    )
    objectives = objectives_of(config)
    assert objectives.for_target("CodeLinkAva", "gpt-3.5-turbo") == Objectives(
        max_ttfc_ms=9000, max_total_ms=30_000
    )
    assert objectives.for_target("AutonomousAI", "llama") == Objectives(
        max_ttfc_ms=2000, max_total_ms=30_000, regression=2.0
    )
    # An alias names its model.
    assert objectives.for_target("AutonomousAI", "hermes") == Objectives(
        max_ttfc_ms=500, max_total_ms=30_000, regression=2.0, min_history=50
    )


def test_without_objectives_slow_ttfc_ms_is_the_one_objective() -> None:
    objectives = objectives_of(Settings())
    assert objectives.for_target("P", "m") == Objectives(max_ttfc_ms=8000)
    assert ObjectiveSet().for_target("P", "m") == Objectives()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[objectives]\nmax_ttfc = "fast"', "expected a duration such as 500ms, 1.5s"),
        ('[objectives]\nmax_ttfc = "-1s"', "objectives.max_ttfc"),
        ("[objectives]\nregression = 0.5", "objectives.regression"),
        ('[objectives]\nmax_ttf = "1s"', "unknown objective 'max_ttf'"),
        ('[objectives.Nope]\nmax_ttfc = "1s"', "unknown provider 'Nope'"),
        ('[objectives."AutonomousAI/gpt-9"]\nmax_ttfc = "1s"', "unknown model 'gpt-9'"),
        ("[objectives.AutonomousAI]\nmin_chars_per_s = 0", "objectives.AutonomousAI"),
        ('[objectives.AutonomousAI]\nmax_tfc = "1s"', "max_tfc"),
    ],
)
def test_bad_objectives_are_refused_naming_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "harness.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid configuration") as caught:
        load_settings(path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("written", "ms"),
    [
        ("1.5s", 1500),
        ("500ms", 500),
        ("2min", 120_000),
        ("30m", 1_800_000),
        ("1h", 3_600_000),
        (2, 2000),
    ],
)
def test_durations_are_written_with_units_or_as_seconds(written: str | int, ms: float) -> None:
    config = Settings.model_validate({"objectives": {"max_ttfc": written}})
    assert objectives_of(config).defaults.max_ttfc_ms == ms
    assert config.with_overrides(concurrency=2).objectives == config.objectives


def test_max_ttft_bounds_the_first_token_and_max_ttfc_the_answer() -> None:
    config = Settings.model_validate({"objectives": {"max_ttft": "1s", "max_ttfc": "20s"}})
    objectives = objectives_of(config).defaults
    assert objectives.max_ttft_ms == 1000
    thinking_late = replace(passed(ttfc=15_000, total=16_000), ttft_ms=1500.0)
    assert misses(thinking_late, objectives) == (Miss("max_ttft", "ttft 1.5 s > 1 s"),)
    assert objectives.describe("max_ttft") == "ttft ≤ 1 s"
