"""The six message kinds the dispatcher sends, each a payload type and a builder.

A builder decides, at send time, whether its message is still owed (``Skip`` says why not)
and builds it with ``bot.messages``. What each one checks:

- ``reminder`` and ``snooze``: not before the plan starts, not on a paused day, not once the
  day's commitment is met.
- ``deadline``: not on a paused day, not once the deadline is removed or moved.
- ``celebration``: only while the milestone is still reached; the partner's version only
  while the partnership is accepted and shares ``days``.
- ``digest``: not before the plan starts (digests still go out while paused).
- ``digest-partner``: only while the partnership is accepted and shares something.
"""

from __future__ import annotations

import logging

from bot.dispatch._payloads import (
    CelebrationPayload,
    DeadlinePayload,
    DigestPayload,
    PartnerDigestPayload,
    ReminderPayload,
)
from bot.dispatch._registry import Due, KindRegistry, Skip
from bot.messages import (
    OutMessage,
    build_celebration,
    build_deadline_reminder,
    build_digest,
    build_reminder,
)
from bot.snapshot import PartnerRow

log = logging.getLogger(__name__)

KINDS = KindRegistry()


def _reminder(due: Due[ReminderPayload], *, snoozed: bool) -> OutMessage | Skip:
    data, day = due.data, due.payload.study_date
    prof = data.profile
    if day < prof.start_date:
        return Skip("the plan has not started")
    if day in data.paused_days():
        return Skip("paused")
    if data.minutes_by_day().get(day, 0) >= prof.commitment_minutes:
        return Skip("today's commitment is already met")
    return build_reminder(data, due.plan, day, late_due=due.late_due, snoozed=snoozed)


@KINDS.register("reminder", ReminderPayload, label="daily reminder", channel_fallback=True)
def daily_reminder(due: Due[ReminderPayload]) -> OutMessage | Skip:
    """Build the daily reminder unless the day needs none."""
    return _reminder(due, snoozed=False)


@KINDS.register("snooze", ReminderPayload, label="snoozed reminder", channel_fallback=True)
def snoozed_reminder(due: Due[ReminderPayload]) -> OutMessage | Skip:
    """Build the reminder sent when a snooze ends, unless the day needs none."""
    return _reminder(due, snoozed=True)


@KINDS.register("deadline", DeadlinePayload, label="deadline reminder", channel_fallback=True)
def deadline_reminder(due: Due[DeadlinePayload]) -> OutMessage | Skip:
    """Build the 7-day or 1-day deadline reminder while the deadline stands."""
    payload, data = due.payload, due.data
    if payload.study_date in data.paused_days():
        return Skip("paused")
    dl = next((d for d in data.deadlines if d.id == payload.deadline_id), None)
    if dl is None or dl.due_date != payload.due_date:
        return Skip("the deadline was removed or moved")
    return build_deadline_reminder(dl.title, dl.due_date, payload.days,
                                   tz=data.profile.timezone, late_due=due.late_due)


@KINDS.register("celebration", CelebrationPayload, label="celebration", channel_fallback=True)
def celebration(due: Due[CelebrationPayload]) -> OutMessage | Skip:
    """Build a milestone's celebration, for the learner or for a partner shown ``days``."""
    payload, data = due.payload, due.data
    milestone = due.plan.milestones_by_id.get(payload.milestone_id)
    if milestone is None or payload.milestone_id not in data.milestones:
        return Skip("the milestone is no longer reached")
    if not payload.partner:
        return build_celebration(milestone, payload.reached_on)
    ship = accepted_partner(due)
    if ship is None or "days" not in ship.share:
        return Skip("the partnership ended or no longer shares days")
    return build_celebration(milestone, payload.reached_on,
                             learner_name=data.profile.display_name)


@KINDS.register("digest", DigestPayload, label="digest", grace="digest")
def digest(due: Due[DigestPayload]) -> OutMessage | Skip:
    """Build the learner's own digest."""
    payload, data = due.payload, due.data
    if payload.study_date < data.profile.start_date:
        return Skip("the plan has not started")
    return build_digest(data, due.plan, payload.study_date, weeks=payload.weeks,
                        score_dates=data.score_dates, late_due=due.late_due)


@KINDS.register("digest-partner", PartnerDigestPayload, label="digest", grace="digest")
def partner_digest(due: Due[PartnerDigestPayload]) -> OutMessage | Skip:
    """Build a partner's digest: only the sections the learner shares with them."""
    payload, data = due.payload, due.data
    if payload.study_date < data.profile.start_date:
        return Skip("the plan has not started")
    ship = accepted_partner(due)
    if ship is None:
        return Skip("the partnership is not accepted")
    if not ship.share:
        return Skip("the learner shares nothing")
    return build_digest(data, due.plan, payload.study_date, weeks=payload.weeks,
                        score_dates=data.score_dates, partner=True, share=ship.share,
                        late_due=due.late_due)


def accepted_partner(due: Due[CelebrationPayload] | Due[PartnerDigestPayload]
                     ) -> PartnerRow | None:
    """Return the accepted partnership with the message's recipient, if there is one."""
    return next((pt for pt in due.data.partners
                 if pt.status == "accepted" and pt.partner_platform == due.recipient_platform
                 and pt.partner_external_id == due.recipient_id), None)
