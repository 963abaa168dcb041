"""Settings: defaults, then an optional ``harness.toml``, then command-line flags.

The file is validated once, when loaded; an error names the offending field
(``deadlines.total: Input should be greater than 0``). Unknown keys are errors, so
a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from providers import PROVIDERS
from providers.upstream import validate_base

from .connectivity import DEFAULT_NAMES
from .errors import ConfigError

CONFIG_ENV = "HARNESS_CONFIG"
DEFAULT_CONFIG_FILE = "harness.toml"
DATA_DIR_ENV = "HARNESS_DATA_DIR"
DEFAULT_DATA_DIR = ".harness"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineSettings(_Section):
    """Per-probe limits, in seconds (``max_chars`` in characters of text)."""

    connect: float = Field(10.0, gt=0)
    first_chunk: float = Field(30.0, gt=0)
    stall: float = Field(30.0, gt=0)
    total: float = Field(120.0, gt=0)
    max_chars: int = Field(1_000_000, gt=0)


class ThresholdSettings(_Section):
    """Status policy thresholds (see design.md, "Status policy")."""

    down_after: int = Field(3, ge=1)
    up_after: int = Field(2, ge=1)
    slow_ttfc_ms: float = Field(8000.0, gt=0)
    flap_window_s: float = Field(3600.0, gt=0)
    flap_changes: int = Field(4, ge=2)
    flap_calm_s: float = Field(3600.0, gt=0)


class ConnectivitySettings(_Section):
    """How the harness decides that its own host is offline (name resolution only)."""

    enabled: bool = True
    names: tuple[str, ...] = DEFAULT_NAMES
    timeout: float = Field(2.0, gt=0)


class ServeSettings(_Section):
    """``harness serve``: probing interval and the jitter spread over providers."""

    interval: float = Field(300.0, gt=0)
    jitter: float = Field(30.0, ge=0)


class ConsensusSettings(_Section):
    """Several vantages on one store: how many voting vantages must see a target down
    for it to show down (default: a majority of those that reported lately)."""

    quorum: int | None = Field(None, ge=1)


class ProviderSettings(_Section):
    """Per-provider switches: enabled, a base URL standing in for its hosts, a proxy, models."""

    enabled: bool = True
    base_url: str | None = None
    proxy: str | None = None
    models: tuple[str, ...] | None = None

    @field_validator("base_url")
    @classmethod
    def _check_base(cls, value: str | None) -> str | None:
        if value is not None:
            validate_base(value)
        return value


class Settings(_Section):
    """Everything configurable, with defaults that work on a fresh machine."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    store: str | None = None
    vantage: str | None = None
    concurrency: int = Field(16, ge=1, le=10_000)
    per_provider: int = Field(4, ge=1, le=10_000)
    prompts: tuple[str, ...] = ("ping",)
    retention_days: float = Field(90.0, gt=0)
    upstream: str | None = None
    secrets: tuple[str, ...] = ()
    deadlines: DeadlineSettings = DeadlineSettings()
    thresholds: ThresholdSettings = ThresholdSettings()
    connectivity: ConnectivitySettings = ConnectivitySettings()
    serve: ServeSettings = ServeSettings()
    consensus: ConsensusSettings = ConsensusSettings()
    providers: dict[str, ProviderSettings] = {}

    @field_validator("upstream")
    @classmethod
    def _check_upstream(cls, value: str | None) -> str | None:
        if value is not None:
            validate_base(value)
        return value

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: dict[str, ProviderSettings]) -> dict[str, ProviderSettings]:
        unknown = sorted(set(value) - set(PROVIDERS))
        if unknown:
            raise ValueError(f"unknown provider(s) {unknown}; known: {sorted(PROVIDERS)}")
        return value

    def provider(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (defaults when the file says nothing)."""
        return self.providers.get(name, ProviderSettings())

    @property
    def store_url(self) -> str:
        """Where results live: ``store`` if set, else ``harness.db`` in the data directory."""
        return self.store or str(self.data_dir / "harness.db")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with command-line values applied (``None`` values are ignored), revalidated."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return _validate(data, "command line")


def _format(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{field}: {item['msg']}")
    return "; ".join(lines)


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration in {origin}: {_format(exc)}") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from ``path``, else ``$HARNESS_CONFIG``, else ``./harness.toml`` if present.

    ``$HARNESS_DATA_DIR`` sets the data directory when the file does not.
    """
    explicit = path or os.environ.get(CONFIG_ENV)
    file = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if explicit or file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read configuration file {file}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    if "data_dir" not in data and os.environ.get(DATA_DIR_ENV):
        data["data_dir"] = os.environ[DATA_DIR_ENV]
    return _validate(data, str(file) if data else "defaults")
