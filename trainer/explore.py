"""``trainer explore`` (being built: the next commit fills this in)."""

from __future__ import annotations

from pathlib import Path

from trainer.errors import UserError


def build_explore(data: Path, out: Path) -> Path:
    """Not built yet."""
    raise UserError("trainer explore is not available yet in this version.")
