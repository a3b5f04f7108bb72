"""Moved to ``bot.trackerfile``: the names ``bot.services.data`` and ``cogs.data`` import."""

from bot.trackerfile.apply import apply_import, prepare_import
from bot.trackerfile.read import ImportPlan
from bot.trackerfile.upload import MAX_BYTES

__all__ = ["MAX_BYTES", "ImportPlan", "apply_import", "prepare_import"]
