"""Settings: defaults, then an optional ``harness.toml``, then command-line flags.

The file is validated once, when loaded; an error names the offending field
(``deadlines.total: Input should be greater than 0``). Unknown keys are errors, so
a typo never silently falls back to a default. Every duration reads the grammar of
:mod:`harness.durations` (``"1.5s"``, ``"2min"``; a plain number in the field's unit).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.durations import Days, Duration, Milliseconds, Seconds, parse_duration
from harness.errors import ConfigError, StoreError
from harness.policy.objectives import REGRESSION_WINDOW
from harness.policy.retention import DEFAULT_HOURLY, DEFAULT_RAW, Retention
from harness.probing.connectivity import DEFAULT_NAMES
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.settings.alerts import AlertSettings
from harness.settings.fields import BaseUrl, EnvName, FieldConflict, Section
from harness.settings.g4f import G4FSettings
from harness.settings.tiers import TierSettings, check_tier_names, merged_tiers
from harness.store import check_location
from providers import PROVIDERS
from providers.endpoint import NAME_PATTERN
from providers.errors import ModelNotSupportedError
from providers.flags import DATA_DIR_ENV, DEFAULT_DATA_DIR
from providers.registry import ProviderNameError, check_name

CONFIG_ENV = "HARNESS_CONFIG"
DEFAULT_CONFIG_FILE = "harness.toml"


class DeadlineSettings(Section):
    """Per-probe limits: durations, plain numbers in seconds (``max_chars`` in characters).

    No phase (``connect``, ``first_chunk``, ``stall``) may be given longer than ``total``;
    one not given is at most ``total``.
    """

    connect: Seconds = Field(10.0, gt=0)
    first_chunk: Seconds = Field(30.0, gt=0)
    stall: Seconds = Field(30.0, gt=0)
    total: Seconds = Field(120.0, gt=0)
    max_chars: int = Field(1_000_000, gt=0)

    @model_validator(mode="after")
    def _within_total(self) -> DeadlineSettings:
        # A phase's deadline beyond the whole probe's could never fire: the total would
        # always cut the probe first, and its failure be named for the wrong phase. One
        # written so is refused; one left at its default is shortened to the total.
        for name in ("connect", "first_chunk", "stall"):
            if getattr(self, name) <= self.total:
                continue
            if name not in self.model_fields_set:
                object.__setattr__(self, name, self.total)  # frozen: set while validating
            else:
                raise FieldConflict(
                    name,
                    f"{_seconds(getattr(self, name))} is longer than deadlines.total "
                    f"({_seconds(self.total)}): it could never fire",
                )
        return self


class ThresholdSettings(Section):
    """Status policy thresholds (see design.md, "Status policy")."""

    down_after: int = Field(3, ge=1)
    up_after: int = Field(2, ge=1)
    slow_ttfc_ms: Milliseconds = Field(8000.0, gt=0)
    flap_window_s: Seconds = Field(3600.0, gt=0)
    flap_changes: int = Field(4, ge=2)
    flap_calm_s: Seconds = Field(3600.0, gt=0)

    @model_validator(mode="after")
    def _calm_within_window(self) -> ThresholdSettings:
        # Calm is judged from the change times kept for the flap window (policy.status).
        if self.flap_calm_s > self.flap_window_s:
            raise FieldConflict(
                "flap_calm_s",
                f"{_seconds(self.flap_calm_s)} is longer than thresholds.flap_window_s "
                f"({_seconds(self.flap_window_s)}); calm is judged within that window",
            )
        return self


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


Tiers = Annotated[dict[str, TierSettings], AfterValidator(check_tier_names)]
"""``tiers.NAME`` tables (see :mod:`harness.settings.tiers`)."""


class ServeSettings(Section):
    """``harness serve``: each target's period (``interval``), the spread of their phases
    (``jitter``: first runs only), the tiers of prompts probed on periods of their own,
    and the most its planned probes may cost a day."""

    interval: Seconds = Field(300.0, gt=0)
    jitter: Seconds = Field(30.0, ge=0)
    tiers: Tiers = Field(default_factory=dict)
    max_cost_per_day: float | None = Field(None, gt=0)
    """``serve`` refuses a schedule that ``harness plan`` prices above this (money per day)."""

    @model_validator(mode="after")
    def _tiers_apart(self) -> ServeSettings:
        merged_tiers(self.tiers, {}, self.interval)
        return self

    @model_validator(mode="after")
    def _jitter_within_interval(self) -> ServeSettings:
        # Jitter spreads runs within one interval: written longer it is refused, left at
        # its default it is shortened to the interval.
        if self.jitter <= self.interval:
            return self
        if "jitter" not in self.model_fields_set:
            object.__setattr__(self, "jitter", self.interval)  # frozen: set while validating
        else:
            raise FieldConflict(
                "jitter",
                f"{_seconds(self.jitter)} is longer than serve.interval "
                f"({_seconds(self.interval)}): runs would be spread past the next one",
            )
        return self


FOREVER = "forever"
"""How a retention tier that is never cut is written."""


def _kept(value: Any) -> Any:
    """A retention span: ``forever`` (None), or a duration in which a plain number is days."""
    if isinstance(value, str) and value.strip().lower() == FOREVER:
        return None
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a duration such as 14d or 400d, or {FOREVER!r}")
    span = parse_duration(value, plain="d")
    if span <= timedelta(0):
        raise ValueError(f"must be longer than zero (or {FOREVER!r}), not {value!r}")
    return span


Kept = Annotated[timedelta | None, BeforeValidator(_kept)]
"""How long a retention tier is kept: a duration (a plain number is days), None forever."""


class RetentionSettings(Section):
    """``[retention]``: how long raw results, hourly rollups and daily rollups are kept
    (see harness.policy.retention); ``"forever"`` keeps a tier for good."""

    raw: Kept = DEFAULT_RAW
    hourly: Kept = DEFAULT_HOURLY
    daily: Kept = None

    @model_validator(mode="after")
    def _tiers_in_order(self) -> RetentionSettings:
        # Each tier is built from the one before it; a tier cut sooner than the one it
        # summarises would leave a gap between them.
        for shorter, longer in (("raw", "hourly"), ("hourly", "daily")):
            a, b = getattr(self, shorter), getattr(self, longer)
            if b is not None and (a is None or a > b):
                raise FieldConflict(
                    longer,
                    f"{_span(b)} keeps less than retention.{shorter} ({_span(a)}): "
                    "each tier must be kept at least as long as the one before it",
                )
        return self

    @property
    def tiers(self) -> Retention:
        """These spans as the policy's value."""
        return Retention(raw=self.raw, hourly=self.hourly, daily=self.daily)


def _span(span: timedelta | None) -> str:
    if span is None:
        return FOREVER
    return f"{span / timedelta(days=1):g} days"


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
    """Per-provider switches: enabled, a base URL standing in for its hosts, a proxy,
    models, and its own probe tiers."""

    enabled: bool = True
    base_url: BaseUrl | None = None
    proxy: str | None = None
    models: tuple[str, ...] | None = None
    tiers: Tiers = Field(default_factory=dict)


_KEY_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})
"""Headers that carry an API key: never in the file."""


class EndpointSettings(Section):
    """An endpoint to monitor (``[endpoints.NAME]``), speaking ``protocol``: the OpenAI
    chat-completions API (the default), Anthropic's Messages API or Google's Gemini API.

    The API key is never in the file: ``api_key_env`` names the environment variable
    that holds it. ``models`` is a list, or ``"discover"`` to probe what
    ``GET {base_url}/models`` lists (once per run, at most ``max_models`` of them).
    ``include_thoughts`` (Gemini only) asks thinking models to stream their thoughts.
    ``price_in`` / ``price_out`` price its tokens, per million (see ``harness plan``).
    """

    base_url: BaseUrl
    protocol: Literal["openai", "anthropic", "gemini"] = "openai"
    include_thoughts: bool = False
    api_key_env: EnvName | None = None
    models: tuple[str, ...] | Literal["discover"] = "discover"
    max_models: int | None = Field(None, ge=1)
    headers: dict[str, str] = Field(default_factory=dict)
    max_tokens: int | None = Field(None, ge=1)
    price_in: float | None = Field(None, ge=0)
    """Money per million prompt tokens (``harness plan``, the page's cost per day)."""
    price_out: float | None = Field(None, ge=0)
    """Money per million completion tokens."""
    tiers: Tiers = Field(default_factory=dict)

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
            raise FieldConflict("include_thoughts", 'applies to protocol = "gemini" only')
        return self

    @model_validator(mode="after")
    def _cap_on_discovery_only(self) -> EndpointSettings:
        if self.max_models is not None and self.models != "discover":
            raise FieldConflict(
                "max_models",
                'caps discovered models only: it needs models = "discover", '
                "not a list (leave the list shorter instead)",
            )
        return self


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _store_location(value: str | None) -> str | None:
    if value is not None:
        try:
            check_location(value)
        except StoreError as exc:
            raise ValueError(str(exc)) from None
    return value


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
    store: Annotated[str | None, AfterValidator(_store_location)] = None
    vantage: str | None = None
    concurrency: Annotated[int | Literal["auto"], BeforeValidator(_concurrency)] = 16
    """Probes in flight in all, or ``auto`` (adapt to the event loop's lag)."""
    per_provider: int = Field(4, ge=1, le=10_000)
    prompts: tuple[str, ...] = ("ping",)
    retention_days: Days | None = Field(None, gt=0)
    """Deprecated: read as ``[retention]`` (see :attr:`kept`)."""
    retention: RetentionSettings | None = None
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
            raise FieldConflict(
                f"providers.{_key(unknown[0])}",
                f"unknown provider(s) {unknown}; known: {sorted(known)}",
            )
        for key in self.objectives.targets:
            try:
                self._check_objective_target(key, known)
            except ValueError as exc:
                raise FieldConflict(f"objectives.{_key(key)}", str(exc)) from None
        return self

    @model_validator(mode="after")
    def _tiers_of_targets(self) -> Settings:
        # Each target's tiers are the shared ones with its own over them: checked merged,
        # so a prompt moved into a target's tier but still in a shared one is caught.
        for table, targets in (("endpoints", self.endpoints), ("providers", self.providers)):
            for name, target in targets.items():
                if not target.tiers:
                    continue
                endpoint = self.endpoints.get(name)
                if table == "providers" and endpoint is not None and endpoint.tiers:
                    raise FieldConflict(
                        f"providers.{name}.tiers",
                        f"endpoint {name!r} has tiers in endpoints.{name}.tiers: "
                        "keep them in one table",
                    )
                where = f"{table}.{name}.tiers"
                merged_tiers(self.serve.tiers, target.tiers, self.serve.interval, where)
        return self

    @model_validator(mode="after")
    def _one_retention(self) -> Settings:
        if self.retention_days is not None and self.retention is not None:
            raise FieldConflict(
                "retention_days",
                "is replaced by [retention]; give [retention] alone (raw, hourly, daily)",
            )
        return self

    @property
    def kept(self) -> Retention:
        """The retention tiers in force. The deprecated ``retention_days = N`` kept
        everything N days; it is read as ``raw = N`` with the rollups kept at least as
        long as before (``hourly`` the longer of N and its default, ``daily`` forever)."""
        if self.retention_days is not None:
            days = timedelta(days=self.retention_days)
            return Retention(raw=days, hourly=max(days, DEFAULT_HOURLY), daily=None)
        return (self.retention or RetentionSettings()).tiers

    @property
    def deprecations(self) -> list[str]:
        """One line for each deprecated setting used, saying what it is read as."""
        if self.retention_days is None:
            return []
        kept = self.kept
        return [
            f"warning: retention_days is deprecated; read as [retention] raw = "
            f'"{_span(kept.raw)}", hourly = "{_span(kept.hourly)}", daily = "{FOREVER}"'
        ]

    @model_validator(mode="after")
    def _history_for_regressions(self) -> Settings:
        # A regression is measured against the target's own history of the regression
        # window, which pruning would cut short; min_history says how much of it is
        # needed, so it means nothing without a regression objective.
        defaults, targets = self.objectives, self.objectives.targets
        tables = [("objectives", "", defaults)] + [
            (f"objectives.{_key(key)}", key, table) for key, table in targets.items()
        ]
        window_days = REGRESSION_WINDOW.total_seconds() / 86400
        for where, key, table in tables:
            # Tables overlay: "Provider/model" over "Provider" over the defaults.
            over = [table, targets.get(key.partition("/")[0]), defaults]
            regression = next((t.regression for t in over if t and t.regression), None)
            if table.min_history is not None and regression is None:
                raise FieldConflict(
                    f"{where}.min_history",
                    "counts the passes a regression objective needs: set regression too",
                )
            if table.regression is not None and not self.kept.keeps_raw(REGRESSION_WINDOW):
                # The baseline is read from the raw results (its newest passes).
                raise FieldConflict(
                    "retention_days" if self.retention_days is not None else "retention.raw",
                    f"{_span(self.kept.raw)} keep less than the {window_days:g}-day "
                    f"history that {where}.regression is measured against",
                )
        return self

    def _check_objective_target(self, key: str, known: set[str]) -> None:
        """An ``[objectives."Provider/model"]`` key must name a known target; endpoints
        (registered only after validation) are checked against their configured models."""
        name, _, model = key.partition("/")
        if name not in known:
            names = ", ".join(sorted(known))
            raise ValueError(f"unknown provider {name!r}; known: {names}")
        if not model:
            return
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            listed = endpoint.models if isinstance(endpoint.models, tuple | list) else None
            if listed is not None and model not in listed:
                raise ValueError(f"unknown model {model!r}; known: {', '.join(listed)}")
            return
        try:
            PROVIDERS[name].resolve_model(model)
        except ModelNotSupportedError:
            models = ", ".join(PROVIDERS[name].all_models())
            raise ValueError(f"unknown model {model!r}; known: {models}") from None

    def provider(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (defaults when the file says nothing)."""
        return self.providers.get(name, ProviderSettings())

    @property
    def store_url(self) -> str:
        """Where live results live: ``store`` if set, else ``harness.db`` in the data
        directory (sandbox and replay results: see :mod:`harness.targets.sources`)."""
        return self.store or str(self.data_dir / "harness.db")

    def every(self, interval: float) -> Settings:
        """A copy whose default period is ``interval`` seconds (``serve --interval``), its
        tiers kept; the jitter is shortened to it (phases spread within one period)."""
        serve = self.serve.model_dump()
        serve.update(interval=interval, jitter=min(self.serve.jitter, interval))
        return self.with_overrides(serve=serve)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with command-line values applied (``None`` values are ignored), revalidated."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return _validate(data, "command line")


def _format(error: ValidationError) -> str:
    """Every problem as ``dotted.field: what is wrong``, on one line."""
    lines = []
    for item in error.errors():
        loc = [_key(str(part)) for part in item["loc"]]
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, FieldConflict):
            loc.append(cause.field)
            message = cause.message
        elif item["type"] == "extra_forbidden":
            message = _unknown_key(item["loc"])
        elif item["type"] == "value_error" and cause is not None:
            message = str(cause)  # the validator's own words, without pydantic's prefix
        else:
            message = item["msg"]
        lines.append(f"{'.'.join(loc) or '(top level)'}: {message}")
    return " ".join("; ".join(lines).split())


def _key(part: str) -> str:
    """A key as TOML writes it: bare when it may be, else quoted (escapes and all)."""
    return part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part, ensure_ascii=False)


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """What to say of an unknown key at ``loc``: the keys its table knows, the closest first."""
    known = _keys_at(Settings, [str(part) for part in loc[:-1]])
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known: {', '.join(known)}"


def _keys_at(annotation: Any, path: list[str]) -> list[str] | None:
    """The keys of the table at ``path`` below a settings model (None where there is no
    such table): walked through the models' fields, so every new field is known here."""
    while True:
        annotation = _table_type(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not path:
                return list(annotation.model_fields)
            field = annotation.model_fields.get(path[0])
            if field is not None:
                annotation = field.annotation
            elif annotation.model_config.get("extra") == "allow":
                # The model's extra keys are tables of the type its extras are declared as.
                annotation = get_type_hints(annotation).get("__pydantic_extra__")
                continue
            else:
                return None
        elif get_origin(annotation) is dict and path:
            annotation = get_args(annotation)[1]
        else:
            return None
        path = path[1:]


def _table_type(annotation: Any) -> Any:
    """A model or mapping inside ``X | None`` (the type itself otherwise)."""
    if get_origin(annotation) in (Union, UnionType):
        for arg in get_args(annotation):
            if get_origin(arg) is dict or (isinstance(arg, type) and issubclass(arg, BaseModel)):
                return arg
    return annotation


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration in {origin}: {_format(exc)}") from None
    except RecursionError:
        raise ConfigError(f"invalid configuration in {origin}: values nested too deeply") from None


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
        except RecursionError:
            raise ConfigError(f"{file} is not valid TOML: nested too deeply") from None
    if "data_dir" not in data and os.environ.get(DATA_DIR_ENV):
        data["data_dir"] = os.environ[DATA_DIR_ENV]
    return _validate(data, str(file) if data else "defaults")
