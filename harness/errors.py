"""Errors of the harness itself (as opposed to provider errors, in ``providers.errors``).

HarnessError
├── ConfigError     a bad harness.toml, flag or name: exit code 2
└── StoreError      the result store cannot be opened, read or written
    ├── StoreDamagedError   the store's file is corrupt or not a database
    └── StoreUnavailable    the database server cannot be reached (for now)
"""

from __future__ import annotations


class HarnessError(Exception):
    """Root of the harness's own errors; the CLI prints its message and exits 2."""


class ConfigError(HarnessError):
    """Invalid configuration, or an unknown provider, model or prompt name."""


class StoreError(HarnessError):
    """The result store is unusable (unwritable, corrupt, unsupported backend)."""


class StoreDamagedError(StoreError):
    """The store's file is corrupt or not a database at all (left untouched)."""


class StoreUnavailable(StoreError):
    """The store's database server cannot be reached; writes may succeed later."""
