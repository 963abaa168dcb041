"""Settings: defaults, then an optional ``harness.toml``, then command-line flags.

The file is validated once, when loaded; an error names the offending field
(``deadlines.total: Input should be greater than 0``). Unknown keys are errors, so
a typo never silently falls back to a default. Every duration reads the grammar of
:mod:`harness.durations` (``"1.5s"``, ``"2min"``; a plain number in the field's unit).
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.durations import Days, Duration, Milliseconds, Seconds
from harness.errors import ConfigError
from harness.probing.connectivity import DEFAULT_NAMES
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.settings.alerts import AlertSettings
from harness.settings.fields import BaseUrl, EnvName, Section
from harness.settings.g4f import G4FSettings
from providers import PROVIDERS
from providers.endpoint import NAME_PATTERN
from providers.errors import ModelNotSupportedError
from providers.flags import DATA_DIR_ENV, DEFAULT_DATA_DIR
from providers.registry import ProviderNameError, check_name

CONFIG_ENV = "HARNESS_CONFIG"
DEFAULT_CONFIG_FILE = "harness.toml"


class DeadlineSettings(Section):
    """Per-probe limits: durations, plain numbers in seconds (``max_chars`` in characters)."""

    connect: Seconds = Field(10.0, gt=0)
    first_chunk: Seconds = Field(30.0, gt=0)
    stall: Seconds = Field(30.0, gt=0)
    total: Seconds = Field(120.0, gt=0)
    max_chars: int = Field(1_000_000, gt=0)


class ThresholdSettings(Section):
    """Status policy thresholds (see design.md, "Status policy")."""

    down_after: int = Field(3, ge=1)
    up_after: int = Field(2, ge=1)
    slow_ttfc_ms: Milliseconds = Field(8000.0, gt=0)
    flap_window_s: Seconds = Field(3600.0, gt=0)
    flap_changes: int = Field(4, ge=2)
    flap_calm_s: Seconds = Field(3600.0, gt=0)


class ObjectiveFields(Section):
    """The latency objectives of one target (see :mod:`harness.policy.objectives`)."""

    max_ttfc: Duration | None = None
    max_ttft: Duration | None = None
    max_total: Duration | None = None
    min_chars_per_s: float | None = Field(None, gt=0)
    min_tokens_per_s: float | None = Field(None, gt=0)
    regression: float | None = Field(None, gt=1)
    min_history: int | None = Field(None, ge=1)

    @field_validator("max_ttfc", "max_ttft", "max_total")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    def objective_fields(self) -> dict[str, Any]:
        """The fields of :class:`harness.policy.objectives.Objectives` this table sets."""
        as_ms = {"max_ttfc": "max_ttfc_ms", "max_ttft": "max_ttft_ms", "max_total": "max_total_ms"}
        values: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                values[as_ms.get(name, name)] = (
                    value.total_seconds() * 1000 if isinstance(value, timedelta) else value
                )
        return values


class ObjectiveSettings(ObjectiveFields):
    """``[objectives]``: defaults for every target; a sub-table ``"Provider"`` or
    ``"Provider/model"`` (a model alias is fine) overrides them for those targets."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, ObjectiveFields] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_objective(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if key not in cls.model_fields and not isinstance(value, dict | ObjectiveFields):
                    raise ValueError(
                        f"unknown objective {key!r}; known: {', '.join(cls.model_fields)} "
                        '(per-target tables are written [objectives."Provider/model"])'
                    )
        return data

    @property
    def targets(self) -> dict[str, ObjectiveFields]:
        """The per-target tables, by their key as written."""
        return dict(self.__pydantic_extra__ or {})


class ConnectivitySettings(Section):
    """How the harness decides that its own host is offline (name resolution only)."""

    enabled: bool = True
    names: tuple[str, ...] = DEFAULT_NAMES
    timeout: Seconds = Field(2.0, gt=0)


class ServeSettings(Section):
    """``harness serve``: probing interval and the jitter spread over providers."""

    interval: Seconds = Field(300.0, gt=0)
    jitter: Seconds = Field(30.0, ge=0)


class TimingSettings(Section):
    """How far the harness trusts its own timings (see harness.probing.looplag).

    A result whose event-loop lag around the first chunk exceeded ``lag_budget_ms`` is
    timing-suspect: it counts for pass/fail, but latency percentiles leave it out;
    ``--concurrency auto`` keeps the lag under this budget.
    """

    lag_budget_ms: Milliseconds = Field(DEFAULT_BUDGET_MS, gt=0)


class ConsensusSettings(Section):
    """Several vantages on one store: how many voting vantages must see a target down
    for it to show down (default: a majority of those that reported lately)."""

    quorum: int | None = Field(None, ge=1)


class ProviderSettings(Section):
    """Per-provider switches: enabled, a base URL standing in for its hosts, a proxy, models."""

    enabled: bool = True
    base_url: BaseUrl | None = None
    proxy: str | None = None
    models: tuple[str, ...] | None = None


_KEY_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})
"""Headers that carry an API key: never in the file."""


class EndpointSettings(Section):
    """An endpoint to monitor (``[endpoints.NAME]``), speaking ``protocol``: the OpenAI
    chat-completions API (the default), Anthropic's Messages API or Google's Gemini API.

    The API key is never in the file: ``api_key_env`` names the environment variable
    that holds it. ``models`` is a list, or ``"discover"`` to probe what
    ``GET {base_url}/models`` lists (once per run, at most ``max_models`` of them).
    ``include_thoughts`` (Gemini only) asks thinking models to stream their thoughts.
    """

    base_url: BaseUrl
    protocol: Literal["openai", "anthropic", "gemini"] = "openai"
    include_thoughts: bool = False
    api_key_env: EnvName | None = None
    models: tuple[str, ...] | Literal["discover"] = "discover"
    max_models: int | None = Field(None, ge=1)
    headers: dict[str, str] = Field(default_factory=dict)
    max_tokens: int | None = Field(None, ge=1)

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
        if any(name.lower() in _KEY_HEADERS for name in value):
            raise ValueError("put the key in the environment and name it in api_key_env")
        return value

    @model_validator(mode="after")
    def _thoughts_of_gemini(self) -> EndpointSettings:
        if self.include_thoughts and self.protocol != "gemini":
            raise ValueError('include_thoughts applies to protocol = "gemini" only')
        return self


MAX_CONCURRENCY = 10_000


def _concurrency(value: Any) -> Any:
    """A whole number of probes in flight, or ``auto`` (one clear message for either)."""
    if value == "auto" or (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CONCURRENCY
    ):
        return value
    raise PydanticCustomError(
        "concurrency",
        f"Input should be a valid integer from 1 to {MAX_CONCURRENCY}, or 'auto'",
    )


class Settings(Section):
    """Everything configurable, with defaults that work on a fresh machine."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    store: str | None = None
    vantage: str | None = None
    concurrency: Annotated[int | Literal["auto"], BeforeValidator(_concurrency)] = 16
    """Probes in flight in all, or ``auto`` (adapt to the event loop's lag)."""
    per_provider: int = Field(4, ge=1, le=10_000)
    prompts: tuple[str, ...] = ("ping",)
    retention_days: Days = Field(90.0, gt=0)
    upstream: BaseUrl | None = None
    secrets: tuple[str, ...] = ()
    deadlines: DeadlineSettings = DeadlineSettings()
    thresholds: ThresholdSettings = ThresholdSettings()
    objectives: ObjectiveSettings = ObjectiveSettings()
    connectivity: ConnectivitySettings = ConnectivitySettings()
    serve: ServeSettings = ServeSettings()
    consensus: ConsensusSettings = ConsensusSettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    # Validated on every load (the default too): the environment may name bad URLs.
    alerts: AlertSettings = Field(
        default_factory=AlertSettings.model_construct, validate_default=True
    )
    endpoints: dict[str, EndpointSettings] = Field(default_factory=dict)
    timing: TimingSettings = TimingSettings()
    g4f: G4FSettings = G4FSettings()

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
        for key in self.objectives.targets:
            self._check_objective_target(key, known)
        return self

    def _check_objective_target(self, key: str, known: set[str]) -> None:
        """An ``[objectives."Provider/model"]`` key must name a known target; endpoints
        (registered only after validation) are checked against their configured models."""
        name, _, model = key.partition("/")
        if name not in known:
            names = ", ".join(sorted(known))
            raise ValueError(f'[objectives."{key}"]: unknown provider {name!r}; known: {names}')
        if not model:
            return
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            listed = endpoint.models if isinstance(endpoint.models, tuple | list) else None
            if listed is not None and model not in listed:
                raise ValueError(
                    f'[objectives."{key}"]: unknown model {model!r}; known: {", ".join(listed)}'
                )
            return
        try:
            PROVIDERS[name].resolve_model(model)
        except ModelNotSupportedError:
            models = ", ".join(PROVIDERS[name].all_models())
            raise ValueError(
                f'[objectives."{key}"]: unknown model {model!r}; known: {models}'
            ) from None

    def provider(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (defaults when the file says nothing)."""
        return self.providers.get(name, ProviderSettings())

    @property
    def store_url(self) -> str:
        """Where live results live: ``store`` if set, else ``harness.db`` in the data
        directory (sandbox and replay results: see :mod:`harness.targets.sources`)."""
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

    ``$HARNESS_DATA_DIR`` sets the data directory when the file does not. Loading has no
    side effects: the caller installs the endpoints the file declares
    (:func:`harness.targets.endpoints.install_endpoints`).
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
