"""The App Home: the learner's living tracker, with buttons for the next step.

It shows what ``/progress`` shows (overall and week bars, hours against the plan's target,
streak, next deadline, pace), then today's and this plan week's hours against the commitment
and the next items, with buttons: log 1 h, done with the next item, snooze until evening.
"""

from __future__ import annotations

from typing import Any

from bot import progress as p
from bot.actors import Actor
from bot.errors import StateError
from bot.messages import Button
from bot.presenting import present
from bot.replies import Reply
from bot.services import Services
from bot.slack.blocks import (
    HOME_BLOCKS,
    Block,
    actions,
    chunks,
    context,
    escape,
    mrkdwn,
    section,
    sections,
)
from bot.timing import plan_week, week_dates

NEXT_SHOWN = 3
WELCOME = ("You have not started a plan yet. Type `/pacer start` in any channel: your Slack "
           "time zone is used unless you name one (`/pacer start Europe/Berlin`). "
           "`/pacer help` lists every command.")


def status_blocks(status: Reply | None) -> list[Block]:
    """Show the outcome of the last button press at the top of the Home."""
    if status is None:
        return []
    text = ("⚠️ " if status.error else "✓ ") + status.text
    return [context(chunks(mrkdwn(text))[0]), {"type": "divider"}]


async def home_view(services: Services, actor: Actor,
                    status: Reply | None = None) -> dict[str, Any]:
    """Build the ``home`` view of ACTOR's tracker."""
    blocks: list[Block] = [section("*Pacer* — your study tracker"), *status_blocks(status)]
    try:
        view = await services.views.progress(actor)
    except StateError:
        blocks += sections(WELCOME)
        return {"type": "home", "blocks": blocks}
    reply = present(view)
    data, plan, today = view.data, view.plan, view.today
    commitment = data.profile.commitment_minutes
    by_day = data.minutes_by_day()
    week = max(1, plan_week(data.profile.start_date, today))
    week_minutes = sum(by_day.get(d, 0) for d in week_dates(data.profile.start_date, week))
    blocks.append(section(f"*{escape(plan.title)}*"))
    blocks += sections(reply.text)
    blocks += sections(
        f"**Today**: {p.fmt_hours(by_day.get(today, 0))} of {p.fmt_hours(commitment)} "
        f"committed\n**Week {week}**: {p.fmt_hours(week_minutes)} of "
        f"{p.fmt_hours(commitment * 7)} committed")
    upcoming = p.next_items(data, plan, NEXT_SHOWN)
    if upcoming:
        lines = ["**Next up**"] + [f"`{item.id}` {item.title}" for item in upcoming]
        blocks += sections("\n".join(lines))
    buttons = [Button("log:1h", "Log 1 h")]
    if upcoming:
        buttons.append(Button(f"done:{upcoming[0].id}", f"Done: {upcoming[0].id}"))
    buttons.append(Button("snooze:evening", "Snooze until evening"))
    blocks.append(actions(buttons))
    blocks += [context(piece) for n in reply.notices for piece in chunks(mrkdwn(f"ℹ️ {n}"))]
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}
