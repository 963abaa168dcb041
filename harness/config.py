"""Settings: defaults, then an optional ``harness.toml``, then command-line flags.

The file is validated once, when loaded; an error names the offending field
(``deadlines.total: Input should be greater than 0``). Unknown keys are errors, so
a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from providers import PROVIDERS
from providers.openai_compatible import NAME_PATTERN
from providers.registry import ProviderNameError, check_name
from providers.upstream import validate_base

from .connectivity import DEFAULT_NAMES
from .endpoints import install_endpoints
from .errors import ConfigError
from .g4f.settings import G4FSettings

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


class EndpointSettings(_Section):
    """An OpenAI-compatible endpoint to monitor (``[endpoints.NAME]``).

    The API key is never in the file: ``api_key_env`` names the environment variable
    that holds it. ``models`` is a list, or ``"discover"`` to probe what
    ``GET {base_url}/models`` lists (once per run, at most ``max_models`` of them).
    """

    base_url: str
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    models: tuple[str, ...] | Literal["discover"] = "discover"
    max_models: int | None = Field(None, ge=1)
    headers: dict[str, str] = {}
    max_tokens: int | None = Field(None, ge=1)

    @field_validator("base_url")
    @classmethod
    def _check_base(cls, value: str) -> str:
        validate_base(value)
        return value

    @field_validator("models")
    @classmethod
    def _some_models(
        cls, value: tuple[str, ...] | Literal["discover"]
    ) -> tuple[str, ...] | Literal["discover"]:
        if value != "discover" and (not value or not all(m.strip() for m in value)):
            raise ValueError('must be a non-empty list of model names, or "discover"')
        return value

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        if any(name.lower() == "authorization" for name in value):
            raise ValueError("put the key in the environment and name it in api_key_env")
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
    providers: dict[str, ProviderSettings] = {}
    endpoints: dict[str, EndpointSettings] = {}
    g4f: G4FSettings = G4FSettings()

    @field_validator("upstream")
    @classmethod
    def _check_upstream(cls, value: str | None) -> str | None:
        if value is not None:
            validate_base(value)
        return value

    @field_validator("endpoints")
    @classmethod
    def _endpoint_names(cls, value: dict[str, EndpointSettings]) -> dict[str, EndpointSettings]:
        for name in value:
            if not NAME_PATTERN.fullmatch(name):
                raise ValueError(
                    f"endpoint name {name!r} must be letters, digits, '_' or '-' (at most 64)"
                )
            try:
                check_name(name)
            except ProviderNameError as exc:
                raise ValueError(str(exc)) from None
        lowered = [name.lower() for name in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("endpoint names must differ in more than letter case")
        return value

    @model_validator(mode="after")
    def _known_providers(self) -> Settings:
        known = {*PROVIDERS, *self.endpoints}
        unknown = sorted(set(self.providers) - known)
        if unknown:
            raise ValueError(f"unknown provider(s) {unknown}; known: {sorted(known)}")
        return self

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

    ``$HARNESS_DATA_DIR`` sets the data directory when the file does not. The
    endpoints the file declares become registered providers (``harness.endpoints``).
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
    settings = _validate(data, str(file) if data else "defaults")
    install_endpoints(settings)
    return settings
