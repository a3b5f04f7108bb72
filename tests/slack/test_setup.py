"""How the Slack front is configured and started: settings, secrets, manifest, launcher."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import setup_logging
from bot.config import ConfigError, Settings, SlackSettings, load_settings
from bot.plan import PlanRegistry
from bot.slack.runner import start_slack
from bot.store import Store
from tests.conftest import FakeClock
from tests.slack.conftest import ANA, Slack, make_core, slack_settings, texts_sent
from tests.slack_standin import SlackStandIn
from tests.slack_standin.server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.standin import DiscordStandin

ROOT = Path(__file__).resolve().parents[2]
SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
             "SLACK_BOT_TOKEN_FILE", "SLACK_APP_TOKEN_FILE", "SLACK_SIGNING_SECRET_FILE")
# The scope each Web API method Pacer calls needs (None: no scope).
SCOPE_OF = {"chat_postMessage": "chat:write", "chat_update": "chat:write",
            "conversations_open": "im:write",
            "users_info": "users:read", "files_upload_v2": "files:write",
            "views_publish": None, "auth_test": None}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    for name in (*SLACK_ENV, "PACER_CONFIG", "DISCORD_TOKEN", "DISCORD_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_slack_is_off_without_a_token(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert not settings.slack.active and settings.slack.mode == "socket"
    assert settings.slack.api_base_url == "https://slack.com/api/"


def test_the_tokens_come_from_the_environment_or_files(clean_env: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    secret = tmp_path / "app-token"
    secret.write_text(APP_TOKEN + "\n", encoding="utf-8")
    clean_env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("SLACK_APP_TOKEN_FILE", str(secret))
    settings = load_settings()
    assert settings.slack.active and settings.slack.missing() == []
    assert settings.slack.app_token == APP_TOKEN
    assert BOT_TOKEN not in repr(settings) and APP_TOKEN not in repr(settings)


def test_the_section_is_read_and_checked(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[slack]\nenabled = true\nmode = "http"\nhttp_port = 8080\n'
                    'api_base_url = "http://127.0.0.1:9/api/"\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.slack.active and settings.slack.http_port == 8080
    assert settings.slack.missing() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    path.write_text('[slack]\nmode = "webhook"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="mode must be one of socket, http"):
        load_settings(path)
    path.write_text('[slack]\nbot_tokn = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'bot_tokn'"):
        load_settings(path)


def test_the_example_config_documents_the_section(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.slack == SlackSettings()


def test_slack_secrets_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(slack=SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN,
                                            signing_secret=SIGNING_SECRET))
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        setup_logging(settings, [])
        added = [h for h in root.handlers if h not in handlers]
        record = logging.LogRecord("x", logging.INFO, __file__, 1,
                                   "tokens %s %s %s", (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET),
                                   None)
        for handler in added:
            for f in handler.filters:
                f.filter(record)
        assert record.getMessage() == "tokens [redacted] [redacted] [redacted]"
    finally:
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)


def manifest_scopes() -> set[str]:
    text = (ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8")
    block = text.split("scopes:", 1)[1].split("settings:", 1)[0]
    return set(re.findall(r"^\s+- ([a-z:.]+)\s*$", block, re.MULTILINE))


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot" / "slack").glob("*.py"):
        found |= set(re.findall(r"client\.([a-zA-Z_0-9]+)\(", path.read_text(encoding="utf-8")))
    return found


def test_the_manifest_asks_for_exactly_the_scopes_used() -> None:
    called = methods_called()
    assert {"chat_postMessage", "conversations_open", "users_info", "views_publish"} <= called
    assert called <= set(SCOPE_OF), f"map the scope of {called - set(SCOPE_OF)}"
    needed = {SCOPE_OF[m] for m in called} - {None} | {"commands"}
    assert manifest_scopes() == needed


async def test_python_m_bot_runs_slack_in_socket_mode_and_stops_on_sigterm(
        tmp_path: Path) -> None:
    standin = SlackStandIn()
    standin.add_user(ANA, "ana", "Europe/Berlin")
    await standin.start()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/pacer.sqlite3"\n'
                      f'[slack]\napi_base_url = "{standin.api_url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SLACK_ENV
           and not k.startswith(("DISCORD_", "PACER_"))}
    env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
            "PACER_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await standin.connected(within=60)
        payload = standin.slash_payload("start", ANA)
        await standin.send_envelope("slash_commands", payload)
        [response] = await standin.wait_for(
            lambda: [r for r in standin.responses if r["url"] == payload["response_url"]])
        assert "Welcome aboard" in texts_sent(response)
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        log = err.decode()
        assert BOT_TOKEN not in log and APP_TOKEN not in log
        assert "Slack front: bot" in log and "dispatcher started" in log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await standin.stop()


async def test_python_m_bot_without_tokens_still_starts_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_ENV
           and not k.startswith(("DISCORD_", "PACER_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(b"/help\n/quit\n"), 60)
    assert proc.returncode == 0, err.decode()
    assert "Pacer console" in out.decode() and "starting the console front" in err.decode()


async def _line_with(stream: asyncio.StreamReader, fragment: str, seen: list[str]) -> str:
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError(f"the process ended before logging {fragment!r}:\n"
                                 + "".join(seen))
        line = raw.decode()
        seen.append(line)
        if fragment in line:
            return line


async def test_one_process_serves_discord_and_slack_with_one_dispatcher(
        tmp_path: Path) -> None:
    slack = SlackStandIn()
    slack.add_user(ANA, "ana", "Europe/Berlin")
    await slack.start()
    async with DiscordStandin() as discord:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/pacer.sqlite3"\n'
            f'[discord]\nrest_base_url = "{discord.rest_base}"\n'
            f'gateway_url = "{discord.gateway_url}"\n'
            f'[slack]\nenabled = true\napi_base_url = "{slack.api_url}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in SLACK_ENV
               and not k.startswith(("DISCORD_", "PACER_"))}
        env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
                "DISCORD_TOKEN": discord.token, "PACER_CONFIG": str(config),
                "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        seen: list[str] = []
        try:
            assert proc.stderr is not None
            started = await asyncio.wait_for(
                _line_with(proc.stderr, "dispatcher started", seen), 60)
            assert "for discord, slack" in started  # one dispatcher, both senders
            await discord.wait_until_connected(timeout=30)
            await slack.connected(within=30)
            payload = slack.slash_payload("progress", ANA)
            await slack.send_envelope("slash_commands", payload)
            await slack.wait_for(lambda: [r for r in slack.responses
                                          if r["url"] == payload["response_url"]])
            proc.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(proc.stderr.read(), 30)
            await asyncio.wait_for(proc.wait(), 30)
            log = "".join(seen) + rest.decode()
            assert proc.returncode == 0, log
            assert discord.token not in log and BOT_TOKEN not in log
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await slack.stop()


async def test_socket_mode_opens_its_websocket_through_the_configured_base(
        slack: Slack) -> None:
    opened = [c for c in slack.standin.calls if c.method == "apps.connections.open"]
    assert [c.status for c in opened] == [200]


async def test_a_refused_token_stops_the_start_with_a_clear_message(
        standin: SlackStandIn, sqlite_store: Store, plans: PlanRegistry,
        clock: FakeClock) -> None:
    settings = replace(slack_settings(standin), bot_token="xoxb-wrong-token-0000")
    with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN: invalid_auth"):
        await start_slack(make_core(sqlite_store, plans, clock, settings), settings)
    settings = replace(slack_settings(standin), app_token=None)
    with pytest.raises(ConfigError, match="needs SLACK_APP_TOKEN"):
        await start_slack(make_core(sqlite_store, plans, clock, settings), settings)
