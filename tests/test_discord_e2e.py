"""The Discord front end to end: the real PacerBot, discord.py's own HTTP and gateway code,
the loopback stand-in, a real SQLite file. Every request the bot sends is checked against
Discord's OpenAPI description (after each scenario: no violations).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.config import ConfigError, Settings
from bot.discord.client import cog_names, run_discord
from bot.discord.observed import shard_latencies
from bot.discord.replies import pack, split_text, text_embeds
from bot.discord.sync import INVITE_PERMISSIONS, invite_from_cli, sync_from_cli
from bot.grammar import Grammar
from bot.messages import REMINDER_BUTTONS, Button, OutMessage
from bot.senders import CLOSED_DM, DeliveryError
from bot.services import Onboarding, Services
from tests.conftest import FakeClock, dump_store
from tests.discord_fixtures import (
    START,
    World,
    collect,
    copy_database,
    discord_globals_restored,
    running_bot,
    standin_settings,
    start_world,
    text_of,
)
from tests.standin import DiscordStandin

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[1]
NO_SPEC = "Discord OpenAPI spec not found (set PACER_DISCORD_OPENAPI or provide shared/)"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory,
                sqlite_template: Path) -> AsyncIterator[World]:
    """One connected PacerBot for the module, its commands synced to the stand-in's guild."""
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            url = copy_database(sqlite_template, tmp_path_factory.mktemp("discord"))
            async for w in start_world(standin, url):
                yield w


@pytest.fixture(autouse=True)
def no_bad_requests(world: World) -> Any:
    """After each scenario: no request broke the OpenAPI description or Discord's limits."""
    world.standin.take_violations()
    yield
    bad = world.standin.take_violations()
    assert not bad, "bad requests to the Discord stand-in:\n" + "\n".join(map(str, bad))


# --- start-up and sync --------------------------------------------------------------------


async def test_startup_handshake_and_cogs(world: World) -> None:
    s, bot = world.standin, world.bot
    assert bot.user is not None and bot.user.id == s.bot_user_id
    assert bot.application_id == s.application_id
    assert bot.get_guild(s.guild_id) is not None
    identify = s.identify_payloads[0]
    assert identify["token"] == s.token
    assert identify["intents"] == 1  # GUILDS only: Pacer reads no messages
    assert sorted(bot.extensions) == cog_names()
    assert {op["op"] for op in s.gateway_received} >= {1, 2}  # heartbeat and identify
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}


async def test_cli_sync_registers_spec_valid_commands(tmp_path: Path,
                                                      sqlite_template: Path) -> None:
    with discord_globals_restored():
        async with DiscordStandin() as s:
            settings = standin_settings(s, copy_database(sqlite_template, tmp_path))
            names = await sync_from_cli(settings, s.token, guild_id=s.guild_id)
            global_names = await sync_from_cli(settings, s.token, global_=True)
    assert {"log", "done", "progress", "deadline", "partner", "settings", "pacer"} <= set(names)
    assert sorted(names) == sorted(global_names) == sorted(c["name"] for c in s.commands())
    assert [c["name"] for c in s.commands(s.guild_id)] == names
    assert s.identify_payloads == []  # sync logs in over REST only; no gateway
    puts = [r for r in s.requests if r.method == "PUT"]
    assert [r.route for r in puts] == [
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/applications/{application_id}/commands"]
    if not s.openapi_available:
        pytest.skip(NO_SPEC)
    for put in puts:
        assert s.validate_command_payload(put.json) == []
    s.assert_clean()


@pytest.mark.parametrize(("guild", "global_", "problem"), [
    (None, False, "no guild to sync to"),
    (123, True, "either --guild ID or --global"),
])
async def test_cli_sync_needs_a_target(guild: int | None, global_: bool, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):  # refused before any connection
        await sync_from_cli(Settings(), "token", guild_id=guild, global_=global_)


def _cli_env(tmp_path: Path, s: DiscordStandin, db_url: str) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[discord]\nrest_base_url = '
                      f'"{s.rest_base}"\ngateway_url = "{s.gateway_url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "DISCORD_"))}
    env.update(PACER_CONFIG=str(config), DISCORD_TOKEN=s.token,
               PACER_DISCORD_OPENAPI=os.environ.get("PACER_DISCORD_OPENAPI", ""))
    return env


async def _run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_python_m_bot_sync_and_invite(tmp_path: Path, sqlite_template: Path) -> None:
    async with DiscordStandin() as s:
        env = _cli_env(tmp_path, s, copy_database(sqlite_template, tmp_path))
        code, out, err = await _run_cli(env, "sync", "--guild", str(s.guild_id))
        assert code == 0, err
        assert f"to guild {s.guild_id}" in out and "log" in out
        assert [c["name"] for c in s.commands(s.guild_id)]
        code, out, err = await _run_cli(env, "invite")
        assert code == 0, err
        s.assert_clean()
    url = urllib.parse.urlsplit(out.strip())
    query = urllib.parse.parse_qs(url.query)
    assert (url.netloc, url.path) == ("discord.com", "/oauth2/authorize")
    assert query["client_id"] == [str(s.application_id)]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(INVITE_PERMISSIONS.value)]


async def test_sigterm_stops_the_running_bot_cleanly(tmp_path: Path,
                                                    sqlite_template: Path) -> None:
    import signal

    async with DiscordStandin() as s:
        env = _cli_env(tmp_path, s, copy_database(sqlite_template, tmp_path))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await s.wait_until_connected(timeout=30)
            handle = await s.send_command("start", {"timezone": "Asia/Kolkata"})
            assert "Welcome aboard" in (await collect(handle)).text
            proc.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
        s.assert_clean()
    log = err.decode()
    assert proc.returncode == 0, log
    assert "received SIGTERM: shutting down" in log
    assert "dispatcher stopped" in log
    assert s.token not in log


async def test_invite_with_client_id_asks_nothing() -> None:
    url = await invite_from_cli(Settings(), None, client_id=42)
    # View Channel, Send Messages, Embed Links, Attach Files, Read Message History,
    # Use Application Commands, Send Messages in Threads
    assert INVITE_PERMISSIONS.value == (1 << 10 | 1 << 11 | 1 << 14 | 1 << 15 | 1 << 16
                                        | 1 << 31 | 1 << 38)
    assert "client_id=42" in url and f"permissions={INVITE_PERMISSIONS.value}" in url


async def test_run_discord_connects_and_answers(tmp_path: Path, sqlite_template: Path) -> None:
    with discord_globals_restored():
        async with DiscordStandin() as s:
            settings = standin_settings(s, copy_database(sqlite_template, tmp_path))
            task = asyncio.create_task(run_discord(settings, s.token))
            await s.wait_until_connected(timeout=10)
            handle = await s.send_command("start", {"timezone": "Asia/Kolkata"})
            answer = await collect(handle)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            s.assert_clean()
    assert "Welcome aboard" in answer.text and answer.ephemeral


# --- every command with valid input, in a server channel and in a DM ------------------------


@dataclass
class Ctx:
    world: World
    user: dict[str, Any]
    other: dict[str, Any]
    dm: bool
    ids: dict[str, Any]

    def actor(self, user: dict[str, Any] | None = None) -> Any:
        return self.world.actor(user or self.user, dm=self.dm)

    @property
    def services(self) -> Services:
        return self.world.core.services

    @property
    def grammar(self) -> Grammar:
        return self.world.core.grammar


Prep = Callable[[Ctx], Awaitable[Any]]


@dataclass(frozen=True)
class Case:
    command: str
    options: Callable[[Ctx], Mapping[str, Any]] | Mapping[str, Any] | None
    expect: str
    prep: Prep | None = None
    public: bool = False  # public in a server channel (learner's default: posts publicly)
    onboard: bool = True
    as_other: bool = False  # the invited partner runs it
    as_owner: bool = False

    def options_for(self, ctx: Ctx) -> Mapping[str, Any] | None:
        return self.options(ctx) if callable(self.options) else self.options


async def _done(c: Ctx) -> None:
    await c.services.checklist.mark_done(c.actor(), "day01")


async def _logged(c: Ctx) -> None:
    await c.services.timelog.log_time(c.actor(), 60, "PagedAttention")


async def _note(c: Ctx) -> None:
    c.ids["note"] = (await c.services.notes.add_question(c.actor(), "Why 16 tokens?")).note_id


async def _deadline(c: Ctx) -> None:
    await c.services.deadlines.add_deadline(c.actor(), "NVIDIA interview", date(2027, 1, 15))


async def _invited(c: Ctx) -> None:
    await c.services.partners.invite(c.actor(), c.actor(c.other))


async def _paused(c: Ctx) -> None:
    await c.services.pauses.pause(c.actor(), date(2026, 12, 5))


async def _tracker_file(c: Ctx) -> None:
    """Upload a tracker exported from another learner who ticked two items."""
    donor = c.world.new_user("donor")
    donor_actor = c.world.actor(donor)
    await c.services.onboarding.start(donor_actor, Onboarding(timezone="Europe/Berlin"))
    await c.services.checklist.mark_done(donor_actor, "day01")
    await c.services.checklist.mark_done(donor_actor, "hello-world")
    reply = await c.grammar.dispatch(donor_actor, "/export markdown")
    assert reply.attachment is not None, reply.text
    c.ids["tracker"] = c.world.standin.add_attachment(reply.attachment.filename,
                                                      reply.attachment.data)


VALID = [
    Case("start", {"timezone": "Europe/Berlin", "hours": "3", "weeks": 6, "reminder": "20:00",
                   "goal": "Ship a vLLM patch"}, "Welcome aboard", onboard=False),
    Case("log", {"duration": "90m", "topic": "PagedAttention", "when": "today"}, "Logged 1.5h",
         public=True),
    Case("done", {"item": "day01"}, "Codebase Overview done", public=True),
    Case("undone", {"item": "day01"}, "open again", prep=_done),
    Case("undo", None, "Undone: log", prep=_logged),
    Case("progress", None, "Current Phase"),
    Case("week", {"week": 1}, "Week 1 time log"),
    Case("skills", None, "Self-Assessment Matrix"),
    Case("summary", None, "Final Summary"),
    Case("next", None, "What's next"),
    Case("milestones", None, "Reached"),
    Case("help", None, "/deadline add"),
    Case("quiz", {"week": 1, "score": "17/20"}, "Week 1 Quiz: 17/20"),
    Case("mock", {"score": "7", "feedback": "clear answers", "slot": 2}, "Mock interview 2"),
    Case("readiness", {"score": "42"}, "Readiness Score: 42/60"),
    Case("score", {"what": "pa-quiz", "value": "3"}, "3/3"),
    Case("rate", {"skill": "scheduler", "rating": 4, "week": 1}, "Scheduler: 4/5 for week 1"),
    Case("confidence", {"area": "coding", "level": 4}, "Coding Confidence: 4"),
    Case("count", {"counter": "cuda-basic", "change": "+2"}, "Basic: 2/10"),
    Case("set", {"field": "next-steps", "value": "Apply in January"}, "Apply in January"),
    Case("insight", {"text": "Blocks are pages", "week": 1}, "saved for week 1"),
    Case("challenge", {"challenge": "OOM", "solution": "smaller batch", "learning": "measure"},
         "Challenge #"),
    Case("question", {"text": "Why 16 tokens per block?"}, "Question #"),
    Case("notes", None, "Why 16 tokens?", prep=_note),
    Case("notes", lambda c: {"remove": str(c.ids["note"])}, "Removed note", prep=_note),
    Case("deadline add", {"title": "NVIDIA interview", "when": "2027-01-15"}, "Deadline #"),
    Case("deadline list", None, "NVIDIA interview", prep=_deadline),
    Case("deadline remove", {"deadline": "NVIDIA interview"}, "Removed deadline",
         prep=_deadline),
    Case("partner invite", lambda c: {"member": c.other}, "Invited"),
    Case("partner accept", None, "accountability partner", prep=_invited, as_other=True),
    Case("partner end", None, "partnership has ended", prep=_invited),
    Case("partner share", {"parts": "hours,streak"}, "now sees: hours, streak", prep=_invited),
    Case("settings show", None, "Europe/Berlin"),
    Case("settings set", {"name": "reminder", "value": "20:30"}, "Updated reminder."),
    Case("pause", {"until": "2026-12-05"}, "Paused through 2026-12-05"),
    Case("resume", None, "Resumed", prep=_paused),
    Case("snooze", {"until": "1h"}, "Snoozed until 14:00 (Europe/Berlin)"),
    Case("digest preview", None, "Your weekly digest"),
    Case("export", None, "Here is your export: vllm"),
    Case("export", {"format": "json"}, ".json"),
    Case("forget-me", None, "This deletes everything Pacer stores about you"),
    Case("import", lambda c: {"file": c.ids["tracker"]}, "Import preview", prep=_tracker_file),
    Case("pacer sync", lambda c: {"scope": "global" if c.dm else "guild"}, "Synced",
         as_owner=True),
    Case("pacer status", None, "Dispatcher lag", as_owner=True),
]
GUILD_ONLY = {"pacer channel", "pacer plan"}
VALID_GUILD_ONLY = [Case("pacer channel", None, "will be posted in"),
                    Case("pacer plan", {"plan": "vllm"}, "New learners here will follow vLLM")]


def _case_id(case: Case) -> str:
    return case.command.replace(" ", "-") + ("-" + "-".join(case.options)
                                             if isinstance(case.options, dict) else "")


PLACES = [pytest.param(case, dm, id=f"{_case_id(case)}-{'dm' if dm else 'guild'}")
          for case in VALID + VALID_GUILD_ONLY for dm in (False, True)
          if not (dm and case.command in GUILD_ONLY)]  # its DM answer is a bad-input case


@pytest.mark.parametrize(("case", "dm"), PLACES)
async def test_command_with_valid_input(world: World, case: Case, dm: bool) -> None:
    user = world.standin.owner if case.as_owner else world.new_user()
    ctx = Ctx(world, user, world.new_user("partner"), dm, {})
    if case.onboard and not case.as_owner:
        await world.onboard(user, dm=dm)
    if case.prep is not None:
        await case.prep(ctx)
    runner = ctx.other if case.as_other else user
    answer = await world.ask(case.command, case.options_for(ctx), user=runner, dm=dm)
    assert case.expect in answer.text
    assert answer.embeds and all(e.get("color") != 0xED4245 for e in answer.embeds)
    assert answer.ephemeral == (not dm and not case.public)
    for message in answer.messages:
        assert message.allowed_mentions == {"parse": []}


async def test_log_and_done_stay_private_when_the_learner_says_so(world: World) -> None:
    user = world.new_user()
    await world.onboard(user)
    await world.core.services.onboarding.update_settings(world.actor(user),
                                                        {"public_posts": False})
    logged = await world.ask("log", {"duration": "2h"}, user=user)
    done = await world.ask("done", {"item": "hello-world"}, user=user)
    assert logged.ephemeral and done.ephemeral
    # the first session's milestone rides in the private answer, not in the channel
    assert "First study session logged" in logged.text
    assert world.standin.channel_messages(world.standin.channel_id,
                                          include_interactions=True)[-1].ephemeral


async def test_public_log_names_the_learner_and_celebrates_visibly(world: World) -> None:
    user = world.new_user()
    await world.onboard(user)
    answer = await world.ask("log", {"duration": "2h", "topic": "Scheduler"}, user=user)
    assert not answer.ephemeral
    titles = [e.get("title") for e in answer.embeds]
    assert titles == ["Time logged", "Milestone reached!"]
    assert all(e["author"]["name"] == user["global_name"] for e in answer.embeds)
    assert answer.embeds[1]["color"] == 0xF1C40F


# --- bad input: ephemeral, specific, nothing stored ----------------------------------------


@dataclass(frozen=True)
class Bad:
    command: str
    options: Callable[[Ctx], Mapping[str, Any]] | Mapping[str, Any] | None
    expect: str
    onboard: bool = True
    prep: Prep | None = None
    dm: bool = False

    def options_for(self, ctx: Ctx) -> Mapping[str, Any] | None:
        return self.options(ctx) if callable(self.options) else self.options


NOT_STARTED = "You have not started a plan yet"
BAD = [
    Bad("start", {"timezone": "Mars/Olympus"}, '"Mars/Olympus" is not a time zone I know',
        onboard=False),
    Bad("start", {"timezone": "Europe/Berlin"}, "You are already set up"),
    Bad("log", {"duration": "99h"}, '"99h" is more than 24 hours'),
    Bad("log", {"duration": "1h", "topic": "bell\x07"}, "contains a control character"),
    Bad("log", {"duration": "1h", "when": "2026-12-25"}, "is in the future"),
    Bad("done", {"item": "nosuchitem"}, 'No item matches "nosuchitem"'),
    Bad("undone", {"item": "day01"}, "is not marked done"),
    Bad("undo", None, "Nothing to undo"),
    Bad("progress", None, NOT_STARTED, onboard=False),
    Bad("week", {"week": 1}, NOT_STARTED, onboard=False),
    Bad("skills", None, NOT_STARTED, onboard=False),
    Bad("summary", None, NOT_STARTED, onboard=False),
    Bad("next", None, NOT_STARTED, onboard=False),
    Bad("quiz", {"week": 1, "score": "25"}, '"25" is more than the maximum of 20'),
    Bad("mock", {"score": "11"}, '"11" is more than the maximum of 10'),
    Bad("mock", {"score": "7", "when": "2026-12-24"}, "in the future"),
    Bad("readiness", {"score": "61"}, '"61" is more than the maximum of 60'),
    Bad("score", {"what": "nosuch", "value": "3"}, 'No score matches "nosuch"'),
    Bad("rate", {"skill": "scheduler", "rating": 9}, "A rating is 1 to 5; 9 is outside that"),
    Bad("rate", {"skill": "cooking", "rating": 3}, 'No skill matches "cooking"'),
    Bad("confidence", {"area": "coding", "level": 7}, "A confidence level must be"),
    Bad("count", {"counter": "nosuch"}, 'No counter matches "nosuch"'),
    Bad("count", {"counter": "cuda-basic", "change": "-1"}, "cannot go below 0"),
    Bad("set", {"field": "nosuch", "value": "x"}, 'No field matches "nosuch"'),
    Bad("insight", {"text": "x" * 1001}, "The insight is 1001 characters long"),
    Bad("challenge", {"challenge": "\u202eevil"}, "contains a control character"),
    Bad("question", {"text": "   "}, "The question is empty"),
    Bad("notes", {"remove": "999"}, "You have no note #999"),
    Bad("deadline add", {"title": "Old", "when": "2020-01-01"}, "2020-01-01 has passed"),
    Bad("deadline add", {"title": "Soon", "when": "someday"}, "someday"),
    Bad("deadline list", None, NOT_STARTED, onboard=False),
    Bad("deadline remove", {"deadline": "999"}, "No deadline of yours has that number"),
    Bad("partner invite", lambda c: {"member": c.user}, "cannot be your own"),
    Bad("partner invite", lambda c: {"member": c.world.standin.bot_user}, "is a bot"),
    Bad("partner accept", None, "No invitation to be a partner is waiting"),
    Bad("partner end", None, "You have no partnership to end"),
    Bad("partner share", {"parts": "secrets"}, "'secrets' is not something to share"),
    Bad("settings show", None, NOT_STARTED, onboard=False),
    Bad("settings set", {"name": "reminder", "value": "25:99"}, "the hour must be 0 to 23"),
    Bad("pause", {"until": "2020-01-01"}, "2020-01-01 is in the past"),
    Bad("resume", None, "You are not paused"),
    Bad("snooze", {"until": "forever"}, "Snooze for a duration such as `1h`"),
    Bad("snooze", {"until": "off"}, "No reminder is snoozed"),
    Bad("digest preview", None, NOT_STARTED, onboard=False),
    Bad("export", {"format": "pdf"}, "'pdf' is not one of the choices here: markdown, json, csv"),
    Bad("export", None, NOT_STARTED, onboard=False),
    Bad("import", lambda c: {"file": c.world.standin.add_attachment("chart.png", b"\x89PNG")},
        '"chart.png" is not a Markdown file'),
    Bad("import", lambda c: {"file": c.world.standin.add_attachment("t.md", "é".encode("cp1252"))},
        "is not UTF-8 text"),
    Bad("import", lambda c: {"file": c.world.standin.add_attachment("big.md", b"#" * 600_000)},
        "a tracker may be at most 512 KiB"),
    Bad("forget-me", None, "Pacer stores nothing about you", onboard=False),
    Bad("pacer channel", None, "A fallback channel belongs to a server", dm=True),
    Bad("pacer plan", {"plan": "vllm"}, "A plan is chosen for a server", dm=True),
    Bad("pacer plan", {"plan": "nosuch"}, "vllm"),
    Bad("pacer sync", {"scope": "guild"}, "Only the owner of this Pacer bot"),
    Bad("pacer status", None, "Only the owner of this Pacer bot"),
    Bad("pacer status", None, "Only the owner of this Pacer bot", dm=True),
]


@pytest.mark.parametrize("case", BAD, ids=lambda b: f"{b.command}-{b.expect[:24]}")
async def test_bad_input_is_ephemeral_specific_and_changes_nothing(world: World,
                                                                   case: Bad) -> None:
    user = world.new_user()
    ctx = Ctx(world, user, world.new_user("partner"), case.dm, {})
    if case.onboard:
        await world.onboard(user, dm=case.dm)
    if case.prep is not None:
        await case.prep(ctx)
    before = await dump_store(world.core.store)
    answer = await world.ask(case.command, case.options_for(ctx), user=user, dm=case.dm)
    assert case.expect in answer.text
    assert answer.callback.type == 4
    assert answer.flags == (0 if case.dm else 64)
    assert [e["color"] for e in answer.embeds] == [0xED4245]
    assert await dump_store(world.core.store) == before


async def command_lines(caplog: pytest.LogCaptureFixture, command: str,
                        count: int) -> list[logging.LogRecord]:
    """Wait for COUNT lines of COMMAND (each is written once its answer went out)."""
    for _ in range(100):
        lines = [r for r in caplog.records if r.name == "bot.commands"
                 and getattr(r, "command", None) == command]
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    return lines


async def test_the_owner_sees_the_status_privately(world: World,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    learner = world.new_user()
    await world.onboard(learner)
    caplog.set_level(logging.INFO, logger="bot.commands")
    answer = await world.ask("pacer status", user=world.standin.owner)
    refused = await world.ask("pacer status", user=learner)
    assert answer.ephemeral and answer.embeds[0]["title"] == "Pacer status"
    assert "Schema: 0006 (current)" in answer.text and "Learners: " in answer.text
    assert "Only the owner" in refused.text and refused.flags == 64
    lines = await command_lines(caplog, "pacer status", 2)
    assert [(r.command, r.front, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        ("pacer status", "discord", "ok"), ("pacer status", "discord", "input error")]
    assert all(str(learner["username"]) not in r.getMessage() for r in lines)


async def test_each_slash_command_logs_one_line_without_its_options(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    user = world.new_user()
    await world.onboard(user)
    caplog.set_level(logging.INFO)
    await world.ask("log", {"duration": "1h", "topic": "secret stuff @everyone"}, user=user)
    await world.ask("log", {"duration": "99h"}, user=user)
    lines = await command_lines(caplog, "log", 2)
    assert [(r.command, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        ("log", "ok"), ("log", "input error")]
    assert all(isinstance(r.latency_ms, int) for r in lines)  # type: ignore[attr-defined]
    assert not any("secret" in r.getMessage() or "99h" in r.getMessage()
                   for r in caplog.records)


async def test_the_heartbeat_reports_the_connected_shard(world: World) -> None:
    [(shard, seconds)] = shard_latencies(world.bot)
    assert shard == 0 and (seconds is None or seconds >= 0)
    assert "discord" in world.core.process.fronts
    [reported] = json.loads(world.core.process.shards_json())
    assert reported["id"] == 0 and set(reported) == {"id", "latency_ms"}


async def test_unknown_command_gets_a_specific_ephemeral_answer(world: World) -> None:
    answer = await world.ask("teleport", {"where": "week 9"}, user=world.new_user())
    assert "/teleport is not a command of this Pacer" in answer.text
    assert answer.flags == 64


async def test_unexpected_error_apologises_with_an_id_and_logs_the_traceback(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(actor: Any) -> Any:
        raise ZeroDivisionError("the plan divided by zero")

    monkeypatch.setattr(world.core.services.views, "progress", broken)
    user = world.new_user()
    await world.onboard(user)
    with caplog.at_level(logging.ERROR, logger="bot.discord.errors"):
        answer = await world.ask("progress", user=user)
    found = re.search(r"error `([0-9a-f]{8})`", answer.text)
    assert found is not None and answer.flags == 64
    assert "divided by zero" not in answer.text  # no internals shown to the user
    (record,) = [r for r in caplog.records if found[1] in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    assert "progress" in record.getMessage()


async def test_slow_private_work_is_deferred_then_completed(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    original = world.core.services.views.progress

    async def slow(actor: Any) -> Any:
        await gate.wait()
        return await original(actor)

    monkeypatch.setattr(world.core.services.views, "progress", slow)
    monkeypatch.setattr(world.bot.pacing, "window", world.bot.pacing.margin + 0.01)
    user = world.new_user()
    await world.onboard(user)
    handle = await world.standin.send_command("progress", user=user)
    callback = await handle.response()  # the work is blocked: only a deferral can come
    assert (callback.type, callback.ephemeral) == (5, True)
    gate.set()
    answer = await collect(handle)
    assert "Current Phase" in answer.text and answer.ephemeral


async def test_slow_public_log_is_deferred_privately_then_posted(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    original = world.core.services.timelog.log_time

    async def slow(*args: Any) -> Any:
        await gate.wait()
        return await original(*args)

    monkeypatch.setattr(world.core.services.timelog, "log_time", slow)
    monkeypatch.setattr(world.bot.pacing, "window", world.bot.pacing.margin + 0.01)
    user = world.new_user()
    await world.onboard(user)
    handle = await world.standin.send_command("log", {"duration": "1h"}, user=user)
    assert (await handle.response()).type == 5
    gate.set()
    note, post = await handle.followups(2)
    assert note.ephemeral and "Posted in this channel" in text_of(note)
    assert not post.ephemeral and "Logged 1h" in text_of(post)


# --- mentions, autocomplete, attachments --------------------------------------------------


async def test_mentions_typed_by_a_learner_are_echoed_without_pings(world: World) -> None:
    user, victim = world.new_user(), world.new_user("victim")
    await world.onboard(user)
    topic = f"@everyone <@{victim['id']}> @here <@&{world.standin.guild_id}>"
    answer = await world.ask("log", {"duration": "1h", "topic": topic}, user=user)
    assert topic in answer.text and not answer.ephemeral
    message = answer.first
    assert message.allowed_mentions == {"parse": []}
    assert message.pinged_user_ids == []
    assert not message.message["mention_everyone"] and message.message["mention_roles"] == []


async def _prep_auto(c: Ctx) -> None:
    await c.services.checklist.mark_done(c.actor(), "prereq-checklist")
    await c.services.timelog.log_time(c.actor(), 60, "PagedAttention kernels")
    await c.services.timelog.log_time(c.actor(), 60, "Scheduler")
    await c.services.deadlines.add_deadline(c.actor(), "NVIDIA interview", date(2027, 1, 15))
    await c.services.notes.add_question(c.actor(), "Why 16 tokens?")


@pytest.mark.parametrize(("command", "options", "focused", "first", "most"), [
    ("done", {"item": ""}, "item", "prereq-score", 25),
    ("done", {"item": "day1"}, "item", "day10", 25),
    ("undone", {"item": ""}, "item", "prereq-checklist", 1),
    ("log", {"duration": "1h", "topic": "pag"}, "topic", "PagedAttention kernels", 1),
    ("log", {"duration": "1h", "topic": ""}, "topic", "Scheduler", 2),
    ("start", {"timezone": "berl"}, "timezone", "Europe/Berlin", 25),
    ("start", {"timezone": ""}, "timezone", "Europe/London", 25),
    ("settings set", {"name": "timezone", "value": "tokyo"}, "value", "Asia/Tokyo", 25),
    ("settings set", {"name": "public", "value": ""}, "value", "on", 2),
    ("rate", {"skill": "sched", "rating": 4}, "skill", "scheduler", 25),
    ("confidence", {"area": "", "level": 3}, "area", "pa", 25),
    ("count", {"counter": "cuda"}, "counter", "cuda-basic", 25),
    ("set", {"field": "next", "value": "x"}, "field", "next-steps", 25),
    ("score", {"what": "quiz", "value": "3"}, "what", "quiz-week1", 25),
    ("deadline remove", {"deadline": "nvid"}, "deadline", None, 1),
    ("notes", {"remove": ""}, "remove", None, 1),
    ("partner share", {"parts": "hours,s"}, "parts", "hours,streak", 2),
])
async def test_autocomplete_answers_with_valid_choices(
        world: World, command: str, options: dict[str, Any], focused: str,
        first: str | None, most: int) -> None:
    user = world.new_user()
    await world.onboard(user)
    await _prep_auto(Ctx(world, user, user, False, {}))
    handle = await world.standin.send_autocomplete(command, options, focused, user=user)
    answer = await handle.response()
    assert answer.type == 8
    choices = answer.choices
    assert 1 <= len(choices) <= most <= 25
    assert all(1 <= len(c["name"]) <= 100 and 1 <= len(str(c["value"])) <= 100 for c in choices)
    if first is not None:
        assert choices[0]["value"] == first
    if command == "done":
        assert "prereq-checklist" not in [c["value"] for c in choices]  # done items last


async def test_autocomplete_before_start_uses_the_default_plan(world: World) -> None:
    handle = await world.standin.send_autocomplete("done", {"item": "hello"}, "item",
                                                   user=world.new_user(), dm=True)
    assert [c["value"] for c in (await handle.response()).choices] == ["hello-world"]


# --- the DM sender and persistent buttons ---------------------------------------------------


def _reminder(text: str = "**Today**: 0h of 4h logged.") -> OutMessage:
    return OutMessage("reminder", "Daily reminder", text, REMINDER_BUTTONS)


async def test_sender_dms_embeds_and_persistent_buttons(world: World) -> None:
    user = world.new_user()
    await world.bot.sender.send("discord", str(user["id"]), _reminder("ping <@1> @everyone"))
    (message,) = world.standin.dm_messages(int(user["id"]))
    assert text_of(message) == "Daily reminder\nping <@1> @everyone"
    assert message.allowed_mentions == {"parse": []} and message.pinged_user_ids == []
    ids = [c["custom_id"] for row in message.components for c in row["components"]]
    assert ids == [f"pacer:{b.action}" for b in REMINDER_BUTTONS]


@pytest.mark.parametrize(("who", "code"), [("closed", CLOSED_DM), ("unknown", 50033)])
async def test_sender_raises_delivery_errors(world: World, who: str, code: int) -> None:
    user = world.new_user()
    recipient = str(user["id"]) if who == "closed" else "4242"
    rule = world.standin.close_dms(int(user["id"]))
    try:
        with pytest.raises(DeliveryError) as caught:
            await world.bot.sender.send("discord", recipient, _reminder())
    finally:
        world.standin.failures.remove(rule)
    assert (caught.value.code, caught.value.permanent) == (code, True)
    assert caught.value.closed_dm == (who == "closed")
    assert world.standin.dm_messages(int(user["id"])) == []


async def test_sender_posts_in_the_fallback_channel_mentioning_only_the_learner(
        world: World) -> None:
    user = world.new_user()
    await world.bot.sender.post("discord", str(world.standin.channel_id),
                                _reminder("for <@1> and @everyone"), str(user["id"]))
    message = world.standin.channel_messages(world.standin.channel_id)[-1]
    assert message.content == f"<@{user['id']}>"
    assert message.pinged_user_ids == [int(user["id"])]
    assert not message.message["mention_everyone"]


async def test_sender_attaches_a_file(world: World) -> None:
    from bot.replies import Attachment

    user = world.new_user()
    png = b"\x89PNG\r\n\x1a\n fake chart"
    digest = OutMessage("digest", "Your weekly digest", "**Week**",
                        attachment=Attachment("digest.png", png, "Hours per day"))
    await world.bot.sender.send("discord", str(user["id"]), digest)
    (message,) = world.standin.dm_messages(int(user["id"]))
    assert message.file("digest.png") == png
    assert message.attachments[0]["filename"] == "digest.png"


async def test_pressing_a_reminder_button_runs_its_command(world: World) -> None:
    user = world.new_user()
    await world.onboard(user, dm=True)
    await world.bot.sender.send("discord", str(user["id"]), _reminder())
    (message,) = world.standin.dm_messages(int(user["id"]))
    handle = await world.standin.send_component("pacer:log:30m", message=message, user=user,
                                                dm=True)
    answer = await collect(handle)
    assert "Logged 0.5h" in answer.text and not answer.ephemeral  # a DM: a normal message
    data, _plan, _today = await world.core.services.views.snapshot(world.actor(user, dm=True))
    assert [r.minutes for r in data.logs] == [30]


async def test_a_button_from_an_older_version_answers_privately(world: World) -> None:
    user = world.new_user()
    stale = OutMessage("reminder", "Old reminder", "…", (Button("teleport:now", "Teleport"),))
    await world.bot.sender.post("discord", str(world.standin.channel_id), stale, None)
    message = world.standin.channel_messages(world.standin.channel_id)[-1]
    handle = await world.standin.send_component("pacer:teleport:now", message=message,
                                                user=user)
    answer = await collect(handle)
    assert "no longer does anything" in answer.text and answer.flags == 64


@pytest.mark.parametrize(("action", "expect"), [
    ("snooze:1h", "Snoozed until 14:00"),
    ("snooze:evening", "Snoozed until 20:00"),
    ("log:1h", "Logged 1h"),
])
async def test_persistent_button_survives_a_restart(tmp_path: Path, sqlite_template: Path,
                                                    action: str, expect: str) -> None:
    with discord_globals_restored():
        async with DiscordStandin() as s:
            settings = standin_settings(s, copy_database(sqlite_template, tmp_path))
            clock = FakeClock(START)
            async with running_bot(s, settings, clock) as (bot, core):
                actor = World(s, bot, core, settings, clock).actor(s.user, dm=True)
                await core.services.onboarding.start(actor, Onboarding(timezone="Europe/Berlin"))
                await bot.sender.send("discord", str(s.user_id), _reminder())
            (message,) = s.dm_messages(s.user_id)
            async with running_bot(s, settings, clock) as (bot, core):  # a new process
                handle = await s.send_component(f"pacer:{action}", message=message, dm=True)
                answer = await collect(handle)
                data, _plan, _today = await core.services.views.snapshot(actor)
                row = await core.services.onboarding.profile(actor)
            s.assert_clean()
    assert expect in answer.text
    if action.startswith("snooze"):
        assert row.snoozed_until is not None and row.snoozed_until > START
        assert data.logs == []
    else:
        assert row.snoozed_until is None and [r.minutes for r in data.logs] == [60]


async def test_digest_preview_replies_with_the_chart_attached(world: World) -> None:
    user = world.new_user()
    await world.onboard(user)
    await world.core.services.timelog.log_time(world.actor(user), 180, "Block manager")
    answer = await world.ask("digest preview", user=user)
    assert answer.ephemeral and "Your weekly digest" in answer.text
    (attachment,) = answer.first.attachments
    assert attachment["filename"] == "digest.png"
    assert answer.first.file("digest.png").startswith(b"\x89PNG")
    (request,) = [r for r in world.standin.requests if r.files
                  and r.params.get("interaction_id") == str(answer.handle.id)]
    assert request.json["data"]["attachments"][0]["filename"] == "digest.png"


# --- the pure helpers that shape replies ----------------------------------------------------


@pytest.mark.parametrize(("text", "limit"), [
    ("short", 100),
    ("\n".join(f"line {i}" for i in range(50)), 40),
    ("intro\n```\n" + "\n".join(f"row {i:02d} ████" for i in range(40)) + "\n```\nafter", 60),
    ("x" * 250, 40),  # one over-long line is cut
])
async def test_long_text_is_split_with_code_fences_closed(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert all(c.count("```") % 2 == 0 for c in chunks)  # every chunk renders on its own
    rebuilt = "\n".join(chunks).replace("```\n```\n", "")
    assert rebuilt.replace("\n", "") == text.replace("\n", "")
    assert len(chunks) == 1 if len(text) <= limit else len(chunks) > 1


async def test_embeds_are_packed_within_discord_limits() -> None:
    embeds = text_embeds("line of text\n" * 3000, title="Long")
    messages = pack(embeds)
    assert sum(len(m) for m in messages) == len(embeds) > 1
    assert all(len(m) <= 10 and sum(len(e) for e in m) <= 6000 for m in messages)
    assert all(len(e.description or "") <= 4096 for e in embeds)


# --- your data: export, import and forget-me with their confirm buttons ----------------------


def _buttons(answer: Any) -> dict[str, str]:
    """Map button labels to custom ids on the answer's last message."""
    message = answer.messages[-1]
    return {c["label"]: c["custom_id"] for row in message.components for c in row["components"]}


async def test_export_markdown_comes_as_a_private_file(world: World) -> None:
    user = world.new_user()
    await world.onboard(user)
    await world.core.services.checklist.mark_done(world.actor(user), "day01")
    answer = await world.ask("export", {"format": "markdown"}, user=user)
    assert answer.ephemeral
    (attachment,) = answer.first.attachments
    text = answer.first.file(attachment["filename"]).decode("utf-8")
    assert attachment["filename"].endswith(".md") and "[x]" in text


@pytest.mark.parametrize("button", ["Import", "Cancel"])
async def test_import_previews_then_applies_only_after_confirmation(world: World,
                                                                    button: str) -> None:
    user = world.new_user()
    await world.onboard(user)
    ctx = Ctx(world, user, user, False, {})
    await _tracker_file(ctx)
    answer = await world.ask("import", {"file": ctx.ids["tracker"]}, user=user)
    assert answer.ephemeral and "Import preview" in answer.text
    buttons = _buttons(answer)
    assert set(buttons) == {"Import", "Cancel"}
    before = await dump_store(world.core.store)
    click = await world.standin.send_component(buttons[button], message=answer.messages[-1],
                                               user=user)
    result = await collect(click)
    data, _plan, _today = await world.core.services.views.snapshot(world.actor(user))
    if button == "Import":
        assert "Import" in result.text and {"day01", "hello-world"} <= set(data.done)
    else:
        assert "Import cancelled" in result.text and data.done == {}
        assert await dump_store(world.core.store) == before
    again = await collect(await world.standin.send_component(
        buttons["Import"], message=answer.messages[-1], user=user))
    assert "No import is waiting" in again.text and again.flags == 64


async def test_forget_me_deletes_everything_after_the_button(world: World) -> None:
    user, partner = world.new_user(), world.new_user("partner")
    actor = world.actor(user)
    await world.onboard(user)
    await world.core.services.timelog.log_time(actor, 120, "PagedAttention")
    await world.core.services.partners.invite(actor, world.actor(partner))
    answer = await world.ask("forget-me", user=user, dm=True)
    buttons = _buttons(answer)
    assert set(buttons) == {"Delete everything", "Cancel"}
    assert await world.core.services.ctx.find_learner(actor) is not None
    stranger = world.new_user("stranger")
    await world.onboard(stranger)
    wrong = await collect(await world.standin.send_component(
        buttons["Delete everything"], message=answer.messages[-1], user=stranger))
    assert "No deletion is waiting" in wrong.text and wrong.flags == 64
    click = await world.standin.send_component(buttons["Delete everything"],
                                               message=answer.messages[-1], user=user, dm=True)
    result = await collect(click)
    assert "Forgotten" in result.text
    assert await world.core.services.ctx.find_learner(actor) is None
    assert await world.core.services.ctx.find_learner(world.actor(stranger)) is not None


async def test_pacer_channel_sets_and_clears_the_fallback_channel(world: World) -> None:
    from sqlalchemy import select

    from bot.models import Space

    s = world.standin
    other = s.add_text_channel("study-reminders")
    await s.flush_events()
    manager = world.new_user("manager")
    set_answer = await world.ask("pacer channel", {"channel": int(other["id"])}, user=manager)
    assert f"<#{other['id']}>" in set_answer.text and set_answer.ephemeral

    async def fallback() -> str | None:
        async with world.core.store.read() as session:
            space = await session.scalar(select(Space).where(
                Space.platform == "discord", Space.external_id == str(s.guild_id)))
            return None if space is None else space.fallback_channel_id

    assert await fallback() == other["id"]
    cleared = await world.ask("pacer channel", {"clear": True}, user=manager)
    assert "No fallback channel any more" in cleared.text
    assert await fallback() is None
