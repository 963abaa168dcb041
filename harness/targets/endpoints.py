"""Configured endpoints become providers like the built-in ones.

Each ``[endpoints.NAME]`` of the settings becomes a provider class of its protocol
(``providers.openai_compatible``, ``providers.anthropic_messages``, ``providers.gemini``)
registered under ``NAME``, so that listing,
planning, probing, scheduling, the page, ``status.json``, badges and ``/metrics``
treat it exactly like a seed provider. :func:`install_endpoints` does this when
settings are loaded; installing other settings later replaces the earlier ones.

The API key is read from the environment variable the settings name, when a request
is made; it is never written anywhere. :func:`endpoint_secrets` gives the keys in
force so that the probe redacts them from every error and sample it keeps.

``models = "discover"``: :func:`discover_models` asks the endpoint's ``/models`` once
per run (the pipeline calls it before planning); a run probes the first ``max_models``
of them (:func:`capped_models`) unless asked for others by name. An endpoint that
cannot answer keeps its earlier list or, in a fresh process, takes the models its last
run probed (from the live flags file), so that a dead endpoint is probed, fails and
shows down rather than keeping its last state unchecked.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import aiohttp

from harness.errors import ConfigError
from providers import PROVIDERS, register, unregister
from providers.anthropic_messages import anthropic_messages
from providers.base import AsyncGeneratorProvider
from providers.endpoint import EndpointProvider
from providers.errors import ProviderError
from providers.gemini import gemini
from providers.openai_compatible import openai_compatible

if TYPE_CHECKING:
    from harness.settings.config import EndpointSettings, Settings

log = logging.getLogger(__name__)

DISCOVERY_TIMEOUT_S = 15.0

_installed: dict[str, type[EndpointProvider]] = {}
"""The providers the last :func:`install_endpoints` registered, by name."""


def endpoint_provider(name: str, endpoint: EndpointSettings) -> type[EndpointProvider]:
    """The provider class for one configured endpoint, of its protocol (the key is read
    per request)."""
    models = [] if endpoint.models == "discover" else list(endpoint.models)
    if endpoint.protocol == "anthropic":
        return anthropic_messages(
            name,
            endpoint.base_url,
            api_key_env=endpoint.api_key_env,
            models=models,
            headers=endpoint.headers,
            max_tokens=endpoint.max_tokens,
        )
    if endpoint.protocol == "gemini":
        return gemini(
            name,
            endpoint.base_url,
            api_key_env=endpoint.api_key_env,
            models=models,
            headers=endpoint.headers,
            max_tokens=endpoint.max_tokens,
            include_thoughts=endpoint.include_thoughts,
        )
    return openai_compatible(
        name,
        endpoint.base_url,
        api_key_env=endpoint.api_key_env,
        models=models,
        headers=endpoint.headers,
        max_tokens=endpoint.max_tokens,
    )


def install_endpoints(settings: Settings) -> list[type[EndpointProvider]]:
    """Register a provider for every endpoint of ``settings``; unregister the endpoints
    an earlier call installed that ``settings`` no longer declares."""
    built = [endpoint_provider(name, e) for name, e in settings.endpoints.items()]
    for name in list(_installed):
        if name not in settings.endpoints:
            unregister(name)
            del _installed[name]
    try:
        register(*built)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    _installed.update({p.name(): p for p in built})
    return built


def endpoint_secrets(settings: Settings) -> list[str]:
    """The API keys of the configured endpoints, as set in the environment now."""
    keys = (os.environ.get(e.api_key_env or "") for e in settings.endpoints.values())
    return [key for key in keys if key]


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret to keep out of results, logs and cassettes: the configured ones, the
    endpoints' API keys and those of the gpt4free providers."""
    return (*settings.secrets, *endpoint_secrets(settings), *settings.g4f.secrets())


def is_discovering(settings: Settings, provider: type[AsyncGeneratorProvider]) -> bool:
    """Whether ``provider`` is a configured endpoint that discovers its models."""
    endpoint = settings.endpoints.get(provider.name())
    return endpoint is not None and endpoint.models == "discover"


async def discover_models(
    settings: Settings, providers: Iterable[type[AsyncGeneratorProvider]]
) -> None:
    """List the models of every discovering endpoint among ``providers``, concurrently.

    A failure is logged and leaves that endpoint's earlier list; with none, the models
    its last run probed, as the live flags file names them (possibly none).
    """
    from harness.targets.flags import flags_file, read_model_states

    async def discover(provider: type[EndpointProvider]) -> None:
        try:
            ids = await provider.list_models(
                proxy=settings.provider(provider.name()).proxy, timeout=DISCOVERY_TIMEOUT_S
            )
        except (ProviderError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("listing the models of %s failed: %s", provider.name(), type(exc).__name__)
            if not provider.all_models():
                states = await asyncio.to_thread(read_model_states, flags_file(settings.data_dir))
                provider.set_models(list(states.get(provider.name(), {})))
            return
        provider.set_models(ids)

    chosen = [
        p for p in providers if is_discovering(settings, p) and issubclass(p, EndpointProvider)
    ]
    await asyncio.gather(*(discover(p) for p in chosen))


def capped_models(settings: Settings, provider: type[AsyncGeneratorProvider]) -> list[str] | None:
    """The models to probe by default of a discovering endpoint: the first ``max_models``
    it listed (any listed model may still be asked for by name); ``None`` otherwise."""
    endpoint = settings.endpoints.get(provider.name())
    if endpoint is None or endpoint.models != "discover" or endpoint.max_models is None:
        return None
    return provider.all_models()[: endpoint.max_models]


def undiscovered(settings: Settings) -> list[str]:
    """The discovering endpoints that still know no model (their discovery failed)."""
    return [
        name
        for name, endpoint in settings.endpoints.items()
        if endpoint.models == "discover"
        and (provider := PROVIDERS.get(name)) is not None
        and not provider.all_models()
    ]
