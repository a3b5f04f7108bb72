"""Pure wording helpers shared by every message and reply: one home for plural forms."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Put COUNT before the noun in its right form: ``1 day``, ``2 days``, ``0 days``."""
    form = singular if count == 1 else (plural_form if plural_form is not None
                                        else singular + "s")
    return f"{count} {form}"
