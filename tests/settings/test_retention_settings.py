"""``[retention]``: the three tiers, their one duration grammar, ``forever``, and the
deprecated ``retention_days`` read as tiers with a warning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from harness.cli.main import main
from harness.errors import ConfigError
from harness.policy.retention import Retention
from harness.settings.config import Settings, load_settings

DAY = timedelta(days=1)


def settings_of(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "harness.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config)


def test_the_default_tiers_are_14_days_400_days_and_forever() -> None:
    assert Settings().kept == Retention(raw=14 * DAY, hourly=400 * DAY, daily=None)


def test_tiers_read_the_duration_grammar_and_forever(tmp_path: Path) -> None:
    kept = settings_of(tmp_path, '[retention]\nraw = "36h"\nhourly = 90\ndaily = "Forever"\n').kept
    assert kept == Retention(raw=1.5 * DAY, hourly=90 * DAY, daily=None)


def test_a_tier_may_be_kept_forever_when_those_after_it_are_too(tmp_path: Path) -> None:
    kept = settings_of(tmp_path, '[retention]\nhourly = "forever"\n').kept
    assert kept == Retention(raw=14 * DAY, hourly=None, daily=None)


def test_a_daily_tier_shorter_than_forever_must_outlast_the_hours(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"retention\.daily: 30 days keeps less"):
        settings_of(tmp_path, '[retention]\ndaily = "30d"\n')


def test_a_zero_tier_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"retention\.raw: must be longer than zero"):
        settings_of(tmp_path, "[retention]\nraw = 0\n")


def test_retention_days_is_read_as_raw_with_the_rollups_kept_at_least_as_long(
    tmp_path: Path,
) -> None:
    assert settings_of(tmp_path, "retention_days = 30\n").kept == Retention(
        raw=30 * DAY, hourly=400 * DAY, daily=None
    )
    assert settings_of(tmp_path, 'retention_days = "500d"\n').kept == Retention(
        raw=500 * DAY, hourly=500 * DAY, daily=None
    )


def test_retention_days_says_it_is_deprecated_and_what_it_is_read_as(tmp_path: Path) -> None:
    (line,) = settings_of(tmp_path, "retention_days = 30\n").deprecations
    assert line == (
        'warning: retention_days is deprecated; read as [retention] raw = "30 days", '
        'hourly = "400 days", daily = "forever"'
    )
    assert settings_of(tmp_path, '[retention]\nraw = "30d"\n').deprecations == []


def test_the_deprecation_line_goes_to_stderr(tmp_path: Path) -> None:
    config = tmp_path / "harness.toml"
    config.write_text("retention_days = 30\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--config", str(config), "--data-dir", str(tmp_path / "data"), "list"]
    )
    assert result.exit_code == 0, result.output
    assert "retention_days is deprecated" in result.stderr
    assert "deprecated" not in result.stdout


def test_overrides_keep_the_retention_as_loaded(tmp_path: Path) -> None:
    loaded = settings_of(tmp_path, "retention_days = 30\n")
    assert loaded.with_overrides(data_dir=tmp_path).kept == loaded.kept
    tiers = settings_of(tmp_path, '[retention]\nraw = "3d"\n')
    assert tiers.with_overrides(data_dir=tmp_path).kept == tiers.kept


@given(
    raw=st.integers(1, 1000),
    more=st.integers(0, 1000),
    daily=st.one_of(st.none(), st.integers(0, 1000)),
)
def test_tiers_in_order_load_as_written(raw: int, more: int, daily: int | None) -> None:
    table = {"raw": f"{raw}d", "hourly": f"{raw + more}d"}
    if daily is not None:
        table["daily"] = f"{raw + more + daily}d"
    kept = Settings.model_validate({"retention": table}).kept
    assert kept.raw == raw * DAY
    assert kept.hourly == (raw + more) * DAY
    assert kept.daily == (None if daily is None else (raw + more + daily) * DAY)
