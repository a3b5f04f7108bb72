"""Suggestions for what a learner is typing: plan items, skills, zones, topics (no chat platform).

Fronts with autocomplete (Discord) call these with the partial text; each returns at most
``limit`` suggestions, best first, as ``Suggestion(value, label)`` where both fit Discord's
100-character limit for choices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot import models as m
from bot import parsing
from bot.actors import Actor
from bot.plan import Plan
from bot.services.context import Context
from bot.services.partners import SHAREABLE

log = logging.getLogger(__name__)

LIMIT = 25
CHOICE_MAX = 100
POPULAR_ZONES = (
    "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata",
    "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "UTC",
)
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Suggestion:
    """One autocomplete choice: the value sent back and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class _Candidate:
    value: str
    label: str
    keys: tuple[str, ...]
    group: int = 0  # lower groups come first (e.g. items not done yet)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CHOICE_MAX else text[: CHOICE_MAX - 1] + "…"


def _match_rank(query: str, candidate: _Candidate) -> int | None:
    """Rank how well QUERY matches (0 best); None when it does not match at all."""
    if not query:
        return 0
    keys = [k.casefold() for k in candidate.keys]
    label = candidate.label.casefold()
    if query in keys:
        return 0
    if any(k.startswith(query) for k in keys):
        return 1
    words = label.replace("/", " ").replace("-", " ").replace("_", " ").split()
    if label.startswith(query) or any(w.startswith(query) for w in words):
        return 2
    if query in label or any(query in k for k in keys):
        return 3
    compact = query.replace(" ", "").replace("-", "").replace("_", "")
    if compact and any(compact in k.replace("-", "").replace("_", "") for k in keys):
        return 4
    return None


def rank(candidates: Iterable[_Candidate], current: str, limit: int = LIMIT) -> list[Suggestion]:
    """Keep the candidates matching CURRENT, best first (group, match quality, given order)."""
    query = " ".join(current.split()).casefold()
    scored = []
    for index, c in enumerate(candidates):
        r = _match_rank(query, c)
        if r is not None:
            scored.append((c.group, r, index, c))
    scored.sort(key=lambda t: t[:3])
    out: list[Suggestion] = []
    seen: set[str] = set()
    for *_, c in scored:
        value = c.value[:CHOICE_MAX]
        if value in seen:
            continue
        seen.add(value)
        out.append(Suggestion(value, _clip(c.label)))
        if len(out) >= limit:
            break
    return out


async def plan_of(tracker: Context, actor: Actor) -> Plan:
    """Return the learner's plan, or the default plan before /start."""
    row = await tracker.find_learner(actor)
    return tracker.plan_for(row) if row is not None else tracker.plans.get(tracker.default_plan)


async def _done_ids(tracker: Context, learner_id: int) -> set[str]:
    async with tracker.store.read() as session:
        rows = await session.scalars(select(m.ItemDone.item_id).where(
            m.ItemDone.learner_id == learner_id))
        return set(rows.all())


async def plan_items(tracker: Context, actor: Actor, current: str, *, done: bool = False,
                     limit: int = LIMIT) -> list[Suggestion]:
    """Suggest checklist items: open ones first (or only done ones when DONE, for /undone)."""
    row = await tracker.find_learner(actor)
    plan = tracker.plan_for(row) if row is not None else tracker.plans.get(tracker.default_plan)
    finished = await _done_ids(tracker, row.id) if row is not None else set()
    candidates = []
    for item in plan.items:
        is_done = item.id in finished
        if done and not is_done:
            continue
        mark = "✅ " if is_done else ""
        candidates.append(_Candidate(item.id, f"{mark}{item.id} — {item.title}",
                                     (item.id, *item.aliases), group=int(is_done and not done)))
    return rank(candidates, current, limit)


async def skills(tracker: Context, actor: Actor, current: str,
                 limit: int = LIMIT) -> list[Suggestion]:
    """Suggest skills of the self-assessment matrix with their targets."""
    plan = await plan_of(tracker, actor)
    return rank((_Candidate(s.id, f"{s.title} (target {s.target})", (s.id, *s.aliases))
                 for s in plan.skills), current, limit)


async def scores(tracker: Context, actor: Actor, current: str,
                 limit: int = LIMIT) -> list[Suggestion]:
    """Suggest scored things of the plan (readiness, quizzes) with their maximum."""
    plan = await plan_of(tracker, actor)
    return rank((_Candidate(s.id, f"{s.title} (out of {s.max})", (s.id, *s.aliases))
                 for s in plan.scores), current, limit)


async def counters(tracker: Context, actor: Actor, current: str,
                   limit: int = LIMIT) -> list[Suggestion]:
    """Suggest counters of the plan."""
    plan = await plan_of(tracker, actor)
    return rank((_Candidate(c.id, c.title, (c.id, *c.aliases)) for c in plan.counters),
                current, limit)


async def fields(tracker: Context, actor: Actor, current: str, *, confidence: bool = False,
                 limit: int = LIMIT) -> list[Suggestion]:
    """Suggest free fields of the plan (or only the confidence scales, by their short name)."""
    plan = await plan_of(tracker, actor)
    if confidence:
        return rank((_Candidate(f.id.removesuffix("-confidence"), f.title,
                                (f.id, f.id.removesuffix("-confidence"), *f.aliases))
                     for f in plan.confidence_fields), current, limit)
    return rank((_Candidate(f.id, f.title, (f.id, *f.aliases)) for f in plan.fields),
                current, limit)


async def recent_topics(tracker: Context, actor: Actor, current: str,
                        limit: int = LIMIT) -> list[Suggestion]:
    """Suggest the learner's own recent log topics, most recent first."""
    row = await tracker.find_learner(actor)
    if row is None:
        return []
    async with tracker.store.read() as session:
        topics = (await session.scalars(
            select(m.TimeLog.topic).where(m.TimeLog.learner_id == row.id,
                                          m.TimeLog.topic.is_not(None))
            .order_by(m.TimeLog.created_at.desc(), m.TimeLog.id.desc()).limit(500))).all()
    unique = list(dict.fromkeys(t for t in topics if t))
    return rank((_Candidate(t[:CHOICE_MAX], t, (t,)) for t in unique), current, limit)


async def _learner_rows(ctx: Context, actor: Actor, model: type, *order: Any) -> Sequence[Any]:
    """Return the learner's rows of MODEL in ORDER (none before /start)."""
    row = await ctx.find_learner(actor)
    if row is None:
        return []
    async with ctx.store.read() as session:
        return (await session.scalars(select(model).where(
            model.learner_id == row.id).order_by(*order))).all()


async def deadlines(tracker: Context, actor: Actor, current: str,
                    limit: int = LIMIT) -> list[Suggestion]:
    """Suggest the learner's deadlines, soonest first."""
    rows = await _learner_rows(tracker, actor, m.Deadline, m.Deadline.due_date, m.Deadline.id)
    return rank((_Candidate(str(d.id), f"#{d.id} {d.title} — {d.due_date.isoformat()}",
                            (str(d.id), d.title)) for d in rows), current, limit)


async def notes(tracker: Context, actor: Actor, current: str,
                limit: int = LIMIT) -> list[Suggestion]:
    """Suggest the learner's notes, newest first."""
    rows = await _learner_rows(tracker, actor, m.Note, m.Note.id.desc())
    return rank((_Candidate(str(n.id), f"#{n.id} {n.kind}: {n.text}", (str(n.id), n.kind))
                 for n in rows), current, limit)


def timezones(current: str, limit: int = LIMIT) -> list[Suggestion]:
    """Suggest IANA zones: popular ones when nothing is typed, else matches of name or city."""
    query = "_".join(current.split())
    if not query:
        return [Suggestion(z, z) for z in POPULAR_ZONES[:limit]]
    zones: Sequence[str] = parsing.known_timezones()  # the same list parse_timezone accepts
    candidates = (_Candidate(z, z.replace("_", " "), (z, z.rsplit("/", 1)[-1]),
                             group=int(z.startswith(("Etc/", "US/", "SystemV/"))))
                  for z in zones)
    return rank(candidates, query, limit)


def plans(tracker: Context, current: str, limit: int = LIMIT) -> list[Suggestion]:
    """Suggest the loaded plans by id and title."""
    return rank((_Candidate(p.id, _clip(f"{p.id} — {p.title}"), (p.id, p.title))
                 for p in tracker.plans.all()), current, limit)


def share_parts(current: str, limit: int = LIMIT) -> list[Suggestion]:
    """Suggest what a partner may see, completing the last of comma-separated words."""
    head, _, last = current.rpartition(",")
    chosen = [p.strip() for p in head.split(",") if p.strip()]
    prefix = ",".join(chosen)
    options = [s for s in SHAREABLE if s not in chosen] + ["none"]
    out = []
    for part in options:
        if part.startswith(last.strip().casefold()):
            value = f"{prefix},{part}" if prefix and part != "none" else part
            out.append(Suggestion(value, value))
    return out[:limit]


async def setting_values(tracker: Context, name: str, current: str,
                         limit: int = LIMIT) -> list[Suggestion]:
    """Suggest values for a /settings name (zones, weekdays, on/off, plan ids)."""
    key = name.strip().lower().replace("-", "_")
    fixed: dict[str, Sequence[str]] = {
        "digest": WEEKDAY_NAMES, "digest_day": WEEKDAY_NAMES,
        "public": ("on", "off"), "digest_every": ("weekly", "biweekly"),
        "every": ("weekly", "biweekly"), "reminder": ("off", "08:00", "12:00", "19:00", "21:00"),
        "plan": tuple(tracker.plans.ids()),
    }
    if key in {"timezone", "tz"}:
        return timezones(current, limit)
    values = fixed.get(key, ())
    return rank((_Candidate(v, v, (v,)) for v in values), current, limit)


async def posts_publicly(tracker: Context, actor: Actor) -> bool:
    """Tell whether the learner lets /log and /done post publicly (on until /start says more)."""
    row = await tracker.find_learner(actor)
    return True if row is None else bool(row.public_posts)
