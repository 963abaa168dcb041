"""harness: health monitoring and offline testing for gpt4free-style chat providers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("harness")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
