"""Block Kit rendering: replies, dispatcher messages and the App Home, escaped for Slack.

Every text Pacer sends to Slack passes through ``mrkdwn``: the Markdown of the core becomes
Slack's mrkdwn and ``&``, ``<`` and ``>`` are escaped as Slack requires, so nothing a learner
typed can become a live mention (``<!everyone>``, ``<@U1>``, ``<!subteam^S1>``) or a link.
Pacer never sends ``link_names``, so a typed ``@here`` stays plain text. The only mention
Pacer writes itself is the learner's own, in a fallback channel post (``mention_line``).
Long text is cut into sections of at most ``SECTION_LIMIT`` characters (cuts fall between
lines, never inside an entity, and a cut code fence is closed and reopened) and sections into
messages of at most ``BLOCKS_PER_MESSAGE`` blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.messages import Button, OutMessage
from bot.replies import Reply

SECTION_LIMIT = 3000  # characters of a section's text
BLOCKS_PER_MESSAGE = 50
HOME_BLOCKS = 100
BUTTON_LABEL_LIMIT = 75
FALLBACK_TEXT_LIMIT = 300
ACTION_PREFIX = "pacer:"
FENCE = "```"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")

Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack's formatting reference requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(line: str) -> str:
    """Convert one Markdown line outside code fences: bold and headings, code spans kept."""
    heading = _HEADING.match(line)
    if heading:
        line = f"**{heading.group(1)}**"
    parts = line.split("`")
    for i in range(0, len(parts), 2):  # even parts are outside `code spans`
        parts[i] = _BOLD.sub(r"*\1*", parts[i])
    return "`".join(parts)


def mrkdwn(markdown: str) -> str:
    """Turn the core's Markdown into escaped Slack mrkdwn."""
    out: list[str] = []
    in_code = False
    for line in markdown.split("\n"):
        if line.strip().startswith(FENCE):
            in_code = not in_code
            out.append(escape(line))
            continue
        out.append(escape(line if in_code else _inline(line)))
    return "\n".join(out)


def _safe_cut(line: str, limit: int) -> int:
    """Return where to cut LINE at most LIMIT characters in, never inside an ``&…;`` entity."""
    cut = limit
    amp = line.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in line[amp:cut]:
        cut = amp
    return max(cut, 1)


def _split_long(line: str, most: int) -> list[str]:
    """Cut one line into parts of at most MOST characters (never inside an entity)."""
    parts = []
    while len(line) > most:
        cut = _safe_cut(line, most)
        parts.append(line[:cut])
        line = line[cut:]
    return [*parts, line]


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut escaped mrkdwn into pieces of at most LIMIT characters, keeping code fences whole."""
    reopen = len(FENCE) + 1  # a piece cut inside a fence closes it and the next reopens it
    room = limit - reopen
    lines = [part for line in text.split("\n") for part in _split_long(line, room - reopen)]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    in_code = False
    for line in lines:
        if current and size + len(line) + 1 > room:
            pieces.append("\n".join(current) + ("\n" + FENCE if in_code else ""))
            current, size = ([FENCE], reopen) if in_code else ([], 0)
        current.append(line)
        size += len(line) + 1
        if line.strip().startswith(FENCE):
            in_code = not in_code
    pieces.append("\n".join(current))
    kept = [p for p in pieces if p.strip()]
    return kept or ["\u200b"]


def section(text: str) -> Block:
    """Build a mrkdwn section block from already escaped TEXT."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    """Build a context block from already escaped TEXT."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def sections(markdown: str) -> list[Block]:
    """Turn Markdown into as many sections as Slack's limit needs."""
    return [section(piece) for piece in chunks(mrkdwn(markdown))]


def paginate(blocks: Sequence[Block], per_message: int = BLOCKS_PER_MESSAGE) -> list[list[Block]]:
    """Split BLOCKS into messages of at most PER_MESSAGE blocks."""
    return [list(blocks[i:i + per_message]) for i in range(0, len(blocks), per_message)] or [[]]


def fallback_text(title: str | None, text: str) -> str:
    """Return the escaped notification text of a message (its title, else its start)."""
    plain = (title or text).replace("**", "").replace(FENCE, "").strip()
    plain = plain.split("\n", 1)[0] or "Pacer"
    return escape(plain[:FALLBACK_TEXT_LIMIT])


def reply_blocks(reply: Reply) -> list[Block]:
    """Render a Reply: title, text, celebrations and notices."""
    blocks: list[Block] = []
    if reply.title and not reply.error:
        blocks.append(section(f"*{escape(reply.title)}*"))
    text = f"⚠️ {reply.text}" if reply.error else reply.text
    blocks += sections(text)
    for c in reply.celebrations:
        blocks.append(section(f"🎉 *{escape(c.kind.capitalize())} reached:* {escape(c.title)} "
                              f"({c.reached_on.isoformat()})"))
    for notice in reply.notices:
        blocks += [context(piece) for piece in chunks(mrkdwn(f"ℹ️ {notice}"))]
    return blocks


def reply_messages(reply: Reply) -> list[list[Block]]:
    """Render a Reply as one or more messages of Slack's size."""
    return paginate(reply_blocks(reply))


def button(action: str, label: str, *, value: str | None = None) -> Block:
    """Build a button whose action id is ``pacer:ACTION`` (the value carries the action)."""
    block: Block = {"type": "button", "action_id": f"{ACTION_PREFIX}{action}"[:255],
                    "text": {"type": "plain_text", "text": label[:BUTTON_LABEL_LIMIT],
                             "emoji": True},
                    "value": (value or action)[:2000]}
    if action.startswith(("log:", "done:")):
        block["style"] = "primary"
    return block


def actions(buttons: Iterable[Button]) -> Block:
    """Build an actions block from neutral buttons (at most 25)."""
    return {"type": "actions", "elements": [button(b.action, b.label) for b in buttons][:25]}


def mention_line(user_id: str | None) -> str | None:
    """Return Pacer's own mention of the learner a fallback post is for (a checked user id)."""
    if user_id and _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return None


def message_messages(message: OutMessage, mention_id: str | None = None) -> list[list[Block]]:
    """Render a dispatcher message: title, text, then its buttons in the last message."""
    blocks: list[Block] = []
    mention = mention_line(mention_id)
    if mention:
        blocks.append(section(f"{mention} this is for you:"))
    blocks.append(section(f"*{escape(message.title)}*"))
    blocks += sections(message.text)
    pages = paginate(blocks, BLOCKS_PER_MESSAGE - 1)
    if message.buttons:
        pages[-1].append(actions(message.buttons))
    return pages
