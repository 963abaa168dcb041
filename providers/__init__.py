"""gpt4free-style chat providers, with ``working`` flags measured by the harness.

from providers import RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva

``PROVIDERS`` holds every provider by name; ``register`` / ``unregister`` add and
remove providers built at run time (see ``providers.registry``).
"""

from __future__ import annotations

from .AiChatOnline import AiChatOnline
from .anthropic_messages import AnthropicMessagesProvider, anthropic_messages
from .AutonomousAI import AutonomousAI
from .base import AsyncGeneratorProvider, AsyncResult, ProviderModelMixin
from .CodeLinkAva import CodeLinkAva
from .endpoint import EndpointProvider
from .errors import (
    AuthError,
    BotDetectedError,
    CloudflareError,
    ContentFilterError,
    MissingRequirementsError,
    ModelNotSupportedError,
    OverloadedError,
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
from .gemini import GeminiProvider, gemini
from .http import raise_for_status
from .messages import Chunk, FinishReason, Message, Messages, Thinking, Usage, format_prompt
from .openai_compatible import OpenAICompatibleProvider, openai_compatible
from .registry import (
    PROVIDERS,
    ProviderNameError,
    get_provider,
    is_builtin,
    register,
    registered,
    unregister,
)
from .RobocodersAPI import RobocodersAPI

apply_flags(PROVIDERS.values(), read_flags(flags_path()))

__all__ = [
    "PROVIDERS",
    "AiChatOnline",
    "AnthropicMessagesProvider",
    "AsyncGeneratorProvider",
    "AsyncResult",
    "AuthError",
    "AutonomousAI",
    "BotDetectedError",
    "Chunk",
    "CloudflareError",
    "CodeLinkAva",
    "ContentFilterError",
    "EndpointProvider",
    "FinishReason",
    "GeminiProvider",
    "Message",
    "Messages",
    "MissingRequirementsError",
    "ModelNotSupportedError",
    "OpenAICompatibleProvider",
    "OverloadedError",
    "ProtocolError",
    "ProviderError",
    "ProviderModelMixin",
    "ProviderNameError",
    "RateLimitError",
    "ResponseError",
    "ResponseStatusError",
    "ResponseTooLargeError",
    "RobocodersAPI",
    "ServerError",
    "Thinking",
    "Usage",
    "ValidationError",
    "anthropic_messages",
    "format_prompt",
    "gemini",
    "get_provider",
    "is_builtin",
    "openai_compatible",
    "raise_for_status",
    "register",
    "registered",
    "unregister",
]
