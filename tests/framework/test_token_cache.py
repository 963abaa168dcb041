import base64
import json
import time
from pathlib import Path

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
