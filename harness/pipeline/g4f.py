"""The installed gpt4free, as the commands need it: there or not, and the edits that
ship its measured ``g4f.NAME`` flags in its own provider modules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.errors import ConfigError
from harness.settings.config import Settings
from harness.targets.flags import SourceEdit
from harness.targets.g4f_source import g4f_edits, package_root
from providers.errors import MissingRequirementsError
from providers.gpt4free import PREFIX, load_all, require


def require_g4f() -> str:
    """The installed gpt4free's version; :class:`ConfigError` (exit 2) with the install
    command when it is missing."""
    try:
        return require()
    except MissingRequirementsError as exc:
        raise ConfigError(str(exc)) from None


async def g4f_source_edits(
    settings: Settings, measured: Mapping[str, bool]
) -> tuple[list[SourceEdit], Path]:
    """The edits setting each measured ``g4f.NAME`` flag in gpt4free's modules, and the
    directory the patch's paths are relative to."""
    loaded = await load_all(
        [name.removeprefix(PREFIX) for name in measured], settings.g4f.load_timeout
    )
    return g4f_edits(measured, loaded), package_root()
