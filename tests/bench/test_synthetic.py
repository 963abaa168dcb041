"""Synthetic history: reproducible, ordered, spread over the window, mostly passing."""

from datetime import UTC, datetime, timedelta
from itertools import islice

from harness.bench.synthetic import batches, synthetic_results
from harness.bench.workload import every_target

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_history() -> None:
    assert list(synthetic_results(50, now=NOW)) == list(synthetic_results(50, now=NOW))


def test_results_are_oldest_first_within_the_span_before_now() -> None:
    results = list(synthetic_results(300, now=NOW, span=timedelta(days=30)))
    times = [r.started_at for r in results]
    assert times == sorted(times)
    assert times[0] == NOW - timedelta(days=30)
    assert times[-1] < NOW


def test_results_cycle_over_every_target() -> None:
    pairs = {(t.provider.name(), t.model) for t in every_target()}
    results = synthetic_results(len(pairs), now=NOW)
    assert {r.target for r in results} == pairs


def test_most_results_pass_and_every_failure_has_a_kind() -> None:
    results = list(synthetic_results(2000, now=NOW))
    failures = [r for r in results if not r.ok]
    assert 0 < len(failures) < len(results) * 0.1
    assert all(r.kind is not None and r.error for r in failures)
    assert all(r.ttfc_ms is not None for r in results if r.ok)


def test_batches_cut_a_stream_into_lists_of_the_given_size() -> None:
    sizes = [len(b) for b in batches(islice(synthetic_results(25, now=NOW), 25), 10)]
    assert sizes == [10, 10, 5]
