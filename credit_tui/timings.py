"""Opt-in timings for ``bench/``: with ``CREDIT_TUI_TIMINGS=FILE`` the app appends one line per event.

Lines are ``KIND SECONDS FIELD=VALUE ...`` (``apply`` for a list query, ``open`` for a client opened from
a key to the frame drawn). Measured inside the process, so a benchmark on a busy machine can tell the
app's own time (and its CPU time, and the garbage collector's share) from the time the machine made it
wait. Off (nothing registered, nothing written) unless the variable is set.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

TIMINGS_ENV = "CREDIT_TUI_TIMINGS"
"""Set to a file path to append timings (see the module docstring)."""


class GcClock:
    """Total time spent in garbage collections since start (a ``gc.callbacks`` hook)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self.full = 0
        """Collections of the oldest generation (the ones that scan every long-lived object)."""
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1
            self.full += info.get("generation") == 2


class Timings:
    """Where the app writes its timings; a no-op when ``CREDIT_TUI_TIMINGS`` is not set."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.gc = GcClock() if path else None

    @classmethod
    def from_environment(cls) -> Timings:
        """The timings file named by ``CREDIT_TUI_TIMINGS`` (off when unset)."""
        return cls(os.environ.get(TIMINGS_ENV) or None)

    @property
    def enabled(self) -> bool:
        """Whether timings are written."""
        return self.path is not None

    def gc_state(self) -> tuple[float, int, int]:
        """Seconds spent in collections, their count and the full ones' count so far (zeros when off)."""
        return (self.gc.seconds, self.gc.collections, self.gc.full) if self.gc is not None else (0.0, 0, 0)

    def write(self, kind: str, seconds: float, **fields: object) -> None:
        """Append ``KIND SECONDS key=value ...`` to the file (nothing when off)."""
        if self.path is None:
            return
        extra = "".join(f" {key}={value}" for key, value in fields.items())
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{kind} {seconds:.6f}{extra}\n")
