"""Text bars shared by the contribution and importance charts (pure functions, no widget)."""

from __future__ import annotations

import math

from rich.text import Text

FULL = "█"
EIGHTHS = " ▏▎▍▌▋▊▉"


def bar_text(value: float, scale: float, width: int, style: str) -> Text:
    """A left-to-right bar of ``value / scale`` of ``width`` cells, with eighth-cell precision."""
    if width <= 0:
        return Text("")
    share = 0.0 if scale <= 0 or math.isnan(value) else max(0.0, min(1.0, value / scale))
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    body = FULL * full + (EIGHTHS[part] if part else "")
    return Text(body.ljust(width), style=style)


def signed_bar_text(value: float, scale: float, half: int, up_style: str, down_style: str) -> Text:
    """A bar around a centre axis: positive values to the right (``up_style``), negative to the left.

    The bar's tip carries ``+`` or ``-``, so the direction reads without colour (``NO_COLOR``, colour
    blindness).

    Args:
        value: Signed value.
        scale: Absolute value that fills one half.
        half: Cells on each side of the axis.
        up_style: Style of a positive bar.
        down_style: Style of a negative bar.
    """
    share = 0.0 if scale <= 0 or math.isnan(value) else min(1.0, abs(value) / scale)
    cells = max(1, round(share * half)) if value != 0 else 0
    text = Text()
    if value < 0:
        text.append(" " * (half - cells))
        text.append("-", style=down_style)
        text.append("█" * (cells - 1), style=down_style)
        text.append("│", style="dim")
        text.append(" " * half)
    else:
        text.append(" " * half)
        text.append("│", style="dim")
        if cells:
            text.append("█" * (cells - 1), style=up_style)
            text.append("+", style=up_style)
        text.append(" " * (half - cells))
    return text
