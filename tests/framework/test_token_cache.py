import base64
import json
import time
from pathlib import Path

import pytest

from providers.RobocodersAPI import Credentials, TokenCache


def jwt(exp: float) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'exp': exp})}.signature"


async def test_saved_credentials_load_back(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    await cache.save(Credentials("token", "sid-1"))
    assert await cache.load() == Credentials("token", "sid-1")
    assert json.loads(cache.path.read_text()) == {"access_token": "token", "sid": "sid-1"}


async def test_a_corrupt_file_counts_as_empty(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    cache.path.write_text("{not json")
    assert await cache.load() is None


async def test_a_file_missing_the_sid_counts_as_empty(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    cache.path.write_text(json.dumps({"access_token": "t", "sid": None}))
    assert await cache.load() is None


async def test_an_expired_token_counts_as_empty(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    await cache.save(Credentials(jwt(time.time() - 10), "sid"))
    assert await cache.load() is None


async def test_a_token_valid_for_an_hour_is_reused(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    await cache.save(Credentials(jwt(time.time() + 3600), "sid"))
    assert await cache.load() is not None


async def test_clearing_removes_the_file(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    await cache.save(Credentials("t", "s"))
    await cache.clear()
    assert not cache.path.exists()
    await cache.clear()  # clearing twice is fine


def test_each_redirected_upstream_gets_its_own_file(tmp_path: Path) -> None:
    real = TokenCache.for_upstream(tmp_path, None).path
    first = TokenCache.for_upstream(tmp_path, "http://127.0.0.1:1").path
    second = TokenCache.for_upstream(tmp_path, "http://127.0.0.1:2").path
    assert real.name == "robocoders.json"
    assert len({real, first, second}) == 3


def test_the_cache_lives_in_the_configured_directory(tmp_path: Path) -> None:
    # tests/conftest.py points HARNESS_CACHE_DIR at a per-test directory
    path = TokenCache.for_upstream(None, None).path
    assert path.parent.name == "cache"


async def test_after_the_first_read_the_credentials_come_from_memory(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    cache.path.write_text(json.dumps({"access_token": "t", "sid": "s"}))
    assert await TokenCache(cache.path).load() == Credentials("t", "s")
    cache.path.write_text("{no longer read")
    assert await TokenCache(cache.path).load() == Credentials("t", "s")


async def test_a_remembered_token_is_dropped_once_it_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    await cache.save(Credentials(jwt(time.time() + 3600), "sid"))
    later = time.time() + 7200
    monkeypatch.setattr(time, "time", lambda: later)
    assert await cache.load() is None


async def test_a_refused_token_leaves_a_fresher_one_from_another_process(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "robocoders.json")
    refused = Credentials("old", "s1")
    await cache.save(refused)
    cache.path.write_text(json.dumps({"access_token": "new", "sid": "s2"}))  # another process
    await cache.discard(refused)
    assert cache.path.exists()
    assert await cache.load() == Credentials("new", "s2")
    await cache.discard(Credentials("new", "s2"))
    assert not cache.path.exists()
