"""Rows and back: the store's records as parameters, and rows as records again.

A table's columns are named after its dataclass's fields, and each column's conversion
is derived once from the field's type, in one dialect's :class:`Values`: times, text
and lists as the dialect stores them, enums by value, optional values left None. A new
field needs only its column, added by a new migration of each dialect.

Two records are spread over more columns than they have fields: a vantage's status
(its :class:`TargetStatus`'s columns beside its own) and an hourly rollup (each latency
sketch as an offset and a blob of counts).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from harness.policy.consensus import VantageStatus
from harness.policy.deliveries import AlertDelivery, AlertTarget, TargetAlert
from harness.policy.incidents import Incident
from harness.policy.rollup import HourRollup, Sketch
from harness.policy.status import Flip, TargetStatus
from harness.result import ProbeResult
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


class Rows:
    """Every record's row mapping in one dialect's values."""

    def __init__(self, values: Values) -> None:
        self.values = values
        self.result = RowMap(ProbeResult, values)
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
