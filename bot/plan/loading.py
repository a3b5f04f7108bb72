"""Load and validate plan files strictly: every error names the file and the entry."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.errors import PlanError
from bot.plan.lookup import compact_key, lookup_key
from bot.plan.model import (
    CONDITION_KEYS,
    FIELD_KINDS,
    ID_RE,
    MAX_TEXT_LENGTH,
    MILESTONE_KINDS,
    Counter,
    Field,
    Item,
    Milestone,
    Phase,
    Plan,
    Score,
    Section,
    Skill,
)

log = logging.getLogger(__name__)

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
        if len(text) > 64 or not ID_RE.fullmatch(text):
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
            norm = lookup_key(k)
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
        compact = [compact_key(c) for c in choices]
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


