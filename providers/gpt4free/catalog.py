"""What the installed gpt4free offers: provider names, and each provider's class, loaded
lazily and off the caller's event loop.

Names come from ``g4f.Provider.ProviderLoader`` (``names`` and ``extra``); a class is
loaded with ``ProviderLoader.from_name``. The full list ``g4f.Provider.__providers__``
is never read: reading it fetches a live list over the network. Loading imports the
provider's module, which may fail (an optional package is missing), do network I/O
(some modules call out at import), or hang: every load runs in a thread of its own
under a deadline (:func:`load_all`), one after the other (concurrent imports of the
same package can deadlock), and a failure is kept as a :class:`LoadFailure` with its
exception, never raised.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import MissingRequirementsError
from .isolation import in_thread

PINNED = "8.8.6"
"""The gpt4free release the adapter is built and tested against."""

INSTALL_HINT = "pip install -e '.[g4f]'  (installs g4f==" + PINNED + ")"

LOAD_TIMEOUT_S = 15.0
"""How long one provider module may take to import."""


def require() -> str:
    """The installed gpt4free's version; :class:`MissingRequirementsError` when absent."""
    try:
        return importlib.metadata.version("g4f")
    except importlib.metadata.PackageNotFoundError:
        raise MissingRequirementsError(f"gpt4free (g4f) is not installed: {INSTALL_HINT}") from None


def _loader() -> Any:
    return importlib.import_module("g4f.Provider").ProviderLoader


def _names() -> list[str]:
    loader = _loader()
    return list(dict.fromkeys([*loader.names, *loader.extra]))


async def provider_names(timeout: float = LOAD_TIMEOUT_S) -> list[str]:
    """Every provider name of the installed gpt4free, in its own order (no network)."""
    require()
    return await in_thread(_names, timeout, "importing g4f.Provider")


CHAT = "chat"
IMAGE = "image"
AUDIO = "audio"
VIDEO = "video"
SEARCH = "search"
TEMPLATE = "template"
CHECKED = frozenset({CHAT, IMAGE, AUDIO})
"""The capabilities the harness has a probe for; the others are never probed."""


@dataclass(frozen=True)
class G4FInfo:
    """One loaded gpt4free provider class and the facts the adapter uses."""

    name: str
    cls: Any
    working: bool
    capability: str
    """What the class does, from gpt4free's own metadata (see :func:`capability_of`)."""
    probe_model: str
    """The model its probe asks for: the chat default, or the image/audio default."""
    models: Mapping[str, tuple[str, ...]]
    """The models it lists by what they make (``chat``, ``image``, ``audio``, ``video``);
    many providers list theirs only after a network call, so this may be empty."""
    needs_auth: bool
    default_model: str
    url: str
    accepts_base_url: bool
    supports_system_message: bool
    supports_message_history: bool


@dataclass(frozen=True)
class LoadFailure:
    """A provider name whose class could not be loaded, and why."""

    name: str
    error: BaseException
    seconds: float


def _names_of(value: object) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value}
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v) for v in value}
    return set()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def listed_models(cls: Any) -> dict[str, tuple[str, ...]]:
    """The models a class lists (no network), by what they make, each list sorted."""
    media = {
        kind: _names_of(getattr(cls, f"{kind}_models", None)) for kind in (IMAGE, AUDIO, VIDEO)
    }
    chat = _names_of(getattr(cls, "models", None)) - set().union(*media.values())
    return {CHAT: tuple(sorted(chat)), **{k: tuple(sorted(v)) for k, v in media.items()}}


def capability_of(cls: Any) -> tuple[str, str]:
    """What a gpt4free class does, and the model to probe it with. Pure.

    ``template`` for the base classes the loader lists beside the providers (gpt4free's
    ``template`` package, ``...Template``/``...Mixin`` classes, abstract classes);
    ``search`` for its search package; ``audio`` for its audio package or a class whose
    models are all audio models; ``image`` or ``video`` for a class whose every model and
    its default are media models; ``chat`` otherwise. A class with chat models beside
    media ones (or a chat default beside an image default) is a chat provider: it is
    probed on its chat default.
    """
    module = str(getattr(cls, "__module__", ""))
    name = str(getattr(cls, "__name__", ""))
    if ".template" in module or name.endswith(("Template", "Mixin")) or inspect.isabstract(cls):
        return TEMPLATE, ""
    if ".search" in module:
        return SEARCH, ""
    default = _text(getattr(cls, "default_model", None))
    listed = listed_models(cls)
    media = {kind: set(listed[kind]) for kind in (IMAGE, AUDIO, VIDEO)}
    chat_models = set(listed[CHAT])
    if ".audio" in module or (media[AUDIO] and not chat_models):
        return AUDIO, default or _text(getattr(cls, "default_audio_model", None))
    for kind in (IMAGE, VIDEO):
        media_default = _text(getattr(cls, f"default_{kind}_model", None))
        only_media = not chat_models and (
            not default or default == media_default or default in media[kind]
        )
        if (media_default or media[kind]) and only_media:
            return kind, media_default or default or sorted(media[kind])[0]
    return CHAT, default


def describe(name: str, cls: Any) -> G4FInfo:
    """The facts of a loaded provider class (attributes gpt4free documents)."""
    capability, probe_model = capability_of(cls)
    default = getattr(cls, "default_model", None)
    create = getattr(cls, "create_async_generator", None)
    try:
        accepts = create is not None and "base_url" in inspect.signature(create).parameters
    except (TypeError, ValueError):
        accepts = False
    return G4FInfo(
        name=name,
        cls=cls,
        working=bool(getattr(cls, "working", False)),
        capability=capability,
        probe_model=probe_model,
        models=listed_models(cls),
        needs_auth=bool(getattr(cls, "needs_auth", False)),
        default_model=default if isinstance(default, str) else "",
        url=str(getattr(cls, "url", "") or ""),
        accepts_base_url=accepts,
        supports_system_message=bool(getattr(cls, "supports_system_message", False)),
        supports_message_history=bool(getattr(cls, "supports_message_history", False)),
    )


async def load(name: str, timeout: float = LOAD_TIMEOUT_S) -> G4FInfo | LoadFailure:
    """Load provider ``name`` in a thread of its own, within ``timeout`` seconds."""
    started = time.perf_counter()
    try:
        cls = await in_thread(lambda: _loader().from_name(name), timeout, f"loading {name}")
        return describe(name, cls)
    except Exception as exc:
        return LoadFailure(name, exc, time.perf_counter() - started)


async def load_all(
    names: Sequence[str], timeout: float = LOAD_TIMEOUT_S, total: float | None = None
) -> dict[str, G4FInfo | LoadFailure]:
    """Load ``names`` one after the other, each within ``timeout`` seconds, all within
    ``total`` (default: no overall bound); names not reached in time are failures too."""
    require()
    loop = asyncio.get_running_loop()
    end = None if total is None else loop.time() + total
    loaded: dict[str, G4FInfo | LoadFailure] = {}
    for name in names:
        left = timeout if end is None else min(timeout, end - loop.time())
        if left <= 0:
            loaded[name] = LoadFailure(
                name, TimeoutError(f"not loaded: the {total:g} s for loading ran out"), 0.0
            )
            continue
        loaded[name] = await load(name, left)
    return loaded
