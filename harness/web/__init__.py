"""``harness serve``: the live page, its JSON API, badges and Prometheus metrics.

app.py      the aiohttp application, its routes and lifetime
metrics.py  the Prometheus exposition
"""
