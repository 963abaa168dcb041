"""A throwaway PostgreSQL server for the tests: a real one, never a mock.

The machine's Debian PostgreSQL (``/usr/lib/postgresql/<version>/bin``) initialises a
cluster in a temporary directory and listens on 127.0.0.1 only, with its socket in
that directory. The server refuses to run as root, so as root every command runs as
the ``postgres`` user (``runuser``), which owns the directory. Stores get a schema of
their own each (``search_path`` in the URL), which is much cheaper than a database.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

REQUIRE_ENV = "HARNESS_REQUIRE_POSTGRES"
SUPERUSER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, if there is one."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def unavailable_reason() -> str | None:
    """Why no throwaway server can be started here, or None when one can."""
    if binaries() is None:
        return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresCluster:
    """One initialised, running server; :meth:`stop` stops it and removes its files."""

    def __init__(self) -> None:
        bin_dir = binaries()
        assert bin_dir is not None, unavailable_reason()
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="harness-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SUPERUSER)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.port = _free_port()
        self._schemas = itertools.count()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.dir)

    def start(self) -> None:
        """Start (or restart after :meth:`halt`) the server on the same port."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def halt(self) -> None:
        """Stop the server at once (connections are cut), keeping its files."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        """Stop the server and remove every file of the cluster."""
        try:
            self.halt()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database as the superuser."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def new_schema(self, name: str | None = None) -> str:
        """A URL whose tables live in a schema of their own (created now if new)."""
        schema = name or f"store_{next(self._schemas)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return f"{self.url}?options={quote(f'-csearch_path={schema}')}"
