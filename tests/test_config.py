"""Settings: defaults, a strict TOML file, secrets only from the environment or a file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import _RedactSecrets
from bot.config import DEFAULT_DB_URL, ConfigError, MetricsSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PACER_CONFIG", raising=False)
    monkeypatch.delenv("PACER_DATABASE_URL", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    settings = load_settings()
    assert settings.database.url == DEFAULT_DB_URL
    assert settings.discord_token() is None


def test_the_example_config_loads_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACER_DATABASE_URL", raising=False)
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.scheduler.tick_seconds == 30
    assert settings.discord.rest_base_url.startswith("https://discord.com/api")


@pytest.mark.parametrize(("text", "message"), [
    ("[database]\nurll = 'x'\n", "unknown key 'urll'"),
    ("colour = 'blue'\n", "unknown top-level key 'colour'"),
    ("[scheduler]\ntick_seconds = 'often'\n", "tick_seconds must be a number"),
    ("[discord]\npublic_by_default = 'yes'\n", "must be true or false"),
    ("[database\n", "not valid TOML"),
    ("database = 3\n", "[database] must be a table"),
    ("[discord]\nshard_ids = [0]\n", "shard_ids needs shard_count"),
    ("[discord]\nshard_count = 2\nshard_ids = [2]\n", "shard_ids must be distinct ids"),
    ("[discord]\nshard_count = 0\n", "shard_count must be at least 1"),
    ("[discord]\nshard_count = 2\nshard_ids = 1\n", "shard_ids must be a list"),
    ("[discord]\nprocess_count = 0\n", "process_count must be at least 1"),
    ("[scheduler]\nlease_seconds = 0\n", "lease_seconds must be above 0"),
])
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    assert message in str(exc.value)


def test_token_comes_from_env_or_file_and_never_shows_in_repr(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "token"
    secret.write_text("file-token-123456\n", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(f"[discord]\ntoken_file = '{secret}'\n", encoding="utf-8")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    settings = load_settings(path)
    assert settings.discord_token() == "file-token-123456"
    monkeypatch.setenv("DISCORD_TOKEN", "env-token-abcdef")
    assert settings.discord_token() == "env-token-abcdef"
    assert "token-" not in repr(settings)


def test_missing_token_file_is_a_clear_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[discord]\ntoken_file = '/nonexistent/pacer-token'\n", encoding="utf-8")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="cannot read DISCORD_TOKEN from /nonexistent"):
        load_settings(path).discord_token()


def test_secrets_are_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("pacer.test.redact")
    handler_filter = _RedactSecrets(["super-secret-token-value"])
    caplog.handler.addFilter(handler_filter)
    try:
        logger.warning("connecting with %s", "super-secret-token-value")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert "super-secret-token-value" not in caplog.text
    assert "[redacted]" in caplog.text


def test_secrets_are_redacted_from_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    handler_filter = _RedactSecrets(["super-secret-token-value"])
    caplog.handler.addFilter(handler_filter)
    try:
        try:
            raise RuntimeError("login refused for super-secret-token-value")
        except RuntimeError:
            logging.getLogger("pacer.test.redact").exception("login failed")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert "RuntimeError: login refused for [redacted]" in caplog.text
    assert "super-secret-token-value" not in caplog.text


def test_the_token_never_reaches_the_log_even_at_debug(tmp_path: Path) -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret.token-value-for-the-log-test"
    config = tmp_path / "config.toml"
    config.write_text(
        'log_level = "DEBUG"\nlog_file = "pacer.log"\n[discord]\n'
        'rest_base_url = "http://127.0.0.1:9/api/v10"\ngateway_url = "ws://127.0.0.1:9/"\n',
        encoding="utf-8")
    env = {**os.environ, "DISCORD_TOKEN": token, "PACER_CONFIG": str(config),
           "PACER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/p.db"}
    # The subprocess must import this tree, not whatever copy of bot is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run([sys.executable, "-m", "bot", "sync", "--verbose", "--guild", "1"],
                            env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode != 0  # nothing listens on port 9
    logged = result.stdout + result.stderr + (tmp_path / "pacer.log").read_text("utf-8")
    assert "127.0.0.1:9" in logged or "Cannot connect" in logged or "refused" in logged, logged
    assert "DEBUG" in result.stderr  # --verbose: the log reached stderr too
    assert token not in logged
    assert token.split(".")[-1] not in logged


def test_the_operator_settings_load_typed(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACER_DATABASE_URL", raising=False)
    example = load_settings(ROOT / "config.example.toml")
    assert example.metrics == MetricsSettings() and example.log_json is False
    assert example.slack.owner_ids == () and example.process_name is None
    path = tmp_path / "config.toml"
    path.write_text('log_json = true\nprocess_name = "pacer-1"\n[metrics]\nenabled = true\n'
                    'port = 9200\n[slack]\nowner_ids = ["U012ABCDEF"]\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.metrics == MetricsSettings(enabled=True, port=9200)
    assert settings.log_json and settings.process_name == "pacer-1"
    assert settings.slack.owner_ids == ("U012ABCDEF",)
    path.write_text("log_json = 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="log_json must be true or false"):
        load_settings(path)


def test_the_example_config_is_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PACER_DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
                 "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(ROOT / "config.example.toml")
    assert settings == Settings()
    assert settings.scheduler.send_rate == settings.discord.rate_per_process == 45.0


def test_sharding_and_the_rate_share_load_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nshard_count = 3\nshard_ids = [0, 2]\nglobal_rate_total = 600\n"
                    "process_count = 3\n[scheduler]\nlease_seconds = 5\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.discord.shard_ids == (0, 2) and settings.discord.sharded
    assert settings.discord.rate_per_process == 200.0
    # one home for the figure: the dispatcher's bucket follows the REST share
    assert settings.scheduler.send_rate == 200.0
    assert settings.scheduler.lease_seconds == 5


def test_the_send_rate_follows_the_discord_share_through_replace() -> None:
    settings = Settings()
    more = replace(settings, discord=replace(settings.discord, process_count=3))
    assert more.scheduler.send_rate == 15.0
    slower = replace(more, scheduler=replace(more.scheduler, rate_per_second=5.0))
    assert slower.scheduler.send_rate == 5.0


def test_the_share_is_not_a_key_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[scheduler]\nrest_share = 1000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'rest_share'"):
        load_settings(path)
