"""Benchmarks: probe fan-out, timing accuracy, the store and page at scale, replay.

``harness bench [--json] [--quick] [--only fanout,timing,store,replay]`` runs them
(:mod:`harness.bench.command`); :func:`run_benchmarks` returns the same figures as
one JSON-ready document. Modules: ``workload`` (targets, injected latency, the
emulator process), ``bare`` (the baseline client), ``clients`` (a measured batch of
either), ``fanout``, ``timing``, ``store_scale`` (with ``synthetic`` history),
``replay``, ``goals``, ``machine``, ``tables`` (terminal output).
"""

from __future__ import annotations

from .suite import BENCHMARKS, run_benchmarks

__all__ = ["BENCHMARKS", "run_benchmarks"]
