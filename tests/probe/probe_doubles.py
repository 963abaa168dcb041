"""Scripted providers and a scripted resolver: stand-ins for upstreams in probe tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from harness.probing.probe import Deadlines
from providers.base import AsyncGeneratorProvider
from providers.messages import Messages

QUICK = Deadlines(connect=0.5, first_chunk=0.5, stall=0.5, total=5.0, max_chars=10_000)
"""Deadlines short enough that a hang shows within a second."""

ANSWER = object()
"""A script step: the correct answer to a ping (``PONG-<nonce>``)."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Raise:
    error: BaseException


@dataclass(frozen=True)
class Forever:
    """Yield ``text`` again and again, ``every`` seconds apart."""

    text: str
    every: float = 0.0


@dataclass
class Log:
    """What a scripted provider saw: calls, and whether its stream was closed."""

    calls: int = 0
    closed: int = 0
    messages: list[Messages] = field(default_factory=list)


def ping_answer(messages: Messages) -> str:
    return messages[-1]["content"].rsplit(" ", 1)[-1]


def scripted(*steps: object, name: str = "Scripted") -> tuple[type[AsyncGeneratorProvider], Log]:
    """A provider class that plays ``steps`` (text, ``FinishReason``, ``Sleep``, ``Raise``,
    ``Forever``, ``ANSWER``, or any other object, yielded as is) and logs what it saw."""
    log = Log()

    async def _stream(
        cls: type[AsyncGeneratorProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Any, None]:
        log.calls += 1
        log.messages.append(messages)
        try:
            for step in steps:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Raise):
                    raise step.error
                elif isinstance(step, Forever):
                    while True:
                        yield step.text
                        await asyncio.sleep(step.every)
                elif step is ANSWER:
                    yield ping_answer(messages)
                else:
                    yield step
        finally:
            log.closed += 1

    provider = type(name, (AsyncGeneratorProvider,), {"_stream": classmethod(_stream)})
    return provider, log


class ScriptedResolver(AbstractResolver):
    """Stands in for aiohttp's resolver so that no name is ever really looked up."""

    def __init__(self, *, hang: bool = False, fail: bool = False) -> None:
        self.hang, self.fail = hang, fail
        self.asked: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> ScriptedResolver:
        return self  # aiohttp instantiates DefaultResolver(loop=...) per connector

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail:
            raise OSError(-2, "Name or service not known")
        raise AssertionError("a scripted resolver must hang or fail")

    async def close(self) -> None:
        return None
