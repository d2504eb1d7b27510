"""A mixin for widgets that run workers: a failed worker goes to the app's single error handler.

Worker events do not bubble, so a widget with workers hands them on itself.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker


class WorkerErrorsToApp(DOMNode):
    """Forwards this widget's worker state changes to ``app.on_worker_state_changed`` (the error dialog)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand the event to the app's handler."""
        handler = getattr(self.app, "on_worker_state_changed", None)
        if handler is not None:
            handler(event)
