"""Benchmarks: probe fan-out, timing accuracy, the store and page at scale, replay, the
price of running gpt4free's calls in worker processes.

``harness bench [--json] [--quick] [--only fanout,timing,store,replay,isolation]`` runs them
(:mod:`harness.cli.bench`); :func:`harness.bench.suite.run_benchmarks` returns
the same figures as one JSON-ready document. Modules: ``workload`` (targets,
injected latency, the emulator process), ``bare`` (the baseline client),
``clients`` (a measured batch of either), ``fanout``, ``timing``, ``store_scale``
(with ``synthetic`` history), ``replay``, ``isolation``, ``goals``, ``machine``, ``tables``
(terminal output), ``sizes`` (which benchmarks, how big).

Nothing is imported here, so that registering the command costs ``harness`` no
start-up time.
"""
