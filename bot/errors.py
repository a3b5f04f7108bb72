"""Domain errors: each carries a message fit to show the user as it is."""

from __future__ import annotations


class PacerError(Exception):
    """Base for every error whose message is meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(PacerError):
    """The user typed something we cannot accept; nothing was changed."""


class NotFoundError(PacerError):
    """The thing the user named does not exist (for them)."""


class StateError(PacerError):
    """The command is valid but does not apply now (not onboarded, nothing to undo...)."""


class PlanError(Exception):
    """A plan file is invalid; the message names the file and the entry."""
