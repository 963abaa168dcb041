"""Every duration in ``harness.toml`` reads the one grammar; a plain number keeps its unit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.settings.config import Settings, load_settings

DURATION_FIELDS = [
    ("deadlines.connect", "1.5s", 1.5),
    ("deadlines.first_chunk", "1min", 60.0),
    ("deadlines.stall", "45s", 45.0),
    ("deadlines.total", "2m", 120.0),
    ("thresholds.slow_ttfc_ms", "8s", 8000.0),
    ("thresholds.flap_window_s", "2h", 7200.0),
    ("thresholds.flap_calm_s", "30m", 1800.0),
    ("objectives.max_ttfc", "30m", timedelta(minutes=30)),
    ("objectives.max_total", "1.5s", timedelta(seconds=1.5)),
    ("connectivity.timeout", "500ms", 0.5),
    ("serve.interval", "5min", 300.0),
    ("serve.jitter", "30s", 30.0),
    ("timing.lag_budget_ms", "0.005s", 5.0),
    ("retention_days", "12h", 0.5),
    ("alerts.remind_every", "90min", timedelta(minutes=90)),
    ("alerts.send_timeout", "10s", 10.0),
    ("g4f.load_timeout", "1d", 86400.0),
]


def settings_with(path: str, value: Any) -> Settings:
    *tables, name = path.split(".")
    data: dict[str, Any] = {name: value}
    for table in reversed(tables):
        data = {table: data}
    return Settings.model_validate(data)


def read(settings: Settings, path: str) -> Any:
    value: Any = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


@pytest.mark.parametrize(("path", "written", "expected"), DURATION_FIELDS)
def test_every_duration_field_reads_the_grammar(path: str, written: str, expected: Any) -> None:
    assert read(settings_with(path, written), path) == expected


@pytest.mark.parametrize(
    ("path", "written", "expected"),
    [
        ("deadlines.total", 90, 90.0),
        ("deadlines.total", "90", 90.0),
        ("thresholds.slow_ttfc_ms", 2500, 2500.0),
        ("timing.lag_budget_ms", "5", 5.0),
        ("retention_days", 30, 30.0),
        ("objectives.max_ttfc", 2, timedelta(seconds=2)),
        ("alerts.remind_every", "0", timedelta(0)),
    ],
)
def test_a_plain_number_is_in_the_unit_the_field_is_documented_in(
    path: str, written: str | int, expected: Any
) -> None:
    assert read(settings_with(path, written), path) == expected


@pytest.mark.parametrize("path", [path for path, _, _ in DURATION_FIELDS])
def test_a_bad_duration_is_refused_naming_the_field_and_the_grammar(
    tmp_path: Path, path: str
) -> None:
    *tables, name = path.split(".")
    config = tmp_path / "harness.toml"
    config.write_text(
        (f"[{'.'.join(tables)}]\n" if tables else "") + f'{name} = "soon"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert f"{path}: expected a duration such as 500ms" in str(caught.value)


def test_a_duration_survives_command_line_overrides() -> None:
    settings = settings_with("thresholds.slow_ttfc_ms", "2.5s")
    assert settings.with_overrides(concurrency=2).thresholds.slow_ttfc_ms == 2500.0
