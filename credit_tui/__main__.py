"""``python -m credit_tui``: same as the ``credit-tui`` command."""

from __future__ import annotations

import sys

from credit_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
