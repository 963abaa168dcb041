"""gpt4free-style chat providers, with ``working`` flags measured by the harness.

from providers import RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva
"""

from __future__ import annotations

from .AiChatOnline import AiChatOnline
from .AutonomousAI import AutonomousAI
from .base import AsyncGeneratorProvider, AsyncResult, ProviderModelMixin
from .CodeLinkAva import CodeLinkAva
from .errors import (
    AuthError,
    BotDetectedError,
    CloudflareError,
    MissingRequirementsError,
    ModelNotSupportedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ResponseError,
    ResponseStatusError,
    ResponseTooLargeError,
    ServerError,
    ValidationError,
)
from .flags import apply_flags, flags_path, read_flags
from .http import raise_for_status
from .messages import Chunk, FinishReason, Message, Messages, format_prompt
from .RobocodersAPI import RobocodersAPI

PROVIDERS: dict[str, type[AsyncGeneratorProvider]] = {
    p.name(): p for p in (RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva)
}
"""Every provider the harness knows, by name."""


def get_provider(name: str) -> type[AsyncGeneratorProvider]:
    """The provider called ``name`` (case-insensitive); ``KeyError`` names the known ones."""
    for key, provider in PROVIDERS.items():
        if key.lower() == name.lower():
            return provider
    raise KeyError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")


apply_flags(PROVIDERS.values(), read_flags(flags_path()))

__all__ = [
    "PROVIDERS",
    "AiChatOnline",
    "AsyncGeneratorProvider",
    "AsyncResult",
    "AuthError",
    "AutonomousAI",
    "BotDetectedError",
    "Chunk",
    "CloudflareError",
    "CodeLinkAva",
    "FinishReason",
    "Message",
    "Messages",
    "MissingRequirementsError",
    "ModelNotSupportedError",
    "ProtocolError",
    "ProviderError",
    "ProviderModelMixin",
    "RateLimitError",
    "ResponseError",
    "ResponseStatusError",
    "ResponseTooLargeError",
    "RobocodersAPI",
    "ServerError",
    "ValidationError",
    "format_prompt",
    "get_provider",
    "raise_for_status",
]
