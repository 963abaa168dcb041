"""``/api/status`` answers from the kept status document: the same JSON as the page's,
304 for a version the client has, gzip-compressed once per document."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from status_samples import passed

from harness.report import read_page, status_document
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import STATUS, build_app
from tests.live_app import eventually
from tests.postgres_cluster import PostgresCluster

Client = TestClient[Any, Any]
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


async def _new_result(store_path: Path) -> None:
    async with open_store(store_path) as store:
        await store.add_results([passed("AiChatOnline", "gpt-4o-mini", datetime.now(UTC))])


async def test_the_answer_is_the_page_s_status_document(
    client: Client, settings: Settings, store_path: Path
) -> None:
    document = await (await client.get("/api/status")).json()
    async with open_store(store_path) as store:
        page = await read_page(
            store, settings, now=datetime.fromisoformat(document["generated_at"])
        )

    assert document == status_document(page)


async def test_the_document_is_read_in_full_before_the_first_request(client: Client) -> None:
    status = client.app[STATUS]

    async def warm() -> bool:
        return status.warm

    await eventually(warm)


async def test_a_compressed_answer_is_the_same_document(client: Client) -> None:
    zipped = await client.get("/api/status", headers=GZIP, auto_decompress=False)
    plain = await client.get("/api/status", headers=PLAIN)

    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(await zipped.read())) == await plain.json()


def _counting_compressors(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    original = zlib.compressobj

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counted)
    return made


async def test_a_repeated_request_with_nothing_new_is_not_compressed_again(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.get("/api/status", headers=GZIP)
    compressed = _counting_compressors(monkeypatch)
    first = await client.get("/api/status", headers=GZIP, auto_decompress=False)
    second = await client.get("/api/status", headers=GZIP, auto_decompress=False)

    assert compressed == []
    assert await first.read() == await second.read()


async def test_a_matching_etag_is_answered_304_without_a_body(client: Client) -> None:
    etag = (await client.get("/api/status", headers=GZIP)).headers["ETag"]
    again = await client.get("/api/status", headers={**GZIP, "If-None-Match": etag})

    assert again.status == 304
    assert again.headers["ETag"] == etag
    assert await again.read() == b""


async def test_an_etag_of_the_other_encoding_is_answered_304_too(client: Client) -> None:
    zipped_etag = (await client.get("/api/status", headers=GZIP)).headers["ETag"]
    plain = await client.get("/api/status", headers={**PLAIN, "If-None-Match": zipped_etag})

    assert plain.status == 304
    assert plain.headers["ETag"] != zipped_etag


async def test_a_new_result_is_sent_in_full_to_a_client_with_the_old_etag(
    client: Client, store_path: Path
) -> None:
    first = await client.get("/api/status")
    etag = first.headers["ETag"]
    await _new_result(store_path)
    changed = await client.get("/api/status", headers={"If-None-Match": etag})
    document = await changed.json()

    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    newest = document["providers"]["AiChatOnline"]["models"]["gpt-4o-mini"]["history"][-1]
    assert newest["outcome"] == "ok"


async def test_an_unreachable_store_is_said_so_with_503_though_a_document_was_kept(
    postgres: PostgresCluster, aiohttp_client: Any, tmp_path: Path
) -> None:
    app = build_app(
        Settings(data_dir=tmp_path),
        postgres.new_schema(),
        interval=300,
        sandbox=False,
        admin_token=None,
        schedule=False,
    )
    client: Client = await aiohttp_client(app)
    assert (await client.get("/api/status")).status == 200
    postgres.halt()
    try:
        api = await client.get("/api/status")
        assert api.status == 503
        assert "store is unreachable" in (await api.json())["error"]
    finally:
        postgres.start()
    assert (await client.get("/api/status")).status == 200
