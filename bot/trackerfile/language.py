"""The template language of a tracker file: lines of literal text and placeholders.

A template line is copied as it is, except:

- ``{kind:arg|blank}`` is a placeholder (a ``Slot``); ``blank`` is what an unfilled value shows
  (the spec's ``_____``, ``___/___/___``...); without ``|blank`` it shows ``_____``.
- ``{{`` and ``}}`` stand for literal braces (``esc`` writes plan text that way).

Kinds (filled by ``bot.trackerfile.fill``, read back by ``bot.trackerfile.read``): ``item`` and
``ms`` (``[ ]``/``[x]`` of a checklist item or milestone), ``tick`` (``☐``/``☑`` of a daily
lesson), ``msdate`` (the day a milestone was reached), ``score``, ``counter``, ``field``,
``choice`` (a field's options as ``☐ A ☑ B ☐ C``), ``rating:SKILL:WEEK``, ``start``, ``target``,
``goal``, ``commit_hours``, ``commit_weeks``, ``signature``, ``committed_on``, ``partner``, and
the computed ones (``calc:NAME``, ``phase``, ``status:SECTION``, ``readiness``) that the import
skips. A line holding an ``item``/``tick`` ends with `` (done YYYY-MM-DD)`` once the item is
done, one holding ``ms`` with `` (reached YYYY-MM-DD)``: the dates make the round trip exact.

Lines starting with ``@`` are blocks (``bot.trackerfile.blocks``), not template lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.plan import Field

log = logging.getLogger(__name__)

U3 = "___"
U5 = "_____"
U15 = "_______________"
U25 = "_________________________"
U35 = "___________________________________"
U43 = "___________________________________________"
U47 = "_______________________________________________"
BLANK_DATE = "___/___/___"

TICKED = "☑"
UNTICKED = "☐"
LINE_BREAK = "<br>"

COMPUTED_KINDS = frozenset({"calc", "phase", "status", "readiness"})
SUFFIX_KINDS = {"item": "done", "tick": "done", "ms": "reached"}


@dataclass(frozen=True)
class Lit:
    """Literal text of a template line."""

    text: str


@dataclass(frozen=True)
class Slot:
    """A placeholder: what fills it (kind, arg) and what it shows when unfilled."""

    kind: str
    arg: str = ""
    blank: str = U5

    def source(self) -> str:
        """Write the placeholder as it appears in a template."""
        arg = f":{self.arg}" if self.arg else ""
        blank = "" if self.blank == U5 else f"|{self.blank}"
        return f"{{{self.kind}{arg}{blank}}}"


Segment = Lit | Slot
SlotText = Callable[[Slot], str | None]


@dataclass(frozen=True)
class TLine:
    """One template line: literal text and placeholders."""

    segments: tuple[Segment, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        """Return the placeholders of the line, in order."""
        return tuple(s for s in self.segments if isinstance(s, Slot))

    @property
    def text(self) -> str:
        """Return the literal text of a line without placeholders."""
        return "".join(s.text for s in self.segments if isinstance(s, Lit))

    @property
    def suffix(self) -> tuple[str, str] | None:
        """Return (word, slot) of the date suffix: ('done', item id) or ('reached', milestone)."""
        for s in self.slots:
            if s.kind in SUFFIX_KINDS:
                return SUFFIX_KINDS[s.kind], s.arg
        return None

    def fill(self, value: SlotText, suffix: str = "") -> str:
        """Render the line, VALUE giving each slot's text (None: the slot's blank)."""
        out = []
        for seg in self.segments:
            if isinstance(seg, Lit):
                out.append(seg.text)
            else:
                v = value(seg)
                out.append(seg.blank if v is None else v)
        return "".join(out) + suffix

    def source(self) -> str:
        """Write the line back as template text (``parse_line`` reads it to the same line)."""
        return "".join(esc(s.text) if isinstance(s, Lit) else s.source() for s in self.segments)


_SLOT_RE = re.compile(r"\{([a-z_]+)(?::([^|{}]*))?(?:\|([^{}]*))?\}")


def parse_line(text: str) -> TLine:
    """Parse one template line into literal text and slots."""
    segments: list[Segment] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("{{", i) or text.startswith("}}", i):
            buf.append(text[i])
            i += 2
            continue
        if text[i] == "{":
            m = _SLOT_RE.match(text, i)
            if m is None:
                raise ValueError(f"bad placeholder in template line {text!r}")
            if buf:
                segments.append(Lit("".join(buf)))
                buf = []
            segments.append(Slot(m[1], m[2] or "", U5 if m[3] is None else m[3]))
            i = m.end()
            continue
        buf.append(text[i])
        i += 1
    if buf:
        segments.append(Lit("".join(buf)))
    return TLine(tuple(segments))


def slot_values(**values: str | None) -> SlotText:
    """Fill slots by kind from keyword values (the lines of blocks)."""
    return lambda s: values.get(s.kind)


def esc(text: str) -> str:
    """Escape plan text for a template line."""
    return text.replace("{", "{{").replace("}", "}}")


def encode_text(text: str) -> str:
    """Keep a stored text on one line: line breaks become ``<br>``."""
    return text.replace("\r\n", "\n").replace("\n", LINE_BREAK)


def encode_optional(text: str | None) -> str | None:
    """Encode a text that may be unset or empty (then its blank shows)."""
    return encode_text(text) if text else None


def decode_text(text: str) -> str:
    """Turn ``<br>`` back into line breaks."""
    return re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)


def num(value: float) -> str:
    """Show a computed number with at most one decimal: ``12``, ``12.5``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def choice_options(field: Field) -> tuple[str, ...]:
    """Return the options a field shows as checkboxes (a scale shows its numbers)."""
    if field.kind == "choice":
        return field.choices
    if field.kind == "scale" and field.min is not None and field.max is not None:
        return tuple(str(v) for v in range(field.min, field.max + 1))
    raise ValueError(f"field {field.id!r} of kind {field.kind} has no options to tick")


def ticks(options: Sequence[str], chosen: str | None) -> str:
    """Draw options as ``☐ A ☑ B ☐ C``."""
    return " ".join(f"{TICKED if o == chosen else UNTICKED} {o}" for o in options)
