"""``harness flags --write-source``: the edits that ship the measured live flags in the
provider modules, ours or (``--g4f``) the installed gpt4free's."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError
from harness.result import Source
from harness.settings.config import Settings
from harness.targets.flags import SourceEdit, source_edits
from harness.targets.g4f import require_g4f
from harness.targets.g4f_source import g4f_source_edits
from harness.targets.sources import source_flags_file
from providers.flags import read_flags
from providers.gpt4free import PREFIX


async def flag_edits(settings: Settings, *, for_g4f: bool) -> tuple[list[SourceEdit], Path]:
    """The edits setting each measured flag in its provider's module, and the directory
    the patch's paths are relative to; :class:`ConfigError` when nothing was measured
    yet (or, ``for_g4f``, gpt4free is not installed)."""
    path = source_flags_file(settings, Source.LIVE)
    measured = read_flags(path)
    if for_g4f:
        require_g4f()
        measured = {name: flag for name, flag in measured.items() if name.startswith(PREFIX)}
    if not measured:
        command = "harness probe --g4f" if for_g4f else "harness probe"
        raise ConfigError(f"no measured flags in {path}: run `{command}` first")
    if for_g4f:
        return await g4f_source_edits(settings, measured)
    return source_edits(measured), Path.cwd()
