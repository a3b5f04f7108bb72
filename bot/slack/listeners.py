"""The bolt listeners: each acknowledges at once, then hands the request to the front.

Slack wants an acknowledgement within 3 seconds; the work runs after it and answers through
the request's ``response_url`` (commands, message buttons) or ``views.publish`` (the Home).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.blocks import ACTION_PREFIX
from bot.slack.front import SlackFront
from bot.slack.rules import SLASH

log = logging.getLogger(__name__)

BUTTON_ACTIONS = re.compile("^" + re.escape(ACTION_PREFIX))


def register_commands(app: AsyncApp, front: SlackFront) -> None:
    """Register ``/pacer`` with its subcommands in the console grammar."""
    @app.command(SLASH)
    async def pacer(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await front.slash(body, respond)


def register_actions(app: AsyncApp, front: SlackFront) -> None:
    """Register the buttons of reminders, digests and the App Home (``pacer:ACTION``)."""
    @app.action(BUTTON_ACTIONS)
    async def pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                      respond: AsyncRespond) -> None:
        await ack()
        await front.button(body, action, respond)


def register_events(app: AsyncApp, front: SlackFront) -> None:
    """Register ``app_home_opened``: publish the learner's tracker."""
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id = body.get("team_id") or event.get("view", {}).get("team_id")
        await front.publish_home(front.actor(team_id, str(event.get("user", "")), None,
                                             event.get("channel")))


def register_listeners(app: AsyncApp, front: SlackFront) -> None:
    """Register every listener of the Slack front on APP."""
    register_commands(app, front)
    register_actions(app, front)
    register_events(app, front)
