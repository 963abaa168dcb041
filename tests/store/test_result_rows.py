"""A result's compact row: the codes stored for its kinds, and its times in tenths."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from harness.store.rows import (
    END_CODES,
    KIND_CODES,
    SOURCE_CODES,
    TIMING_FIELDS,
    as_stored,
    ms_of,
    tenths,
)

T0 = datetime(2026, 5, 1, tzinfo=UTC)
times = st.floats(min_value=0, max_value=1e8, allow_nan=False)


def test_every_failure_kind_has_a_code_of_its_own() -> None:
    assert set(KIND_CODES) == set(FailureKind)
    assert len(set(KIND_CODES.values())) == len(FailureKind)


def test_every_stream_end_and_source_has_a_code_of_its_own() -> None:
    assert set(END_CODES) == set(StreamEnd)
    assert len(set(END_CODES.values())) == len(StreamEnd)
    assert set(SOURCE_CODES) == set(Source)
    assert len(set(SOURCE_CODES.values())) == len(Source)


@given(ms=times)
def test_a_time_comes_back_within_half_a_tenth_of_a_millisecond(ms: float) -> None:
    back = ms_of(tenths(ms))
    assert back is not None
    assert abs(back - ms) <= 0.05 + 1e-9 * ms


@given(ms=times)
def test_a_time_stored_once_is_stored_again_unchanged(ms: float) -> None:
    once = ms_of(tenths(ms))
    assert ms_of(tenths(once)) == once


@given(ms=st.none() | times)
def test_as_stored_rounds_every_time_and_nothing_else(ms: float | None) -> None:
    times: dict[str, Any] = dict.fromkeys(TIMING_FIELDS, ms)
    result = ProbeResult("P", "m", "ping", T0, ok=True, sample="PONG", chars=4, **times)
    stored = as_stored(result)
    assert all(getattr(stored, f) == ms_of(tenths(ms)) for f in TIMING_FIELDS)
    assert replace(stored, **times) == result
