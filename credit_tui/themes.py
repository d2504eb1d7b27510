"""Colour themes the app offers, and the WCAG contrast check that decides which ones are readable.

Every pair of colours the app draws text with (text on the background and panels, muted text, panel
titles, decision colours, the decision badge, the footer keys, the table cursor) must reach WCAG AA
(4.5:1). The palette offers only the themes that do; the app's own light theme is built to pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

#: WCAG AA contrast for normal text.
AA_CONTRAST: Final = 4.5

DARK_THEME: Final = "credit-dark"
LIGHT_THEME: Final = "credit-light"

CREDIT_LIGHT: Final = Theme(
    name=LIGHT_THEME,
    primary="#004578",
    secondary="#005A9E",
    accent="#8A4B00",
    warning="#8A5300",
    error="#A4243B",
    success="#1E6B34",
    foreground="#1F1F1F",
    background="#F2F2F2",
    surface="#E8E8E8",
    panel="#DCDCDC",
    dark=False,
    variables={
        "footer-key-foreground": "#004F8C",
        "block-cursor-text-style": "bold",
    },
)
"""textual-light with darker accent, warning, success and error so text in them reaches 4.5:1."""

CREDIT_DARK: Final = replace(
    BUILTIN_THEMES["textual-dark"], name=DARK_THEME, variables={"block-cursor-foreground": "#FFFFFF"}
)
"""textual-dark with a white table cursor text (4.6:1 on the primary blue instead of 3.8:1)."""

#: (foreground variable, background variable) pairs the app draws text with.
TEXT_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("text", "background"),
    ("text", "surface"),
    ("text", "panel"),
    ("text-muted", "background"),
    ("text-muted", "surface"),
    ("text-accent", "background"),
    ("text-accent", "surface"),
    ("text-error", "background"),
    ("text-success", "background"),
    ("text-warning", "background"),
    ("auto 95%", "success"),
    ("auto 95%", "warning"),
    ("auto 95%", "error"),
    ("footer-key-foreground", "footer-background"),
    ("block-cursor-foreground", "block-cursor-background"),
)


def _resolve(value: str, background: Color) -> Color:
    """A theme variable's colour as drawn over ``background`` ("auto 60%" is Textual's contrast text)."""
    value = value.strip()
    if value.startswith("auto"):
        alpha = float(value.removeprefix("auto").strip().rstrip("%") or 100) / 100
        return background + background.get_contrast_text(alpha)
    color = Color.parse(value)
    return background + color if color.a < 1 else color


def relative_luminance(color: Color) -> float:
    """WCAG 2 relative luminance of an opaque colour (0 black to 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color.normalized)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: Color, background: Color) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_contrasts(theme: Theme) -> dict[tuple[str, str], float]:
    """The contrast of every pair of :data:`TEXT_PAIRS` in ``theme``."""
    variables = theme.to_color_system().generate()
    variables.update(theme.variables)
    out: dict[tuple[str, str], float] = {}
    for fg_name, bg_name in TEXT_PAIRS:
        background = _resolve(variables[bg_name], Color.parse(variables["background"]))
        foreground = _resolve(variables.get(fg_name, fg_name), background)
        out[(fg_name, bg_name)] = contrast_ratio(foreground, background)
    return out


def is_readable(theme: Theme) -> bool:
    """Whether every text pair of ``theme`` reaches WCAG AA.

    ANSI themes, whose colours the terminal chooses, cannot be checked and are not offered.
    """
    try:
        contrasts = theme_contrasts(theme)
    except ColorParseError:
        return False
    return all(ratio >= AA_CONTRAST for ratio in contrasts.values())


def readable_theme_names() -> list[str]:
    """Built-in themes and the app's own that pass :func:`is_readable` (computed once per call)."""
    themes = {**BUILTIN_THEMES, DARK_THEME: CREDIT_DARK, LIGHT_THEME: CREDIT_LIGHT}
    return [name for name, theme in themes.items() if is_readable(theme)]
