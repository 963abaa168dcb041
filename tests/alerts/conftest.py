"""Alert fixtures: a local receiver on 127.0.0.1 (see alert_receiver.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alert_receiver import Receiver, running_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A started receiver on a free port of 127.0.0.1."""
    async with running_receiver() as box:
        yield box
