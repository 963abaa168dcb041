"""``harness flags --write-source``: the edits that ship the measured live flags in the
provider modules, ours or (``--g4f``) the installed gpt4free's.

Only conclusive flags are shipped: a provider whose state is unknown (never measured,
or only inconclusive results, as after an offline run) keeps the flag it ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FlagPatch:
    """The edits of a flag patch, the directory its paths are relative to, and the
    measured flags it was made from."""

    edits: list[SourceEdit]
    root: Path
    measured: Mapping[str, bool | None]

    def why_empty(self) -> str:
        """Why there is nothing to change (for an empty patch)."""
        unknown = sum(1 for flag in self.measured.values() if flag is None)
        conclusive = len(self.measured) - unknown
        return (
            f"no flag to change: {unknown} provider(s) unknown (only inconclusive results, "
            f"as after an offline run: their shipped flags stay); {conclusive} measured "
            "conclusively, each already shipping its flag or not patched (a local service)"
        )


async def flag_edits(settings: Settings, *, for_g4f: bool) -> FlagPatch:
    """The edits setting each conclusively measured flag in its provider's module;
    :class:`ConfigError` when nothing was measured yet (or, ``for_g4f``, gpt4free is
    not installed)."""
    path = source_flags_file(settings, Source.LIVE)
    measured = read_flags(path)
    if for_g4f:
        require_g4f()
        measured = {name: flag for name, flag in measured.items() if name.startswith(PREFIX)}
    if not measured:
        command = "harness probe --g4f" if for_g4f else "harness probe"
        raise ConfigError(f"no measured flags in {path}: run `{command}` first")
    if for_g4f:
        edits, root = await g4f_source_edits(settings, measured)
        return FlagPatch(edits, root, measured)
    return FlagPatch(source_edits(measured), Path.cwd(), measured)
