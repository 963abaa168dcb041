"""Durations as people write them, in ``harness.toml`` and on the command line.

One grammar for every duration: a number and a unit, ``500ms``, ``1.5s``, ``30m`` or
``90min``, ``2h``, ``1d`` (spaces and letter case do not matter), or a plain number in
the unit its field documents (seconds unless the name says otherwise:
``slow_ttfc_ms``, ``retention_days``, and days for ``[retention]``'s tiers). Durations
are kept to the microsecond.

:func:`parse_duration` reads one; :data:`Duration`, :data:`Seconds`,
:data:`Milliseconds` and :data:`Days` are the settings' field types; the command line's is
:class:`harness.cli.options.DurationParam`.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

Unit = Literal["ms", "s", "m", "min", "h", "d"]

UNITS: dict[str, timedelta] = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}
"""What one of each unit lasts, by the unit as written (in lower case)."""

_NAMES = {
    "ms": "milliseconds",
    "s": "seconds",
    "m": "minutes",
    "min": "minutes",
    "h": "hours",
    "d": "days",
}

_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_duration(value: str | float, *, plain: Unit = "s") -> timedelta:
    """``value`` as a timedelta: ``"500ms"``, ``"1.5s"``, ``"30m"``, ``"90min"``, ``"2h"``,
    ``"1d"``, or a number (as a number or as text) of ``plain`` units.

    Anything else, a negative duration or one beyond :data:`datetime.timedelta.max`
    raises ``ValueError`` with a message naming what was expected.
    """
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        unit = match[2].lower() if match else ""
        if match is None or unit not in (*UNITS, ""):
            raise ValueError(
                "expected a duration such as 500ms, 1.5s, 30m, 90min, 2h or 1d, "
                f"or a number of {_NAMES[plain]}; got {value!r}"
            )
        number, per = float(match[1]), UNITS[unit or plain]
    else:
        if value < 0:
            raise ValueError(f"a duration must not be negative; got {value!r}")
        number, per = float(value), UNITS[plain]
    if not math.isfinite(number):
        raise ValueError(f"expected a finite duration; got {value!r}")
    try:
        return number * per
    except OverflowError:
        raise ValueError(f"a duration must be at most {timedelta.max.days} days") from None


def _in(unit: Unit) -> BeforeValidator:
    """Reads text as a duration in ``unit``; numbers are left to pydantic (and the field's
    bounds), so that a plain number keeps its exact value."""

    def validate(value: Any) -> Any:
        return parse_duration(value, plain=unit) / UNITS[unit] if isinstance(value, str) else value

    return BeforeValidator(validate)


def _timedelta(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return parse_duration(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_timedelta)]
"""A settings field holding a timedelta; a plain number is seconds."""
Seconds = Annotated[float, _in("s")]
"""A settings field holding a number of seconds, written as a number or any duration."""
Milliseconds = Annotated[float, _in("ms")]
"""A settings field holding a number of milliseconds (a plain number is milliseconds)."""
Days = Annotated[float, _in("d")]
"""A settings field holding a number of days (a plain number is days)."""
