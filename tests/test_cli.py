"""The launcher through real subprocesses: options on every subcommand, quiet one-shots."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import stderr_level
from bot.app import setup_logging
from bot.config import DiscordSettings, Settings

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = [
    ["run"],
    ["console"],
    ["migrate"],
    ["status"],
    ["sync", "--guild", "1"],
    ["invite", "--client-id", "1"],
    ["backup", "b.sqlite3"],
    ["export", "--user", "local", "out.md"],
]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.cli-test.secret-token-value"


def pacer(args: list[str], cwd: Path, *, stdin: str = "",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` from this tree in CWD, with a clean environment."""
    base = {k: v for k, v in os.environ.items()
            if k not in {"DISCORD_TOKEN", "DISCORD_TOKEN_FILE", "PACER_CONFIG",
                         "PACER_DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}}
    # The subprocess must import this tree, not whatever copy of bot is installed.
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=120, check=False)


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "pacer.toml"
    config.write_text(f'{extra}\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/cfg.db"\n',
                      encoding="utf-8")
    return config


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: c[0])
def test_config_is_accepted_before_and_after_every_subcommand(
        tmp_path: Path, command: list[str], where: str) -> None:
    # A token file that does not exist: reading it is the first thing every subcommand does,
    # so its error proves that this config file, and no other, was loaded.
    missing = tmp_path / "no-such-token"
    config = tmp_path / "pacer.toml"
    config.write_text(f'[discord]\ntoken_file = "{missing}"\n', encoding="utf-8")
    option = ["--config", str(config)]
    args = option + command if where == "before" else command[:1] + option + command[1:]
    result = pacer(args, tmp_path)
    assert "unrecognized arguments" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert f"cannot read DISCORD_TOKEN from {missing}" in result.stderr


def test_the_config_after_the_subcommand_wins(tmp_path: Path) -> None:
    first = tmp_path / "first.toml"
    first.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/first.db"\n',
                     encoding="utf-8")
    second = write_config(tmp_path)
    result = pacer(["--config", str(first), "migrate", "--config", str(second)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cfg.db").exists() and not (tmp_path / "first.db").exists()


@pytest.fixture
def onboarded(tmp_path: Path) -> Path:
    """Write a config whose database holds the console learner, onboarded from the console."""
    config = write_config(tmp_path, 'console_user = "dana"')
    result = pacer(["console", "--config", str(config)], tmp_path,
                   stdin="/start Europe/Berlin\n/log 2h setup\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Logged 2h" in result.stdout
    return config


def test_export_prints_one_line_and_no_log(tmp_path: Path, onboarded: Path) -> None:
    result = pacer(["export", "--config", str(onboarded), "--user", "dana", "--format", "json",
                    "dana.json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    size = (tmp_path / "dana.json").stat().st_size
    assert result.stdout.splitlines() == [f"wrote dana.json ({size} bytes)"]
    assert json.loads((tmp_path / "dana.json").read_text(encoding="utf-8"))


def test_backup_prints_its_result_once_and_no_log(tmp_path: Path, onboarded: Path) -> None:
    result = pacer(["backup", "--config", str(onboarded), "copy.sqlite3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["backed up the database to copy.sqlite3"]


def test_one_shot_errors_still_reach_stderr(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = pacer(["backup", "--config", str(config), "copy.sqlite3"], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("pacer: There is no database file at")


@pytest.mark.parametrize("position", ["before", "after"])
def test_verbose_shows_the_log_with_secrets_redacted(tmp_path: Path, onboarded: Path,
                                                     position: str) -> None:
    # Put the token where the log will quote it: the backup's own path.
    dest = f"copy-{TOKEN}.sqlite3"
    args = (["--verbose", "backup", "--config", str(onboarded), dest] if position == "before"
            else ["backup", "--config", str(onboarded), "-v", dest])
    result = pacer(args, tmp_path, env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert "INFO    bot.data_rights: backed up" in result.stderr
    assert "[redacted]" in result.stderr
    assert TOKEN not in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_status_prints_the_report(tmp_path: Path, onboarded: Path) -> None:
    result = pacer(["status", "--config", str(onboarded)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith("Pacer 0.1.0 on sqlite (sqlite+aiosqlite:///")
    assert "Schema: 0006 (current)" in out and "Learners: 1" in out
    assert "Dispatcher lag: " in out and "Outbox" in out
    # The console that onboarded dana ticked at its start, then stopped cleanly: no row left.
    assert "Processes: none has ticked in the last day" in out


def test_status_json_parses(tmp_path: Path, onboarded: Path) -> None:
    result = pacer(["status", "--json", "--config", str(onboarded)], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["learners"] == 1 and report["database"]["kind"] == "sqlite"
    assert report["database"]["schema"] == report["database"]["code_schema"] == "0006"
    assert report["processes"] == []  # the console that onboarded dana stopped cleanly


def test_status_of_a_database_never_migrated_says_so(tmp_path: Path) -> None:
    result = pacer(["status", "--config", str(write_config(tmp_path))], tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "is it migrated (python -m bot migrate)?" in result.stderr


def test_the_console_logs_json_lines_with_json(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = pacer(["console", "--json", "--verbose", "--config", str(config)], tmp_path,
                   stdin='/start Europe/Berlin\n/log 2h "secret stuff"\n/quit\n')
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    commands = [r for r in records if r["logger"] == "bot.commands"]
    assert [(r["command"], r["outcome"]) for r in commands] == [("start", "ok"), ("log", "ok")]
    assert "secret stuff" not in result.stderr


def test_migrate_is_quiet_too(tmp_path: Path) -> None:
    result = pacer(["migrate", "--config", str(write_config(tmp_path))], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["database is at the latest schema"]


@pytest.mark.parametrize(("command", "token", "verbose", "level"), [
    ("console", None, False, logging.WARNING),
    ("run", None, False, logging.WARNING),  # no token: the console
    ("run", "t" * 20, False, None),  # the Discord bot logs at the configured level
    ("migrate", None, False, logging.WARNING),
    ("sync", "t" * 20, False, logging.WARNING),
    ("invite", None, False, logging.WARNING),
    ("backup", None, False, logging.WARNING),
    ("export", None, False, logging.WARNING),
    ("export", None, True, None),
    ("console", None, True, None),
])
def test_what_stderr_shows(command: str, token: str | None, verbose: bool,
                           level: int | None) -> None:
    settings = Settings(discord=DiscordSettings(token=token))
    assert stderr_level(command, settings, verbose) == level


def test_setting_up_logging_twice_does_not_double_the_handlers(tmp_path: Path) -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    settings = Settings(log_file=str(tmp_path / "pacer.log"))
    try:
        setup_logging(settings, [], stderr_level=logging.WARNING)
        setup_logging(settings, [], stderr_level=logging.WARNING)
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 2  # one stderr, one file
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
            h.close()
        root.setLevel(level)


def test_the_launcher_loads_discord_only_for_the_discord_subcommands(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)
    code = ("import sys\nfrom bot.__main__ import main\n"
            "code = main(['migrate', '--config', sys.argv[1]])\n"
            "print(code, 'discord' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, str(write_config(tmp_path))],
                            cwd=tmp_path, env=base, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 False"
