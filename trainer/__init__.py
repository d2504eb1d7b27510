"""Headless core of credit-tui: Home Credit data, features, XGBoost model, bundles and scoring.

This package never imports ``textual`` or ``credit_tui``.
"""

from importlib import metadata

try:
    #: The installed distribution's version: the one source is ``project.version`` in pyproject.toml.
    __version__ = metadata.version("credit-tui")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
