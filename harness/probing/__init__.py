"""Probing: one probe of one target under deadlines, and many of them at once.

probe.py         drive one provider stream, time it, check the answer
classify.py      every exception of a probe -> a named failure kind
runner.py        many probes with limits, one retry, offline pre-check
connectivity.py  is this host offline? (name resolution only)
adaptive.py      ``--concurrency auto``
looplag.py       how late the event loop runs, so timings can be trusted
eventloop.py     the event loop every command runs on
"""
