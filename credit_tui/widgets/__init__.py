"""Widgets of the advisor app, one per module."""
