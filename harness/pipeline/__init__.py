"""One monitoring run and its repetitions.

run.py        plan -> runner -> store -> status/consensus -> flips -> alerts
scheduler.py  the periodic runs of ``harness serve``
gate.py       the exit code of a CI gate
"""
