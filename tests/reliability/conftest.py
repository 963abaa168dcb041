"""Fixtures of the reliability suite: leak watching, measured figures, a hostile upstream."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from hostile_upstream import HostileUpstream

FIGURES = pytest.StashKey[list[str]]()
"""The figures tests measured, printed at the end of the run."""


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a measured figure now (visible with -s) and again in the run's summary."""
    lines = request.config.stash.setdefault(FIGURES, [])

    def report(line: str) -> None:
        lines.append(f"{request.node.name}: {line}")
        print(line)

    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)


class LeakWatch:
    """What the event loop and the warnings machinery reported while a test ran."""

    def __init__(self, caught: list[warnings.WarningMessage]) -> None:
        self.loop_errors: list[dict[str, Any]] = []
        self.warnings = caught

    def collect(self) -> None:
        """Collect garbage now, so that every finaliser has had its say."""
        gc.collect()

    def forget(self) -> None:
        """Drop what was seen so far (for a test of the watch itself)."""
        self.loop_errors.clear()
        self.warnings.clear()

    @property
    def problems(self) -> list[str]:
        found = [str(context.get("message")) for context in self.loop_errors]
        return found + [f"{w.category.__name__}: {w.message}" for w in self.warnings]


@pytest.fixture
async def leak_watch() -> AsyncIterator[LeakWatch]:
    """Records every warning (a finaliser's ``ResourceWarning`` included, which would
    otherwise surface only as an unraisable-exception note) and the loop's
    exception-handler calls, where aiohttp reports an unclosed session or connector.
    The teardown collects garbage and fails on anything recorded."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watch = LeakWatch(caught)
        loop.set_exception_handler(lambda _, context: watch.loop_errors.append(context))
        try:
            yield watch
            watch.collect()
            assert watch.problems == []
        finally:
            loop.set_exception_handler(previous)


@pytest.fixture
def hostile() -> Iterator[HostileUpstream]:
    """A CodeLinkAva look-alike serving whatever the test scripts, from its own thread."""
    with HostileUpstream() as upstream:
        yield upstream
