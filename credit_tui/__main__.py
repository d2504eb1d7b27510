"""``python -m credit_tui``: same as the ``credit-tui`` command."""

from __future__ import annotations

from credit_tui.cli import console_main

if __name__ == "__main__":
    console_main()
