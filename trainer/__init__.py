"""Headless core of credit-tui: Home Credit data, features, XGBoost model, bundles and scoring.

This package never imports ``textual`` or ``credit_tui``.
"""

__version__ = "0.1.0"
