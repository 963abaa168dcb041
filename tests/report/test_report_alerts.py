"""The page and status.json show the last alert sent about each model."""

from __future__ import annotations

from datetime import datetime, timedelta

from bs4 import BeautifulSoup, Tag

from harness.policy.deliveries import AlertDraft, AlertKind, AlertTarget, NotifyType
from harness.policy.status import State
from harness.report import read_page, render_page, status_document
from harness.settings.config import Settings
from harness.store import Store
from tests.store_shortcuts import record_run


async def test_the_last_sent_alert_is_shown_per_model(filled_store: Store, now: datetime) -> None:
    provider, model = (await filled_store.targets())[0]
    sent_at = now - timedelta(minutes=5)
    for title, minutes in (("P down", 30), ("P up <b>", 10), ("P down again", 1)):
        draft = AlertDraft(
            kind=AlertKind.FLIPS,
            destination="d",
            label="json://127.0.0.1",
            title=title,
            body="body",
            notify_type=NotifyType.INFO,
            created_at=now - timedelta(minutes=minutes),
            targets=(AlertTarget(provider, model, State.UP),),
        )
        await record_run(filled_store, [], [], [], alerts=[draft])
    first, second, _ = await filled_store.claim_alerts(["d"], now=now, lease=timedelta(minutes=1))
    for claimed in (first, second):
        await filled_store.finish_alert(claimed.id, at=sent_at, error=None, retry_at=None)

    page = await read_page(filled_store, Settings(), now=now)
    models = status_document(page)["providers"][provider]["models"]
    assert models[model]["last_alert"] == {
        "sent_at": sent_at.isoformat(),
        "state": "up",
        "title": "P up <b>",
    }
    assert all(m["last_alert"] is None for name, m in models.items() if name != model)

    soup = BeautifulSoup(render_page(page), "html.parser")
    card = soup.find("details", attrs={"data-provider": provider})
    assert isinstance(card, Tag)
    article = card.find("article", attrs={"data-model": model})
    assert isinstance(article, Tag)
    shown = article.find(class_="last-alert")
    assert isinstance(shown, Tag)
    assert shown.get_text(" ", strip=True).startswith("P up <b>")
    assert len(soup.find_all(class_="last-alert")) == 1
