"""The providers the harness knows, by name: the built-in ones and those built at run time.

:data:`PROVIDERS` starts with the four seed providers. Providers made at run time
(an OpenAI-compatible endpoint declared in ``harness.toml``, a wrapped gpt4free
provider named ``g4f.NAME``) join it with :func:`register` and leave it with
:func:`unregister`; every reader of ``PROVIDERS`` (configuration checks, planning,
the page, the CLI) sees the change, because the one dict is updated in place::

    from providers import openai_compatible, register, unregister

    Groq = openai_compatible("groq", "https://api.groq.com/openai/v1", api_key=key)
    register(Groq)          # now in PROVIDERS, with its measured ``working`` flag applied
    unregister("groq")      # gone again (tests, a reloaded configuration)

Names are compared case-insensitively, as :func:`get_provider` looks them up. A
name taken by a built-in provider is refused with :class:`ProviderNameError`;
registering a name that another run-time provider holds replaces it, so installing
a reloaded configuration again is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .AiChatOnline import AiChatOnline
from .AutonomousAI import AutonomousAI
from .base import AsyncGeneratorProvider
from .CodeLinkAva import CodeLinkAva
from .flags import apply_flags, flags_path, read_flags
from .RobocodersAPI import RobocodersAPI

BUILTIN: dict[str, type[AsyncGeneratorProvider]] = {
    p.name(): p for p in (RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva)
}
"""The providers shipped in this package, by name."""

PROVIDERS: dict[str, type[AsyncGeneratorProvider]] = dict(BUILTIN)
"""Every provider the harness knows, by name: the built-in ones, then registered ones."""


class ProviderNameError(ValueError):
    """A provider name that cannot be registered (taken by a built-in, or malformed)."""


def _key(name: str) -> str:
    return name.lower()


def is_builtin(name: str) -> bool:
    """True when ``name`` (any letter case) is a built-in provider's name."""
    return any(_key(known) == _key(name) for known in BUILTIN)


def check_name(name: str) -> None:
    """Raise :class:`ProviderNameError` when ``name`` cannot name a run-time provider."""
    if not name or name != name.strip():
        raise ProviderNameError(f"provider name {name!r} must be non-empty, without spaces")
    if is_builtin(name):
        raise ProviderNameError(
            f"provider name {name!r} clashes with the built-in provider "
            f"{next(k for k in BUILTIN if _key(k) == _key(name))!r}; choose another name"
        )


def register(*providers: type[AsyncGeneratorProvider]) -> None:
    """Add ``providers`` to :data:`PROVIDERS` under their ``name()``; apply measured flags.

    A run-time provider already registered under the same name (any letter case) is
    replaced. Raises :class:`ProviderNameError`, registering none of them, when a
    name is a built-in's or appears twice among ``providers``.
    """
    seen: set[str] = set()
    for provider in providers:
        name = provider.name()
        check_name(name)
        if _key(name) in seen:
            raise ProviderNameError(f"provider name {name!r} is given twice")
        seen.add(_key(name))
    for provider in providers:
        _drop(provider.name())
        PROVIDERS[provider.name()] = provider
    apply_flags(providers, read_flags(flags_path()))


def unregister(name: str) -> None:
    """Remove the run-time provider ``name`` (any letter case); absent names are ignored.

    Built-in providers cannot be removed (:class:`ProviderNameError`).
    """
    if is_builtin(name):
        raise ProviderNameError(f"the built-in provider {name!r} cannot be unregistered")
    _drop(name)


def _drop(name: str) -> None:
    for key in [k for k in PROVIDERS if _key(k) == _key(name)]:
        del PROVIDERS[key]


@contextmanager
def registered(*providers: type[AsyncGeneratorProvider]) -> Iterator[None]:
    """``providers`` are registered inside the block and unregistered after it."""
    register(*providers)
    try:
        yield
    finally:
        for provider in providers:
            if PROVIDERS.get(provider.name()) is provider:
                del PROVIDERS[provider.name()]


def get_provider(name: str) -> type[AsyncGeneratorProvider]:
    """The provider called ``name`` (case-insensitive); ``KeyError`` names the known ones."""
    for key, provider in PROVIDERS.items():
        if _key(key) == _key(name):
            return provider
    raise KeyError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")
