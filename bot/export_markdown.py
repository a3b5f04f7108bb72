"""Moved to ``bot.trackerfile``: the names ``bot.data_commands`` still imports from here."""

from bot.trackerfile import export_filename, render_markdown

__all__ = ["export_filename", "render_markdown"]
