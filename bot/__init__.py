"""Pacer: an accountability bot for long self-study plans."""

__version__ = "0.1.0"
