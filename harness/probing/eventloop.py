"""The event loop the harness's commands run on: uvloop when it is installed (the
``fast`` extra: ``pip install 'harness[fast]'``), else asyncio's own.

``HARNESS_EVENT_LOOP=asyncio`` keeps asyncio's loop even where uvloop is installed;
``harness bench`` measures both sides on both loops.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

EVENT_LOOP_ENV = "HARNESS_EVENT_LOOP"
LOOPS = ("uvloop", "asyncio")

T = TypeVar("T")


def uvloop_installed() -> bool:
    """Whether the optional uvloop package can be imported."""
    return importlib.util.find_spec("uvloop") is not None


def chosen_loop() -> str:
    """``uvloop`` or ``asyncio``: what :func:`run` will use here."""
    wanted = os.environ.get(EVENT_LOOP_ENV, "").strip().lower()
    if wanted == "asyncio" or not uvloop_installed():
        return "asyncio"
    return "uvloop"


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the loop called ``name`` (``None``: asyncio's default)."""
    if name == "uvloop":
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    if name == "asyncio":
        return None
    raise ValueError(f"unknown event loop {name!r}; known: {', '.join(LOOPS)}")


def run(main: Coroutine[Any, Any, T], loop: str | None = None) -> T:
    """``asyncio.run(main)`` on ``loop`` (default: :func:`chosen_loop`)."""
    with asyncio.Runner(loop_factory=loop_factory(loop or chosen_loop())) as runner:
        return runner.run(main)
