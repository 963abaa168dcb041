"""Probing the providers of an installed gpt4free (the optional ``.[g4f]`` extra).

``settings`` holds the ``[g4f]`` table; ``targets`` chooses, wraps and registers the
providers (``g4f.NAME``); ``working`` answers ``harness g4f working``; ``source``
writes the measured flags into gpt4free's provider modules; ``command`` is the CLI.
Importing this package does not import gpt4free.
"""
