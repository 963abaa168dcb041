"""What differs between the databases the store runs on, behind one small interface.

The store's logic (:mod:`harness.store.sql`) is written once, as plain functions of a
:class:`Session` run off the event loop; a :class:`Dialect` supplies everything else:

* **values** (:class:`Values`): how times, text and lists are stored (integer
  microseconds and JSON text in SQLite; ``TIMESTAMPTZ`` and arrays in PostgreSQL,
  whose text cannot hold NUL characters);
* **SQL fragments** that differ: a list parameter, rows locked for a claim, a join to
  each row's newest rows, the UTC day of a time;
* **units of work**: connecting, running a function of a :class:`Session` off the
  event loop in one transaction, the write lock every run takes, and translating the
  driver's errors into :class:`harness.errors.StoreError`;
* its own **schema**: DDL and migrations, which are history and written once per dialect.

Statements are written with ``?`` placeholders; a session translates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Cursor(Protocol):
    """The part of a DB-API cursor the store reads rows through."""

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """Every remaining row."""

    def __iter__(self) -> Iterator[Any]: ...


class Session(Protocol):
    """One connection inside one unit of work."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an ``INSERT`` of one row into a table with an ``id`` key; the new row's id."""

    def bulk_insert(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Insert many rows into ``table`` the fastest way the database has."""


class Values(Protocol):
    """How values that the databases store differently go in and come back."""

    def time(self, at: datetime) -> Any:
        """A time as stored (a naive time is taken as UTC)."""

    def time_of(self, stored: Any) -> datetime:
        """A stored time, back as an aware datetime in UTC."""

    def text(self, value: str) -> Any:
        """A string as stored."""

    def text_of(self, stored: Any) -> str:
        """A stored string, back exactly."""

    def array(self, items: Sequence[Any]) -> Any:
        """A list of stored values as one column's value."""

    def array_of(self, stored: Any) -> Sequence[Any]:
        """The stored values of a list column."""


class Dialect(Protocol):
    """One database the store runs on: its values, its SQL fragments, its units of work."""

    @property
    def where(self) -> str:
        """The database, for messages (a path, or a URL without its password)."""

    @property
    def values(self) -> Values:
        """How the database stores times, text and lists."""

    @property
    def skip_locked(self) -> str:
        """Appended to a ``SELECT`` whose rows a transaction claims for itself, so that a
        concurrent claim skips them rather than waiting (empty where writers take turns)."""

    @property
    def size_query(self) -> str:
        """A query whose one value is the bytes the store takes on disk, indexes included."""

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition that ``column`` is one of ``values``, and its parameters."""

    def holds(self, array: str, value: str) -> str:
        """A condition that the list column ``array`` holds the value of ``value`` (a
        column or expression of the same statement)."""

    def join_newest(self, table: str, alias: str, query: str) -> str:
        """A join of each row so far to the rows of ``table`` (as ``alias``) that
        ``query`` (``WHERE ... ORDER BY ... LIMIT ?``, correlated to them) picks."""

    def day_of(self, column: str) -> str:
        """An expression of the start of the UTC day holding the time ``column``, as the
        dialect stores times (so :meth:`Values.time_of` reads it)."""

    async def open(self) -> None:
        """Connect, and create or upgrade the schema (a newer one is refused)."""

    async def close(self) -> None:
        """Disconnect; safe to call twice."""

    async def read(self, work: Callable[[Session], T]) -> T:
        """``work`` (which writes nothing) run off the event loop, in one transaction."""

    async def write(self, work: Callable[[Session], T], *, serialised: bool = False) -> T:
        """``work`` run off the event loop in one transaction: all of it is committed
        or none. ``serialised`` takes the write lock that every run's writes take
        first, held to the commit, so such writers take turns (and never deadlock)."""

    async def integrity_ok(self) -> bool:
        """True when the database's own consistency check passes."""
