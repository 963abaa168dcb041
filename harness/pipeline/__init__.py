"""One monitoring run and its repetitions, and what the commands ask of them.

run.py           plan -> runner -> store -> status/consensus -> flips -> alerts
probe_run.py     one run as ``harness probe`` asks for it: g4f, store or spool, replay, gate
scheduler.py     the periodic runs of ``harness serve``, and its checks before the first
gate.py          the exit code of a CI gate
catalog.py       every provider with its measured flags and states (``harness list``)
source_flags.py  the edits that ship the measured flags in provider modules
g4f.py           the installed gpt4free: there or not, and the edits for its modules
alert_trial.py   a trial message to every alert destination (``harness alert --test``)
store_check.py   a store's full integrity check (``harness store check``)
"""
