"""Fixtures for talking to the emulators in raw HTTP."""

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from bs4 import BeautifulSoup

from harness.emulator import Emulator

Login = Callable[[aiohttp.ClientSession], Awaitable[tuple[dict[str, str], str]]]


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session whose relative URLs go to the emulator."""
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def _robocoders_login(http: aiohttp.ClientSession) -> tuple[dict[str, str], str]:
    async with http.get("/auth") as response:
        page = await response.text()
    element = BeautifulSoup(page, "html.parser").select_one("pre#token")
    assert element is not None
    headers = {"Authorization": f"Bearer {element.get_text().strip()}"}
    async with http.get("/create-session", headers=headers) as response:
        sid = (await response.json())["sid"]
    return headers, sid


@pytest.fixture
def robocoders_login() -> Login:
    """Fetch a Robocoders token and session: ``headers, sid = await robocoders_login(http)``."""
    return _robocoders_login
