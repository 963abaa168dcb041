import asyncio

import pytest

from providers import upstream

REAL = "https://api.robocoders.ai/chat?x=1"


def test_without_redirection_the_real_url_is_used() -> None:
    assert upstream.resolve("RobocodersAPI", REAL) == REAL


def test_a_redirection_keeps_path_and_query() -> None:
    with upstream.redirect("http://127.0.0.1:9000"):
        assert upstream.resolve("RobocodersAPI", REAL) == "http://127.0.0.1:9000/chat?x=1"


def test_a_base_with_a_path_prefix_is_prepended() -> None:
    with upstream.redirect("http://127.0.0.1:9000/mirror/"):
        assert upstream.resolve("X", REAL) == "http://127.0.0.1:9000/mirror/chat?x=1"


def test_the_environment_variable_redirects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_UPSTREAM", "http://127.0.0.1:9001")
    assert upstream.resolve("AiChatOnline", REAL) == "http://127.0.0.1:9001/chat?x=1"


def test_a_per_provider_base_wins_over_the_global_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_UPSTREAM", "http://127.0.0.1:1")
    monkeypatch.setenv("HARNESS_UPSTREAM_CODELINKAVA", "http://127.0.0.1:2")
    with upstream.redirect(
        "http://127.0.0.1:3", per_provider={"AutonomousAI": "http://127.0.0.1:4"}
    ):
        assert upstream.base_for("AutonomousAI") == "http://127.0.0.1:4"
        assert upstream.base_for("CodeLinkAva") == "http://127.0.0.1:2"
        assert upstream.base_for("RobocodersAPI") == "http://127.0.0.1:3"
    assert upstream.base_for("RobocodersAPI") == "http://127.0.0.1:1"


@pytest.mark.parametrize("bad", ["ftp://host", "127.0.0.1:80", "http://", "http://h/?q=1"])
def test_unusable_bases_are_refused_clearly(bad: str) -> None:
    with pytest.raises(ValueError, match="upstream base"):
        upstream.use(bad)


async def test_concurrent_tasks_can_use_different_upstreams() -> None:
    async def seen(base: str) -> str:
        with upstream.redirect(base):
            await asyncio.sleep(0.01)
            return upstream.resolve("X", REAL)

    first, second = await asyncio.gather(seen("http://127.0.0.1:1"), seen("http://127.0.0.1:2"))
    assert first.startswith("http://127.0.0.1:1/")
    assert second.startswith("http://127.0.0.1:2/")
