"""Quote what a user typed back to them: one line, truncated, mentions defused."""

from __future__ import annotations


def quote_input(text: str, limit: int = 40) -> str:
    """Quote user text for a message: one line, truncated, mentions defused."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    safe = one_line.replace("@", "@\u200b").replace("<!", "<\u200b!").replace("<#", "<\u200b#")
    return f'"{safe}"'
