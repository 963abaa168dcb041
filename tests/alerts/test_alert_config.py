"""The [alerts] settings: defaults, durations, and bad URLs refused at load (exit 2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alert_receiver import TOKEN
from click.testing import CliRunner

from harness.cli.main import main
from harness.errors import ConfigError
from harness.policy.status import State
from harness.settings.alerts import alert_urls
from harness.settings.config import Settings, load_settings


def test_defaults_send_nothing_and_never_remind() -> None:
    settings = Settings().alerts
    assert settings.urls_env == "HARNESS_ALERT_URLS"
    assert settings.on == (State.DOWN, State.UP, State.THROTTLED, State.FLAPPING)
    assert settings.remind_every == timedelta(0)
    assert alert_urls(settings, {}) == []


def test_the_environment_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_ALERT_URLS", "json://127.0.0.1:9/a  json://127.0.0.1:9/b")
    settings = load_settings()
    assert alert_urls(settings.alerts, {"HARNESS_ALERT_URLS": "json://x/ json://y/"}) == [
        "json://x/",
        "json://y/",
    ]


def test_a_file_sets_every_field(tmp_path: Path) -> None:
    config = tmp_path / "harness.toml"
    config.write_text(
        '[alerts]\nurls_env = "MY_URLS"\nurls = ["json://127.0.0.1:9/"]\non = ["down"]\n'
        'remind_every = "6h"\npublic_url = "https://status.example.org"\n'
    )
    settings = load_settings(config).alerts
    assert settings.remind_every == timedelta(hours=6)
    assert settings.on == (State.DOWN,)
    assert alert_urls(settings, {"MY_URLS": "json://127.0.0.1:8/"}) == [
        "json://127.0.0.1:9/",
        "json://127.0.0.1:8/",
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90s", 90), ("30m", 1800), ("90min", 5400), ("6h", 21600), ("1d", 86400)],
)
def test_remind_every_takes_a_duration(text: str, seconds: int) -> None:
    settings = Settings.model_validate({"alerts": {"remind_every": text}})
    assert settings.alerts.remind_every == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        (f'urls = ["nope://{TOKEN}"]', "alerts.urls"),
        (f'urls = ["{TOKEN}"]', "alerts.urls"),
        ('remind_every = "soon"', "alerts.remind_every"),
        ('on = ["unknown"]', "alerts.on"),
        ('public_url = "ftp://x"', "alerts.public_url"),
        ("sms = true", "alerts.sms"),
    ],
)
def test_bad_alert_settings_are_refused_naming_the_field(
    tmp_path: Path, toml: str, field: str
) -> None:
    config = tmp_path / "harness.toml"
    config.write_text(f"[alerts]\n{toml}\n")
    result = CliRunner().invoke(main, ["--config", str(config), "list"])
    assert result.exit_code == 2
    assert field in result.output
    assert TOKEN not in result.output


def test_a_bad_url_in_the_environment_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_ALERT_URLS", f"json://127.0.0.1:9/ discord://{TOKEN}")
    with pytest.raises(ConfigError, match=r"\$HARNESS_ALERT_URLS \(URL 2\)") as caught:
        load_settings()
    assert TOKEN not in str(caught.value)
    result = CliRunner().invoke(main, ["probe", "--all", "--sandbox"])
    assert result.exit_code == 2
    assert "HARNESS_ALERT_URLS" in result.output
