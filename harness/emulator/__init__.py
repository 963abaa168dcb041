"""Local emulators of the four providers' upstream APIs, on their real paths, and of
an OpenAI-compatible API (``/v1/chat/completions``, ``/v1/models``; see ``openai``).

They answer the canned prompts correctly and inject latency and faults on demand::

    from harness.emulator import Emulator, Fault, FaultSpec

    async with Emulator(host="127.0.0.1", port=0) as emu:
        emu.set_fault("AutonomousAI", FaultSpec(Fault.http_429, retry_after=3))
        with providers.upstream.redirect(emu.url):
            ...

``harness emulate`` runs the same server in the foreground (see :func:`serve`).
"""

from __future__ import annotations

from harness.emulator.app import build_app
from harness.emulator.faults import OPENAI, PROVIDERS, Fault, FaultSpec, parse_fault
from harness.emulator.server import Emulator, serve

__all__ = [
    "OPENAI",
    "PROVIDERS",
    "Emulator",
    "Fault",
    "FaultSpec",
    "build_app",
    "parse_fault",
    "serve",
]
