"""Moved to ``bot.trackerfile``: the names ``bot.services.data`` and ``cogs.data`` import."""

from bot.trackerfile import MAX_BYTES, ImportPlan, apply_import, prepare_import

__all__ = ["MAX_BYTES", "ImportPlan", "apply_import", "prepare_import"]
