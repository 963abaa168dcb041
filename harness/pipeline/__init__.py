"""One monitoring run and its repetitions.

run.py        plan -> runner -> store -> status/consensus -> flips -> alerts
probe_run.py  one run as ``harness probe`` asks for it: g4f, store or spool, replay, gate
scheduler.py  the periodic runs of ``harness serve``, and its checks before the first
gate.py       the exit code of a CI gate
"""
