"""Rows and back: the store's records as parameters, and rows as records again.

A table's columns are named after its dataclass's fields, and each column's conversion
is derived once from the field's type, in one dialect's :class:`Values`: times, text
and lists as the dialect stores them, enums by value, optional values left None. A new
field needs only its column, added by a new migration of each dialect.

Three records are stored otherwise than field for field: a vantage's status (its
:class:`TargetStatus`'s columns beside its own), an hourly rollup (each latency sketch as
an offset and a blob of counts), and a probe result, compactly (:class:`ResultRows`):
its target, its origin (run, vantage, version, source: shared by a run's results) and
the texts that repeat (prompt, error, finish reason) by integer ids, its kinds as small
integers, its times in tenths of a millisecond.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from harness.policy.consensus import VantageStatus
from harness.policy.deliveries import AlertDelivery, AlertTarget, TargetAlert
from harness.policy.incidents import Incident
from harness.policy.rollup import HourRollup, Sketch
from harness.policy.status import Flip, TargetStatus
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from harness.store.dialect import Values

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
Convert = Callable[[Any], Any]


def _optional(hint: Any) -> Any:
    """The type inside ``X | None``; any other hint as it is."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = (a for a in typing.get_args(hint) if a is not type(None))
        return inner
    return hint


def _dump(hint: Any, values: Values) -> Convert | None:
    """How a field typed ``hint`` goes in; None when it goes in as it is."""
    hint = _optional(hint)
    if typing.get_origin(hint) is tuple:
        item = _dump(typing.get_args(hint)[0], values)
        if item is None:
            return lambda v: values.array(list(v))
        return lambda v: values.array([item(x) for x in v])
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return attrgetter("value")
    if hint is str:
        return values.text
    if hint is datetime:
        return values.time
    return None


def _load(hint: Any, values: Values) -> Convert | None:
    """How a column comes back as the field typed ``hint``; None when as it is."""
    hint = _optional(hint)
    if typing.get_origin(hint) is tuple:
        item = _load(typing.get_args(hint)[0], values)
        if item is None:
            return lambda v: tuple(values.array_of(v))
        return lambda v: tuple(item(x) for x in values.array_of(v))
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint
    if hint is str:
        return values.text_of
    if hint is datetime:
        return values.time_of
    if hint is bool:
        return bool
    return None


def columns(cls: type[DataclassInstance], *, without: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns of the dataclass ``cls``'s table: its fields' names (less ``without``)."""
    return tuple(f.name for f in fields(cls) if f.name not in without)


class RowMap(Generic[T]):
    """The columns of the dataclass ``cls`` (less ``without``) and their conversions."""

    def __init__(self, cls: type[T], values: Values, *, without: tuple[str, ...] = ()) -> None:
        hints = typing.get_type_hints(cls)
        self.columns = columns(cls, without=without)
        self._make: Callable[..., T] = cls
        self._get = attrgetter(*self.columns)
        self._dumps = self._conversions([_dump(hints[c], values) for c in self.columns])
        self._loads = self._conversions([_load(hints[c], values) for c in self.columns])
        self._by_position = not without

    @staticmethod
    def _conversions(found: list[Convert | None]) -> list[tuple[int, Convert]]:
        return [(i, convert) for i, convert in enumerate(found) if convert is not None]

    def row(self, item: T) -> list[Any]:
        """``item``'s values as parameters, in :attr:`columns` order."""
        row = list(self._get(item))
        for i, convert in self._dumps:
            if row[i] is not None:
                row[i] = convert(row[i])
        return row

    def load(self, row: Sequence[Any], **given: Any) -> T:
        """The record of a row of :attr:`columns`; fields left out come from ``given``."""
        values = list(row)
        for i, convert in self._loads:
            if values[i] is not None:
                values[i] = convert(values[i])
        if self._by_position:
            return self._make(*values)
        return self._make(**dict(zip(self.columns, values, strict=True)), **given)


VANTAGE_COLUMNS = ("vantage", *columns(TargetStatus), "reported_at", "offline")
"""A vantage's status: its own name, its :class:`TargetStatus`'s columns, when it reported."""

ROLLUP_COLUMNS = (
    "provider",
    "model",
    "hour",
    "ok",
    "failed",
    "throttled",
    "inconclusive",
    "suspect",
    "ttfc_offset",
    "ttfc_counts",
    "total_offset",
    "total_counts",
)


# Codes are stored: each is fixed once given, and a new member takes the next one.
KIND_CODES: dict[FailureKind, int] = {
    FailureKind.DNS: 1,
    FailureKind.CONNECT: 2,
    FailureKind.TLS: 3,
    FailureKind.TIMEOUT_CONNECT: 4,
    FailureKind.TIMEOUT_FIRST_CHUNK: 5,
    FailureKind.TIMEOUT_TOTAL: 6,
    FailureKind.HTTP_AUTH: 7,
    FailureKind.CLOUDFLARE: 8,
    FailureKind.RATE_LIMITED: 9,
    FailureKind.OVERLOADED: 10,
    FailureKind.CONTENT_FILTER: 11,
    FailureKind.HTTP_CLIENT: 12,
    FailureKind.HTTP_SERVER: 13,
    FailureKind.PROTOCOL: 14,
    FailureKind.EMPTY: 15,
    FailureKind.STREAM_CUT: 16,
    FailureKind.TOO_LARGE: 17,
    FailureKind.WRONG_ANSWER: 18,
    FailureKind.UNSUPPORTED_MODEL: 19,
    FailureKind.MISSING_REQUIREMENT: 20,
    FailureKind.PROVIDER_BUG: 21,
    FailureKind.HARNESS_OFFLINE: 22,
}
"""Each failure kind's code in ``results.kind``."""

# SQLite stores 0 and 1 in no bytes at all: the common values get them.
END_CODES: dict[StreamEnd, int] = {StreamEnd.FINISH: 0, StreamEnd.EOF: 1, StreamEnd.CUT: 2}
"""Each stream end's code in ``results.end``."""

SOURCE_CODES: dict[Source, int] = {Source.LIVE: 0, Source.SANDBOX: 1, Source.REPLAY: 2}
"""Each source's code in ``results.source``."""

_KINDS = {code: kind for kind, code in KIND_CODES.items()}
_ENDS = {code: end for end, code in END_CODES.items()}
_SOURCES = {code: source for source, code in SOURCE_CODES.items()}

TIMING_FIELDS = (
    "ttfb_ms",
    "ttfc_ms",
    "total_ms",
    "dns_ms",
    "connect_ms",
    "max_gap_ms",
    "loop_lag_ms",
    "ttft_ms",
)
"""The fields of milliseconds, stored as whole tenths of a millisecond."""

TEXT_FIELDS = ("prompt", "error", "finish_reason", "run_id", "vantage", "version")
"""The fields of text that repeats from result to result, each text stored once in
``texts`` and referenced by its id."""

ORIGIN_FIELDS = ("run_id", "vantage", "version", "source")
"""The fields every result of one run shares, stored once per run in ``origins`` (the
texts by their ids) and referenced by its id."""

ORIGIN_COLUMNS = ("run", "vantage", "version", "source")
"""The columns of ``origins`` (besides ``id``), one per field of :data:`ORIGIN_FIELDS`."""

ORIGIN_TEXT_COLUMNS = ("run", "vantage", "version")
"""The columns of ``origins`` that hold ids of ``texts``."""


def tenths(ms: float | None) -> int | None:
    """Milliseconds as the whole tenths of a millisecond stored (rounded to the nearest)."""
    return None if ms is None else round(ms * 10)


def ms_of(stored: int | None) -> float | None:
    """Stored tenths of a millisecond as milliseconds."""
    return None if stored is None else stored / 10


def as_stored(result: ProbeResult) -> ProbeResult:
    """``result`` as the store gives it back: every time rounded to the nearest tenth
    of a millisecond (the pages show whole milliseconds), everything else exactly as
    it is. Rollups are folded from the times before this rounding."""
    rounded: dict[str, Any] = {f: ms_of(tenths(getattr(result, f))) for f in TIMING_FIELDS}
    return replace(result, **rounded)


def stored_column(field: str) -> str:
    """The column that holds a result's ``field``, in ``results`` or ``origins``."""
    if field in TIMING_FIELDS:
        return field.removesuffix("_ms") + "_100us"
    return {"provider": "target", "run_id": "run"}.get(field, field)


RESULT_FIELDS = tuple(
    f.name
    for f in fields(ProbeResult)
    if f.name != "model" and (f.name == "source" or f.name not in ORIGIN_FIELDS)
)
"""The fields of a result, in order, that its row holds: ``provider`` stands for its
target (with ``model``), ``source`` for its origin (:data:`ORIGIN_FIELDS`)."""

RESULT_COLUMNS = tuple(
    {"provider": "target", "source": "origin"}.get(f, stored_column(f)) for f in RESULT_FIELDS
)
"""The columns of ``results`` (besides ``id``), one per field of :data:`RESULT_FIELDS`."""

TEXT_COLUMNS = ("prompt", "error", "finish_reason")
"""The columns of ``results`` that hold ids of ``texts``."""


class ResultRows:
    """A probe result as a compact row of :data:`RESULT_COLUMNS`, and back.

    A row written needs its target's id, its origin's id and its texts' ids
    (:meth:`texts` and :meth:`origin` name those); a row read back comes with them
    resolved, as :meth:`load` says.
    """

    def __init__(self, values: Values) -> None:
        self._get = attrgetter(*RESULT_FIELDS)
        self._texts = [i for i, f in enumerate(RESULT_FIELDS) if f in TEXT_FIELDS]
        self._origin = RESULT_FIELDS.index("source")
        dumps: dict[str, Convert] = {
            "sample": values.text,
            "started_at": values.time,
            "kind": KIND_CODES.__getitem__,
            "end": END_CODES.__getitem__,
        }
        dumps.update((f, tenths) for f in TIMING_FIELDS)
        self._dumps = [(i, dumps[f]) for i, f in enumerate(RESULT_FIELDS) if f in dumps]
        loads: dict[str, Convert] = {
            "started_at": values.time_of,
            "ok": bool,
            "kind": _KINDS.__getitem__,
            "end": _ENDS.__getitem__,
            "source": _SOURCES.__getitem__,
        }
        loads.update((f, ms_of) for f in TIMING_FIELDS)
        loads.update((f, values.text_of) for f in ("provider", "model", "sample", *TEXT_FIELDS))
        every = [f.name for f in fields(ProbeResult)]
        self._loads = [(i, loads[f]) for i, f in enumerate(every) if f in loads]

    @staticmethod
    def texts(result: ProbeResult) -> list[str]:
        """The texts ``result`` refers to by id (those it has)."""
        found = (getattr(result, f) for f in TEXT_FIELDS)
        return [text for text in found if text is not None]

    @staticmethod
    def origin(result: ProbeResult, text_ids: Mapping[str, int]) -> tuple[int, int, int, int]:
        """``result``'s origin as a row of :data:`ORIGIN_COLUMNS`, given its texts' ids."""
        return (
            text_ids[result.run_id],
            text_ids[result.vantage],
            text_ids[result.version],
            SOURCE_CODES[result.source],
        )

    def row(
        self, result: ProbeResult, target: int, origin: int, text_ids: Mapping[str, int]
    ) -> list[Any]:
        """``result``'s values as parameters, in :data:`RESULT_COLUMNS` order."""
        row = list(self._get(result))
        row[0] = target
        row[self._origin] = origin
        for i in self._texts:
            if row[i] is not None:
                row[i] = text_ids[row[i]]
        for i, convert in self._dumps:
            if row[i] is not None:
                row[i] = convert(row[i])
        return row

    def load(self, row: Sequence[Any]) -> ProbeResult:
        """The result of a row of its fields' stored values in order: its texts (those
        of its target and origin too) as stored text, the rest as :meth:`row` gave them,
        and ``source`` as its origin's."""
        values = list(row)
        for i, convert in self._loads:
            if values[i] is not None:
                values[i] = convert(values[i])
        return ProbeResult(*values)


WIDE_RESULT_COLUMNS = (
    "provider",
    "model",
    "prompt",
    "started_at",
    "ok",
    "kind",
    "http_status",
    "error",
    "ttfb_ms",
    "ttfc_ms",
    "total_ms",
    "dns_ms",
    "connect_ms",
    "chunks",
    "chars",
    "max_gap_ms",
    "end",
    "finish_reason",
    "sample",
    "source",
    "vantage",
    "version",
    "concurrency",
    "attempts",
    "run_id",
    "prompt_tokens",
    "completion_tokens",
    "loop_lag_ms",
    "ttft_ms",
    "reasoning_tokens",
)
"""The columns of ``results`` before the migration to compact rows: one per field, as
the fields were then (history: never changed)."""


class Rows:
    """Every record's row mapping in one dialect's values."""

    def __init__(self, values: Values) -> None:
        self.values = values
        self.result = ResultRows(values)
        self.wide_result = RowMap(
            ProbeResult,
            values,
            without=tuple(c for c in columns(ProbeResult) if c not in WIDE_RESULT_COLUMNS),
        )
        """A result as the ``results`` table held it, one column per field, until the
        migration to compact rows (which reads it, as its tests write it)."""
        self.status = RowMap(TargetStatus, values)
        self.flip = RowMap(Flip, values)
        self.delivery = RowMap(AlertDelivery, values, without=("targets",))
        self.alert_target = RowMap(AlertTarget, values)
        self.target_alert = RowMap(TargetAlert, values)
        self.incident = RowMap(Incident, values)

    def vantage(self, view: VantageStatus) -> list[Any]:
        """A vantage's status as parameters, in :data:`VANTAGE_COLUMNS` order."""
        v = self.values
        return [
            v.text(view.vantage),
            *self.status.row(view.status),
            v.time(view.reported_at),
            view.offline,
        ]

    def vantage_of(self, row: Sequence[Any]) -> VantageStatus:
        """The vantage's status of a row of :data:`VANTAGE_COLUMNS`."""
        v = self.values
        return VantageStatus(
            vantage=v.text_of(row[0]),
            status=self.status.load(row[1:-2]),
            reported_at=v.time_of(row[-2]),
            offline=bool(row[-1]),
        )

    def rollup(self, r: HourRollup) -> list[Any]:
        """An hourly rollup as parameters, in :data:`ROLLUP_COLUMNS` order."""
        v = self.values
        return [
            v.text(r.provider),
            v.text(r.model),
            v.time(r.hour),
            r.ok,
            r.failed,
            r.throttled,
            r.inconclusive,
            r.suspect,
            r.ttfc.offset,
            r.ttfc.to_blob(),
            r.total.offset,
            r.total.to_blob(),
        ]

    def rollup_of(self, row: Sequence[Any]) -> HourRollup:
        """The hourly rollup of a row of :data:`ROLLUP_COLUMNS`."""
        v = self.values
        provider, model, hour, ok, failed, throttled, inconclusive, suspect = row[:8]
        return HourRollup(
            provider=v.text_of(provider),
            model=v.text_of(model),
            hour=v.time_of(hour),
            ok=ok,
            failed=failed,
            throttled=throttled,
            inconclusive=inconclusive,
            suspect=suspect,
            ttfc=Sketch.from_blob(row[8], bytes(row[9])),
            total=Sketch.from_blob(row[10], bytes(row[11])),
        )
