"""Discord options and buttons reach the typed services as typed values.

A spy stands in for one service of the running bot's core (the store behind it is the real
one): it records the arguments of each call and delegates to the real service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.actions import LogTime, Snooze, parse_action
from bot.discord.transformers import (
    CounterChangeTransformer,
    DateTransformer,
    DurationTransformer,
    HoursPerDayTransformer,
    ParserTransformer,
    ReminderAt,
    ReminderTimeTransformer,
    ScoreTransformer,
    SnoozeTransformer,
    StudyDayTransformer,
    TimeZoneTransformer,
    TopicTransformer,
)
from bot.grammar import Grammar
from bot.messages import REMINDER_BUTTONS, Button, OutMessage
from bot.values import CounterChange, DateInput, ScoreInput, SnoozeSpec, StudyDay
from tests.discord_fixtures import (
    World,
    collect,
    copy_database,
    discord_globals_restored,
    start_world,
)
from tests.standin import DiscordStandin

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory,
                sqlite_template: Path) -> AsyncIterator[World]:
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            url = copy_database(sqlite_template, tmp_path_factory.mktemp("typed"))
            async for w in start_world(standin, url):
                yield w


class Spy:
    """Record every call made to a service, then make it for real."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        async def record(*args: Any) -> Any:
            self.calls.append((name, args))
            return await method(*args)

        return record


@pytest.mark.parametrize(("command", "options", "service", "method", "typed"), [
    ("quiz", {"week": 1, "score": "17/20"}, "scores", "record_quiz",
     (1, ScoreInput("17/20", 17, 20))),
    ("mock", {"score": "7", "slot": 2}, "scores", "record_mock",
     (ScoreInput.of(7), None, StudyDay("today"), 2)),
    ("rate", {"skill": "scheduler", "rating": 4, "week": 1}, "scores", "rate_skill",
     ("scheduler", 4, 1)),
    ("confidence", {"area": "coding", "level": 4}, "scores", "set_confidence", ("coding", 4)),
    ("count", {"counter": "cuda-basic", "change": "+2"}, "scores", "bump_counter",
     ("cuda-basic", CounterChange("+", 2))),
    ("log", {"duration": "90m", "when": "today"}, "timelog", "log_time",
     (90, None, StudyDay("today"))),
    ("week", {"week": 2}, "views", "week", (2,)),
    ("snooze", {"until": "2h"}, "pauses", "snooze", (SnoozeSpec("minutes", 120),)),
])
async def test_an_option_reaches_the_service_with_its_type(
        world: World, monkeypatch: pytest.MonkeyPatch, command: str, options: dict[str, Any],
        service: str, method: str, typed: tuple[Any, ...]) -> None:
    user = world.new_user()
    await world.onboard(user)
    spy = Spy(getattr(world.core.services, service))
    monkeypatch.setattr(world.core.services, service, spy)
    answer = await world.ask(command, options, user=user)
    assert all(e.get("color") != 0xED4245 for e in answer.embeds), answer.text
    ((called, args),) = spy.calls
    assert called == method and args[0] == world.actor(user)
    assert args[1:] == typed
    assert [type(a) for a in args[1:]] == [type(t) for t in typed]  # 1 stays int, not "1"


@pytest.mark.parametrize(("custom_id", "service", "typed"), [
    ("pacer:log:30m", "timelog", ("log_time", (30,))),
    ("pacer:log:60", "timelog", ("log_time", (60,))),
    ("pacer:snooze:1h", "pauses", ("snooze", (SnoozeSpec("minutes", 60),))),
    ("pacer:snooze:evening", "pauses", ("snooze", (SnoozeSpec("evening"),))),
])
async def test_a_button_press_calls_its_service_without_the_line_grammar(
        world: World, monkeypatch: pytest.MonkeyPatch, custom_id: str, service: str,
        typed: tuple[str, tuple[Any, ...]]) -> None:
    grammar_lines: list[str] = []

    async def no_grammar(self: Grammar, actor: Any, line: str, *args: Any) -> Any:
        grammar_lines.append(line)
        raise AssertionError("a button went through the line grammar")

    monkeypatch.setattr(Grammar, "dispatch", no_grammar)
    user = world.new_user()
    await world.onboard(user, dm=True)
    buttons = (*REMINDER_BUTTONS, Button("log:60", "Log 60 min"))  # a new-style id too
    await world.bot.sender.send("discord", str(user["id"]),
                                OutMessage("reminder", "Daily reminder", "…", buttons))
    (message,) = world.standin.dm_messages(int(user["id"]))
    spy = Spy(getattr(world.core.services, service))
    monkeypatch.setattr(world.core.services, service, spy)
    answer = await collect(await world.standin.send_component(custom_id, message=message,
                                                              user=user, dm=True))
    assert all(e.get("color") != 0xED4245 for e in answer.embeds), answer.text
    assert grammar_lines == []
    ((called, args),) = spy.calls
    assert (called, args[1:]) == typed and args[0] == world.actor(user, dm=True)


@pytest.mark.parametrize(("action", "parsed"), [
    ("log:30m", LogTime(30)), ("log:1h", LogTime(60)), ("log:2h", LogTime(120)),
    ("log:60", LogTime(60)), ("snooze:1h", Snooze(60)), ("snooze:30m", Snooze(30)),
    ("snooze:evening", Snooze(None)),
    ("log:0", None), ("log:25h", None), ("log:abc", None), ("snooze:25h", None),
    ("snooze:later", None), ("teleport:now", None), ("log", None), ("", None),
])
async def test_button_actions_are_parsed_once_into_typed_actions(action: str,
                                                                 parsed: object) -> None:
    assert parse_action(action) == parsed


async def test_every_action_the_dispatcher_sends_is_understood() -> None:
    from bot.messages import BUTTON_COMMANDS

    assert all(parse_action(action) is not None for action in BUTTON_COMMANDS)
    assert all(parse_action(b.action) is not None for b in REMINDER_BUTTONS)


@pytest.mark.parametrize(("transformer", "text", "value"), [
    (DurationTransformer, "1h30", 90),
    (DurationTransformer, "45m", 45),
    (HoursPerDayTransformer, "2.5", 150),
    (StudyDayTransformer, "yesterday", StudyDay("yesterday")),
    (ScoreTransformer, "17/20", ScoreInput("17/20", 17, 20)),
    (CounterChangeTransformer, "-3", CounterChange("-", 3)),
    (SnoozeTransformer, "evening", SnoozeSpec("evening")),
    (TimeZoneTransformer, "europe/berlin", "Europe/Berlin"),
    (ReminderTimeTransformer, "7pm", ReminderAt(time(19, 0))),
    (ReminderTimeTransformer, "off", ReminderAt(None)),
    (DateTransformer, "2027-01-15", DateInput.of(date(2027, 1, 15))),
])
async def test_a_transformer_returns_the_parsers_typed_value(
        transformer: type[ParserTransformer[Any]], text: str, value: object) -> None:
    assert await transformer().transform(None, text) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(("transformer", "text", "says"), [
    (DurationTransformer, "99h", "more than 24 hours"),
    (ScoreTransformer, "lots", "lots"),
    (TimeZoneTransformer, "Mars/Olympus", "is not a time zone I know"),
    (TopicTransformer, "bell\x07", "control character"),
])
async def test_a_parser_error_becomes_the_frameworks_error_with_its_sentence(
        transformer: type[ParserTransformer[Any]], text: str, says: str) -> None:
    from discord import app_commands

    from bot.discord.errors import unwrap
    from bot.errors import InputError

    with pytest.raises(app_commands.TransformerError) as caught:
        await transformer().transform(None, text)  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, InputError)
    assert says in caught.value.__cause__.message
    assert unwrap(caught.value) is caught.value.__cause__  # the one handler shows it
