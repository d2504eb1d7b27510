"""Screens of the advisor app: search, client, model card, help and dialogs."""
