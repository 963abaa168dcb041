"""``harness list``: every provider with its models, aliases, capabilities and the
working flag measured for a source (the shipped one until a run measured it)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.result import Source
from harness.settings.config import Settings
from harness.targets.flags import read_model_states
from harness.targets.sources import source_flags_file
from providers import PROVIDERS
from providers.flags import read_flags


@dataclass(frozen=True)
class ProviderEntry:
    """One provider as ``harness list`` shows it; its fields are the JSON keys."""

    provider: str
    capability: str
    """What the provider makes (``chat``, ``image``, ``audio``): what probes it."""
    working: bool | None
    """The measured flag for the source (``None``: measured, but unknown), else the
    shipped one."""
    measured: bool
    """Whether ``working`` was measured for the source, rather than shipped."""
    shipped: bool
    """The flag the provider's code ships, which an unknown measurement leaves as is."""
    enabled: bool
    models: dict[str, str]
    """Each model's state for the source (``unknown`` when never measured)."""
    aliases: dict[str, str]
    supports_stream: bool
    supports_system_message: bool
    supports_message_history: bool

    @property
    def capabilities(self) -> list[str]:
        """What the provider supports, by short name."""
        supported = {
            "stream": self.supports_stream,
            "system_message": self.supports_system_message,
            "message_history": self.supports_message_history,
        }
        return [name for name, supports in supported.items() if supports]


def provider_catalog(settings: Settings, source: Source) -> list[ProviderEntry]:
    """Every registered provider, with the flags and states measured for ``source``."""
    path = source_flags_file(settings, source)
    measured = read_flags(path)
    states = read_model_states(path)
    return [
        ProviderEntry(
            provider=name,
            capability=provider.capability,
            working=measured.get(name, provider.working),
            measured=name in measured,
            shipped=provider.shipped_working,
            enabled=settings.provider(name).enabled,
            # A discovering endpoint knows its models only after a run: the last run's,
            # from the flags file, until then.
            models={
                m: states.get(name, {}).get(m, "unknown")
                for m in provider.all_models() or states.get(name, {})
            },
            aliases=dict(getattr(provider, "model_aliases", {})),
            supports_stream=provider.supports_stream,
            supports_system_message=provider.supports_system_message,
            supports_message_history=provider.supports_message_history,
        )
        for name, provider in PROVIDERS.items()
    ]
