"""Errors a user can cause. Each carries one sentence naming the file, column or value and what to do.

The CLIs print ``str(error)`` on one line and exit with code 2; the TUI shows it in a dialog.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure caused by the user's input, with a message fit to show as is."""


class DataError(UserError):
    """A data file or folder is missing, unreadable or does not match the Home Credit schema."""


class BundleError(UserError):
    """A model bundle is missing, corrupt, tampered with, or incompatible with this version."""


class UnknownClientError(UserError):
    """A client ID that is not in the loaded portfolio."""
