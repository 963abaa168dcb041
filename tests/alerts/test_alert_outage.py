"""Alerts across a database outage: flips decided while spooled runs are stored alert too.

One vantage probes the emulators into a real PostgreSQL server (the runs go through
:func:`harness.pipeline.run.probe_and_record`, as ``harness serve`` runs them, on one
store kept open across the outage), and a local ``json://`` receiver sees the messages.
"""

from __future__ import annotations

from pathlib import Path

from alert_receiver import Receiver

from harness.emulator import Emulator, Fault, FaultSpec
from harness.pipeline.run import RunSummary, plan_targets, probe_and_record
from harness.policy.deliveries import DeliveryState
from harness.policy.status import State
from harness.result import Source
from harness.settings.config import Settings
from harness.store import make_store
from harness.store.base import Store
from harness.store.rows import as_stored
from providers import upstream
from tests.postgres_cluster import PostgresCluster

PROVIDER = "AutonomousAI"


async def run(settings: Settings, store: Store, emulator: Emulator) -> RunSummary:
    targets = plan_targets(settings, [PROVIDER])
    with upstream.redirect(emulator.url):
        return await probe_and_record(settings, store, targets, source=Source.SANDBOX)


async def test_a_provider_failing_while_the_database_is_away_alerts_down_once_then_up_once(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, postgres: PostgresCluster
) -> None:
    settings = Settings.model_validate(
        {"data_dir": tmp_path / "data", "alerts": {"urls": [receiver.url], "all_sources": True}}
    )
    store = make_store(postgres.new_schema())
    await store.open()
    try:
        healthy = [await run(settings, store, emulator) for _ in range(2)]
        emulator.set_fault(PROVIDER, FaultSpec(Fault.http_500))
        postgres.halt()
        try:
            spooled = [await run(settings, store, emulator) for _ in range(5)]
        finally:
            postgres.start()
        assert [s.spooled for s in spooled] == [len(s.results) for s in spooled]
        still_down = [await run(settings, store, emulator) for _ in range(2)]
        assert receiver.titles == [f"{PROVIDER} down"]
        emulator.clear_fault(PROVIDER)
        back = [await run(settings, store, emulator) for _ in range(2)]

        assert receiver.titles == [f"{PROVIDER} down", f"{PROVIDER} up"]
        assert "degraded -> down" in receiver.delivered[0]["message"]
        assert "down -> up" in receiver.delivered[1]["message"]
        runs = [*healthy, *spooled, *still_down, *back]
        stored = await store.results(limit=None)
        ran = (as_stored(r) for s in runs for r in s.results)
        assert sorted(stored, key=str) == sorted(ran, key=str)
        # Dated when the change happened: the third failing run, spooled at the time.
        third = {r.started_at for r in spooled[2].results}
        assert {f.at for f in await store.flips() if f.new is State.DOWN} <= third
        up, down = await store.alert_deliveries()  # newest first
        assert down.created_at == max(third)
        assert (down.state, up.state) == (DeliveryState.SENT, DeliveryState.SENT)
    finally:
        await store.close()
