"""Targets: what gets probed, from which source, and the flags it ships with.

sources.py       live, sandbox and replay: each with its own data directory
endpoints.py     ``[endpoints.NAME]`` -> registered OpenAI-compatible providers
g4f.py           the providers of an installed gpt4free: there or not, chosen, wrapped
catalog.py       every provider with its measured flags and states (``harness list``)
flags.py         the measured ``working`` flags file, and patches to provider source
g4f_source.py    the same patches for gpt4free's provider modules
source_flags.py  the patches ``harness flags --write-source`` ships, for a source
"""
