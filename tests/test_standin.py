"""Prove the Discord stand-in with the real, unmodified discord.py client."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any, Literal

import discord
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from tests.standin import DiscordStandin, load_checker, validate_command_payload

NO_SPEC = "Discord OpenAPI spec not found (set PACER_DISCORD_OPENAPI or provide shared/)"
FILE_BYTES = b"week,done\n1,yes\n"
PingMode = Literal["plain", "ephemeral", "file", "defer", "edit", "button", "modal", "toolong"]


class NoteModal(discord.ui.Modal, title="Note"):
    """A one-field modal that echoes what was typed."""

    def __init__(self) -> None:
        super().__init__(custom_id="standin:modal")

    note: discord.ui.TextInput = discord.ui.TextInput(label="Note", custom_id="standin:note")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class ClickView(discord.ui.View):
    """A one-button view whose click edits the message it is on."""

    @discord.ui.button(label="Done", custom_id="standin:done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="clicked", view=None)


def build_bot() -> commands.Bot:
    """Build a tiny bot: /ping (string option + autocomplete), /plan week show, /upload, /whois."""
    bot = commands.Bot(
        command_prefix="!",
        intents=discord.Intents.default(),
        help_command=None,
        guild_ready_timeout=0.01,
    )
    bot.captured_errors = []  # type: ignore[attr-defined]

    @bot.tree.command(name="ping", description="Answer pong")
    @app_commands.describe(text="What to echo", mode="How to answer")
    async def ping(
        interaction: discord.Interaction,
        text: str,
        mode: PingMode = "plain",
    ) -> None:
        if mode == "defer":
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send(f"late pong: {text}")
        elif mode == "file":
            await interaction.response.send_message(f"pong: {text}")
            await interaction.followup.send(
                "your export",
                file=discord.File(io.BytesIO(FILE_BYTES), filename="export.csv"),
                ephemeral=True,
            )
        elif mode == "edit":
            await interaction.response.send_message("working")
            await interaction.edit_original_response(content=f"done: {text}")
        elif mode == "modal":
            await interaction.response.send_modal(NoteModal())
        elif mode == "button":
            await interaction.response.send_message("press it", view=ClickView())
        elif mode == "toolong":
            await interaction.response.send_message("x" * 2001)
        else:
            await interaction.response.send_message(
                f"pong: {text}",
                ephemeral=mode == "ephemeral",
                allowed_mentions=discord.AllowedMentions.none(),
            )

    @ping.autocomplete("text")
    async def ping_text(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current} {n}", value=f"{current}-{n}") for n in (1, 2)]

    plan = app_commands.Group(name="plan", description="Plan commands")
    week = app_commands.Group(name="week", description="Week commands", parent=plan)

    @week.command(name="show", description="Show a week")
    async def show(
        interaction: discord.Interaction, number: app_commands.Range[int, 1, 52]
    ) -> None:
        await interaction.response.send_message(f"week {number}")

    bot.tree.add_command(plan)

    @bot.tree.command(name="upload", description="Read an attachment")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}: {len(data)} bytes")

    @bot.tree.command(name="whois", description="Name a member")
    async def whois(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(
            f"{member.display_name} has {len(member.roles)} role(s)"
        )

    @bot.tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        bot.captured_errors.append(error)  # type: ignore[attr-defined]

    return bot


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    """Serve a fresh stand-in; check discord.py's globals are restored afterwards."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with DiscordStandin() as server:
        yield server
    assert (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (base, gateway)


@pytest.fixture
async def bot(standin: DiscordStandin) -> AsyncIterator[commands.Bot]:
    """Run the tiny bot against the stand-in until the test ends."""
    client = build_bot()
    async with standin.run_client(client):
        yield client


def need_spec(standin: DiscordStandin) -> None:
    """Skip spec-specific assertions when the spec file is absent."""
    if not standin.openapi_available:
        pytest.skip(NO_SPEC)


async def test_login_and_handshake_fill_the_cache(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    assert bot.user is not None and bot.user.id == standin.bot_user_id
    assert bot.application_id == standin.application_id
    guild = bot.get_guild(standin.guild_id)
    assert guild is not None
    assert guild.get_channel(standin.channel_id) is not None
    assert guild.member_count == len(standin.members) == 3  # bot, owner, learner
    assert standin.identify_payloads[0]["token"] == standin.token
    asked = [(r.method, r.route) for r in standin.requests]
    assert asked == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]  # no GET /gateway
    standin.assert_clean()


async def test_wrong_token_is_a_login_failure(standin: DiscordStandin) -> None:
    client = build_bot()
    with standin.patch_discord_py(), pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_guild_sync_registers_spec_valid_commands(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    guild = discord.Object(standin.guild_id)
    bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    assert sorted(c.name for c in synced) == ["ping", "plan", "upload", "whois"]
    assert [c["name"] for c in standin.commands(standin.guild_id)] == [c.name for c in synced]
    (put,) = standin.requests_to("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    need_spec(standin)
    assert validate_command_payload(put.json) == []
    standin.assert_clean()


@pytest.mark.parametrize(
    ("mode", "content", "flags"),
    [("plain", "pong: hi", 0), ("ephemeral", "pong: hi", 64)],
)
async def test_ping_answers_in_the_callback(
    standin: DiscordStandin, bot: commands.Bot, mode: str, content: str, flags: int
) -> None:
    handle = await standin.send_command("ping", {"text": "hi", "mode": mode})
    answer = await handle.response()
    assert (answer.type, answer.content, answer.flags) == (4, content, flags)
    assert answer.allowed_mentions == {"parse": []}
    assert answer.message is not None and answer.message.ephemeral == bool(flags)
    standin.assert_clean()


async def test_ping_works_in_a_dm(standin: DiscordStandin, bot: commands.Bot) -> None:
    handle = await standin.send_command("ping", {"text": "dm"}, dm=True)
    assert "guild_id" not in handle.payload and handle.payload["user"]["id"] == str(standin.user_id)
    assert (await handle.response()).content == "pong: dm"
    standin.assert_clean()


async def test_autocomplete_returns_choices(standin: DiscordStandin, bot: commands.Bot) -> None:
    handle = await standin.send_autocomplete("ping", {"text": "ab"}, focused="text")
    answer = await handle.response()
    assert answer.type == 8
    assert answer.choices == [{"name": "ab 1", "value": "ab-1"}, {"name": "ab 2", "value": "ab-2"}]
    standin.assert_clean()


async def test_followup_carries_a_file(standin: DiscordStandin, bot: commands.Bot) -> None:
    handle = await standin.send_command("ping", {"text": "x", "mode": "file"})
    assert (await handle.response()).content == "pong: x"
    (followup,) = await handle.followups(1)
    assert followup.content == "your export" and followup.ephemeral
    assert followup.file("export.csv") == FILE_BYTES
    assert [a["filename"] for a in followup.attachments] == ["export.csv"]
    (sent,) = standin.requests_to("POST", "/webhooks/{webhook_id}/{webhook_token}")
    assert sent.query["wait"] == "1"
    assert sent.json["attachments"][0]["filename"] == "export.csv"
    assert sent.files == [("export.csv", FILE_BYTES, "application/octet-stream")]
    standin.assert_clean()


async def test_deferred_answer_is_completed_by_the_first_followup(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    handle = await standin.send_command("ping", {"text": "slow", "mode": "defer"})
    answer = await handle.response()
    assert (answer.type, answer.flags) == (5, 64)
    (followup,) = await handle.followups(1)
    assert followup is handle.original
    assert followup.content == "late pong: slow" and followup.flags == 64
    standin.assert_clean()


async def test_original_response_edit_is_recorded(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    handle = await standin.send_command("ping", {"text": "e", "mode": "edit"})
    assert (await handle.response()).content == "working"
    (edit,) = await handle.edits(1)
    assert edit["content"] == "done: e"
    assert handle.original is not None and handle.original.content == "done: e"
    standin.assert_clean()


async def test_modal_submit_reaches_the_modal(standin: DiscordStandin, bot: commands.Bot) -> None:
    shown = await (await standin.send_command("ping", {"text": "m", "mode": "modal"})).response()
    assert (shown.type, shown.data["custom_id"]) == (9, "standin:modal")
    submit = await standin.send_modal_submit("standin:modal", {"standin:note": "read ch. 3"})
    answer = await submit.response()
    assert (answer.content, answer.ephemeral) == ("noted: read ch. 3", True)
    standin.assert_clean()


@pytest.mark.parametrize(
    ("roles", "expected"), [((), "Mia has 1 role(s)"), (("tutor",), "Mia has 2 role(s)")]
)
async def test_member_option_is_resolved(
    standin: DiscordStandin, bot: commands.Bot, roles: tuple[str, ...], expected: str
) -> None:
    role_ids = [int(standin.add_role(name)["id"]) for name in roles]
    mia = standin.make_user("mia", global_name="Mia", roles=role_ids)
    handle = await standin.send_command("whois", {"member": mia})
    assert set(handle.payload["data"]["resolved"]) == {"users", "members"}
    assert (await handle.response()).content == expected


async def test_subcommand_group_reaches_its_callback(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    handle = await standin.send_command("plan week show", {"number": 3})
    (group,) = handle.payload["data"]["options"]
    assert (group["type"], group["options"][0]["type"]) == (2, 1)
    assert (await handle.response()).content == "week 3"


async def test_attachment_option_downloads_from_loopback(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    notes = standin.add_attachment("notes.txt", b"hello")
    handle = await standin.send_command("upload", {"file": notes})
    assert (await handle.response()).content == "notes.txt: 5 bytes"
    assert standin.cdn_requests == [f"/attachments/{notes.id}/notes.txt"]


async def test_button_click_updates_the_message(standin: DiscordStandin, bot: commands.Bot) -> None:
    first = await (await standin.send_command("ping", {"text": "b", "mode": "button"})).response()
    assert first.components[0]["components"][0]["custom_id"] == "standin:done"
    click = await standin.send_component("standin:done", message=first.message)
    answer = await click.response()
    assert (answer.type, answer.content, answer.components) == (7, "clicked", [])
    assert first.message is not None and first.message.content == "clicked"
    standin.assert_clean()


async def test_dm_goes_through_a_dm_channel(standin: DiscordStandin, bot: commands.Bot) -> None:
    user = await bot.fetch_user(standin.user_id)
    await user.send("time to study")
    assert [m.content for m in standin.dm_messages(standin.user_id)] == ["time to study"]
    routes = [r.route for r in standin.requests if r.method == "POST"]
    assert routes == ["/users/@me/channels", "/channels/{channel_id}/messages"]
    standin.assert_clean()


async def test_closed_dms_surface_as_forbidden(standin: DiscordStandin, bot: commands.Bot) -> None:
    standin.close_dms(standin.user_id)
    user = await bot.fetch_user(standin.user_id)
    with pytest.raises(discord.Forbidden) as caught:
        await user.send("time to study")
    assert caught.value.code == 50007
    assert standin.dm_messages(standin.user_id) == []


@pytest.mark.parametrize(("times", "sent"), [(None, 0), (1, 1)])
async def test_fail_route_answers_with_a_discord_error(
    standin: DiscordStandin, bot: commands.Bot, times: int | None, sent: int
) -> None:
    standin.fail_route(
        "POST", "/channels/{channel_id}/messages", status=403, code=50013, times=times
    )
    channel = bot.get_channel(standin.channel_id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send("first")
    assert (caught.value.code, caught.value.text) == (50013, "Missing Permissions")
    if times is None:
        with pytest.raises(discord.Forbidden):
            await channel.send("second")
    else:
        await channel.send("second")
    assert len(standin.channel_messages(standin.channel_id)) == sent


async def test_reconnect_resumes_and_keeps_working(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    await standin.request_reconnect()
    await standin.wait_for(
        lambda: standin.connected and any(m["op"] == 6 for m in standin.gateway_received),
        what="the bot to RESUME",
    )
    handle = await standin.send_command("ping", {"text": "again"})
    assert (await handle.response()).content == "pong: again"
    assert len(standin.identify_payloads) == 1


async def test_over_long_reply_is_flagged_and_rejected(
    standin: DiscordStandin, bot: commands.Bot
) -> None:
    await standin.send_command("ping", {"text": "x", "mode": "toolong"})
    errors = await standin.wait_for(lambda: bot.captured_errors, what="the bot's error")  # type: ignore[attr-defined]
    cause = errors[0].original  # CommandInvokeError wraps what the callback raised
    assert isinstance(cause, discord.HTTPException) and cause.code == 50035
    kinds = {(v.kind, v.where) for v in standin.violations}
    assert ("discord-limit", "body.content") in kinds
    with pytest.raises(AssertionError, match="bad request"):
        standin.assert_clean()
    need_spec(standin)
    assert ("spec", "body.data.content") in kinds


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            {"content": "hi", "allowed_mentions": {"parse": ["nobody"]}},
            "body.allowed_mentions.parse[0]",
        ),
        ({"content": "hi", "embeds": [{"title": "t", "url": "not a url"}]}, "body.embeds[0].url"),
        ({"content": "hi", "tts": "yes"}, "body.tts"),
        (
            {"content": "hi", "message_reference": {"message_id": "abc"}},
            "body.message_reference.message_id",
        ),
    ],
)
async def test_checker_flags_bad_bodies_from_the_client(
    standin: DiscordStandin, bot: commands.Bot, body: dict[str, Any], where: str
) -> None:
    need_spec(standin)
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=standin.channel_id
    )
    await bot.http.request(route, json=body)
    assert [(v.kind, v.where) for v in standin.violations] == [("spec", where)]
    with pytest.raises(AssertionError, match=where.replace("[", r"\[")):
        standin.assert_clean()


async def test_reject_invalid_answers_400_like_discord() -> None:
    async with DiscordStandin(reject_invalid=True) as server:
        need_spec(server)
        async with server.run_client(build_bot()) as client:
            route = discord.http.Route(
                "POST", "/channels/{channel_id}/messages", channel_id=server.channel_id
            )
            with pytest.raises(discord.HTTPException) as caught:
                await client.http.request(route, json={"content": "hi", "tts": "yes"})
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert server.channel_messages(server.channel_id) == []


async def test_unknown_route_is_404_and_flagged(standin: DiscordStandin, bot: commands.Bot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=1))
    assert [r.path for r in standin.unknown_requests] == ["/guilds/1/bans"]
    with pytest.raises(AssertionError, match="unknown-route"):
        standin.assert_clean()


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/v10/channels/123/messages", "/channels/{channel_id}/messages"),
        ("GET", "/users/@me", "/users/@me"),
        ("GET", "/users/42", "/users/{user_id}"),
        ("POST", "/users/@me/channels", "/users/@me/channels"),
        (
            "PATCH",
            "/webhooks/1/tok/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ),
        ("GET", "/no/such/thing", None),
    ],
)
def test_spec_maps_concrete_paths_to_templates(
    method: str, path: str, template: str | None
) -> None:
    checker = load_checker()
    if checker is None:
        pytest.skip(NO_SPEC)
    assert checker.match(method, path)[1] == template


async def test_standin_answers_match_the_spec(standin: DiscordStandin, bot: commands.Bot) -> None:
    need_spec(standin)
    await bot.tree.sync(guild=discord.Object(standin.guild_id))
    await (await standin.send_command("ping", {"text": "a", "mode": "file"})).followups(1)
    await (await standin.send_command("ping", {"text": "a", "mode": "defer"})).followups(1)
    await (await bot.fetch_user(standin.user_id)).send("hello")
    await bot.fetch_channel(standin.channel_id)
    assert standin.response_violations == []


# --- Discord's limits -------------------------------------------------------------------------


async def _raw(standin: DiscordStandin, method: str, path: str, body: Any = None,
               *, auth: bool = True) -> tuple[int, dict[str, str], Any]:
    """Send one request straight to the stand-in (no discord.py rate-limit handling)."""
    import aiohttp

    headers = {"Authorization": f"Bot {standin.token}"} if auth else {}
    async with aiohttp.ClientSession() as session, session.request(
            method, standin.rest_base + path, json=body, headers=headers) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, dict(response.headers), data


async def _unanswered_click(standin: DiscordStandin) -> Any:
    """Send a button click no view of the tiny bot answers: the test answers it itself."""
    return await standin.send_component("nobody:listens", message=None)


async def test_global_limit_answers_a_global_429_like_discord() -> None:
    import asyncio

    async with DiscordStandin() as standin:
        results = await asyncio.gather(*(_raw(standin, "GET", "/users/@me")
                                         for _ in range(60)))
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200] * 50 + [429] * 10
        _, headers, body = next(r for r in results if r[0] == 429)
        assert body["global"] is True and 0 < body["retry_after"] <= 1.0
        assert body["message"] == "You are being rate limited."
        assert headers["X-RateLimit-Global"] == "true"
        assert headers["X-RateLimit-Scope"] == "global"
        assert int(headers["Retry-After"]) >= 1 and headers["Via"]
        assert len(standin.rate_limited) == 10 and standin.busiest_second() == 50
        await asyncio.sleep(1.0)
        async with standin.run_client(build_bot()):
            # fill the second again: interaction endpoints are not bound to the global limit
            await asyncio.gather(*(_raw(standin, "GET", "/users/@me") for _ in range(55)))
            handle = await _unanswered_click(standin)
            status, _, _ = await _raw(
                standin, "POST", f"/interactions/{handle.id}/{handle.token}/callback",
                {"type": 4, "data": {"content": "still answered"}}, auth=False)
            assert status == 204 and handle.callback is not None


async def test_route_bucket_headers_and_429_then_discord_py_waits() -> None:
    async with DiscordStandin(route_limits={"POST /channels/{channel_id}/messages": (2, 0.5)}
                              ) as standin:
        path = f"/channels/{standin.channel_id}/messages"
        first = await _raw(standin, "POST", path, {"content": "one"})
        second = await _raw(standin, "POST", path, {"content": "two"})
        third = await _raw(standin, "POST", path, {"content": "three"})
        assert [first[0], second[0], third[0]] == [200, 200, 429]
        assert [first[1]["X-RateLimit-Remaining"], second[1]["X-RateLimit-Remaining"]] == [
            "1", "0"]
        assert first[1]["X-RateLimit-Limit"] == "2"
        assert first[1]["X-RateLimit-Bucket"] == third[1]["X-RateLimit-Bucket"]
        assert 0 < float(first[1]["X-RateLimit-Reset-After"]) <= 0.5
        assert third[2]["global"] is False and third[1]["X-RateLimit-Scope"] == "user"
        assert "X-RateLimit-Global" not in third[1]
        # another channel has its own bucket
        other = standin.add_text_channel("other")
        assert (await _raw(standin, "POST", f"/channels/{other['id']}/messages",
                           {"content": "x"}))[0] == 200
        # the real client reads the headers and waits instead of hitting the limit
        standin.requests.clear()
        standin.rate_limited.clear()
        client = build_bot()
        async with standin.run_client(client):
            channel = client.get_channel(standin.channel_id)
            assert isinstance(channel, discord.TextChannel)
            for n in range(5):
                await channel.send(f"message {n}")
        sent = [m.content for m in standin.channel_messages(standin.channel_id)]
        assert sent[-5:] == [f"message {n}" for n in range(5)]
        assert len(standin.rate_limited) <= 1  # at most the first, before the headers are known


async def test_a_late_first_response_is_an_unknown_interaction(bot: commands.Bot) -> None:
    import asyncio

    del bot
    async with DiscordStandin(interaction_deadline=0.2) as standin:
        client = build_bot()
        async with standin.run_client(client):
            late, in_time = await _unanswered_click(standin), await _unanswered_click(standin)
            ok = await _raw(standin, "POST",
                            f"/interactions/{in_time.id}/{in_time.token}/callback",
                            {"type": 5}, auth=False)
            await asyncio.sleep(0.25)
            refused = await _raw(standin, "POST", f"/interactions/{late.id}/{late.token}/callback",
                                 {"type": 5}, auth=False)
            assert ok[0] == 204 and in_time.response_delay is not None
            assert (refused[0], refused[2]["code"]) == (404, 10062)
            assert late.callback is None and late.late_responses == 1
            # the answered one may still be followed up (its token is valid for 15 minutes)
            followup = await _raw(standin, "POST",
                                  f"/webhooks/{standin.application_id}/{in_time.token}",
                                  {"content": "done"}, auth=False)
            assert followup[0] == 204


async def test_interaction_tokens_expire_for_followups() -> None:
    import asyncio

    async with DiscordStandin(interaction_token_lifetime=0.2) as standin:
        client = build_bot()
        async with standin.run_client(client):
            handle = await _unanswered_click(standin)
            await _raw(standin, "POST", f"/interactions/{handle.id}/{handle.token}/callback",
                       {"type": 5}, auth=False)
            await asyncio.sleep(0.25)
            status, _, body = await _raw(standin, "POST",
                                         f"/webhooks/{standin.application_id}/{handle.token}",
                                         {"content": "too late"}, auth=False)
    assert (status, body["code"]) == (401, 50027)


async def test_snowflakes_carry_their_creation_time(standin: DiscordStandin) -> None:
    from datetime import UTC, datetime, timedelta

    created = discord.utils.snowflake_time(standin._snowflake())
    assert abs(datetime.now(UTC) - created) < timedelta(seconds=1)
    assert standin._snowflake() < standin._snowflake()


async def test_limits_can_be_switched_off_for_older_scenarios() -> None:
    import asyncio

    async with DiscordStandin(global_limit=None, route_limits={}) as standin:
        results = await asyncio.gather(*(_raw(standin, "GET", "/users/@me") for _ in range(70)))
        assert {status for status, _, _ in results} == {200}
        assert standin.rate_limited == [] and standin.counted_requests() == []
