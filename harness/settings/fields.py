"""What every settings table shares: the strict base class and the validated field types.

Kept apart from :mod:`harness.settings.config` so that tables defined next to their feature
(``[g4f]``, ``[alerts]``) use the same rules without importing the whole configuration.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from providers.upstream import validate_base


class Section(BaseModel):
    """A settings table: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldConflict(ValueError):
    """A rule across fields broken (``flap_calm_s`` beyond ``flap_window_s``), raised by a
    table's model validator and reported at ``field``, a dotted path inside that table,
    so the error names the key to change rather than the whole table."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _base_url(value: str) -> str:
    validate_base(value)
    return value


BaseUrl = Annotated[str, AfterValidator(_base_url)]
"""An http(s) URL with a host, standing in for a provider's upstream."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"not an environment variable name: {value!r}")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""The name of an environment variable (a key's place, never the key)."""
