"""Match the lines of an uploaded file to the lines of the plan's tracker template.

Lines are matched against the template in order (a cursor follows the file), and a block's
lines only inside that block; blank lines, code fences and ``---`` are skipped. Literal text
is matched tolerant of spacing and of emoji dropped or restyled.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.trackerfile.blocks import FILL_IN, Block
from bot.trackerfile.cells import BOX_MARKS
from bot.trackerfile.language import Lit, Slot, TLine
from bot.trackerfile.templates import Template

log = logging.getLogger(__name__)

FILLER_RE = re.compile(r"\s*(?:```.*|-{3,}|\*{3,}|_{3,}|" + re.escape(FILL_IN) + r")?\s*")
_SLOT_RE = {
    "item": r"\[[ \t]*[xX✓✔☑✅]?[ \t]*\]",
    "ms": r"\[[ \t]*[xX✓✔☑✅]?[ \t]*\]",
    "tick": r"[^\]]*",
    "logweek": r"\d{1,3}",
    "noteweek": r"\d{1,3}",
    "logday": r"\d{1,3}",
    "noteno": r"\d{1,4}",
    "mockslot": r"\d{1,3}",
    "logdate": r"\d{4}-\d{1,2}-\d{1,2}",
    "dltitle": r".+",
}
_SUFFIX_RE = r"(?:\s*\((?:done|reached)\s+(?P<sfx>[^()]*?)\s*\))?"


def _slot_regex(slot: Slot) -> str:
    if slot.kind == "calc" and slot.arg == "overall_bar":
        return r"\[[^\]]*\].*"  # a line of its own: only a bar may match it
    return _SLOT_RE.get(slot.kind, ".*?")


def is_filler(line: str) -> bool:
    """Tell whether a line carries nothing to read (blank, a fence, a rule)."""
    return FILLER_RE.fullmatch(line) is not None


def normalize(line: str) -> str:
    """Drop the line's trailing spaces."""
    return line.rstrip()


def _literal_regex(text: str) -> str:
    """Match literal template text, tolerant of spacing and of emoji dropped or restyled."""
    out = []
    for ch in text:
        if ch.isspace():
            if not out or out[-1] != r"\s*":
                out.append(r"\s*")
        elif ch == "\ufe0f":
            continue
        elif unicodedata.category(ch) == "So" and ch not in BOX_MARKS:
            out.append(f"(?:{re.escape(ch)}\ufe0f?)?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def line_regex(line: TLine) -> re.Pattern[str]:
    """Build the pattern that reads a template line, one group per slot (``s0``...)."""
    parts = [r"\s*"]
    n = 0
    for seg in line.segments:
        if isinstance(seg, Lit):
            parts.append(_literal_regex(seg.text))
        else:
            parts.append(f"(?P<s{n}>{_slot_regex(seg)})")
            n += 1
    if line.suffix is not None:
        parts.append(_SUFFIX_RE)
    parts.append(r"\s*")
    return re.compile("".join(parts))


@dataclass(frozen=True)
class Rule:
    """A template line as the import reads it: its pattern and its place in the template."""

    index: int
    line: TLine
    regex: re.Pattern[str]
    block: Block | None = None  # a line of this block (only read inside it)
    enters: Block | None = None  # the heading that opens this block


_RULES: dict[int, tuple[Template, tuple[Rule, ...]]] = {}


def rules_of(template: Template) -> tuple[Rule, ...]:
    """Return the template's reading rules in order (built once per template)."""
    cached = _RULES.get(id(template))
    if cached is not None and cached[0] is template:
        return cached[1]
    rules: list[Rule] = []
    entries = {b.entry: b for b in template.blocks}
    seen: set[str] = set()
    for e in template.entries:
        if isinstance(e, Block):
            if e.entry not in seen:
                line = TLine((Lit(e.entry),))
                rules.append(Rule(len(rules), line, line_regex(line), enters=e))
            for line in e.body():
                rules.append(Rule(len(rules), line, line_regex(line), block=e))
            continue
        if not e.slots and is_filler(e.text):
            continue
        enters = entries.get(e.text) if not e.slots else None
        if enters is not None:
            seen.add(e.text)
        rules.append(Rule(len(rules), e, line_regex(e), enters=enters))
    result = tuple(rules)
    _RULES[id(template)] = (template, result)
    return result


def match_line(rules: Sequence[Rule], line: str, cursor: int,
           block: Block | None) -> tuple[Rule, re.Match[str]] | None:
    """Find the rule reading LINE: BLOCK's lines first, then the template from CURSOR on."""
    if block is not None:
        for r in rules:
            if r.block is block and (mt := r.regex.fullmatch(line)):
                return r, mt
    for r in (*rules[cursor:], *rules[:cursor]):
        if r.block is None and (mt := r.regex.fullmatch(line)):
            return r, mt
    return None

