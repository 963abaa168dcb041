"""Alerts: a stage after flips that tells people when a provider goes down or comes back.

message.py  the words of each message (pure)
plan.py     which flips, reminders and notices a run alerts on (pure)
send.py     one message to one destination, through Apprise
stage.py    the pipeline hook: plan before the run is committed, deliver after
trial.py    a trial message to every destination (``harness alert --test``)

The ``[alerts]`` settings and their destinations are in :mod:`harness.settings.alerts`;
what the store keeps of a delivery is in :mod:`harness.policy.deliveries`.

Alerts read flips, never raw results, so they inherit the status policy's hysteresis.
Deliveries are written in the same transaction as the flips that cause them and marked
sent afterwards, so a crash in between loses none and sends none twice.
"""
