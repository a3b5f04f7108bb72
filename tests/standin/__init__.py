"""Loopback Discord stand-in for end-to-end tests with the real discord.py client."""

from tests.standin.openapi_check import (
    OpenAPIChecker,
    Violation,
    default_spec_path,
    load_checker,
    validate_command_payload,
)
from tests.standin.server import (
    DiscordError,
    DiscordStandin,
    FailureRule,
    InteractionCallback,
    InteractionHandle,
    RecordedRequest,
    SentMessage,
    StandinAttachment,
)

__all__ = [
    "DiscordError",
    "DiscordStandin",
    "FailureRule",
    "InteractionCallback",
    "InteractionHandle",
    "OpenAPIChecker",
    "RecordedRequest",
    "SentMessage",
    "StandinAttachment",
    "Violation",
    "default_spec_path",
    "load_checker",
    "validate_command_payload",
]
