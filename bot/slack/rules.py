"""The Slack front's pure rules: where a reply goes, what republishes the App Home, and how
commands and mentions are spelled on Slack.

Visibility follows Discord's rule: errors and private views are ephemeral; a ``shareable``
reply the learner allows to be ``public`` (``/log``, ``/done``) is posted in the channel; in
the learner's DM with Pacer everything is a normal message. Link codes are always ephemeral:
whoever reads one can join the tracker. What a learner types is stored as plain text: Slack's
live references (``<@U1|ana>``, ``<!here>``, links) become words (``@ana``), except the
partner invite's mention, which the grammar's ``resolve_user`` hook turns into an Actor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.grammar import COMMANDS
from bot.replies import Reply

SLASH = "/pacer"
IN_CHANNEL, EPHEMERAL = "in_channel", "ephemeral"
ALWAYS_EPHEMERAL = frozenset({"link"})
_NAMES = sorted(COMMANDS, key=len, reverse=True)
_COMMAND_REF = re.compile(r"(?<![\w/])/(?=(?:" + "|".join(map(re.escape, _NAMES))
                          + r")(?![\w-]))")
# Commands (with the arguments that make them) that only read the tracker.
_READS = frozenset({"help", "progress", "week", "skills", "summary", "next", "digest",
                    "export", "status"})
_READS_WITHOUT_ARGS = frozenset({"notes", "deadline", "deadlines", "settings", "setting",
                                 "plan", "plans", "link", "forget-me"})

# The operator's commands, answered by the front itself (not in the learners' catalogue).
OWNER_COMMANDS = frozenset({"status"})
NOT_OWNER = ("Only the owners of this Pacer (`slack.owner_ids` in its configuration) can see "
             "its status.")

NO_IMPORT = ("A tracker file cannot be imported on Slack yet: run /import on Discord (attach "
             "the .md file) or on the console, then `/pacer link` joins this account to it.")


_SLACK_REFERENCE = re.compile(r"<(?P<kind>[@#!])?(?P<target>[^|<>]*)(?:\|(?P<label>[^<>]*))?>")


def _plain(found: re.Match[str]) -> str:
    kind, target, label = found["kind"], found["target"], found["label"]
    if kind == "!" and target.startswith("subteam^"):
        return label or "@group"
    if kind == "!":
        return f"@{label or target}"
    if kind in ("@", "#"):
        return f"{kind}{label or target}"
    return label or target  # a link: its label, else the URL


def plain_references(text: str) -> str:
    """Turn Slack's live references (``<@U1|ana>``, ``<!here>``, links) into plain text."""
    return _SLACK_REFERENCE.sub(_plain, text)


def unescape(text: str) -> str:
    """Undo Slack's escaping of what the user typed (``&amp;`` ``&lt;`` ``&gt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_commands(text: str) -> str:
    """Spell the core's command references the Slack way: ``/log 2h`` → ``/pacer log 2h``."""
    return _COMMAND_REF.sub(f"{SLASH} ", text)


def for_slack(reply: Reply) -> Reply:
    """Rewrite a reply's command references for Slack."""
    reply.text = slack_commands(reply.text)
    reply.notices = [slack_commands(n) for n in reply.notices]
    return reply


def help_reply(args: Sequence[str]) -> Reply | None:
    """Return Slack's command list (``/pacer help``); None lets the grammar answer the rest."""
    if args:
        return None
    lines = [f"`{SLASH} {name}` — {h.summary}" for name, h in COMMANDS.items()]
    lines.append(f"`{SLASH} help COMMAND` shows its usage and an example, e.g. "
                 f"`{SLASH} help log`.")
    return Reply("\n".join(lines), title="Pacer commands")


def response_type(command: str, reply: Reply, in_dm: bool) -> str:
    """Choose where a reply goes: in the channel or only to the learner."""
    if command in ALWAYS_EPHEMERAL:
        return EPHEMERAL
    if in_dm:
        return IN_CHANNEL
    if not reply.error and reply.shareable and reply.public:
        return IN_CHANNEL
    return EPHEMERAL


def changes_tracker(command: str, args: Sequence[str]) -> bool:
    """Tell whether a command line writes (then the App Home is published again)."""
    if command in _READS:
        return False
    if command in _READS_WITHOUT_ARGS and (not args or args[0].lower() in {"list", "show"}):
        return False
    return True
