"""Moved to ``bot.trackerfile.data_export``: the names ``bot.services.data`` imports."""

from bot.trackerfile.data_export import collect, filenames, to_csv_zip, to_json

__all__ = ["collect", "filenames", "to_csv_zip", "to_json"]
