"""What a front shows: a Reply (text, title, privacy, celebrations, notices, a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """A file to attach to a reply or a message (a chart, an export)."""

    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True)
class Celebration:
    """A milestone reached by the change just made, announced in its reply."""

    milestone_id: str
    title: str
    kind: str
    reached_on: date


@dataclass
class Reply:
    """What a front shows: text, a title, privacy, celebrations, notices and maybe a file.

    ``private`` replies are shown only to the learner (ephemeral); ``shareable`` ones (/log,
    /done) are posted publicly when ``public`` says the learner allows it.
    """

    text: str
    title: str | None = None
    private: bool = True
    shareable: bool = False
    public: bool = False
    celebrations: list[Celebration] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    attachment: Attachment | None = None
    error: bool = False
    data: dict[str, Any] = field(default_factory=dict)
