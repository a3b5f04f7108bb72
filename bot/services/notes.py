"""Reflections: insights of a week, challenges overcome, questions for further study."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import NotFoundError, StateError
from bot.limits import MAX_NOTES, NOTE_MAX
from bot.outcomes import NoteAdded, NoteRemoved
from bot.parsing import check_text
from bot.services.base import Service
from bot.services.scores import check_week, current_week
from bot.services.units import Unit


async def put_note(u: Unit, kind: str, week: int | None, text: str, solution: str | None,
                   learning: str | None) -> m.Note:
    """Add a note, within the most Pacer keeps."""
    count = await u.session.scalar(select(func.count()).select_from(m.Note).where(
        m.Note.learner_id == u.row.id))
    if (count or 0) >= MAX_NOTES:
        raise StateError(f"You have {MAX_NOTES} notes, the most Pacer keeps; remove some with "
                         "/notes remove ID.")
    return await u.changes.add(m.Note(learner_id=u.row.id, kind=kind, week=week, text=text,
                                      solution=solution, learning=learning,
                                      created_at=u.now))  # type: ignore[return-value]


async def update_note(u: Unit, note_id: int, solution: str | None,
                      learning: str | None) -> None:
    """Fill in a challenge's solution and learning."""
    u.changes.set(await u.find(m.Note, id=note_id), solution=solution, learning=learning)


async def _note_ids(session: AsyncSession, learner_id: int) -> Sequence[int]:
    return (await session.scalars(select(m.Note.id).where(
        m.Note.learner_id == learner_id).order_by(m.Note.id))).all()


def describe_note_numbers(ids: Sequence[int]) -> str:
    """Say which note numbers exist (for a message about a wrong one)."""
    if not ids:
        return "you have no notes yet."
    shown = ", ".join(f"#{i}" for i in ids[:20]) + (" …" if len(ids) > 20 else "")
    return f"your notes are {shown} (/notes lists them)."


def _text(text: str | None, what: str) -> str | None:
    return check_text(text, what, NOTE_MAX) if text else None


class NoteService(Service):
    """Record and remove reflections."""

    async def add_insight(self, actor: Actor, text: str, week: int | None = None) -> NoteAdded:
        """Record a key insight of a plan week (the current one by default)."""
        clean = check_text(text, "The insight", NOTE_MAX)

        async def build(u: Unit) -> NoteAdded:
            on_week = check_week(week if week is not None else current_week(u, u.plan), u.plan)
            note = await put_note(u, "insight", on_week, clean, None, None)
            u.description = f"insight #{note.id}"
            return NoteAdded(note_id=note.id, kind="insight", week=on_week)

        return await self.units.run(actor, build)

    async def add_challenge(self, actor: Actor, challenge: str, solution: str | None = None,
                            learning: str | None = None) -> NoteAdded:
        """Record a challenge overcome, with its solution and what it taught."""
        clean = check_text(challenge, "The challenge", NOTE_MAX)
        sol, lesson = _text(solution, "The solution"), _text(learning, "The learning")
        return await self._add(actor, "challenge", clean, sol, lesson)

    async def add_question(self, actor: Actor, text: str) -> NoteAdded:
        """Record a question for further study."""
        return await self._add(actor, "question", check_text(text, "The question", NOTE_MAX),
                               None, None)

    async def _add(self, actor: Actor, kind: str, text: str, solution: str | None,
                   learning: str | None) -> NoteAdded:
        async def build(u: Unit) -> NoteAdded:
            note = await put_note(u, kind, None, text, solution, learning)
            u.description = f"{kind} #{note.id}"
            return NoteAdded(note_id=note.id, kind=kind, week=None)

        return await self.units.run(actor, build)

    async def note_numbers(self, actor: Actor) -> list[int]:
        """Return the numbers of the learner's notes, oldest first."""
        async with self.ctx.store.read() as session:
            row = await self.ctx.learner(session, actor)
            return list(await _note_ids(session, row.id))

    async def remove_note(self, actor: Actor, note_id: int) -> NoteRemoved:
        """Remove one of the learner's notes by number."""
        async def build(u: Unit) -> NoteRemoved:
            note = await u.find(m.Note, id=note_id)
            if note is None:
                listed = describe_note_numbers(await _note_ids(u.session, u.row.id))
                raise NotFoundError(f"You have no note #{note_id}; {listed}")
            await u.changes.delete(note)
            u.description = f"remove note #{note_id}"
            return NoteRemoved(note_id=note_id)

        return await self.units.run(actor, build)
