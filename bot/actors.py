"""Who is speaking: the platform-neutral identity every front hands to the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is speaking, on which platform, and where (for home channel and plan choice).

    ``space_id`` is the server or workspace (None in a direct message); ``channel_id`` is where
    the command was given.
    """

    platform: str
    external_id: str
    display_name: str
    space_id: str | None = None
    channel_id: str | None = None

    @property
    def in_dm(self) -> bool:
        return self.space_id is None
