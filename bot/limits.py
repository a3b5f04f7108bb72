"""Every limit Pacer enforces, in one place: text lengths, a day's hours, list sizes."""

from __future__ import annotations

from datetime import timedelta

# Text a learner types (refused, never truncated, when longer).
TOPIC_MAX = 200
NOTE_MAX = 1000
FEEDBACK_MAX = 500
TITLE_MAX = 100
GOAL_MAX = 500
NAME_MAX = 100

# Time.
MAX_DAY_MINUTES = 24 * 60  # one entry, and one study day, never pass 24 h
MAX_PAUSE_DAYS = 366
MAX_SNOOZE = timedelta(hours=24)
MAX_START_AHEAD_DAYS = 366

# How much Pacer keeps per learner.
UNDO_KEEP = 50
MAX_DEADLINES = 50
MAX_NOTES = 200
