"""The Slack front's state and its one translation: a Slack request to a typed core call.

``SlackFront`` holds the core, the Web API client, the DM cache and the sender; the listeners
(``bot.slack.listeners``) call it once they have acknowledged. Where a reply goes and how text
is spelled are the pure rules of ``bot.slack.rules``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot import parsing
from bot.actions import STALE, parse_action
from bot.actors import Actor
from bot.app import Core
from bot.errors import InputError, PacerError
from bot.grammar import command_name
from bot.metrics import FAILED, UNKNOWN, observe
from bot.presenting import present
from bot.replies import Reply
from bot.slack.blocks import (
    ACTION_PREFIX,
    chunks,
    context,
    fallback_text,
    mrkdwn,
    reply_messages,
)
from bot.slack.home import home_view
from bot.slack.rules import (
    EPHEMERAL,
    IN_CHANNEL,
    NO_IMPORT,
    NOT_OWNER,
    OWNER_COMMANDS,
    SLASH,
    changes_tracker,
    for_slack,
    help_reply,
    plain_references,
    response_type,
    slack_commands,
    unescape,
)
from bot.slack.sender import TRANSPORT_ERRORS, ChannelPacer, DmChannels, SlackSender

log = logging.getLogger(__name__)

PLATFORM = "slack"
_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]{2,20})(?:\|(?P<name>[^>]{1,80}))?>")
Respond = Callable[..., Awaitable[Any]]
STATUS_BLOCK = "pacer-status"  # the line a pressed DM message gets about what was done


def apology(where: str, exc: BaseException) -> Reply:
    """Log an unexpected error with an id and return the short apology the user sees."""
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s in %s", error_id, where, exc_info=exc)
    return Reply("Sorry, something went wrong on Pacer's side. It has been logged as error "
                 f"`{error_id}`; please try again, and mention that id if it keeps happening.",
                 error=True)


class SlackFront:
    """Pacer on Slack: the core, the Web API client, DM channels and the sender."""

    def __init__(self, core: Core, client: AsyncWebClient, *,
                 pacer: ChannelPacer | None = None) -> None:
        self.core = core
        self.client = client
        self.dms = DmChannels(core.store, client, core.clock)
        self.sender = SlackSender(client, self.dms, pacer)

    # --- who and where -------------------------------------------------------------------

    @staticmethod
    def actor(team_id: str | None, user_id: str, name: str | None,
              channel_id: str | None) -> Actor:
        """Build the Actor of a Slack user in a workspace and channel."""
        return Actor(PLATFORM, user_id, (name or user_id)[:100], space_id=team_id,
                     channel_id=channel_id)

    @staticmethod
    def resolver(team_id: str | None,
                 names: Mapping[str, str] | None = None) -> Callable[[str], Actor]:
        """Return the grammar hook that turns a Slack mention into the partner's Actor."""
        def resolve(text: str) -> Actor:
            found = _MENTION.fullmatch(text.strip())
            if found is None:
                raise InputError(f"Name your partner with a mention, e.g. `{SLASH} partner "
                                 "invite @ana` (someone in this workspace).")
            user_id = found["id"]
            name = found["name"] or (names or {}).get(user_id) or user_id
            return Actor(PLATFORM, user_id, name[:100], space_id=team_id)
        return resolve

    async def mentioned_names(self, text: str) -> dict[str, str]:
        """Look up the names of users mentioned without one (``<@U123>``) in TEXT."""
        names: dict[str, str] = {}
        for found in _MENTION.finditer(text):
            if found["name"] or found["id"] in names:
                continue
            try:
                user = (await self.client.users_info(user=found["id"])).get("user") or {}
            except TRANSPORT_ERRORS:
                continue
            profile = user.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")
                    or user.get("name"))
            if isinstance(name, str) and name:
                names[found["id"]] = name
        return names

    async def in_bot_dm(self, user_id: str, channel_id: str | None,
                        channel_name: str | None = None) -> bool:
        """Tell whether CHANNEL_ID is the user's own DM with Pacer (not a DM with a person)."""
        if not channel_id or not (channel_id.startswith("D")
                                  or channel_name == "directmessage"):
            return False
        try:
            return channel_id == await self.dms.channel_for(user_id)
        except TRANSPORT_ERRORS:
            log.info("could not open the DM of %s to compare channels", user_id)
            return False

    async def profile_timezone(self, user_id: str) -> str | None:
        """Return the user's time zone from their Slack profile (``users.info``), if any."""
        try:
            response = await self.client.users_info(user=user_id)
        except TRANSPORT_ERRORS:
            log.info("users.info failed for %s; no default time zone", user_id)
            return None
        tz = (response.get("user") or {}).get("tz")
        return tz if isinstance(tz, str) and tz else None

    # --- commands ------------------------------------------------------------------------

    async def run_line(self, actor: Actor, text: str) -> tuple[str, Reply]:
        """Run ``/pacer TEXT`` as ACTOR; return the command name and its reply."""
        try:
            tokens = parsing.tokenize(text.strip())
        except PacerError as exc:
            return "", for_slack(Reply(exc.message, error=True))
        if not tokens:
            tokens = ["help"]
        name, args = tokens[0].lstrip("/").lower(), tokens[1:]
        if name == "help" and (own := help_reply(args)) is not None:
            return name, own
        if name == "status":
            return name, await self.status(actor)
        if name == "import" and (not args or args[0].lower() not in {"confirm", "cancel"}):
            return name, Reply(NO_IMPORT, error=True)
        line = "/" + text.strip().lstrip("/")
        note = None
        if name == "start" and all("=" in a[1:] for a in args):  # no zone named
            tz = await self.profile_timezone(actor.external_id)
            if tz is not None:
                rest = re.split(r"\s+", line, maxsplit=1)[1:]
                line = " ".join(["/start", tz, *rest])
                note = (f"Time zone {tz} is taken from your Slack profile; "
                        f"`{SLASH} settings timezone=Area/City` sets another.")
        names = await self.mentioned_names(text) if name == "partner" else {}
        reply = await self.core.grammar.dispatch(
            actor, line.strip(), resolve_user=self.resolver(actor.space_id, names))
        if note and not reply.error:
            reply.notices.insert(0, note)
        return name, for_slack(reply)

    async def status(self, actor: Actor) -> Reply:
        """Show the operator's status report to a configured owner; refuse anyone else."""
        if actor.external_id not in self.core.settings.slack.owner_ids:
            return Reply(NOT_OWNER, error=True)
        return present(await self.core.services.status.report())

    async def answer(self, respond: Respond, actor: Actor, reply: Reply, where: str) -> None:
        """Send REPLY through the response URL (files go to the learner's DM)."""
        if reply.attachment is not None:
            try:
                channel = await self.dms.channel_for(actor.external_id)
                file = reply.attachment
                await self.client.files_upload_v2(
                    channel=channel, file=file.data, filename=file.filename,
                    title=file.description or file.filename)
                reply.notices.append(f"{file.filename} is in your DM with Pacer.")
            except TRANSPORT_ERRORS as exc:
                log.warning("could not upload %s for %s: %s", reply.attachment.filename,
                            actor.external_id, exc)
                reply.notices.append("The file could not be uploaded; try again later.")
        text = fallback_text(reply.title, reply.text)
        try:
            for blocks in reply_messages(reply):
                await respond(text=text, blocks=blocks, response_type=where,
                              replace_original=False)
        except (*TRANSPORT_ERRORS, ValueError) as exc:  # an expired or missing response_url
            log.warning("could not answer %s through the response URL: %s",
                        actor.external_id, exc)

    async def slash(self, body: dict[str, Any], respond: Respond) -> None:
        """Answer one ``/pacer`` command (already acknowledged)."""
        user_id = str(body.get("user_id", ""))
        actor = self.actor(body.get("team_id"), user_id, body.get("user_name"),
                           body.get("channel_id"))
        raw = str(body.get("text") or "")
        # A partner is invited by a live mention; everywhere else mentions become plain text.
        invite = raw.strip().lower().startswith("partner")
        text = unescape(raw if invite else plain_references(raw))
        # One log line and one metric per command (its name only, never what was typed).
        with observe(UNKNOWN, PLATFORM, self.core.metrics) as seen:
            try:
                name, reply = await self.run_line(actor, text)
                in_dm = await self.in_bot_dm(user_id, actor.channel_id,
                                             body.get("channel_name"))
            except Exception as exc:
                seen.failed()
                where = f"{SLASH} {command_name(text, also=OWNER_COMMANDS)}"
                name, reply, in_dm = "", apology(where, exc), False
            seen.command = command_name(name, also=OWNER_COMMANDS) if name else UNKNOWN
            if reply.error and seen.outcome != FAILED:
                seen.input_error()
            await self.answer(respond, actor, reply, response_type(name, reply, in_dm))
        if reply.error or not name or not changes_tracker(name, text.split()[1:]):
            return
        if name == "forget-me":  # forgotten: not even the DM channel stays in memory
            self.dms.forget(user_id)
        await self.publish_home(actor)

    # --- buttons -------------------------------------------------------------------------

    async def press(self, actor: Actor, action: str) -> Reply:
        """Run a pressed button's action (``log:1h``, ``snooze:evening``, ``done:ITEM``)."""
        try:
            if action.startswith("done:") and len(action) > len("done:"):
                outcome: Any = await self.core.services.checklist.mark_done(
                    actor, action.removeprefix("done:"))
            else:
                parsed = parse_action(action)
                if parsed is None:
                    return Reply(slack_commands(STALE), error=True)
                outcome = await parsed.run(self.core.services, actor)
            return for_slack(present(outcome))
        except PacerError as exc:
            return for_slack(Reply(exc.message, error=True))

    async def button(self, body: dict[str, Any], action: dict[str, Any],
                     respond: Respond) -> None:
        """Answer a button press on a message or on the App Home (already acknowledged)."""
        user = body.get("user") or {}
        team_id = (body.get("team") or {}).get("id") or user.get("team_id")
        container = body.get("container") or {}
        channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id")
        actor = self.actor(team_id, str(user.get("id", "")),
                           user.get("username") or user.get("name"), channel_id)
        value = str(action.get("value") or action.get("action_id", "")
                    .removeprefix(ACTION_PREFIX))
        try:
            reply = await self.press(actor, value)
        except Exception as exc:
            reply = apology(f"button {value[:40]!r}", exc)
        if container.get("type") == "view":
            await self.publish_home(actor, status=reply)
            return
        in_dm = await self.in_bot_dm(actor.external_id, channel_id)
        await self.answer(respond, actor, reply, IN_CHANNEL if in_dm else EPHEMERAL)
        if reply.error:
            return
        if in_dm and channel_id:
            await self.mark_pressed(channel_id, body.get("message") or {}, reply)
        await self.publish_home(actor)

    async def mark_pressed(self, channel_id: str, message: dict[str, Any], reply: Reply) -> None:
        """Note on the pressed DM message what its button did (``chat.update``), buttons kept."""
        ts = message.get("ts")
        blocks = [b for b in message.get("blocks") or [] if b.get("block_id") != STATUS_BLOCK]
        if not ts or not blocks:
            return
        done = mrkdwn("✓ " + (reply.text.split("\n", 1)[0] or reply.title or "Done"))
        status = {**context(chunks(done)[0]), "block_id": STATUS_BLOCK}
        at = next((i for i, b in enumerate(blocks) if b.get("type") == "actions"), len(blocks))
        try:
            await self.client.chat_update(channel=channel_id, ts=ts,
                                          text=str(message.get("text") or "Pacer"),
                                          blocks=[*blocks[:at], status, *blocks[at:]][:50])
        except TRANSPORT_ERRORS as exc:
            log.info("could not mark the pressed message %s: %s", ts, exc)

    # --- the App Home --------------------------------------------------------------------

    async def publish_home(self, actor: Actor, status: Reply | None = None) -> None:
        """Publish the learner's App Home (their living tracker); failures are only logged."""
        try:
            view = await home_view(self.core.services, actor, status)
            await self.client.views_publish(user_id=actor.external_id, view=view)
        except TRANSPORT_ERRORS as exc:
            log.warning("views.publish for %s failed: %s", actor.external_id, exc)
        except Exception:
            log.exception("could not build the App Home of %s", actor.external_id)
