"""The pure policy: what results mean, with no I/O.

prompts.py     the canned prompts and the checks of their answers
status.py      a stream of results -> each target's state, with hysteresis
objectives.py  latency objectives and the misses of one result
consensus.py   several vantages' states -> one verdict
aggregate.py   uptime and latency figures over a window
rollup.py      hourly rollups and their latency sketches
daily.py       history by UTC day, from the rollups
retention.py   the retention tiers and what they cut
incidents.py   incidents: a provider's models out of work, from the flips
deliveries.py  the alert records the store keeps (drafts, deliveries)
"""
