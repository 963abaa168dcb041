"""The bare baseline sends exactly the requests the providers send, and reads the answers."""

from harness.bench.bare import BareClient, run_bare
from harness.bench.workload import Latency, every_target
from harness.emulator import Emulator
from harness.probing.runner import run
from harness.result import Source
from providers import upstream

FAST = Latency(first_chunk_delay_s=0.002, chunks=5, chunk_delay_s=0.001)


async def test_the_bare_loop_sends_the_harness_requests_path_for_path() -> None:
    targets = every_target() * 2
    async with Emulator(faults=FAST.faults()) as emulator:
        client = BareClient(emulator.url)
        with upstream.redirect(emulator.url):
            await run(every_target(), source=Source.SANDBOX)  # the provider caches its token
            await client.login()
            emulator.requests.clear()
            await run(targets, concurrency=8, per_provider=8, source=Source.SANDBOX)
            by_harness = dict(emulator.requests)
            emulator.requests.clear()
            await run_bare(client, targets, concurrency=8)
            by_bare = dict(emulator.requests)
    assert by_bare == by_harness


async def test_every_bare_probe_passes_with_its_first_chunk_after_the_delay() -> None:
    async with Emulator(faults=FAST.faults()) as emulator:
        client = BareClient(emulator.url)
        await client.login()
        samples = await run_bare(client, every_target(), concurrency=4)
    assert all(s.ok for s in samples)
    assert all(
        s.ttfc_ms is not None and FAST.first_chunk_delay_s * 1000 <= s.ttfc_ms <= s.total_ms
        for s in samples
    )
