"""Typed settings: defaults in code, a TOML file for the rest, secrets from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite+aiosqlite:///data/pacer.sqlite3"
DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg"
SLACK_API = "https://slack.com/api/"
SLACK_MODES = ("socket", "http")
DISCORD_GLOBAL_LIMIT = 50  # requests per second per bot token, over all routes (Discord's)


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DB_URL
    echo: bool = False
    busy_timeout_ms: int = 5000


@dataclass(frozen=True)
class DiscordSettings:
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    dev_guild_id: int | None = None
    owner_ids: tuple[int, ...] = ()
    rest_base_url: str = DISCORD_API
    gateway_url: str = DISCORD_GATEWAY
    public_by_default: bool = True
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    global_rate_total: float = 45.0
    process_count: int = 1

    @property
    def sharded(self) -> bool:
        """Tell whether the bot runs as discord.py's AutoShardedBot (either key is set)."""
        return self.shard_count is not None or self.shard_ids is not None

    @property
    def rate_per_process(self) -> float:
        """Return this process's share of the bot token's global REST budget (requests/s).

        Every process of one bot takes ``global_rate_total / process_count``: no shared
        counter, no database round trip per request, and a dead process only leaves its
        share unused (see ``bot.discord.ratelimit``).
        """
        return self.global_rate_total / max(1, self.process_count)

    def check(self) -> None:
        """Refuse shard and rate settings discord.py or Discord would refuse later."""
        if self.shard_count is not None and self.shard_count < 1:
            raise ConfigError("[discord] shard_count must be at least 1")
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ConfigError("[discord] shard_ids needs shard_count (the bot's total)")
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad or not self.shard_ids or len(set(self.shard_ids)) != len(self.shard_ids):
                raise ConfigError(f"[discord] shard_ids must be distinct ids from 0 to "
                                  f"{self.shard_count - 1}, not {list(self.shard_ids)}")
        if self.process_count < 1:
            raise ConfigError("[discord] process_count must be at least 1")
        if self.global_rate_total <= 0:
            raise ConfigError("[discord] global_rate_total must be above 0")


@dataclass(frozen=True)
class SlackSettings:
    """The Slack front: ``enabled`` None means "when SLACK_BOT_TOKEN is set"."""

    enabled: bool | None = None
    connect: bool = True
    mode: str = "socket"
    api_base_url: str = SLACK_API
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    owner_ids: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """Tell whether the Slack front runs (enabled, or not disabled and a token is set)."""
        return bool(self.bot_token) if self.enabled is None else self.enabled

    def missing(self) -> list[str]:
        """Name the secrets the configured mode needs that are not set."""
        needed = [("SLACK_BOT_TOKEN", self.bot_token)]
        if not self.connect:  # sending only: the Web API with the bot token
            return [name for name, value in needed if not value]
        needed.append(("SLACK_APP_TOKEN", self.app_token) if self.mode == "socket"
                      else ("SLACK_SIGNING_SECRET", self.signing_secret))
        return [name for name, value in needed if not value]

    def secrets(self) -> list[str]:
        """Return the Slack secrets that are set (for log redaction)."""
        return [s for s in (self.bot_token, self.app_token, self.signing_secret) if s]


@dataclass(frozen=True)
class SchedulerSettings:
    """The dispatcher; ``rate_per_second`` None means the process's Discord REST share.

    ``Settings`` hands its ``discord.rate_per_process`` (the one home of the figure) to
    ``rest_share`` whenever it is built or replaced, so the dispatcher's message bucket and
    the REST limiter never disagree; set ``rate_per_second`` only to send slower than that
    (0: no bucket of the dispatcher's own). ``rest_share`` is not a key of the file.
    """

    tick_seconds: int = 30
    reminder_grace_hours: float = 6.0
    digest_grace_hours: float = 48.0
    send_concurrency: int = 8
    rate_per_second: float | None = None
    claim_batch: int = 500
    lease_seconds: float = 600.0
    rest_share: float = field(default=DiscordSettings().rate_per_process, repr=False,
                              compare=False, metadata={"config": False})

    @property
    def send_rate(self) -> float:
        """Return the messages per second the dispatcher sends at most (0: unlimited)."""
        return self.rest_share if self.rate_per_second is None else self.rate_per_second


@dataclass(frozen=True)
class MetricsSettings:
    """Prometheus metrics and the health check (the ``metrics`` extra), off by default."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9108


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    plan_dirs: tuple[str, ...] = ()
    default_plan: str = "vllm"
    log_level: str = "INFO"
    log_file: str | None = None
    log_json: bool = False
    console_user: str = "local"
    # How this process names itself in `python -m bot status` (default: hostname:pid).
    process_name: str | None = None

    def __post_init__(self) -> None:
        share = self.discord.rate_per_process  # one home: the Discord share, also on replace()
        if self.scheduler.rest_share != share:
            object.__setattr__(self, "scheduler", replace(self.scheduler, rest_share=share))

    def discord_token(self) -> str | None:
        """Return the bot token from the environment, the configured file or the config."""
        return _secret("DISCORD_TOKEN", self.discord.token_file, self.discord.token)


def _secret(env_name: str, file_path: str | None, inline: str | None) -> str | None:
    value = os.environ.get(env_name)
    if value:
        return value.strip()
    file_env = os.environ.get(f"{env_name}_FILE") or file_path
    if file_env:
        path = Path(file_env).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read {env_name} from {path}: {exc.strerror}") from None
    return inline or None


_SECTIONS = {
    "database": DatabaseSettings,
    "discord": DiscordSettings,
    "slack": SlackSettings,
    "scheduler": SchedulerSettings,
    "metrics": MetricsSettings,
}
_TOP_KEYS = {"plan_dirs", "default_plan", "log_level", "log_file", "log_json", "console_user",
             "process_name"}


def _example_of(annotation: str) -> Any:
    """Return a value of the type an optional key's annotation names (None: any)."""
    for name, example in (("tuple", ()), ("bool", False), ("float", 0.0), ("int", 0)):
        if annotation.startswith(name):
            return example
    return None


def _coerce(cls: type, section: str, raw: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls) if f.metadata.get("config", True)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[{section}] has an unknown key {key!r}; known: {', '.join(known)}")
        default = getattr(cls(), key)
        if default is None:  # optional keys: the type comes from the annotation
            default = _example_of(str(known[key].type))
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"[{section}] {key} must be a list")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"[{section}] {key} must be true or false")
        elif isinstance(default, int | float) and not isinstance(value, int | float):
            raise ConfigError(f"[{section}] {key} must be a number")
        values[key] = value
    return cls(**values)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load settings from PATH, $PACER_CONFIG or ./config.toml, then apply the environment."""
    chosen = path or os.environ.get("PACER_CONFIG")
    raw: dict[str, Any] = {}
    if chosen is not None or Path("config.toml").exists():
        file = Path(chosen or "config.toml")
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a table")
            kwargs[key] = _coerce(_SECTIONS[key], key, value)
        elif key in _TOP_KEYS:
            if key == "log_json" and not isinstance(value, bool):
                raise ConfigError("log_json must be true or false")
            kwargs[key] = tuple(value) if key == "plan_dirs" else value
        else:
            raise ConfigError(f"unknown top-level key {key!r} in the config file")
    settings = Settings(**kwargs)
    env_url = os.environ.get("PACER_DATABASE_URL")
    if env_url:
        settings = replace(settings, database=replace(settings.database, url=env_url))
    slack = replace(
        settings.slack,
        bot_token=_secret("SLACK_BOT_TOKEN", None, settings.slack.bot_token),
        app_token=_secret("SLACK_APP_TOKEN", None, settings.slack.app_token),
        signing_secret=_secret("SLACK_SIGNING_SECRET", None, settings.slack.signing_secret),
    )
    if slack.mode not in SLACK_MODES:
        raise ConfigError(f"[slack] mode must be one of {', '.join(SLACK_MODES)}, not "
                          f"{slack.mode!r}")
    if slack.enabled is not None and not isinstance(slack.enabled, bool):
        raise ConfigError("[slack] enabled must be true or false")
    settings.discord.check()
    if settings.scheduler.lease_seconds <= 0:
        raise ConfigError("[scheduler] lease_seconds must be above 0")
    return replace(settings, slack=slack)
