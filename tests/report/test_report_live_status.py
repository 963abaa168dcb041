"""The live status document: the same JSON as the page's document, kept between reads,
with only the providers that changed read again."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from status_samples import fill_store, passed

from harness.pipeline.run import store_results
from harness.policy.consensus import voting_window
from harness.report import LiveStatus, read_page, status_document, with_overruns
from harness.report.live_status import STATUS_MAX_AGE
from harness.report.working import page_rows, read_targets
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings
from harness.store import Store, open_store

PROVIDERS_IN_SAMPLE = ("AutonomousAI", "AiChatOnline", "RobocodersAPI", "CodeLinkAva")


async def _expected(
    store: Store, now: datetime, overruns: dict[str, int] | None = None
) -> dict[str, Any]:
    page = await read_page(store, Settings(), now=now)
    return status_document(with_overruns(page, overruns or {}))


def _timeless(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` less what moves with the clock alone: its time, open incidents' ages."""
    incidents = [{k: v for k, v in i.items() if k != "duration_s"} for i in document["incidents"]]
    return {**document, "generated_at": None, "incidents": incidents}


class _Counting:
    """A store that records the names of the reads made through it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads.append(name)
            return await method(*args, **kwargs)

        return counted


async def test_the_document_is_the_page_s_document(filled_store: Store, now: datetime) -> None:
    text = await LiveStatus(Settings()).read(filled_store, now=now)

    assert json.loads(text.body) == await _expected(filled_store, now)


async def test_after_one_provider_s_run_the_document_is_still_the_page_s(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    later = now + timedelta(minutes=1)
    await filled_store.add_results([passed("AiChatOnline", "gpt-4o-mini", later)])
    text = await live.read(filled_store, now=later)

    assert json.loads(text.body) == await _expected(filled_store, later)


async def test_after_the_hour_turns_the_document_is_still_the_page_s(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    later = now + timedelta(hours=1)
    text = await live.read(filled_store, now=later)

    assert json.loads(text.body) == await _expected(filled_store, later)


async def test_a_new_result_reads_its_provider_alone_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    first = await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AiChatOnline", "gpt-4o-mini", now)])
    second = await live.read(filled_store, now=now)

    assert first.reread == len(PROVIDERS_IN_SAMPLE)
    assert second.reread == 1


async def test_a_new_hour_reads_every_provider_again(filled_store: Store, now: datetime) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    later = await live.read(filled_store, now=now + timedelta(hours=1))

    assert later.reread == len(PROVIDERS_IN_SAMPLE)


async def test_with_nothing_new_the_kept_answer_is_given_after_reading_the_marker_alone(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    first = await live.read(filled_store, now=now)
    counting = _Counting(filled_store)
    second = await live.read(counting, now=now + timedelta(seconds=5))  # type: ignore[arg-type]

    assert second.kept
    assert second.body is first.body
    assert counting.reads == ["results_marker"]


async def test_requests_waiting_for_one_update_are_answered_by_it(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AiChatOnline", "gpt-4o-mini", now)])
    first, second = await asyncio.gather(
        live.read(filled_store, now=now), live.read(filled_store, now=now)
    )

    assert (first.kept, second.kept) == (False, True)
    assert second.body is first.body


async def test_a_kept_answer_is_built_again_after_its_longest_age(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    later = now + STATUS_MAX_AGE
    text = await live.read(filled_store, now=later)

    assert not text.kept
    assert text.reread == 0
    assert json.loads(text.body) == await _expected(filled_store, later)


async def test_a_status_changed_without_results_reads_its_provider_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now)
    statuses = await filled_store.statuses()
    status = statuses[("AutonomousAI", "llama")]
    await filled_store.save_statuses([replace(status, reason="moved")], [])
    later = now + STATUS_MAX_AGE
    text = await live.read(filled_store, now=later)

    assert text.reread == 1
    assert json.loads(text.body) == await _expected(filled_store, later)


async def test_a_moved_overrun_count_is_in_the_document_without_reading_its_provider(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    await live.read(filled_store, now=now, overruns={"AutonomousAI": 0})
    text = await live.read(filled_store, now=now, overruns={"AutonomousAI": 2})

    assert text.reread == 0
    assert json.loads(text.body) == await _expected(filled_store, now, {"AutonomousAI": 2})


async def test_equal_documents_have_equal_etags_and_changed_ones_new_etags(
    filled_store: Store, now: datetime
) -> None:
    live = LiveStatus(Settings())
    first = await live.read(filled_store, now=now)
    again = await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AiChatOnline", "gpt-4o-mini", now)])
    changed = await live.read(filled_store, now=now)

    assert again.etag == first.etag
    assert changed.etag != first.etag


_steps = st.lists(
    st.tuples(
        st.sampled_from([None, *PROVIDERS_IN_SAMPLE]),  # None: no run, time alone moves
        st.integers(min_value=0, max_value=90 * 60),  # seconds until the next look
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=15, deadline=None)
@given(_steps)
def test_any_runs_and_time_keep_the_document_the_page_s(
    steps: list[tuple[str | None, int]],
) -> None:
    async def check(folder: Path) -> None:
        async with open_store(folder / "harness.db") as store:
            now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
            results = await fill_store(store, now)
            models = {r.provider: r.model for r in results}
            live = LiveStatus(Settings())
            await live.read(store, now=now)
            for provider, seconds in steps:
                now += timedelta(seconds=seconds)
                if provider is not None:
                    await store.add_results([passed(provider, models[provider], now)])
                text = await live.read(store, now=now)
                # A kept answer is the page as of its making, and still the page now but
                # for the time it names.
                assert json.loads(text.body) == await _expected(store, text.generated_at)
                assert _timeless(json.loads(text.body)) == _timeless(await _expected(store, now))

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(check(Path(folder)))


async def test_the_rows_of_the_kept_page_are_those_read_afresh(
    filled_store: Store, now: datetime
) -> None:
    text = await LiveStatus(Settings()).read(filled_store, now=now)

    assert page_rows(text.page, Settings()) == await read_targets(filled_store, Settings(), now)


async def test_a_vantage_that_stops_voting_reads_its_provider_again(tmp_path: Path) -> None:
    settings = Settings(thresholds={"down_after": 1})  # type: ignore[arg-type]
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    ok = ProbeResult("AutonomousAI", "llama", "ping", now, ok=True, ttfc_ms=120.0, vantage="b")
    down = replace(ok, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, vantage="a")
    async with open_store(tmp_path / "harness.db") as store:
        await store_results(settings, store, [replace(down, started_at=now)])
        await store_results(settings, store, [ok])
        live = LiveStatus(settings)
        await live.read(store, now=now)
        # Past the voting window, within the hour: no result, and yet the votes end.
        later = now + voting_window(settings.serve.interval) + timedelta(seconds=1)
        text = await live.read(store, now=later)
        document = json.loads(text.body)
        page = await read_page(store, settings, now=later)

    assert text.reread == 1
    assert document == status_document(page)
    assert (
        document["providers"]["AutonomousAI"]["models"]["llama"]["vantages"]["a"]["voting"] is False
    )
