"""The ``harness`` command: one module per command group; parse, call, print."""
