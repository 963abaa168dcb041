"""What the store keeps about alerts: one :class:`AlertDelivery` per message and destination.

Pure values; the store backends turn them into rows. A destination is kept as a digest
of its URL plus a label with the URL's secrets masked: the URL itself is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from harness.policy.status import State


class AlertKind(StrEnum):
    """Why a message was sent."""

    FLIPS = "flips"
    """Targets changed state in a run."""
    REMINDER = "reminder"
    """Targets are still down ``remind_every`` after the last message about them."""
    ONLINE = "online"
    """The harness's own host is back online after an outage."""


class DeliveryState(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    """Not sent yet: never tried, or failed and due again at ``next_attempt_at``."""
    SENT = "sent"
    FAILED = "failed"
    """Given up after too many attempts."""


class NotifyType(StrEnum):
    """How urgent a message looks at its destination (Apprise's notification types)."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class AlertTarget:
    """A provider/model a message speaks of, and the state it reports."""

    provider: str
    model: str
    state: State


@dataclass(frozen=True)
class AlertDraft:
    """A message to one destination, planned in a run and stored with that run's flips.

    ``flips`` are positions in the list of flips stored in the same call; the store
    keeps their ids.
    """

    kind: AlertKind
    destination: str
    label: str
    title: str
    body: str
    notify_type: NotifyType
    created_at: datetime
    targets: tuple[AlertTarget, ...] = ()
    flips: tuple[int, ...] = ()


@dataclass(frozen=True)
class AlertDelivery:
    """A stored message to one destination, with its delivery record."""

    id: int
    kind: AlertKind
    destination: str
    label: str
    title: str
    body: str
    notify_type: NotifyType
    created_at: datetime
    targets: tuple[AlertTarget, ...]
    flip_ids: tuple[int, ...]
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class TargetAlert:
    """The newest message about one target: when it was made and (if so) sent."""

    provider: str
    model: str
    state: State
    kind: AlertKind
    title: str
    created_at: datetime
    sent_at: datetime | None
