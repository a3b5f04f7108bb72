"""The plan model: phases, sections, items, counters, scores, skills, fields, milestones."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.errors import InputError
from bot.parsing import check_text, parse_int_in_range, parse_score, quote_input
from bot.plan.lookup import Named, compact_key, find_entry

log = logging.getLogger(__name__)

BUILTIN_PLAN_DIR = Path(__file__).resolve().parent.parent / "plans"
DEFAULT_PLAN_ID = "vllm"

MILESTONE_KINDS = ("milestone", "celebration", "achievement")
FIELD_KINDS = ("scale", "choice", "text", "percent")
CONDITION_KEYS = (
    "items", "any_items", "any_sections_complete", "mock_score_min", "hours_min", "logs_min",
    "counter_min", "milestones", "all_of",
)
MAX_TEXT_LENGTH = 1000  # the database column of field values

ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DAY_RE = re.compile(r"(?:day|d)?[\s_-]*0*([0-9]{1,3})", re.ASCII | re.IGNORECASE)
_QUIZ_WEEK_RE = re.compile(
    r"(?:quiz[\s_-]*)?(?:week|wk|w)[\s_-]*0*([0-9]{1,3})(?:[\s_-]*quiz)?|(?:quiz|q)[\s_-]*0*([0-9]{1,3})",
    re.ASCII | re.IGNORECASE,
)


# --- the plan model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """A phase of the plan (Foundation, Concepts...), spanning the weeks of its label."""

    id: str
    title: str
    short: str
    weeks: str


@dataclass(frozen=True)
class Section:
    """A group of checklist items under one heading of the plan."""

    id: str
    phase: str
    title: str


@dataclass(frozen=True)
class Item:
    """A checklist item: done or not."""

    id: str
    section: str
    title: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    week: int | None = None
    optional: bool = False


@dataclass(frozen=True)
class Counter:
    """A tally (problems solved, kernels analysed): capped at `max` or open-ended."""

    id: str
    title: str
    section: str
    max: int | None = None
    target: int | None = None
    open_ended: bool = False
    unit: str = ""
    completes_item: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def goal(self) -> int | None:
        """Return the number shown after the slash: the cap, else the target."""
        return self.max if self.max is not None else self.target


@dataclass(frozen=True)
class Score:
    """A scored check out of `max` (readiness /60, weekly quiz /20)."""

    id: str
    title: str
    max: int
    week: int | None = None
    completes_item: str | None = None
    aliases: tuple[str, ...] = ()

    def parse(self, text: str) -> int:
        """Parse a value typed for this score."""
        return parse_score(text, self.max)


@dataclass(frozen=True)
class Skill:
    """A row of the self-assessment matrix with its target rating."""

    id: str
    title: str
    target: int
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    """A value the learner sets that nothing else derives: scale, choice, text or percent."""

    id: str
    title: str
    kind: str
    section: str | None = None
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    confidence: bool = False
    aliases: tuple[str, ...] = ()

    def coerce(self, text: str) -> str:
        """Check a typed value and return it as stored (canonical choice, digits, text)."""
        if self.kind == "text":
            assert self.max_length is not None
            return check_text(text, self.title, self.max_length)
        if self.kind in ("scale", "percent"):
            assert self.min is not None and self.max is not None
            raw = text.strip()
            if self.kind == "percent":
                raw = raw.removesuffix("%").strip()
            return str(parse_int_in_range(raw, self.min, self.max, self.title))
        return self._parse_choice(text)

    parse = coerce

    def _parse_choice(self, text: str) -> str:
        wanted = compact_key(text)
        accepted = f"{self.title}: choose one of {', '.join(self.choices)}."
        if not wanted:
            raise InputError(f"No choice given. {accepted}")
        exact = [c for c in self.choices if compact_key(c) == wanted]
        if exact:
            return exact[0]
        if not wanted.isdigit():
            prefixed = [c for c in self.choices if compact_key(c).startswith(wanted)]
            if len(prefixed) == 1:
                return prefixed[0]
        raise InputError(f"{quote_input(text.strip())} is not a choice here. {accepted}")


@dataclass(frozen=True)
class Milestone:
    """A milestone, celebration moment or achievement, reached when `when` holds.

    `when` is a read-only mapping with one key of CONDITION_KEYS; list values are tuples,
    ``counter_min`` is a mapping ``{counter, value}``, ``all_of`` a tuple of conditions.
    """

    id: str
    title: str
    kind: str
    when: Mapping[str, Any] = field(hash=False)
    week: str | None = None




@dataclass(frozen=True)
class Plan:
    """A validated plan with lookups; build it with `load_plan`."""

    id: str
    title: str
    goal: str
    hours_min: int
    hours_max: int
    weeks: int
    phases: tuple[Phase, ...]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    counters: tuple[Counter, ...] = ()
    scores: tuple[Score, ...] = ()
    skills: tuple[Skill, ...] = ()
    fields: tuple[Field, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    mock_interviews: int = 0
    mock_max: int = 10
    skill_scale: tuple[int, int] = (1, 5)
    skill_target_average: float | None = None
    quiz_target: int | None = None
    default_deadlines: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)

    phases_by_id: Mapping[str, Phase] = field(init=False, repr=False, compare=False)
    sections_by_id: Mapping[str, Section] = field(init=False, repr=False, compare=False)
    items_by_id: Mapping[str, Item] = field(init=False, repr=False, compare=False)
    counters_by_id: Mapping[str, Counter] = field(init=False, repr=False, compare=False)
    scores_by_id: Mapping[str, Score] = field(init=False, repr=False, compare=False)
    skills_by_id: Mapping[str, Skill] = field(init=False, repr=False, compare=False)
    fields_by_id: Mapping[str, Field] = field(init=False, repr=False, compare=False)
    milestones_by_id: Mapping[str, Milestone] = field(init=False, repr=False, compare=False)
    _section_items: Mapping[str, tuple[Item, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def index(entries: Iterable[Named]) -> Mapping[str, Any]:
            return MappingProxyType({e.id: e for e in entries})

        set_ = object.__setattr__
        set_(self, "phases_by_id", index(self.phases))
        set_(self, "sections_by_id", index(self.sections))
        set_(self, "items_by_id", index(self.items))
        set_(self, "counters_by_id", index(self.counters))
        set_(self, "scores_by_id", index(self.scores))
        set_(self, "skills_by_id", index(self.skills))
        set_(self, "fields_by_id", index(self.fields))
        set_(self, "milestones_by_id", index(self.milestones))
        grouped: dict[str, list[Item]] = {s.id: [] for s in self.sections}
        for item in self.items:
            grouped.setdefault(item.section, []).append(item)
        set_(self, "_section_items", MappingProxyType({k: tuple(v) for k, v in grouped.items()}))

    def __hash__(self) -> int:
        return hash(self.id)

    # -- structure ------------------------------------------------------------------------

    @property
    def checklist_items(self) -> tuple[Item, ...]:
        """Return every checklist item in plan order."""
        return self.items

    @property
    def daily_items(self) -> tuple[Item, ...]:
        """Return the items of section ``daily`` in order (empty if the plan has none)."""
        return self._section_items.get("daily", ())

    @property
    def quiz_scores(self) -> tuple[Score, ...]:
        """Return the scores tied to a plan week, by week."""
        return tuple(sorted((s for s in self.scores if s.week is not None),
                            key=lambda s: s.week or 0))

    @property
    def confidence_fields(self) -> tuple[Field, ...]:
        """Return the fields marked ``confidence = true`` in plan order."""
        return tuple(f for f in self.fields if f.confidence)

    def milestones_of_kind(self, kind: str) -> tuple[Milestone, ...]:
        """Return the milestones of one kind (milestone, celebration, achievement)."""
        return tuple(m for m in self.milestones if m.kind == kind)

    def has_section(self, section_id: str) -> bool:
        """Tell whether `section_id` names a section."""
        return section_id in self.sections_by_id

    def has_field(self, field_id: str) -> bool:
        """Tell whether `field_id` names a field."""
        return any(f.id == field_id for f in self.fields)

    def has_item(self, item_id: str) -> bool:
        """Tell whether `item_id` names an item."""
        return item_id in self.items_by_id

    def items_in_section(self, section_id: str) -> tuple[Item, ...]:
        """Return the items of a section in order; KeyError for an unknown section id."""
        if section_id not in self.sections_by_id:
            raise KeyError(f"plan {self.id!r} has no section {section_id!r}")
        return self._section_items[section_id]

    def items_in_phase(self, phase_id: str) -> tuple[Item, ...]:
        """Return the items of every section of a phase, in plan order."""
        if phase_id not in self.phases_by_id:
            raise KeyError(f"plan {self.id!r} has no phase {phase_id!r}")
        return tuple(i for i in self.items if self.sections_by_id[i.section].phase == phase_id)

    def children_of(self, item: Item | str) -> tuple[Item, ...]:
        """Return the direct sub-items of an item."""
        item_id = item if isinstance(item, str) else item.id
        return tuple(i for i in self.items if i.parent == item_id)

    def expand_ids(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Replace section ids by the ids of their items; keep item ids; drop duplicates."""
        out: dict[str, None] = {}
        for ident in ids:
            if ident in self.sections_by_id:
                out.update(dict.fromkeys(i.id for i in self._section_items[ident]))
            else:
                out[ident] = None
        return tuple(out)

    def section_of(self, item: Item | str) -> Section:
        """Return the section of an item."""
        return self.sections_by_id[self._item(item).section]

    def phase_of(self, item: Item | str) -> Phase:
        """Return the phase of an item (through its section)."""
        return self.phases_by_id[self.section_of(item).phase]

    def week_of(self, item: Item | str) -> int | None:
        """Return the plan week an item belongs to (daily lessons), else None."""
        return self._item(item).week

    def _item(self, item: Item | str) -> Item:
        return self.items_by_id[item] if isinstance(item, str) else item

    def parse_rating(self, text: str) -> int:
        """Parse a self-assessment rating on the plan's skill scale."""
        lo, hi = self.skill_scale
        return parse_int_in_range(text, lo, hi, "The rating")

    # -- forgiving lookups of what users type ---------------------------------------------

    def find_item(self, text: str) -> Item:
        """Find an item by id, alias, day (``day05``, ``Day 5``, ``d5``, ``5``) or title start."""
        return find_entry(
            "item", text, self.items, special=self._day_item,
            hint="Give an item id (such as day05 or hello-world), a day number (Day 5, d5) "
                 "or the start of its title.",
        )

    def _day_item(self, text: str) -> Item | None:
        m = _DAY_RE.fullmatch(text.strip())
        if m is None:
            return None
        days = [i for i in self.items if re.fullmatch(r"day[0-9]{2,3}", i.id)]
        if not days:
            return None
        number = int(m[1])
        found = self.items_by_id.get(f"day{number:02d}")
        if found is None:
            raise InputError(
                f"There is no day {number}: the daily plans are day 1 to day {len(days)} "
                f"(write Day 5, d5 or day05)."
            )
        return found

    def find_section(self, text: str) -> Section:
        """Find a section by id or title start."""
        return find_entry("section", text, self.sections,
                     hint="Give a section id (such as environment or daily) or the start of "
                          "its title.")

    def find_skill(self, text: str) -> Skill:
        """Find a skill of the self-assessment matrix by id, alias or title start."""
        return find_entry("skill", text, self.skills, hint="Give a skill id or name.")

    def find_counter(self, text: str) -> Counter:
        """Find a counter by id, alias or title start."""
        return find_entry("counter", text, self.counters, hint="Give a counter id or name.")

    def find_score(self, text: str) -> Score:
        """Find a score by id, alias, title start or quiz week (``week1``, ``w1``, ``Week 1``)."""
        return find_entry("score", text, self.scores, special=self._quiz_score,
                     hint="Give a score id (such as readiness), or a quiz week like week1, "
                          "w1 or Week 1.")

    def _quiz_score(self, text: str) -> Score | None:
        m = _QUIZ_WEEK_RE.fullmatch(text.strip())
        if m is None:
            return None
        week = int(m[1] or m[2])
        quizzes = self.quiz_scores
        for score in quizzes:
            if score.week == week:
                return score
        if not quizzes:
            return None
        raise InputError(
            f"There is no quiz for week {week}: quizzes are for weeks "
            f"{quizzes[0].week} to {quizzes[-1].week} (write week1, w1 or Week 1)."
        )

    def find_field(self, text: str) -> Field:
        """Find a field by id, alias or title start."""
        return find_entry("field", text, self.fields, hint="Give a field id or name.",
                     list_limit=len(self.fields))

    def find_confidence(self, text: str) -> Field:
        """Find a confidence scale by id or its id without ``-confidence`` (``pa``, ``coding``)."""
        return find_entry(
            "confidence area", text, self.confidence_fields,
            extra_keys=lambda f: (f.id.removesuffix("-confidence"),), list_known=False,
            hint="Give a confidence area: "
                 + ", ".join(f.id.removesuffix("-confidence") for f in self.confidence_fields)
                 + ".",
        )

    def find_milestone(self, text: str) -> Milestone:
        """Find a milestone, celebration or achievement by id or title start."""
        return find_entry("milestone", text, self.milestones, hint="Give a milestone id or title.")


