"""Choosing gpt4free's providers, the ``[g4f]`` settings, and the working list: pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from g4f_doubles import Double

from harness.errors import ConfigError
from harness.policy.status import State, TargetStatus
from harness.report.g4f_working import working_providers
from harness.settings.config import Settings
from harness.settings.g4f import G4FSettings
from harness.targets.g4f import check_names, choose, wrapped
from providers.gpt4free import DEFAULT_MODEL, G4FInfo, LoadFailure, describe


def kind(*, working: bool = True, needs_auth: bool = False, default: str = "m") -> type:
    return type(
        "P", (Double,), {"working": working, "needs_auth": needs_auth, "default_model": default}
    )


LOADED: dict[str, G4FInfo | LoadFailure] = {
    "Free": describe("Free", kind()),
    "Dead": describe("Dead", kind(working=False)),
    "Keyed": describe("Keyed", kind(needs_auth=True)),
    "NoDefault": describe("NoDefault", kind(default="")),
    "Broken": LoadFailure("Broken", ImportError("Provider not found: Broken"), 0.0),
}


def test_by_default_working_providers_without_auth() -> None:
    choice = choose(LOADED, G4FSettings())
    assert choice.chosen == ["Free", "NoDefault"]
    assert choice.left_out == {
        "Dead": "marked not working",
        "Keyed": "needs auth",
        "Broken": "not loaded (ImportError)",
    }


def test_all_adds_the_not_working_and_the_unloadable_and_auth_adds_the_keyed() -> None:
    assert choose(LOADED, G4FSettings(), every=True).chosen == [
        "Free",
        "Dead",
        "NoDefault",
        "Broken",
    ]
    assert choose(LOADED, G4FSettings(), include_auth=True).chosen == [
        "Free",
        "Keyed",
        "NoDefault",
    ]
    assert choose(LOADED, G4FSettings(include_auth=True)).chosen == ["Free", "Keyed", "NoDefault"]


def test_named_providers_are_taken_whatever_their_flags_and_exclude_wins() -> None:
    settings = G4FSettings(include=["dead", "Keyed"], exclude=["keyed"])
    assert choose(LOADED, settings).chosen == ["Dead"]
    assert choose(LOADED, G4FSettings(), names=["free"]).chosen == ["Free"]


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown g4f provider\(s\) \['Nope'\]; known: Free"):
        check_names(list(LOADED), G4FSettings(exclude=["Nope"]))
    check_names(list(LOADED), G4FSettings(providers={"free": {}}), names=["DEAD"])


def test_models_default_model_or_configured_and_a_base_url_only_where_accepted() -> None:
    settings = G4FSettings(providers={"Free": {"models": ["a", "b"]}})
    free, no_default = wrapped(LOADED, ["Free", "NoDefault"], settings)
    assert free.all_models() == ["a", "b"]
    assert no_default.all_models() == [DEFAULT_MODEL]
    refused = G4FSettings(providers={"Free": {"base_url": "http://127.0.0.1:1/v1"}})
    with pytest.raises(ConfigError, match=r"g4f\.providers\.Free: .* does not accept a base_url"):
        wrapped(LOADED, ["Free"], refused)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_models": 1, "providers": {"A": {"models": ["x", "y"]}}}, "exceed max_models = 1"),
        ({"providers": {"A": {"api_key_env": "not a name"}}}, "environment variable"),
        ({"providers": {"A": {"base_url": "ftp://x"}}}, "http"),
        ({"providers": {"A": {"models": []}}}, "non-empty"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_bad_g4f_settings_are_refused_naming_the_field(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.model_validate({"g4f": table})


def status(provider: str, model: str, state: State, since: datetime) -> TargetStatus:
    return TargetStatus(
        provider=provider,
        model=model,
        state=state,
        since=since,
        pass_streak=0,
        fail_streak=0,
        last_result_at=since,
        last_ok_at=since,
        last_kind=None,
        last_error=None,
        changes=(),
        underlying=state,
    )


def test_the_working_list_has_g4f_providers_with_a_working_model() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = {
        ("g4f.Qwen", "a"): status("g4f.Qwen", "a", State.DOWN, t0),
        ("g4f.Qwen", "b"): status("g4f.Qwen", "b", State.DEGRADED, t0 + timedelta(hours=2)),
        ("g4f.groq", "m"): status("g4f.groq", "m", State.UP, t0 + timedelta(hours=1)),
        ("g4f.Dead", "m"): status("g4f.Dead", "m", State.DOWN, t0),
        ("AutonomousAI", "m"): status("AutonomousAI", "m", State.UP, t0),
    }
    listed = working_providers(statuses, {("g4f.Qwen", "b"): 812.5})
    assert [(p.name, p.since) for p in listed] == [
        ("groq", t0 + timedelta(hours=1)),
        ("Qwen", t0 + timedelta(hours=2)),
    ]
    qwen = listed[1].to_dict()
    assert qwen["target"] == "g4f.Qwen"
    assert qwen["models"] == [
        {
            "model": "b",
            "state": "degraded",
            "since": "2026-01-01T02:00:00+00:00",
            "ttfc_p50_ms": 812.5,
        }
    ]
