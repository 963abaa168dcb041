"""gpt4free's providers as providers of this package (an optional dependency: ``.[g4f]``).

Nothing here imports gpt4free at import time; :func:`~.catalog.require` says how to
install it when it is missing. ``catalog`` lists and loads gpt4free's providers,
``adapter`` wraps each as ``g4f.NAME``, ``isolation`` runs their calls in worker
processes (``worker``, speaking ``wire``) that are killed when they will not stop,
``translate`` turns their items and errors into this package's.
"""

from __future__ import annotations

from .adapter import DEFAULT_MODEL, PREFIX, G4FProvider, target_name, wrap
from .catalog import (
    CHECKED,
    INSTALL_HINT,
    PINNED,
    TEMPLATE,
    G4FInfo,
    LoadFailure,
    capability_of,
    describe,
    load,
    load_all,
    provider_names,
    require,
)
from .isolation import Workers, configure, workers

__all__ = [
    "CHECKED",
    "DEFAULT_MODEL",
    "INSTALL_HINT",
    "PINNED",
    "PREFIX",
    "TEMPLATE",
    "G4FInfo",
    "G4FProvider",
    "LoadFailure",
    "Workers",
    "capability_of",
    "configure",
    "describe",
    "load",
    "load_all",
    "provider_names",
    "require",
    "target_name",
    "workers",
    "wrap",
]
