"""credit-tui: the advisor's terminal app for the Prêt à Dépenser credit model.

Importing this package is cheap: Textual, pandas and XGBoost are imported only by the modules that
need them, so ``credit-tui --help`` and the first screen come up fast.
"""

from __future__ import annotations

from trainer import __version__

__all__ = ["__version__"]
