"""Load, validate and look up study plans: TOML files in bot/plans/ and in configured folders.

A plan file has these tables (unknown keys are errors; ``?`` marks optional keys):

- ``[plan]``: id, title, goal, hours_min, hours_max, weeks, mock_interviews?, mock_max?,
  skill_scale? ([lo, hi]), skill_target_average?, quiz_target?, default_deadlines?
- ``[[phases]]``: id, title, short, weeks (a label such as ``"0-1"`` or ``"4+"``)
- ``[[sections]]``: id, phase, title
- ``[[items]]``: id, section, title, parent? (an earlier item of the same section),
  aliases?, week? (1..weeks), optional? (true: not required by the plan, e.g. "(optional)")
- ``[[counters]]``: id, title, section, then either ``max`` (a hard cap) or
  ``open_ended = true`` with an optional ``target``; unit?, completes_item?, aliases?
- ``[[scores]]``: id, title, max, week? (quizzes), completes_item?, aliases?
- ``[[skills]]``: id, title, target (within skill_scale), aliases?
- ``[[fields]]``: id, title, kind, section?, aliases?, and by kind: ``scale`` min, max,
  confidence?; ``percent`` min?, max? (default 0-100); ``choice`` choices; ``text`` max_length
- ``[[milestones]]``: id, title, kind (milestone | celebration | achievement), week? (a label),
  when (one condition)

A condition is a table with exactly one key: ``items`` (every listed item done; a section id
means every item of that section), ``any_items`` (at least one listed id done, same rule),
``any_sections_complete`` (section ids), ``mock_score_min``, ``hours_min``, ``logs_min``,
``counter_min = {counter, value}``, ``milestones`` (ids reached), ``all_of`` (conditions).

Ids are slugs (``[a-z0-9]`` words joined by single hyphens, at most 64 characters). Items and
sections share one id space (conditions may name either); every other kind has its own.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from bot.errors import InputError, PlanError
from bot.parsing import check_text, parse_int_in_range, parse_score, quote_input

log = logging.getLogger(__name__)

BUILTIN_PLAN_DIR = Path(__file__).resolve().parent / "plans"
DEFAULT_PLAN_ID = "vllm"

MILESTONE_KINDS = ("milestone", "celebration", "achievement")
FIELD_KINDS = ("scale", "choice", "text", "percent")
CONDITION_KEYS = (
    "items", "any_items", "any_sections_complete", "mock_score_min", "hours_min", "logs_min",
    "counter_min", "milestones", "all_of",
)
MAX_TEXT_LENGTH = 1000  # the database column of field values
MAX_SUGGESTIONS = 5

_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
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
        wanted = _compact(text)
        accepted = f"{self.title}: choose one of {', '.join(self.choices)}."
        if not wanted:
            raise InputError(f"No choice given. {accepted}")
        exact = [c for c in self.choices if _compact(c) == wanted]
        if exact:
            return exact[0]
        if not wanted.isdigit():
            prefixed = [c for c in self.choices if _compact(c).startswith(wanted)]
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


class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...


_T = TypeVar("_T", bound=_Named)


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
        def index(entries: Iterable[_Named]) -> Mapping[str, Any]:
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
        return _find(
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
        return _find("section", text, self.sections,
                     hint="Give a section id (such as environment or daily) or the start of "
                          "its title.")

    def find_skill(self, text: str) -> Skill:
        """Find a skill of the self-assessment matrix by id, alias or title start."""
        return _find("skill", text, self.skills, hint="Give a skill id or name.")

    def find_counter(self, text: str) -> Counter:
        """Find a counter by id, alias or title start."""
        return _find("counter", text, self.counters, hint="Give a counter id or name.")

    def find_score(self, text: str) -> Score:
        """Find a score by id, alias, title start or quiz week (``week1``, ``w1``, ``Week 1``)."""
        return _find("score", text, self.scores, special=self._quiz_score,
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
        return _find("field", text, self.fields, hint="Give a field id or name.",
                     list_limit=len(self.fields))

    def find_confidence(self, text: str) -> Field:
        """Find a confidence scale by id or its id without ``-confidence`` (``pa``, ``coding``)."""
        return _find(
            "confidence area", text, self.confidence_fields,
            extra_keys=lambda f: (f.id.removesuffix("-confidence"),), list_known=False,
            hint="Give a confidence area: "
                 + ", ".join(f.id.removesuffix("-confidence") for f in self.confidence_fields)
                 + ".",
        )

    def find_milestone(self, text: str) -> Milestone:
        """Find a milestone, celebration or achievement by id or title start."""
        return _find("milestone", text, self.milestones, hint="Give a milestone id or title.")


# --- forgiving lookup --------------------------------------------------------------------


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().casefold())


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z+#]", "", text.casefold())


def _title_key(text: str) -> str:
    return " ".join(text.casefold().split())


def _aliases(entry: Any) -> tuple[str, ...]:
    return tuple(getattr(entry, "aliases", ()))


def _describe(entries: Sequence[_Named]) -> str:
    shown = [f"{e.id} ({e.title})" for e in entries[:MAX_SUGGESTIONS]]
    more = len(entries) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _unique(entries: Iterable[_T]) -> list[_T]:
    seen: dict[str, _T] = {}
    for e in entries:
        seen.setdefault(e.id, e)
    return list(seen.values())


def _find(
    kind: str,
    text: str,
    entries: Sequence[_T],
    *,
    hint: str,
    special: Callable[[str], _T | None] | None = None,
    extra_keys: Callable[[_T], Iterable[str]] | None = None,
    list_known: bool = True,
    list_limit: int = 12,
) -> _T:
    """Resolve what a user typed to one entry: id, alias, special form, title, prefix, substring."""
    raw = text.strip()
    if not raw:
        raise InputError(f"No {kind} given. {hint}")
    shown = quote_input(raw)
    if special is not None and (hit := special(raw)) is not None:
        return hit

    def keys(e: _T) -> tuple[str, ...]:
        extra = tuple(extra_keys(e)) if extra_keys else ()
        return (e.id, *_aliases(e), *extra)

    key, compact, title = _key(raw), _compact(raw), _title_key(raw)
    stages: list[Callable[[_T], bool]] = [
        lambda e: any(_key(k) == key for k in keys(e)),
        lambda e: bool(compact) and any(_compact(k) == compact for k in keys(e)),
        lambda e: _title_key(e.title) == title,
        lambda e: any(_key(k).startswith(key) for k in keys(e))
        or _title_key(e.title).startswith(title),
        lambda e: len(title) >= 3 and title in _title_key(e.title),
    ]
    for stage in stages:
        matches = _unique(e for e in entries if stage(e))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(
                f"{shown} matches {len(matches)} {kind}s: {_describe(matches)}. "
                f"Give the id of the one you mean."
            )
    pool: dict[str, str] = {}
    for e in entries:
        for k in keys(e):
            pool.setdefault(_key(k), e.id)
        pool.setdefault(_title_key(e.title), e.id)
    close = [*difflib.get_close_matches(key, list(pool), n=10, cutoff=0.6),
             *difflib.get_close_matches(title, list(pool), n=10, cutoff=0.6)]
    by_id = {e.id: e for e in entries}
    suggested = _unique(by_id[pool[c]] for c in close)
    did_you_mean = f" Did you mean {_describe(suggested)}?" if suggested else ""
    if not did_you_mean and list_known and 0 < len(entries) <= list_limit:
        did_you_mean = f" Known {kind}s: {', '.join(e.id for e in entries)}."
    raise InputError(f"No {kind} matches {shown}.{did_you_mean} {hint}")


# --- loading and validation --------------------------------------------------------------


class _Reader:
    """Read one plan file's parsed TOML, raising PlanError that names file and entry."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> PlanError:
        return PlanError(f"{self.name}: {where}: {message}")

    def table(self, where: str, value: Any, required: Iterable[str],
              optional: Iterable[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a table, not {_tname(value)}")
        required, optional = tuple(required), tuple(optional)
        unknown = [k for k in value if k not in required and k not in optional]
        if unknown:
            allowed = ", ".join((*required, *optional))
            raise self.fail(where, f'unknown key "{unknown[0]}" (allowed: {allowed})')
        missing = [k for k in required if k not in value]
        if missing:
            raise self.fail(where, f'missing required key "{missing[0]}"')
        return value

    def str_(self, where: str, value: Any, key: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f'"{key}" must be a string, not {_tname(value)}')
        if not empty and not value.strip():
            raise self.fail(where, f'"{key}" must not be empty')
        return value

    def id_(self, where: str, value: Any, key: str = "id") -> str:
        text = self.str_(where, value, key)
        if len(text) > 64 or not _ID_RE.fullmatch(text):
            raise self.fail(where, f'"{key}" {text!r} must be a slug: lower-case letters and '
                                   f"digits in words joined by single hyphens, at most 64 long")
        return text

    def int_(self, where: str, value: Any, key: str, lo: int | None = None,
             hi: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f'"{key}" must be an integer, not {_tname(value)}')
        if lo is not None and value < lo:
            raise self.fail(where, f'"{key}" is {value}; it must be at least {lo}')
        if hi is not None and value > hi:
            raise self.fail(where, f'"{key}" is {value}; it must be at most {hi}')
        return value

    def bool_(self, where: str, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f'"{key}" must be true or false, not {_tname(value)}')
        return value

    def strs(self, where: str, value: Any, key: str, *, nonempty: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.fail(where, f'"{key}" must be a list of non-empty strings')
        if nonempty and not value:
            raise self.fail(where, f'"{key}" must not be empty')
        seen: set[str] = set()
        for v in value:
            if v in seen:
                raise self.fail(where, f'"{key}" lists "{v}" twice')
            seen.add(v)
        return tuple(value)

    def entries(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """Return each ``[[key]]`` table with its location label (``items[3] (id "x")``)."""
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of tables ([[{key}]]), not {_tname(value)}")
        out = []
        for n, entry in enumerate(value):
            where = f"{key}[{n}]"
            if not isinstance(entry, dict):
                raise self.fail(where, f"must be a table, not {_tname(entry)}")
            if isinstance(entry.get("id"), str):
                where += f' (id "{entry["id"]}")'
            out.append((where, entry))
        return out


def _tname(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _check_unique(reader: _Reader, what: str, ids: Iterable[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for where, ident in ids:
        if ident in seen:
            raise reader.fail(where, f'duplicate {what} id "{ident}" (first used by {seen[ident]})')
        seen[ident] = where


def _check_lookup_keys(reader: _Reader, what: str,
                       entries: Iterable[tuple[str, str, tuple[str, ...]]]) -> None:
    """Refuse an alias that collides with another entry's id or alias (case-insensitive)."""
    seen: dict[str, str] = {}
    for where, ident, aliases in entries:
        for k in dict.fromkeys((ident, *aliases)):
            norm = _key(k)
            if norm in seen and seen[norm] != ident:
                raise reader.fail(where, f'{what} alias "{k}" collides with {what} '
                                         f'"{seen[norm]}"')
            seen[norm] = ident


def load_plan(path: Path) -> Plan:
    """Read and strictly validate one plan file; raise PlanError naming the file and entry."""
    reader = _Reader(path.name)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PlanError(f"{path.name}: cannot read the file: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path.name}: not valid TOML: {exc}") from exc
    plan = _build_plan(reader, data, path)
    log.debug("loaded plan %s from %s (%d items)", plan.id, path, len(plan.items))
    return plan


def _build_plan(r: _Reader, data: dict[str, Any], path: Path | None) -> Plan:
    r.table("top level", data, ("plan", "phases", "sections", "items"),
            ("counters", "scores", "skills", "fields", "milestones"))
    head = r.table(
        "[plan]", data["plan"], ("id", "title", "goal", "hours_min", "hours_max", "weeks"),
        ("mock_interviews", "mock_max", "skill_scale", "skill_target_average", "quiz_target",
         "default_deadlines"),
    )
    w = "[plan]"
    plan_id = r.id_(w, head["id"])
    title = r.str_(w, head["title"], "title")
    goal = r.str_(w, head["goal"], "goal")
    hours_min = r.int_(w, head["hours_min"], "hours_min", 1, 100_000)
    hours_max = r.int_(w, head["hours_max"], "hours_max", 1, 100_000)
    if hours_min > hours_max:
        raise r.fail(w, f'"hours_min" ({hours_min}) is above "hours_max" ({hours_max})')
    weeks = r.int_(w, head["weeks"], "weeks", 1, 104)
    mock_interviews = r.int_(w, head.get("mock_interviews", 0), "mock_interviews", 0, 50)
    mock_max = r.int_(w, head.get("mock_max", 10), "mock_max", 1, 1000)
    scale_raw = head.get("skill_scale", [1, 5])
    if (not isinstance(scale_raw, list) or len(scale_raw) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in scale_raw)):
        raise r.fail(w, '"skill_scale" must be a list of two integers [lowest, highest]')
    skill_scale = (scale_raw[0], scale_raw[1])
    if skill_scale[0] < 0 or skill_scale[0] >= skill_scale[1]:
        raise r.fail(w, f'"skill_scale" {list(skill_scale)} must have 0 <= lowest < highest')
    skill_target_average: float | None = None
    if "skill_target_average" in head:
        v = head["skill_target_average"]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise r.fail(w, f'"skill_target_average" must be a number, not {_tname(v)}')
        if not skill_scale[0] <= v <= skill_scale[1]:
            raise r.fail(w, f'"skill_target_average" {v} is outside skill_scale '
                            f"{list(skill_scale)}")
        skill_target_average = float(v)
    deadlines = r.strs(w, head.get("default_deadlines", []), "default_deadlines")

    # Phases and sections.
    phases = []
    for where, e in r.entries(data, "phases"):
        r.table(where, e, ("id", "title", "short", "weeks"))
        phases.append((where, Phase(r.id_(where, e["id"]), r.str_(where, e["title"], "title"),
                                    r.str_(where, e["short"], "short"),
                                    r.str_(where, e["weeks"], "weeks"))))
    if not phases:
        raise r.fail("phases", "the plan needs at least one [[phases]] entry")
    _check_unique(r, "phase", ((wh, p.id) for wh, p in phases))
    phase_ids = {p.id for _, p in phases}

    sections = []
    for where, e in r.entries(data, "sections"):
        r.table(where, e, ("id", "phase", "title"))
        s = Section(r.id_(where, e["id"]), r.id_(where, e["phase"], "phase"),
                    r.str_(where, e["title"], "title"))
        if s.phase not in phase_ids:
            raise r.fail(where, f'unknown phase "{s.phase}"')
        sections.append((where, s))
    section_ids = {s.id for _, s in sections}

    # Items.
    items: list[tuple[str, Item]] = []
    seen_items: dict[str, Item] = {}
    for where, e in r.entries(data, "items"):
        r.table(where, e, ("id", "section", "title"), ("parent", "aliases", "week", "optional"))
        item = Item(
            id=r.id_(where, e["id"]),
            section=r.id_(where, e["section"], "section"),
            title=r.str_(where, e["title"], "title"),
            parent=r.id_(where, e["parent"], "parent") if "parent" in e else None,
            aliases=r.strs(where, e.get("aliases", []), "aliases"),
            week=r.int_(where, e["week"], "week", 1, weeks) if "week" in e else None,
            optional=r.bool_(where, e.get("optional", False), "optional"),
        )
        if item.section not in section_ids:
            raise r.fail(where, f'unknown section "{item.section}"')
        if item.parent is not None:
            parent = seen_items.get(item.parent)
            if parent is None:
                raise r.fail(where, f'parent "{item.parent}" is not an item listed before it')
            if parent.section != item.section:
                raise r.fail(where, f'parent "{item.parent}" is in section "{parent.section}", '
                                    f'not "{item.section}"')
        seen_items.setdefault(item.id, item)
        items.append((where, item))
    if not items:
        raise r.fail("items", "the plan needs at least one [[items]] entry")
    _check_unique(r, "item or section",
                  [(wh, s.id) for wh, s in sections] + [(wh, i.id) for wh, i in items])
    _check_lookup_keys(r, "item", ((wh, i.id, i.aliases) for wh, i in items))
    item_ids = set(seen_items)

    def item_ref(where: str, e: dict[str, Any]) -> str | None:
        if "completes_item" not in e:
            return None
        ref = r.id_(where, e["completes_item"], "completes_item")
        if ref not in item_ids:
            raise r.fail(where, f'unknown item "{ref}" in "completes_item"')
        return ref

    def section_ref(where: str, e: dict[str, Any], required: bool = True) -> str | None:
        if "section" not in e and not required:
            return None
        ref = r.id_(where, e["section"], "section")
        if ref not in section_ids:
            raise r.fail(where, f'unknown section "{ref}"')
        return ref

    # Counters.
    counters = []
    for where, e in r.entries(data, "counters"):
        r.table(where, e, ("id", "title", "section"),
                ("max", "target", "open_ended", "unit", "completes_item", "aliases"))
        open_ended = r.bool_(where, e.get("open_ended", False), "open_ended")
        if open_ended and "max" in e:
            raise r.fail(where, 'an open-ended counter has a "target", not a "max"')
        if not open_ended and "target" in e:
            raise r.fail(where, '"target" needs open_ended = true; use "max" for a cap')
        if not open_ended and "max" not in e:
            raise r.fail(where, 'give "max" (a cap), or open_ended = true with a "target"')
        counter = Counter(
            id=r.id_(where, e["id"]), title=r.str_(where, e["title"], "title"),
            section=section_ref(where, e) or "",
            max=r.int_(where, e["max"], "max", 1) if "max" in e else None,
            target=r.int_(where, e["target"], "target", 1) if "target" in e else None,
            open_ended=open_ended, unit=r.str_(where, e.get("unit", ""), "unit", empty=True),
            completes_item=item_ref(where, e),
            aliases=r.strs(where, e.get("aliases", []), "aliases"),
        )
        if counter.completes_item and counter.goal is None:
            raise r.fail(where, '"completes_item" needs a "max" or "target" to reach')
        counters.append((where, counter))
    _check_unique(r, "counter", ((wh, c.id) for wh, c in counters))
    _check_lookup_keys(r, "counter", ((wh, c.id, c.aliases) for wh, c in counters))

    # Scores.
    scores = []
    for where, e in r.entries(data, "scores"):
        r.table(where, e, ("id", "title", "max"), ("week", "completes_item", "aliases"))
        scores.append((where, Score(
            id=r.id_(where, e["id"]), title=r.str_(where, e["title"], "title"),
            max=r.int_(where, e["max"], "max", 1),
            week=r.int_(where, e["week"], "week", 1, weeks) if "week" in e else None,
            completes_item=item_ref(where, e),
            aliases=r.strs(where, e.get("aliases", []), "aliases"),
        )))
    _check_unique(r, "score", ((wh, s.id) for wh, s in scores))
    _check_lookup_keys(r, "score", ((wh, s.id, s.aliases) for wh, s in scores))
    weeks_seen: dict[int, str] = {}
    for where, s in scores:
        if s.week is not None:
            if s.week in weeks_seen:
                raise r.fail(where, f"week {s.week} already has a quiz score "
                                    f'("{weeks_seen[s.week]}")')
            weeks_seen[s.week] = s.id
    quiz_target: int | None = None
    if "quiz_target" in head:
        quiz_maxima = [s.max for _, s in scores if s.week is not None]
        if not quiz_maxima:
            raise r.fail(w, '"quiz_target" is set but no score has a "week"')
        quiz_target = r.int_(w, head["quiz_target"], "quiz_target", 1, min(quiz_maxima))

    # Skills.
    skills = []
    for where, e in r.entries(data, "skills"):
        r.table(where, e, ("id", "title", "target"), ("aliases",))
        skills.append((where, Skill(
            id=r.id_(where, e["id"]), title=r.str_(where, e["title"], "title"),
            target=r.int_(where, e["target"], "target", skill_scale[0], skill_scale[1]),
            aliases=r.strs(where, e.get("aliases", []), "aliases"),
        )))
    _check_unique(r, "skill", ((wh, s.id) for wh, s in skills))
    _check_lookup_keys(r, "skill", ((wh, s.id, s.aliases) for wh, s in skills))

    # Fields.
    fields_ = [(where, _read_field(r, where, e, section_ref))
               for where, e in r.entries(data, "fields")]
    _check_unique(r, "field", ((wh, f.id) for wh, f in fields_))
    _check_lookup_keys(r, "field", ((wh, f.id, f.aliases) for wh, f in fields_))

    # Milestones: read ids first so conditions may refer to later ones.
    raw_ms = r.entries(data, "milestones")
    ms_ids = []
    for where, e in raw_ms:
        r.table(where, e, ("id", "title", "kind", "when"), ("week",))
        ms_ids.append((where, r.id_(where, e["id"])))
    _check_unique(r, "milestone", ms_ids)
    ctx = _CondContext(
        reader=r, item_ids=item_ids, section_ids=section_ids,
        counters={c.id: c for _, c in counters}, milestone_ids={i for _, i in ms_ids},
        mock_interviews=mock_interviews, mock_max=mock_max,
    )
    milestones = []
    for where, e in raw_ms:
        kind = r.str_(where, e["kind"], "kind")
        if kind not in MILESTONE_KINDS:
            raise r.fail(where, f'"kind" is "{kind}"; use one of {", ".join(MILESTONE_KINDS)}')
        ms = Milestone(
            id=e["id"], title=r.str_(where, e["title"], "title"), kind=kind,
            week=r.str_(where, e["week"], "week") if "week" in e else None,
            when=_read_condition(ctx, where, "when", e["when"]),
        )
        milestones.append((where, ms))
    _check_milestone_cycles(r, milestones)

    return Plan(
        id=plan_id, title=title, goal=goal, hours_min=hours_min, hours_max=hours_max,
        weeks=weeks,
        phases=tuple(p for _, p in phases), sections=tuple(s for _, s in sections),
        items=tuple(i for _, i in items), counters=tuple(c for _, c in counters),
        scores=tuple(s for _, s in scores), skills=tuple(s for _, s in skills),
        fields=tuple(f for _, f in fields_), milestones=tuple(m for _, m in milestones),
        mock_interviews=mock_interviews, mock_max=mock_max, skill_scale=skill_scale,
        skill_target_average=skill_target_average, quiz_target=quiz_target,
        default_deadlines=deadlines, source=path,
    )


def _read_field(r: _Reader, where: str, e: dict[str, Any],
                section_ref: Callable[[str, dict[str, Any], bool], str | None]) -> Field:
    if not isinstance(e.get("kind"), str) or e["kind"] not in FIELD_KINDS:
        if "kind" not in e:
            raise r.fail(where, 'missing required key "kind"')
        raise r.fail(where, f'"kind" must be one of {", ".join(FIELD_KINDS)}')
    kind = e["kind"]
    base = ("id", "title", "kind")
    common = ("section", "aliases")
    if kind == "scale":
        r.table(where, e, (*base, "min", "max"), (*common, "confidence"))
    elif kind == "percent":
        r.table(where, e, base, (*common, "min", "max"))
    elif kind == "choice":
        r.table(where, e, (*base, "choices"), common)
    else:
        r.table(where, e, (*base, "max_length"), common)
    lo = hi = max_length = None
    choices: tuple[str, ...] = ()
    if kind in ("scale", "percent"):
        lo = r.int_(where, e.get("min", 0), "min")
        hi = r.int_(where, e.get("max", 100), "max")
        if lo >= hi:
            raise r.fail(where, f'"min" ({lo}) must be below "max" ({hi})')
    elif kind == "choice":
        choices = r.strs(where, e["choices"], "choices")
        if len(choices) < 2:
            raise r.fail(where, '"choices" needs at least two options')
        compact = [_compact(c) for c in choices]
        if len(set(compact)) != len(compact) or "" in compact:
            raise r.fail(where, '"choices" must differ in their letters and digits')
    else:
        max_length = r.int_(where, e["max_length"], "max_length", 1, MAX_TEXT_LENGTH)
    return Field(
        id=r.id_(where, e["id"]), title=r.str_(where, e["title"], "title"), kind=kind,
        section=section_ref(where, e, False), min=lo, max=hi, choices=choices,
        max_length=max_length,
        confidence=r.bool_(where, e.get("confidence", False), "confidence"),
        aliases=r.strs(where, e.get("aliases", []), "aliases"),
    )


@dataclass(frozen=True)
class _CondContext:
    reader: _Reader
    item_ids: set[str]
    section_ids: set[str]
    counters: dict[str, Counter]
    milestone_ids: set[str]
    mock_interviews: int
    mock_max: int


def _read_condition(c: _CondContext, where: str, path: str, value: Any) -> Mapping[str, Any]:
    """Validate one condition table and return it read-only (lists become tuples)."""
    r = c.reader
    if not isinstance(value, dict):
        raise r.fail(where, f"{path} must be a table with one condition, not {_tname(value)}")
    if len(value) != 1:
        raise r.fail(where, f"{path} must have exactly one key of {', '.join(CONDITION_KEYS)} "
                            f"(use all_of to combine), found {len(value)}")
    (key, arg), = value.items()
    at = f"{path}.{key}"
    if key not in CONDITION_KEYS:
        raise r.fail(where, f'{path}: unknown condition "{key}" (use one of '
                            f"{', '.join(CONDITION_KEYS)})")
    result: Any
    if key in ("items", "any_items"):
        result = r.strs(where, arg, at, nonempty=True)
        for ref in result:
            if ref not in c.item_ids and ref not in c.section_ids:
                raise r.fail(where, f'{at}: unknown item or section "{ref}"')
    elif key == "any_sections_complete":
        result = r.strs(where, arg, at, nonempty=True)
        for ref in result:
            if ref not in c.section_ids:
                raise r.fail(where, f'{at}: unknown section "{ref}"')
    elif key == "milestones":
        result = r.strs(where, arg, at, nonempty=True)
        for ref in result:
            if ref not in c.milestone_ids:
                raise r.fail(where, f'{at}: unknown milestone "{ref}"')
    elif key == "mock_score_min":
        if c.mock_interviews == 0:
            raise r.fail(where, f"{at}: the plan has no mock interviews (mock_interviews = 0)")
        result = r.int_(where, arg, at, 0, c.mock_max)
    elif key == "hours_min":
        result = r.int_(where, arg, at, 1, 100_000)
    elif key == "logs_min":
        result = r.int_(where, arg, at, 1, 100_000)
    elif key == "counter_min":
        table = r.table(f"{where}: {at}", arg, ("counter", "value"))
        counter_id = r.str_(where, table["counter"], f"{at}.counter")
        counter = c.counters.get(counter_id)
        if counter is None:
            raise r.fail(where, f'{at}: unknown counter "{counter_id}"')
        top = counter.max if counter.max is not None else None
        number = r.int_(where, table["value"], f"{at}.value", 1, top)
        result = MappingProxyType({"counter": counter_id, "value": number})
    else:  # all_of
        if not isinstance(arg, list) or not arg:
            raise r.fail(where, f"{at} must be a non-empty list of conditions")
        result = tuple(_read_condition(c, where, f"{at}[{n}]", sub) for n, sub in enumerate(arg))
    return MappingProxyType({key: result})


def condition_milestones(cond: Mapping[str, Any]) -> set[str]:
    """Return the milestone ids a condition refers to, at any depth."""
    (key, arg), = cond.items()
    if key == "milestones":
        return set(arg)
    if key == "all_of":
        return set().union(*(condition_milestones(sub) for sub in arg))
    return set()


def _check_milestone_cycles(r: _Reader, milestones: list[tuple[str, Milestone]]) -> None:
    deps = {m.id: condition_milestones(m.when) for _, m in milestones}
    where_of = {m.id: wh for wh, m in milestones}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(ident: str, trail: list[str]) -> None:
        if state.get(ident) == 2:
            return
        if state.get(ident) == 1:
            cycle = " -> ".join([*trail[trail.index(ident):], ident])
            raise r.fail(where_of[trail[trail.index(ident)]], f"milestones depend on each "
                                                               f"other in a cycle: {cycle}")
        state[ident] = 1
        for dep in sorted(deps[ident]):
            visit(dep, [*trail, ident])
        state[ident] = 2

    for _, m in milestones:
        visit(m.id, [])


# --- the registry ------------------------------------------------------------------------


class PlanRegistry:
    """The plans a deployment offers: the built-in ones plus those of configured folders."""

    def __init__(self, plans: Iterable[Plan], default_id: str = DEFAULT_PLAN_ID) -> None:
        self._plans: dict[str, Plan] = {}
        for plan in plans:
            if plan.id in self._plans:
                first = self._plans[plan.id].source
                raise PlanError(
                    f"{plan.source.name if plan.source else plan.id}: plan id \"{plan.id}\" is "
                    f"already used by {first if first else 'another plan'}"
                )
            self._plans[plan.id] = plan
        if default_id not in self._plans:
            known = ", ".join(sorted(self._plans)) or "none"
            raise PlanError(f'default plan "{default_id}" is not among the loaded plans '
                            f"({known})")
        self.default_id = default_id

    @classmethod
    def load(cls, extra_dirs: Sequence[Path | str] = (), *, default_id: str = DEFAULT_PLAN_ID,
             builtin_dir: Path = BUILTIN_PLAN_DIR) -> PlanRegistry:
        """Load ``builtin_dir/*.toml`` and every ``*.toml`` of `extra_dirs` (which must exist)."""
        plans: list[Plan] = []
        for directory in (Path(builtin_dir), *(Path(d) for d in extra_dirs)):
            if not directory.is_dir():
                raise PlanError(f"{directory}: plan folder does not exist")
            for path in sorted(directory.glob("*.toml")):
                plans.append(load_plan(path))
        registry = cls(plans, default_id)
        log.info("plans loaded: %s (default %s)", ", ".join(registry.ids()), default_id)
        return registry

    def get(self, plan_id: str) -> Plan:
        """Return the plan with this id (case-insensitive); InputError listing the known ids."""
        key = plan_id.strip().casefold()
        for ident, plan in self._plans.items():
            if ident == key:
                return plan
        raise InputError(f"No plan called {quote_input(plan_id.strip())}. "
                         f"Known plans: {', '.join(self.ids())}.")

    def ids(self) -> tuple[str, ...]:
        """Return the plan ids, sorted."""
        return tuple(sorted(self._plans))

    def all(self) -> tuple[Plan, ...]:
        """Return every plan, sorted by id."""
        return tuple(self._plans[i] for i in self.ids())

    @property
    def default(self) -> Plan:
        """Return the default plan."""
        return self._plans[self.default_id]

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._plans

    def __len__(self) -> int:
        return len(self._plans)
