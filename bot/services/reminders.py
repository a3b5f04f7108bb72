"""Reminders the learner asks about: /digest preview."""

from __future__ import annotations

import asyncio

from bot.actors import Actor
from bot.messages import TEXT_LIMIT, build_digest
from bot.outbox import load_dispatch_data
from bot.replies import Reply
from bot.services.base import Service


class ReminderService(Service):
    """Show what the dispatcher would send."""

    async def digest_preview(self, actor: Actor) -> Reply:
        """Show what the learner's digest, and their partner's, would say now."""
        ctx = self.ctx
        async with ctx.store.read() as session:
            row = await ctx.learner(session, actor)
            snapshots = await load_dispatch_data(session, [row.id])
        today, plan = ctx.today_for(row), ctx.plan_for(row)
        data = snapshots[row.id]
        mine = build_digest(data, plan, today, weeks=row.digest_every_weeks,
                            score_dates=data.score_dates)
        parts = [f"__{mine.title}__", mine.text, ""]
        ship = next((pt for pt in data.partners if pt.status in ("accepted", "invited")), None)
        if ship is None:
            parts.append("You have no accountability partner; `/partner invite` adds one.")
        else:
            when = "gets" if ship.status == "accepted" else "will get once they accept"
            if not ship.share:
                parts.append(f"Your partner {when} nothing: you share nothing "
                             "(`/partner share hours,days,streak`).")
            else:
                theirs = build_digest(data, plan, today, weeks=row.digest_every_weeks,
                                      score_dates=data.score_dates, partner=True,
                                      share=ship.share, chart=False)
                parts += [f"__Your partner {when} ({', '.join(ship.share)})__", theirs.text]
        text = "\n".join(parts)
        if len(text) > TEXT_LIMIT:
            text = text[: TEXT_LIMIT - 1] + "…"
        attachment = await asyncio.to_thread(mine.chart.render) if mine.chart else None
        return Reply(text, title="Digest preview", attachment=attachment)
