"""Hardening suite: hostile inputs over every loader, command and screen (a package: its conftest and
helpers never shadow the other test folders' modules)."""
