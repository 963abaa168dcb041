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
from collections.abc import Sequence
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


@dataclass(frozen=True)
class G4FInfo:
    """One loaded gpt4free provider class and the facts the adapter uses."""

    name: str
    cls: Any
    working: bool
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


def describe(name: str, cls: Any) -> G4FInfo:
    """The facts of a loaded provider class (attributes gpt4free documents)."""
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
