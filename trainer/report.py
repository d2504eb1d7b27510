"""``trainer report`` (being built: the next commit fills this in)."""

from __future__ import annotations

from pathlib import Path

from trainer.errors import UserError


def build_report(model: Path, data: Path | None, out: Path) -> Path:
    """Not built yet."""
    raise UserError("trainer report is not available yet in this version.")
