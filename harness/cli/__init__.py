"""The ``harness`` command: one module per command group; parse, call, print.

main.py     the ``harness`` group, its global options; adds every command below
probe.py    ``harness probe``
listing.py  ``harness list``
report.py   ``harness report``
serve.py    ``harness serve``
record.py   ``harness record``
emulate.py  ``harness emulate``
flags.py    ``harness flags``
alerts.py   ``harness alert``
store.py    ``harness store check | migrate``
g4f.py      ``harness g4f working``
bench.py    ``harness bench``
options.py  shared options, parameter types, options that exclude each other
exits.py    exit codes and the one way a command fails
console.py  terminal output of ``harness probe``
"""
