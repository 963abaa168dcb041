"""Faults the emulators inject into a provider's chat requests, and their parsing.

A :class:`FaultSpec` names one :class:`Fault` mode plus a latency profile; a
:class:`FaultBoard` holds the spec in force per provider (optionally for the next
``times`` chat requests only). ``parse_fault`` reads the command-line form
``PROVIDER=MODE[:ARG]``.

Fault names: each seed provider's name (any letter case); :data:`OPENAI` for the
OpenAI-compatible routes (``/v1/chat/completions``), :data:`ANTHROPIC` for the
Anthropic Messages routes (``/v1/messages``), :data:`GEMINI` for the Gemini routes
(``/v1beta/models/...``); and the names of the endpoints the emulator was told about
(``endpoints=``), each served under ``/NAME/...`` in every protocol (see
:mod:`harness.emulator.openai`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

PROVIDERS = ("RobocodersAPI", "AiChatOnline", "AutonomousAI", "CodeLinkAva")
"""The emulated upstreams, by the name of the provider class that talks to each."""

OPENAI = "openai"
"""The fault name of the OpenAI-compatible routes (``/v1/chat/completions``, ``/v1/models``)."""
ANTHROPIC = "anthropic"
"""The fault name of the Anthropic Messages routes (``/v1/messages``)."""
GEMINI = "gemini"
"""The fault name of the Gemini routes (``/v1beta/models/...``)."""
APIS = (OPENAI, ANTHROPIC, GEMINI)
"""The API protocols the emulator speaks, by their fault names."""


class Fault(StrEnum):
    """How a chat request goes wrong (``none``: it does not)."""

    none = "none"
    first_chunk_delay = "first_chunk_delay"
    chunk_delay = "chunk_delay"
    hang_headers = "hang_headers"
    hang_mid_stream = "hang_mid_stream"
    reset_mid_stream = "reset_mid_stream"
    http_429 = "http_429"
    http_500 = "http_500"
    http_502 = "http_502"
    http_503 = "http_503"
    cloudflare_403 = "cloudflare_403"
    http_401 = "http_401"
    garbage = "garbage"
    empty_200 = "empty_200"
    invalid_utf8 = "invalid_utf8"
    endless = "endless"
    wrong_answer = "wrong_answer"
    resource_limit = "resource_limit"
    huge_line = "huge_line"
    changed_framing = "changed_framing"
    stream_error = "stream_error"
    overloaded = "overloaded"
    safety_block = "safety_block"


ONLY_FOR = {
    Fault.resource_limit: "RobocodersAPI",
    Fault.stream_error: OPENAI,
    Fault.overloaded: OPENAI,
    Fault.safety_block: OPENAI,
}
"""Modes that exist in one protocol only (``openai``: every API name, those of
:data:`APIS` and the endpoints)."""


@dataclass(frozen=True)
class FaultSpec:
    """A fault mode and its parameters; the delays apply with any mode."""

    mode: Fault = Fault.none
    first_chunk_delay: float = 0.0
    """Seconds between the headers and the first body chunk."""
    chunk_delay: float = 0.0
    """Seconds between body chunks."""
    retry_after: int = 30
    """The ``Retry-After`` header of ``http_429``."""
    size: int = 50 * 1024 * 1024
    """Bytes in the one line of ``huge_line``."""
    times: int | None = None
    """Apply to the next ``times`` chat requests only; ``None``: to every one."""
    pieces: int | None = None
    """Stream the answer in this many pieces of near-equal length instead of word by
    word (a fixed chunk count whatever the prompt, for benchmarks); ``None``: by word."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Fault(self.mode))
        for name in ("first_chunk_delay", "chunk_delay", "retry_after", "size"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.times is not None and self.times < 0:
            raise ValueError("times must not be negative")
        if self.pieces is not None and self.pieces < 1:
            raise ValueError("pieces must be at least 1")


_ARGUMENT = {
    Fault.http_429: ("retry_after", int),
    Fault.first_chunk_delay: ("first_chunk_delay", float),
    Fault.chunk_delay: ("chunk_delay", float),
    Fault.huge_line: ("size", int),
}
"""The modes that take an argument: the FaultSpec field it sets, and its type."""


def provider_name(name: str, endpoints: Collection[str] = ()) -> str:
    """The canonical fault name: a seed provider's (any letter case), ``openai``, or one
    of ``endpoints`` (exactly as given)."""
    wanted = name.strip()
    for known in PROVIDERS:
        if known.lower() == wanted.lower():
            return known
    if wanted.lower() in APIS:
        return wanted.lower()
    if wanted in endpoints:
        return wanted
    valid = [*PROVIDERS, *APIS, *endpoints]
    raise ValueError(f"unknown provider {name!r}; valid providers: {', '.join(valid)}")


def check_applies(provider: str, spec: FaultSpec) -> None:
    """Raise ``ValueError`` when ``spec``'s mode does not exist in ``provider``'s protocol."""
    owner = ONLY_FOR.get(spec.mode)
    family = provider if provider in PROVIDERS else OPENAI
    if owner is not None and owner != family:
        applies = f"the API routes ({', '.join(APIS)}, endpoints)" if owner == OPENAI else owner
        raise ValueError(f"fault {spec.mode} applies to {applies} only, not {provider}")


def parse_fault(text: str, endpoints: Collection[str] = ()) -> tuple[str, FaultSpec]:
    """Read ``PROVIDER=MODE[:ARG]``; ``ValueError`` names the valid providers and modes.

    ``"AutonomousAI=http_429:5"`` -> ``("AutonomousAI", FaultSpec(Fault.http_429, retry_after=5))``;
    ``PROVIDER`` may also be ``openai`` or one of ``endpoints`` (see the module docstring).
    """
    target, equals, setting = text.partition("=")
    if not equals or not target.strip() or not setting.strip():
        raise ValueError(f"expected PROVIDER=MODE[:ARG], got {text!r}")
    provider = provider_name(target, endpoints)
    mode_text, colon, argument = setting.strip().partition(":")
    try:
        mode = Fault(mode_text.strip().lower())
    except ValueError:
        raise ValueError(
            f"unknown fault mode {mode_text!r}; valid modes: {', '.join(Fault)}"
        ) from None
    spec = FaultSpec(mode)
    if colon:
        if mode not in _ARGUMENT:
            with_argument = ", ".join(_ARGUMENT)
            raise ValueError(f"fault {mode} takes no argument (only {with_argument} do)")
        field, kind = _ARGUMENT[mode]
        try:
            value = kind(argument.strip())
        except ValueError:
            raise ValueError(
                f"fault {mode} needs {'an integer' if kind is int else 'a number'}, "
                f"got {argument!r}"
            ) from None
        spec = dataclasses.replace(spec, **{field: value})
    elif mode in (Fault.first_chunk_delay, Fault.chunk_delay):
        raise ValueError(f"fault {mode} needs a delay in seconds, e.g. {mode}:0.5")
    check_applies(provider, spec)
    return provider, spec


class FaultBoard:
    """The fault in force for each provider, with the uses left of counted ones.

    ``endpoints`` are the OpenAI-compatible endpoint names faults may also name.
    """

    def __init__(
        self, faults: Mapping[str, FaultSpec] | None = None, endpoints: Collection[str] = ()
    ) -> None:
        self.endpoints = frozenset(endpoints)
        self._specs: dict[str, FaultSpec] = {}
        self._uses_left: dict[str, int | None] = {}
        for provider, spec in (faults or {}).items():
            self.set(provider, spec)

    def set(self, provider: str, spec: FaultSpec) -> None:
        """Put ``spec`` in force for ``provider`` (replacing any earlier one)."""
        name = provider_name(provider, self.endpoints)
        check_applies(name, spec)
        self._specs[name] = spec
        self._uses_left[name] = spec.times

    def clear(self, provider: str | None = None) -> None:
        """Back to normal behaviour, for ``provider`` or for all."""
        names = (
            [provider_name(provider, self.endpoints)] if provider is not None else list(self._specs)
        )
        for name in names:
            self._specs.pop(name, None)
            self._uses_left.pop(name, None)

    def has(self, provider: str) -> bool:
        """Whether a fault is set for ``provider`` (by its canonical name)."""
        return provider in self._specs

    def take(self, provider: str) -> FaultSpec:
        """The spec for one chat request of ``provider``; counts down ``times``."""
        spec = self._specs.get(provider)
        if spec is None:
            return FaultSpec()
        left = self._uses_left[provider]
        if left is None:
            return spec
        if left <= 0:
            self.clear(provider)
            return FaultSpec()
        self._uses_left[provider] = left - 1
        return spec
