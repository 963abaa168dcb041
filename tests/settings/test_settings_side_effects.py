"""Loading settings changes nothing outside the value it returns.

Endpoint providers are installed where the app is assembled (the CLI, ``build_app``),
and Apprise, a slow import, is loaded only once there is an alert URL to check or use.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.settings.config import load_settings
from harness.targets.endpoints import install_endpoints
from providers import PROVIDERS, unregister

ENDPOINT = """
[endpoints.sideeffect]
base_url = "http://127.0.0.1:9/v1"
models = ["m"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(ENDPOINT)
    return path


def test_loading_settings_registers_no_provider(config: Path) -> None:
    settings = load_settings(config)

    assert "sideeffect" in settings.endpoints
    assert "sideeffect" not in PROVIDERS


def test_installing_the_endpoints_registers_them(config: Path) -> None:
    settings = load_settings(config)
    try:
        install_endpoints(settings)
        assert "sideeffect" in PROVIDERS
    finally:
        unregister("sideeffect")


def _apprise_loaded(env: dict[str, str], tmp_path: Path) -> bool:
    """Whether a fresh interpreter that assembles the CLI, the pipeline and the web app
    and loads the settings has imported Apprise."""
    code = textwrap.dedent(
        """
        import sys
        import harness.cli.main, harness.pipeline.run, harness.web.app
        from harness.settings.config import load_settings
        load_settings()
        print("apprise" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() == "True"


def test_apprise_is_not_imported_without_alert_urls(tmp_path: Path) -> None:
    assert not _apprise_loaded({}, tmp_path)


def test_apprise_is_imported_to_check_an_alert_url(tmp_path: Path) -> None:
    assert _apprise_loaded({"HARNESS_ALERT_URLS": "json://127.0.0.1:9/hook"}, tmp_path)
