"""How a ``harness`` command ends: its exit codes, and the one way it fails.

Exit codes: 0 done (every probe passed); 1 the outcome was bad: a probe failed or was
inconclusive (``harness probe --fail-on`` chooses which outcome, see
:mod:`harness.pipeline.gate`), a test alert failed, a store is damaged, a copy's counts
disagree, cassettes drifted; 2 a usage or configuration error: a bad flag, a bad
harness.toml, an unknown provider/model/prompt, an unusable store, a missing extra.
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import click

from harness.errors import HarnessError
from harness.probing import eventloop

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit 2 (usage or configuration error)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on the harness's event loop; a harness error exits 2 with its message."""
    try:
        return eventloop.run(main)
    except HarnessError as exc:
        fail(str(exc))
