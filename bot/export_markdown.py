"""Moved to ``bot.trackerfile``: the names ``bot.services.data`` still imports from here."""

from bot.trackerfile.export import export_filename, render_markdown

__all__ = ["export_filename", "render_markdown"]
