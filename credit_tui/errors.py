"""How the advisor app words a failure, shared by the app and its screens (which never import the app)."""

from __future__ import annotations

from trainer.errors import UserError


def describe_error(error: BaseException) -> str:
    """One sentence for any failure: a user error's own message, else its type and text."""
    if isinstance(error, UserError):
        return str(error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"Unexpected {type(error).__name__}{': ' + text if text else ''}."
