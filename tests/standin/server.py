"""A loopback Discord stand-in that an unmodified discord.py client can log in to and talk with.

It serves Discord's REST API under ``http://127.0.0.1:PORT/api/v10`` and the gateway at
``ws://127.0.0.1:PORT/gateway``, records every request, checks each against Discord's OpenAPI spec,
and lets a test drive the bot with interactions and read back what the bot answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.standin.openapi_check import (
    API_PREFIX,
    OpenAPIChecker,
    Violation,
    default_spec_path,
    load_checker,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CONTENT_CHARS = 2000
POLL_SECONDS = 0.02
FLAG_EPHEMERAL = 64
FLAG_LOADING = 128
DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
APPLICATION_FLAGS = 1 << 23  # APPLICATION_COMMAND_BADGE
# VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES, READ_MESSAGE_HISTORY, ADD_REACTIONS,
# USE_EXTERNAL_EMOJIS, USE_APPLICATION_COMMANDS, SEND_MESSAGES_IN_THREADS
MEMBER_PERMISSIONS = (
    (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 6)
    | (1 << 18)
    | (1 << 31)
    | (1 << 38)
)
BOT_PERMISSIONS = MEMBER_PERMISSIONS | (1 << 13)  # plus MANAGE_MESSAGES
ALL_PERMISSIONS = (1 << 53) - 1
INTENT_GUILD_MEMBERS = 1 << 1
ERROR_MESSAGES = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50027: "Invalid Webhook Token",
    50013: "Missing Permissions",
    50033: "Invalid Recipient(s)",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
}
DISCORD_EPOCH_MS = 1_420_070_400_000
GLOBAL_LIMIT = 50  # Discord: requests per second per bot token, over all routes
INTERACTION_DEADLINE = 3.0  # seconds for the first response to an interaction
INTERACTION_TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token works for followups
NONCE_LIFETIME = 5 * 60.0  # seconds Discord checks an enforced nonce against ("a few minutes")
# Per-route buckets: "METHOD template" -> (requests, per seconds), per major parameter.
ROUTE_LIMITS: Mapping[str, tuple[int, float]] = {
    "POST /channels/{channel_id}/messages": (5, 5.0),
}
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id")
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


class DiscordError(Exception):
    """An error the stand-in answers with, shaped like Discord's error bodies."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str | None = None,
        errors: Mapping[str, Any] | None = None,
    ) -> None:
        """Describe the HTTP status, Discord error code, message and optional field errors."""
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Error")
        self.errors = errors
        self.headers: dict[str, str] = {}
        super().__init__(f"{status} {code} {self.message}")

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            out["errors"] = dict(self.errors)
        return out


class RateLimited(DiscordError):
    """A 429 shaped like Discord's: retry_after in the body and the headers, global or not."""

    def __init__(self, retry_after: float, *, scope: str = "user",
                 headers: Mapping[str, str] | None = None) -> None:
        """Describe the wait and the limit's scope ("global", "user" or "shared")."""
        super().__init__(429, 0, "You are being rate limited.")
        self.retry_after = round(max(retry_after, 0.001), 3)
        self.is_global = scope == "global"
        self.headers = {
            "Retry-After": str(max(1, int(-(-self.retry_after // 1)))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",  # discord.py takes a 429 without Via for a Cloudflare ban
            **(headers or {}),
        }
        if self.is_global:
            self.headers["X-RateLimit-Global"] = "true"

    def body(self) -> dict[str, Any]:
        """Return Discord's 429 body."""
        return {"message": self.message, "retry_after": self.retry_after,
                "global": self.is_global, "code": 0}


@dataclass
class _Bucket:
    limit: int
    per: float
    name: str
    used: int = 0
    resets_at: float = 0.0  # monotonic


@dataclass
class RecordedRequest:
    """One REST request the bot made, as the stand-in saw it."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any  # the JSON body, or the parsed payload_json part of a multipart body; None if no body
    files: list[
        tuple[str, bytes, str]
    ]  # (filename, bytes, content type) of multipart files[n] parts
    headers: dict[str, str]
    content_type: str | None = None
    route: str | None = (
        None  # the stand-in's route template, e.g. "/channels/{channel_id}/messages"
    )
    params: dict[str, str] = field(default_factory=dict)  # path parameters of that template
    status: int = 0  # the status the stand-in answered with
    unknown: bool = False  # True when no stand-in route matched (answered 404)
    response: Any = None  # the JSON the stand-in answered with (None for 204)
    file_indexes: list[int] = field(
        default_factory=list
    )  # n of each files[n] part, same order as files
    received_at: float = 0.0  # time.monotonic() when the stand-in received it
    counted: bool = False  # counted against the global limit (a bot-token route, answered)
    via: str | None = None  # the proxy path the request came through (``via_base``), if any


@dataclass(frozen=True)
class StandinAttachment:
    """A file the stand-in serves at /attachments/{id}/{filename} (for attachment options)."""

    id: int
    filename: str
    data: bytes
    content_type: str
    url: str

    def payload(self) -> dict[str, Any]:
        """Return the attachment object Discord puts in `resolved.attachments`."""
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "ephemeral": True,
        }


@dataclass
class SentMessage:
    """A message the bot created (channel post, interaction response or followup)."""

    id: int
    channel_id: int
    source: str  # "channel", "interaction" (the original response) or "followup"
    message: dict[str, Any]  # the current message object, as the stand-in last returned it
    history: list[dict[str, Any]]  # every request body that created or edited it, in order
    files: list[tuple[str, bytes, str]]  # every file uploaded with it, in order
    interaction_id: int | None = None
    deleted: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        """Return the latest request body that created or edited the message."""
        return self.history[-1]

    @property
    def content(self) -> str:
        """Return the current content."""
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Return the current embeds."""
        return list(self.message.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        """Return the current components."""
        return list(self.message.get("components") or [])

    @property
    def flags(self) -> int:
        """Return the message flags."""
        return int(self.message.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Return whether only the invoking user can see the message (flag 64)."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """Return the current attachment objects."""
        return list(self.message.get("attachments") or [])

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """Return the allowed_mentions of the latest request that set it, else None."""
        for body in reversed(self.history):
            if "allowed_mentions" in body:
                return body["allowed_mentions"]
        return None

    @property
    def pinged_user_ids(self) -> list[int]:
        """Return the ids of users this message actually notifies (after allowed_mentions)."""
        return [int(u["id"]) for u in self.message.get("mentions") or []]

    def file(self, filename: str) -> bytes:
        """Return the bytes of an uploaded file by name."""
        for name, data, _ in self.files:
            if name == filename:
                return data
        raise KeyError(f"no file named {filename!r}; files: {[f[0] for f in self.files]}")


@dataclass
class InteractionCallback:
    """The bot's answer to POST /interactions/{id}/{token}/callback."""

    type: int  # 4 message, 5 deferred message, 6 deferred update, 7 update, 8 autocomplete, 9 modal
    data: dict[str, Any]
    body: dict[str, Any]
    files: list[tuple[str, bytes, str]]
    message: SentMessage | None  # the message it created or updated (types 4, 5, 7)

    @property
    def content(self) -> str | None:
        """Return data.content."""
        return self.data.get("content")

    @property
    def flags(self) -> int:
        """Return data.flags (64 means ephemeral)."""
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Return whether data.flags asks for an ephemeral message."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Return data.embeds."""
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        """Return data.components."""
        return list(self.data.get("components") or [])

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """Return data.allowed_mentions."""
        return self.data.get("allowed_mentions")

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Return data.choices (autocomplete answers)."""
        return list(self.data.get("choices") or [])


class InteractionHandle:
    """One interaction the stand-in sent; collects what the bot answered to it."""

    def __init__(self, standin: DiscordStandin, payload: dict[str, Any], channel_id: int) -> None:
        """Wrap the INTERACTION_CREATE payload."""
        self._standin = standin
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = channel_id
        self.callback: InteractionCallback | None = None
        self.original: SentMessage | None = None
        self.followup_messages: list[SentMessage] = []
        self.original_edits: list[dict[str, Any]] = []
        self.original_deleted = False
        self.source_message: SentMessage | None = None  # the message a component was clicked on
        self.created_at = time.monotonic()  # when the interaction was created (sent to the bot)
        self.responded_at: float | None = None  # when the accepted first response arrived
        self.late_responses = 0  # first responses refused as too late (10062)

    @property
    def response_delay(self) -> float | None:
        """Seconds from creation to the accepted first response (None: none yet)."""
        return None if self.responded_at is None else self.responded_at - self.created_at

    def __repr__(self) -> str:
        answered = self.callback is not None
        return f"<InteractionHandle id={self.id} type={self.type} answered={answered}>"

    async def response(self, timeout: float = 5.0) -> InteractionCallback:  # noqa: ASYNC109
        """Wait for the bot's interaction callback and return it."""
        return await self._standin.wait_for(
            lambda: self.callback, timeout=timeout, what=f"the callback to interaction {self.id}"
        )

    async def followups(self, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until the bot sent at least `count` followup messages and return them all."""
        await self._standin.wait_for(
            lambda: len(self.followup_messages) >= count,
            timeout=timeout,
            what=f"{count} followup(s) to interaction {self.id}",
        )
        return list(self.followup_messages)

    async def edits(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Wait until the bot edited the original response `count` times; return the edit bodies."""
        await self._standin.wait_for(
            lambda: len(self.original_edits) >= count,
            timeout=timeout,
            what=f"{count} edit(s) of the original response to interaction {self.id}",
        )
        return list(self.original_edits)


@dataclass
class FailureRule:
    """A configured error answer for matching requests."""

    method: str
    route: str
    status: int
    code: int
    message: str | None
    when: Callable[[RecordedRequest], bool] | None
    times: int | None  # answer with the error this many times, then stop; None = always
    hits: int = 0
    retry_after: float = 1.0  # for a 429: the wait asked for
    scope: str = "global"  # for a 429: "global", "user" or "shared"

    def matches(self, req: RecordedRequest) -> bool:
        """Return whether this rule applies to a request."""
        if req.method != self.method or req.route != self.route:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return self.when is None or bool(self.when(req))


@dataclass
class _Session:
    session_id: str
    seq: int = 0
    shard: tuple[int, int] = (0, 1)


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    query: dict[str, str]
    session: _Session | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shard: tuple[int, int] = (0, 1)  # [shard_id, num_shards] from IDENTIFY (none: 0 of 1)


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """Return the shard that receives a guild's events, as Discord routes them (DMs: 0)."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


Handler = Callable[[RecordedRequest], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    handler: Handler
    auth: bool
    pattern: re.Pattern[str]
    literals: int


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    parts, literals = [], 0
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    return re.compile("^/" + "/".join(parts) + "$"), literals


def _json_response(status: int, body: Any) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly application/json (no charset).
    if body is None:
        return web.Response(status=status)
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def _number_components(components: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copy components, giving each the numeric `id` Discord assigns when it stores a message."""
    counter = itertools.count(1)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        out = {key: walk(value) for key, value in node.items()}
        if "type" in out and isinstance(out["type"], int):
            out.setdefault("id", next(counter))
        return out

    return walk(list(components))


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, str):
        return 3
    if isinstance(value, StandinAttachment):
        return 11
    if isinstance(value, Mapping) and "username" in value:
        return 6
    raise TypeError(
        f"cannot infer the option type of {value!r}; pass {{'type': N, 'value': ...}} "
        "or register the command first"
    )


class DiscordStandin:
    """A loopback Discord: REST + gateway on 127.0.0.1, one guild, recording everything."""

    def __init__(
        self,
        *,
        token: str = "standin.bot.token",
        spec_path: str | None = None,
        check_openapi: bool = True,
        reject_invalid: bool = False,
        heartbeat_interval_ms: int = 41250,
        guild_name: str = "Pacer Test Guild",
        channel_name: str = "general",
        bot_name: str = "Pacer",
        now: Callable[[], datetime] | None = None,
        global_limit: int | None = GLOBAL_LIMIT,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        interaction_deadline: float | None = INTERACTION_DEADLINE,
        interaction_token_lifetime: float = INTERACTION_TOKEN_LIFETIME,
        shards: int = 1,
    ) -> None:
        """Set up the world: application, bot user, one guild with a channel, owner and user.

        Discord's limits are enforced as Discord does: ``global_limit`` requests in any second
        per bot token (None: off; interaction endpoints are not counted), ``route_limits``
        per-route buckets (default ``ROUTE_LIMITS``; ``{}``: none), the first response to an
        interaction within ``interaction_deadline`` seconds (None: no deadline), followups for
        ``interaction_token_lifetime`` seconds. ``shards`` is the shard count GET /gateway/bot
        recommends; each IDENTIFY with ``shard: [id, count]`` is a session of its own that gets
        the guilds with ``(guild_id >> 22) % count == id`` and their events, and DMs on shard 0
        only. A message created with an enforced ``nonce`` that the bot used in the last
        ``NONCE_LIFETIME`` seconds is not created again: the first one is returned.
        """
        self.token = token
        self.shards = shards
        self._nonces: dict[str, tuple[float, SentMessage]] = {}
        self.nonce_repeats = 0  # creations answered with the message of an earlier nonce
        self.global_limit = global_limit
        self.route_limits = dict(ROUTE_LIMITS if route_limits is None else route_limits)
        self.interaction_deadline = interaction_deadline
        self.interaction_token_lifetime = interaction_token_lifetime
        self._global_window: deque[float] = deque()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._last_snowflake = 0
        self.rate_limited: list[RecordedRequest] = []  # every request answered with 429
        self.reject_invalid = reject_invalid
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._now = now or (lambda: datetime.now(UTC))
        self._ids = itertools.count(1_250_000_000_000_000_000)
        self.spec_path = spec_path or (str(p) if (p := default_spec_path()) else None)
        self.checker: OpenAPIChecker | None = (
            load_checker(self.spec_path) if check_openapi and self.spec_path else None
        )
        self.openapi_available = self.checker is not None

        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.response_violations: list[str] = []
        self.cdn_requests: list[str] = []
        self.identify_payloads: list[dict[str, Any]] = []
        # every payload the bot sent on the gateway, in order
        self.gateway_received: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.failures: list[FailureRule] = []

        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[int, dict[str, Any]] = {}  # user id -> member (default guild)
        self._perm_overrides: dict[int, int | None] = {}  # user id -> fixed guild permissions
        self.owner_id = 0
        self.roles: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}  # guild channels and DM channels
        self._dm_channel_of: dict[int, int] = {}  # user id -> DM channel id
        self._messages: dict[int, list[SentMessage]] = {}  # channel id -> messages
        self._interactions: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}
        self._blobs: dict[int, StandinAttachment] = {}
        self._phantom_command_ids: dict[str, int] = {}

        self._sessions: dict[str, _Session] = {}
        self._connections: list[_Connection] = []
        self._pending_events: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[_Route] = []
        self._install_routes()

        self.application_id = self._snowflake()
        self.bot_user = self._new_user(bot_name, bot=True, user_id=self.application_id)
        self.bot_user_id = int(self.bot_user["id"])
        self.guild_id = self._snowflake()
        self.everyone_role = self.add_role(
            "@everyone", permissions=MEMBER_PERMISSIONS, role_id=self.guild_id
        )
        self.bot_role = self.add_role(
            bot_name, permissions=BOT_PERMISSIONS, managed_by=self.bot_user_id
        )
        self.owner = self.make_user("guild-owner", permissions=ALL_PERMISSIONS)
        self.owner_id = int(self.owner["id"])
        self.guild: dict[str, Any] = {
            "id": str(self.guild_id),
            "name": guild_name,
            "owner_id": str(self.owner_id),
            "preferred_locale": "en-US",
        }
        # every guild: the default one (self.guild) and those of add_guild, by id
        self.guilds: dict[int, dict[str, Any]] = {self.guild_id: self.guild}
        self._guild_roles: dict[int, list[dict[str, Any]]] = {}  # add_guild's own roles
        self._add_member(self.bot_user, roles=[int(self.bot_role["id"])])
        self.channel = self.add_text_channel(channel_name)
        self.channel_id = int(self.channel["id"])
        self.user = self.make_user("learner", global_name="Learner")
        self.user_id = int(self.user["id"])

    # ----------------------------------------------------------------- lifecycle and URLs

    async def start(self) -> None:
        """Start serving on an ephemeral 127.0.0.1 port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._cdn_handler)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest_handler)
        app.router.add_route("*", "/via/{via}" + API_PREFIX + "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.debug("Discord stand-in listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close gateway connections and stop serving."""
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"stand-in stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordStandin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_base(self) -> str:
        """Return the value for discord.http.Route.BASE."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Return the value for DiscordWebSocket.DEFAULT_GATEWAY (as a yarl.URL)."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def via_base(self, name: str) -> str:
        """Return a REST base that tags each request with NAME (``RecordedRequest.via``).

        It stands for one process's own REST proxy in front of the same Discord: the
        requests are served and limited exactly as on ``rest_base``, one bot token.
        """
        return f"{self.base_url}/via/{name}{API_PREFIX}"

    def urls(self) -> tuple[str, str]:
        """Return (rest_base, gateway_url) for the client glue."""
        return self.rest_base, self.gateway_url

    @contextlib.contextmanager
    def patch_discord_py(self) -> Iterator[None]:
        """Point discord.py's Route.BASE and DEFAULT_GATEWAY here; restore them on exit."""
        import discord.http
        import yarl
        from discord.gateway import DiscordWebSocket

        old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.rest_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    @contextlib.asynccontextmanager
    async def run_client(self, client: Any, *, timeout: float = 10.0) -> AsyncIterator[Any]:  # noqa: ASYNC109
        """Log a discord.py client in here, connect it, wait for on_ready; close it on exit."""
        with self.patch_discord_py():
            await client.login(self.token)
            task = asyncio.create_task(
                client.connect(reconnect=True), name="standin-client-connect"
            )
            ready = asyncio.create_task(client.wait_until_ready())
            try:
                done, _ = await asyncio.wait(
                    {task, ready}, timeout=timeout, return_when="FIRST_COMPLETED"
                )
                if ready not in done:
                    if task in done:
                        task.result()  # re-raise why the connection ended
                    raise AssertionError(f"the client was not ready after {timeout}s")
                yield client
            finally:
                ready.cancel()
                await client.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=5.0)

    # ----------------------------------------------------------------- world building

    def _snowflake(self) -> int:
        """Make a Discord snowflake: its top bits are the creation time, as Discord's are."""
        next(self._ids)
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(self._last_snowflake + 1, stamp)
        return self._last_snowflake

    def _timestamp(self) -> str:
        return self._now().isoformat()

    def _new_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        uid = user_id or self._snowflake()
        user = {
            "id": str(uid),
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "bot": bot,
        }
        if bot:
            user.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        self.users[uid] = user
        return user

    def make_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        member: bool = True,
        roles: Sequence[int] = (),
        nick: str | None = None,
        permissions: int | None = None,
        bot: bool = False,
    ) -> dict[str, Any]:
        """Create a user (a guild member unless member=False) and return its user object."""
        user = self._new_user(username, global_name=global_name, bot=bot)
        if member:
            self._add_member(user, roles=list(roles), nick=nick, permissions=permissions)
        return user

    def _add_member(
        self,
        user: Mapping[str, Any],
        *,
        roles: Sequence[int] = (),
        nick: str | None = None,
        permissions: int | None = None,
    ) -> dict[str, Any]:
        member = {
            "user": dict(user),
            "nick": nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in roles],
            "joined_at": self._timestamp(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        self.members[int(user["id"])] = member
        self._perm_overrides[int(user["id"])] = permissions
        if self._intents() & INTENT_GUILD_MEMBERS:
            self._announce("GUILD_MEMBER_ADD", {"guild_id": str(self.guild_id), **member})
        return member

    def permissions_of(self, user_id: int) -> int:
        """Return the guild permissions a member has (owner: all)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        override = self._perm_overrides.get(user_id)
        if override is not None:
            return override
        total = int(self.everyone_role["permissions"])
        for role_id in self.members.get(user_id, {}).get("roles", []):
            total |= int(self.roles[int(role_id)]["permissions"])
        return total

    def add_role(
        self,
        name: str,
        *,
        permissions: int = 0,
        role_id: int | None = None,
        managed_by: int | None = None,
    ) -> dict[str, Any]:
        """Add a role to the default guild and return its role object."""
        rid = role_id or self._snowflake()
        role: dict[str, Any] = {
            "id": str(rid),
            "name": name,
            "description": None,
            "permissions": str(permissions),
            "position": len(self.roles),
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed_by is not None,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if managed_by is not None:
            role["tags"] = {"bot_id": str(managed_by)}
        self.roles[rid] = role
        self._announce("GUILD_ROLE_CREATE", {"guild_id": str(self.guild_id), "role": role})
        return role

    def add_text_channel(self, name: str, *, topic: str | None = None,
                         guild_id: int | None = None) -> dict[str, Any]:
        """Add a text channel to a guild (default: the default one) and return it."""
        cid = self._snowflake()
        gid = str(guild_id or self.guild_id)
        channel = {
            "id": str(cid),
            "type": 0,
            "guild_id": gid,
            "name": name,
            "position": len([c for c in self.channels.values() if c.get("guild_id") == gid]),
            "permission_overwrites": [],
            "parent_id": None,
            "topic": topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        self.channels[cid] = channel
        self._announce("CHANNEL_CREATE", channel)
        return channel

    def dm_channel_id(self, user_id: int) -> int:
        """Return the id of the bot's DM channel with a user, creating it if needed."""
        if user_id not in self.users:
            raise DiscordError(400, 50033)
        cid = self._dm_channel_of.get(user_id)
        if cid is None:
            cid = self._snowflake()
            self._dm_channel_of[user_id] = cid
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[user_id]],
            }
        return cid

    def add_guild(self, name: str, *, shard: int | None = None,
                  channel_name: str = "general") -> int:
        """Add another guild with one text channel and return its id (before the bot connects).

        Its id lands on SHARD of ``shards`` when given. Every member of the default guild is
        a member of it too, with the same permissions; its roles are its own ``@everyone``
        and the bot's role.
        """
        gid = self._snowflake()
        if shard is not None:
            stamp = gid >> 22
            stamp += (shard - stamp) % self.shards
            gid = self._last_snowflake = max(self._last_snowflake + 1, stamp << 22)
        everyone = dict(self.everyone_role, id=str(gid))
        self._guild_roles[gid] = [everyone, self.bot_role]
        self.guilds[gid] = {"id": str(gid), "name": name, "owner_id": str(self.owner_id),
                            "preferred_locale": "en-US"}
        self.add_text_channel(channel_name, guild_id=gid)
        return gid

    def guild_channel_id(self, guild_id: int) -> int:
        """Return the first text channel of a guild."""
        return next(cid for cid, c in self.channels.items()
                    if c.get("guild_id") == str(guild_id) and c["type"] == 0)

    def add_attachment(
        self, filename: str, data: bytes, content_type: str | None = None
    ) -> StandinAttachment:
        """Store a file the bot can download from loopback; use it as an attachment option value."""
        if not self.port:
            raise RuntimeError(
                "start the stand-in before adding attachments (their URL needs the port)"
            )
        aid = self._snowflake()
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        url = f"{self.base_url}/attachments/{aid}/{urllib.parse.quote(filename)}"
        blob = StandinAttachment(id=aid, filename=filename, data=data, content_type=kind, url=url)
        self._blobs[aid] = blob
        return blob

    def guild_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        """Return a guild object (REST shape; default: the default guild)."""
        gid = guild_id or self.guild_id
        guild = self.guilds[gid]
        roles = self._guild_roles.get(gid) or list(self.roles.values())
        return {
            "id": str(gid),
            "name": guild["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.guild_channel_id(gid)),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "max_presences": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild["preferred_locale"],
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
        }

    def _guild_create_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        gid = guild_id or self.guild_id
        guild = self.guild_payload(gid)
        guild.update(
            {
                "joined_at": self._timestamp(),
                "large": False,
                "unavailable": False,
                "lazy": True,
                "member_count": len(self.members),
                "members": list(self.members.values()),
                "channels": [
                    {k: v for k, v in c.items() if k != "guild_id"}
                    for c in self.channels.values()
                    if c.get("guild_id") == str(gid)
                ],
                "threads": [],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return guild

    def application_payload(self) -> dict[str, Any]:
        """Return the application object for GET /oauth2/applications/@me."""
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": APPLICATION_FLAGS,
            "flags_new": str(APPLICATION_FLAGS),
            "owner": self.owner,
            "team": None,
            "bot": self.bot_user,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": 1,
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "eligible_oauth2_scopes": [],
            "integration_types_config": {"0": {}},
        }

    # ----------------------------------------------------------------- queries for tests

    def _changed_now(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> T:
        """Wait until predicate() is truthy (re-checked after every request/event) and return it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._changed
                    result = predicate()
                    if result:
                        return result
                    # Also re-check now and then: the predicate may watch bot-side state.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), POLL_SECONDS)
        except TimeoutError:
            recent = (
                "\n  ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-10:])
                or "(none)"
            )
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; last requests:\n  {recent}"
            ) from None

    async def wait_until_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a bot has identified on the gateway."""
        await self.wait_for(lambda: self.connected, timeout=timeout, what="a gateway IDENTIFY")

    @property
    def connected(self) -> bool:
        """Return whether an identified (or resumed) bot connection is open."""
        return any(c.session is not None and not c.ws.closed for c in self._connections)

    @property
    def connected_shards(self) -> list[tuple[int, int]]:
        """Return the [shard_id, num_shards] of every identified open connection, sorted."""
        return sorted(c.shard for c in self._connections
                      if c.session is not None and not c.ws.closed)

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Return recorded requests for a route: ("POST", "/channels/{channel_id}/messages")."""
        return [r for r in self.requests if r.method == method and r.route == route]

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Return requests no stand-in route handled."""
        return [r for r in self.requests if r.unknown]

    def channel_messages(
        self, channel_id: int, *, include_interactions: bool = False
    ) -> list[SentMessage]:
        """Return messages the bot posted with POST /channels/{id}/messages, oldest first."""
        return [
            m
            for m in self._messages.get(channel_id, [])
            if not m.deleted and (include_interactions or m.source == "channel")
        ]

    def dm_messages(self, user_id: int, *, include_interactions: bool = False) -> list[SentMessage]:
        """Return messages the bot posted in its DM with a user, oldest first."""
        cid = self._dm_channel_of.get(user_id)
        return (
            []
            if cid is None
            else self.channel_messages(cid, include_interactions=include_interactions)
        )

    def interactions(self) -> list[InteractionHandle]:
        """Return every interaction sent so far."""
        return list(self._interactions.values())

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Return the registered commands, global (None) or for a guild."""
        if guild_id is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(guild_id, []))

    def take_violations(self) -> list[Violation]:
        """Return the violations so far and forget them."""
        out, self.violations = self.violations, []
        return out

    def assert_clean(self) -> None:
        """Raise AssertionError listing spec violations, Discord-limit breaches, unknown routes."""
        if self.violations:
            listing = "\n  ".join(str(v) for v in self.violations)
            raise AssertionError(
                f"{len(self.violations)} bad request(s) to the Discord stand-in:\n  {listing}"
            )

    def validate_command_payload(self, commands: Sequence[Mapping[str, Any]]) -> list[str]:
        """Check command definitions against the spec; return problems (empty when valid)."""
        if self.checker is None:
            raise RuntimeError("the Discord OpenAPI spec is not available")
        return self.checker.check_command_payload(commands)

    # ----------------------------------------------------------------- failures

    def fail_route(
        self,
        method: str,
        route: str,
        *,
        status: int = 403,
        code: int = 50007,
        message: str | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
        times: int | None = None,
    ) -> FailureRule:
        """Answer matching requests with a Discord error instead of handling them."""
        method = method.upper()
        if not any(r.method == method and r.template == route for r in self._routes):
            known = sorted({f"{r.method} {r.template}" for r in self._routes})
            raise ValueError(f"no stand-in route {method} {route}; known routes: {known}")
        rule = FailureRule(method, route, status, code, message, when, times)
        self.failures.append(rule)
        return rule

    def close_dms(self, user_id: int) -> FailureRule:
        """Make DMs to a user fail like Discord does when they closed DMs (403, code 50007)."""
        return self.fail_route(
            "POST",
            "/channels/{channel_id}/messages",
            status=403,
            code=50007,
            when=lambda req: self._dm_channel_of.get(user_id) == int(req.params["channel_id"]),
        )

    def clear_failures(self) -> None:
        """Remove every configured failure."""
        self.failures.clear()

    # ----------------------------------------------------------------- REST plumbing

    def _install_routes(self) -> None:
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self._list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message, True),
            ("POST", "/channels/{channel_id}/typing", self._no_content, True),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
                self._no_content,
                True,
            ),
            ("GET", "/guilds/{guild_id}", self._get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self._get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, True),
            ("GET", "/applications/{application_id}/commands", self._list_commands, True),
            ("PUT", "/applications/{application_id}/commands", self._put_commands, True),
            ("POST", "/applications/{application_id}/commands", self._post_command, True),
            (
                "GET",
                "/applications/{application_id}/commands/{command_id}",
                self._get_command,
                True,
            ),
            (
                "PATCH",
                "/applications/{application_id}/commands/{command_id}",
                self._patch_command,
                True,
            ),
            (
                "DELETE",
                "/applications/{application_id}/commands/{command_id}",
                self._delete_command,
                True,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._list_commands,
                True,
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
                True,
            ),
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._post_command,
                True,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._get_command,
                True,
            ),
            (
                "PATCH",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._patch_command,
                True,
            ),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._delete_command,
                True,
            ),
            (
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                self._callback,
                False,
            ),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self._followup_create, False),
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self._wh_get,
                False,
            ),
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self._wh_edit,
                False,
            ),
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self._wh_delete,
                False,
            ),
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._wh_get,
                False,
            ),
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._wh_edit,
                False,
            ),
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._wh_delete,
                False,
            ),
        ]
        for method, template, handler, auth in table:
            pattern, literals = _compile(template)
            self._routes.append(_Route(method, template, handler, auth, pattern, literals))

    def _match_route(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        best: tuple[_Route, dict[str, str]] | None = None
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found and (best is None or route.literals > best[0].literals):
                best = (route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()})
        return best if best else (None, {})

    async def _read_body(
        self, request: web.Request
    ) -> tuple[Any, list[tuple[str, bytes, str]], list[int], bool]:
        """Return (json or payload_json, files, their files[n] indexes, has_body)."""
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[tuple[int, tuple[str, bytes, str]]] = []
            reader = await request.multipart()
            async for part in reader:
                if not hasattr(part, "read"):
                    continue
                data = await part.read(decode=False)  # type: ignore[union-attr]
                name = part.name or ""
                if name == "payload_json":
                    payload = json.loads(data.decode("utf-8"))
                elif name.startswith("files["):
                    index = int(name[len("files[") : -1])
                    kind = part.headers.get("Content-Type", "application/octet-stream")
                    files.append((index, (part.filename or name, bytes(data), kind)))
            files.sort(key=lambda item: item[0])
            return payload, [f for _, f in files], [i for i, _ in files], True
        raw = await request.read()
        if not raw:
            return None, [], [], False
        try:
            return json.loads(raw), [], [], True
        except ValueError as exc:
            raise DiscordError(400, 50109) from exc

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        req = RecordedRequest(
            method=method,
            path=path,
            query=dict(request.query),
            json=None,
            files=[],
            headers=dict(request.headers),
            content_type=request.headers.get("Content-Type"),
            received_at=time.monotonic(),
            via=request.match_info.get("via"),
        )
        self.requests.append(req)
        extra_headers: dict[str, str] = {}
        try:
            try:
                req.json, req.files, req.file_indexes, has_body = await self._read_body(request)
            except DiscordError:
                has_body = True
                self.violations.append(
                    Violation("spec", method, path, "body", "body is not valid JSON")
                )
                raise
            route, req.params = self._match_route(method, path)
            if route is not None:
                req.route = route.template
            problems: list[Violation] = []
            if self.checker is not None:
                problems = self.checker.check_request(
                    method, path, body=req.json, has_body=has_body, content_type=req.content_type
                )
                self.violations.extend(problems)
            if route is None:
                req.unknown = True
                self.violations.append(
                    Violation(
                        "unknown-route",
                        method,
                        path,
                        "",
                        "the stand-in has no handler for this route",
                    )
                )
                raise DiscordError(404, 0, "404: Not Found")
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            if problems and self.reject_invalid:
                raise DiscordError(
                    400,
                    50035,
                    errors={
                        p.where or "_": {"_errors": [{"code": "SPEC", "message": p.message}]}
                        for p in problems
                    },
                )
            if route.auth:
                self._check_global_limit(req)
            extra_headers = self._take_route_bucket(req)
            for rule in self.failures:
                if rule.matches(req):
                    rule.hits += 1
                    if rule.status == 429:
                        raise RateLimited(rule.retry_after, scope=rule.scope)
                    raise DiscordError(rule.status, rule.code, rule.message)
            status, body = await route.handler(req)
        except DiscordError as err:
            status, body = err.status, err.body()
            extra_headers.update(err.headers)
            if status == 429:
                self.rate_limited.append(req)
        except Exception:
            log.exception("stand-in handler failed for %s %s", method, path)
            self.violations.append(
                Violation(
                    "stand-in-error", method, path, "", "the stand-in's handler raised (see log)"
                )
            )
            status, body = 400, {"message": "stand-in handler error (see log)", "code": 0}
        req.status, req.response = status, body
        if self.checker is not None and 200 <= status < 300 and body is not None:
            for problem in self.checker.check_response(method, path, status, body):
                self.response_violations.append(f"{method} {path}: {problem}")
        self._changed_now()
        response = _json_response(status, body)
        response.headers.update(extra_headers)
        return response

    # ----------------------------------------------------------------- Discord's rate limits

    def _check_global_limit(self, req: RecordedRequest) -> None:
        """Refuse the request with a global 429 when GLOBAL_LIMIT were answered this second."""
        if self.global_limit is None:
            return
        now = req.received_at
        window = self._global_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.global_limit:
            raise RateLimited(1.0 - (now - window[0]), scope="global")
        window.append(now)
        req.counted = True

    def _take_route_bucket(self, req: RecordedRequest) -> dict[str, str]:
        """Use one request of the route's bucket; return its headers, or raise a 429."""
        limit = self.route_limits.get(f"{req.method} {req.route}")
        if limit is None:
            return {}
        major = next((req.params[p] for p in MAJOR_PARAMETERS if p in req.params), "")
        key = (f"{req.method} {req.route}", major)
        bucket = self._buckets.get(key)
        if bucket is None:
            name = secrets.token_hex(8)
            bucket = self._buckets[key] = _Bucket(limit[0], limit[1], name)
        now = req.received_at
        if now >= bucket.resets_at:
            bucket.used, bucket.resets_at = 0, now + bucket.per
        reset_after = bucket.resets_at - now
        headers = {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket.name,
        }
        if bucket.used >= bucket.limit:
            headers["X-RateLimit-Remaining"] = "0"
            raise RateLimited(reset_after, scope="user", headers=headers)
        bucket.used += 1
        headers["X-RateLimit-Remaining"] = str(bucket.limit - bucket.used)
        return headers

    def fail_rate_limited(
        self,
        method: str,
        route: str,
        *,
        retry_after: float,
        scope: str = "global",
        times: int = 1,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> FailureRule:
        """Answer the next TIMES matching requests with a 429 asking to wait RETRY_AFTER."""
        rule = self.fail_route(method, route, status=429, code=0, when=when, times=times)
        rule.retry_after, rule.scope = retry_after, scope
        return rule

    def counted_requests(self) -> list[RecordedRequest]:
        """Return the answered requests that count against the global limit, in order."""
        return [r for r in self.requests if r.counted]

    def busiest_second(self, requests: Sequence[RecordedRequest] | None = None) -> int:
        """Return the most requests received within any one second (sliding window)."""
        times = sorted(r.received_at for r in (self.counted_requests()
                                               if requests is None else requests))
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    async def _cdn_handler(self, request: web.Request) -> web.StreamResponse:
        self.cdn_requests.append(request.path)
        self._changed_now()
        blob = self._blobs.get(int(request.match_info["attachment_id"]))
        if blob is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=blob.data, headers={"Content-Type": blob.content_type})

    # ----------------------------------------------------------------- REST handlers: identity

    async def _get_me(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self.bot_user

    async def _get_application(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self.application_payload()

    async def _get_gateway(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: RecordedRequest) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": self.shards,
                     "session_start_limit": limit}

    async def _get_user(self, req: RecordedRequest) -> tuple[int, Any]:
        user = self.users.get(int(req.params["user_id"]))
        if user is None:
            raise DiscordError(404, 10013)
        return 200, user

    async def _create_dm(self, req: RecordedRequest) -> tuple[int, Any]:
        body = req.json or {}
        try:
            user_id = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DiscordError(400, 50035) from exc
        return 200, self.channels[self.dm_channel_id(user_id)]

    # ----------------------------------------------------------------- REST handlers: guild

    def _check_guild(self, req: RecordedRequest) -> int:
        gid = int(req.params["guild_id"])
        if gid not in self.guilds:
            raise DiscordError(404, 10004)
        return gid

    async def _get_guild(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self.guild_payload(self._check_guild(req))

    async def _get_guild_channels(self, req: RecordedRequest) -> tuple[int, Any]:
        gid = str(self._check_guild(req))
        return 200, [c for c in self.channels.values() if c.get("guild_id") == gid]

    async def _get_guild_roles(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self.guild_payload(self._check_guild(req))["roles"]

    async def _get_member(self, req: RecordedRequest) -> tuple[int, Any]:
        self._check_guild(req)
        member = self.members.get(int(req.params["user_id"]))
        if member is None:
            raise DiscordError(404, 10007)
        return 200, member

    # ----------------------------------------------------------------- REST handlers: messages

    def _channel(self, channel_id: str | int) -> dict[str, Any]:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise DiscordError(404, 10003)
        return channel

    async def _get_channel(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self._channel(req.params["channel_id"])

    def _find_message(self, channel_id: int, message_id: int) -> SentMessage:
        for message in self._messages.get(channel_id, []):
            if message.id == message_id and not message.deleted:
                return message
        raise DiscordError(404, 10008)

    async def _list_messages(self, req: RecordedRequest) -> tuple[int, Any]:
        cid = int(self._channel(req.params["channel_id"])["id"])
        limit = int(req.query.get("limit", 50))
        visible = [
            m.message for m in self._messages.get(cid, []) if not m.deleted and not m.ephemeral
        ]
        return 200, list(reversed(visible))[:limit]

    async def _post_message(self, req: RecordedRequest) -> tuple[int, Any]:
        cid = int(self._channel(req.params["channel_id"])["id"])
        message = self._create_message(req, cid, source="channel")
        return 200, message.message

    async def _get_message(self, req: RecordedRequest) -> tuple[int, Any]:
        cid = int(self._channel(req.params["channel_id"])["id"])
        return 200, self._find_message(cid, int(req.params["message_id"])).message

    async def _edit_message(self, req: RecordedRequest) -> tuple[int, Any]:
        cid = int(self._channel(req.params["channel_id"])["id"])
        message = self._find_message(cid, int(req.params["message_id"]))
        self._apply_edit(message, req)
        return 200, message.message

    async def _delete_message(self, req: RecordedRequest) -> tuple[int, Any]:
        cid = int(self._channel(req.params["channel_id"])["id"])
        self._find_message(cid, int(req.params["message_id"])).deleted = True
        return 204, None

    async def _no_content(self, req: RecordedRequest) -> tuple[int, Any]:
        self._channel(req.params["channel_id"])
        return 204, None

    def _check_limits(self, req: RecordedRequest, body: Mapping[str, Any]) -> None:
        content = body.get("content")
        if isinstance(content, str) and len(content) > MAX_CONTENT_CHARS:
            self.violations.append(
                Violation(
                    "discord-limit",
                    req.method,
                    req.route or req.path,
                    "body.content",
                    f"length {len(content)} is over the {MAX_CONTENT_CHARS}-character bot limit",
                )
            )
            raise DiscordError(
                400,
                50035,
                errors={
                    "content": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_MAX_LENGTH",
                                "message": f"Must be {MAX_CONTENT_CHARS} or fewer in length.",
                            }
                        ]
                    }
                },
            )

    def _mentions(
        self, body: Mapping[str, Any], content: str
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        allowed = body.get("allowed_mentions")
        parse = (
            {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        )
        listed_users = {str(u) for u in (allowed or {}).get("users") or []}
        listed_roles = {str(r) for r in (allowed or {}).get("roles") or []}
        users = []
        for uid in dict.fromkeys(USER_MENTION.findall(content)):
            if ("users" in parse or uid in listed_users) and int(uid) in self.users:
                users.append(self.users[int(uid)])
        roles = [
            rid
            for rid in dict.fromkeys(ROLE_MENTION.findall(content))
            if ("roles" in parse or rid in listed_roles) and int(rid) in self.roles
        ]
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        return users, roles, everyone

    def _attachments_for(
        self,
        req: RecordedRequest,
        body: Mapping[str, Any],
        existing: Sequence[Mapping[str, Any]],
        ephemeral: bool,
    ) -> list[dict[str, Any]]:
        indexes = req.file_indexes or list(range(len(req.files)))
        by_index = dict(zip(indexes, req.files, strict=False))
        old = {str(a["id"]): a for a in existing}

        def upload(index: int, meta: Mapping[str, Any]) -> dict[str, Any]:
            filename, data, kind = by_index[index]
            if kind == "application/octet-stream":
                kind = mimetypes.guess_type(filename)[0] or kind
            blob = self.add_attachment(str(meta.get("filename") or filename), data, kind)
            out = blob.payload()
            out["ephemeral"] = ephemeral
            if meta.get("description"):
                out["description"] = meta["description"]
            return out

        if "attachments" not in body or body.get("attachments") is None:
            kept = list(existing)
            return kept + [upload(i, {}) for i in by_index]
        result = []
        for meta in body["attachments"]:
            key = str(meta.get("id"))
            if key in old:
                result.append(old[key])
            elif key.isdigit() and int(key) in by_index:
                result.append(upload(int(key), meta))
        return result

    def _render(
        self,
        message: dict[str, Any],
        req: RecordedRequest,
        body: Mapping[str, Any],
        *,
        creating: bool,
    ) -> None:
        """Apply a create/edit body onto a message object."""
        ephemeral = bool(int(message.get("flags") or 0) & FLAG_EPHEMERAL)
        if "content" in body or creating:
            message["content"] = body.get("content") or ""
        if "embeds" in body or creating:
            message["embeds"] = [{"type": "rich", **e} for e in body.get("embeds") or []]
        if "components" in body or creating:
            message["components"] = _number_components(body.get("components") or [])
        if "attachments" in body or req.files or creating:
            message["attachments"] = self._attachments_for(
                req, body, [] if creating else message.get("attachments") or [], ephemeral
            )
        if "tts" in body:
            message["tts"] = bool(body["tts"])
        users, roles, everyone = self._mentions(body, message["content"])
        message["mentions"], message["mention_roles"], message["mention_everyone"] = (
            users,
            roles,
            everyone,
        )

    def _create_message(
        self,
        req: RecordedRequest,
        channel_id: int,
        *,
        source: str,
        body: Mapping[str, Any] | None = None,
        flags: int | None = None,
        handle: InteractionHandle | None = None,
    ) -> SentMessage:
        body = dict(req.json or {}) if body is None else dict(body)
        self._check_limits(req, body)
        has_anything = any(
            body.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll")
        ) or bool(req.files)
        if source == "channel" and not has_anything:
            raise DiscordError(400, 50006)
        nonce = str(body["nonce"]) if body.get("nonce") and body.get("enforce_nonce") else None
        if nonce is not None:
            if len(nonce) > 25:
                raise DiscordError(400, 50035)
            seen = self._nonces.get(nonce)
            if seen is not None and req.received_at - seen[0] < NONCE_LIFETIME:
                self.nonce_repeats += 1
                return seen[1]  # Discord returns the message it created the first time
        mid = self._snowflake()
        message: dict[str, Any] = {
            "id": str(mid),
            "type": 0,
            "channel_id": str(channel_id),
            "author": self.bot_user,
            "content": "",
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "timestamp": self._timestamp(),
            "edited_timestamp": None,
            "flags": int(body.get("flags") or 0) if flags is None else flags,
        }
        if handle is not None:
            user = handle.payload.get("member", {}).get("user") or handle.payload.get("user")
            message.update(
                {
                    "type": 20 if handle.type == 2 else 19 if handle.type == 3 else 0,
                    "webhook_id": str(self.application_id),
                    "application_id": str(self.application_id),
                    "interaction_metadata": {
                        "id": str(handle.id),
                        "type": handle.type,
                        "user": user,
                        "authorizing_integration_owners": handle.payload.get(
                            "authorizing_integration_owners", {}
                        ),
                    },
                }
            )
        self._render(message, req, body, creating=True)
        sent = SentMessage(
            id=mid,
            channel_id=channel_id,
            source=source,
            message=message,
            history=[body],
            files=list(req.files),
            interaction_id=handle.id if handle else None,
        )
        self._messages.setdefault(channel_id, []).append(sent)
        if nonce is not None:
            message["nonce"] = nonce
            self._nonces[nonce] = (req.received_at, sent)
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel["last_message_id"] = str(mid)
        return sent

    def _apply_edit(
        self, sent: SentMessage, req: RecordedRequest, body: Mapping[str, Any] | None = None
    ) -> None:
        body = dict(req.json or {}) if body is None else dict(body)
        self._check_limits(req, body)
        message = sent.message
        self._render(message, req, body, creating=False)
        message["flags"] = int(message.get("flags") or 0) & ~FLAG_LOADING
        message["edited_timestamp"] = self._timestamp()
        sent.history.append(body)
        sent.files.extend(req.files)

    # ----------------------------------------------------------------- REST handlers: commands

    def _command_scope(self, req: RecordedRequest) -> tuple[int | None, list[dict[str, Any]]]:
        if int(req.params["application_id"]) != self.application_id:
            raise DiscordError(403, 50001)
        if "guild_id" in req.params:
            self._check_guild(req)
            gid = int(req.params["guild_id"])
            return gid, self.guild_commands.setdefault(gid, [])
        return None, self.global_commands

    def _full_command(
        self, body: Mapping[str, Any], guild_id: int | None, old: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        command = {
            "id": old["id"] if old else str(self._snowflake()),
            "application_id": str(self.application_id),
            "version": str(self._snowflake()),
            "type": body.get("type") or 1,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": (
                None
                if body.get("default_member_permissions") is None
                else str(body["default_member_permissions"])
            ),
            "dm_permission": body.get("dm_permission", True),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if body.get("options"):
            command["options"] = body["options"]
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _list_commands(self, req: RecordedRequest) -> tuple[int, Any]:
        _, commands = self._command_scope(req)
        return 200, commands

    async def _put_commands(self, req: RecordedRequest) -> tuple[int, Any]:
        guild_id, current = self._command_scope(req)
        if not isinstance(req.json, list):
            raise DiscordError(400, 50035)
        old = {(c["type"], c["name"]): c for c in current}
        new = [
            self._full_command(b, guild_id, old.get((b.get("type") or 1, b["name"])))
            for b in req.json
        ]
        current[:] = new
        return 200, new

    async def _post_command(self, req: RecordedRequest) -> tuple[int, Any]:
        guild_id, current = self._command_scope(req)
        body = req.json or {}
        key = (body.get("type") or 1, body.get("name"))
        old = next((c for c in current if (c["type"], c["name"]) == key), None)
        command = self._full_command(body, guild_id, old)
        if old is not None:
            current[current.index(old)] = command
            return 200, command
        current.append(command)
        return 201, command

    def _command_by_id(
        self, req: RecordedRequest
    ) -> tuple[list[dict[str, Any]], dict[str, Any], int | None]:
        guild_id, current = self._command_scope(req)
        for command in current:
            if command["id"] == req.params["command_id"]:
                return current, command, guild_id
        raise DiscordError(404, 10063)

    async def _get_command(self, req: RecordedRequest) -> tuple[int, Any]:
        return 200, self._command_by_id(req)[1]

    async def _patch_command(self, req: RecordedRequest) -> tuple[int, Any]:
        current, command, guild_id = self._command_by_id(req)
        merged = {**command, **(req.json or {})}
        updated = self._full_command(merged, guild_id, command)
        current[current.index(command)] = updated
        return 200, updated

    async def _delete_command(self, req: RecordedRequest) -> tuple[int, Any]:
        current, command, _ = self._command_by_id(req)
        current.remove(command)
        return 204, None

    # ----------------------------------------------------------------- REST handlers: interactions

    async def _callback(self, req: RecordedRequest) -> tuple[int, Any]:
        handle = self._interactions.get(int(req.params["interaction_id"]))
        if handle is None or handle.token != req.params["interaction_token"]:
            raise DiscordError(404, 10062)
        if (
            handle.callback is None
            and self.interaction_deadline is not None
            and req.received_at - handle.created_at > self.interaction_deadline
        ):
            handle.late_responses += 1
            raise DiscordError(404, 10062)
        if handle.callback is not None:
            raise DiscordError(400, 40060)
        body = dict(req.json or {})
        kind = int(body.get("type", 0))
        data = dict(body.get("data") or {})
        message: SentMessage | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            if kind == 5:
                flags = (flags & FLAG_EPHEMERAL) | FLAG_LOADING
                message = self._create_message(
                    req,
                    handle.channel_id,
                    source="interaction",
                    body={},
                    flags=flags,
                    handle=handle,
                )
            else:
                message = self._create_message(
                    req,
                    handle.channel_id,
                    source="interaction",
                    body=data,
                    flags=flags,
                    handle=handle,
                )
            handle.original = message
        elif kind == 7:
            if handle.source_message is None:
                raise DiscordError(
                    400, 50035, "UPDATE_MESSAGE needs an interaction on a known message"
                )
            self._apply_edit(handle.source_message, req, data)
            message = handle.original = handle.source_message
        elif kind == 6:
            handle.original = handle.source_message
        elif kind not in (8, 9):
            raise DiscordError(400, 50035, f"unsupported interaction callback type {kind}")
        handle.callback = InteractionCallback(kind, data, body, list(req.files), message)
        handle.responded_at = req.received_at
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return 204, None
        info: dict[str, Any] = {"id": str(handle.id), "type": handle.type}
        if message is not None:
            info.update(
                {
                    "response_message_id": str(message.id),
                    "response_message_loading": bool(message.flags & FLAG_LOADING),
                    "response_message_ephemeral": message.ephemeral,
                }
            )
        out: dict[str, Any] = {"interaction": info}
        if message is not None and kind in (4, 7):  # the spec's resource union has no deferred type
            out["resource"] = {"type": kind, "message": message.message}
        return 200, out

    def _webhook_handle(self, req: RecordedRequest) -> InteractionHandle:
        handle = self._by_token.get(req.params["webhook_token"])
        if handle is None or int(req.params["webhook_id"]) != self.application_id:
            raise DiscordError(404, 10015)
        if handle.callback is None:
            raise DiscordError(
                404, 10015, "Unknown Webhook (the interaction was not acknowledged yet)"
            )
        if req.received_at - handle.created_at > self.interaction_token_lifetime:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return handle

    def _webhook_message(self, req: RecordedRequest, handle: InteractionHandle) -> SentMessage:
        if "message_id" not in req.params:
            if handle.original is None or handle.original_deleted:
                raise DiscordError(404, 10008)
            return handle.original
        mid = int(req.params["message_id"])
        for message in [handle.original, *handle.followup_messages]:
            if message is not None and message.id == mid and not message.deleted:
                return message
        raise DiscordError(404, 10008)

    async def _followup_create(self, req: RecordedRequest) -> tuple[int, Any]:
        handle = self._webhook_handle(req)
        original = handle.original
        if (
            handle.callback is not None
            and handle.callback.type == 5
            and original is not None
            and original.flags & FLAG_LOADING
        ):
            # Discord turns the first followup after a deferred response into the original message.
            self._apply_edit(original, req)
            message = original
        else:
            flags = int((req.json or {}).get("flags") or 0)
            message = self._create_message(
                req, handle.channel_id, source="followup", flags=flags, handle=handle
            )
        handle.followup_messages.append(message)
        if req.query.get("wait", "").lower() in ("1", "true"):
            return 200, message.message
        return 204, None

    async def _wh_get(self, req: RecordedRequest) -> tuple[int, Any]:
        handle = self._webhook_handle(req)
        return 200, self._webhook_message(req, handle).message

    async def _wh_edit(self, req: RecordedRequest) -> tuple[int, Any]:
        handle = self._webhook_handle(req)
        message = self._webhook_message(req, handle)
        self._apply_edit(message, req)
        if "message_id" not in req.params or message is handle.original:
            handle.original_edits.append(dict(req.json or {}))
        return 200, message.message

    async def _wh_delete(self, req: RecordedRequest) -> tuple[int, Any]:
        handle = self._webhook_handle(req)
        message = self._webhook_message(req, handle)
        message.deleted = True
        if message is handle.original:
            handle.original_deleted = True
        return 204, None

    # ----------------------------------------------------------------- gateway

    async def _send(self, conn: _Connection, payload: Mapping[str, Any]) -> None:
        async with conn.lock:
            if not conn.ws.closed:
                await conn.ws.send_str(json.dumps(payload))

    async def _dispatch_to(self, conn: _Connection, event: str, data: Any) -> None:
        assert conn.session is not None
        conn.session.seq += 1
        await self._send(conn, {"op": 0, "t": event, "s": conn.session.seq, "d": data})

    def _intents(self) -> int:
        return int(self.identify_payloads[-1].get("intents") or 0) if self.identify_payloads else 0

    def _announce(self, event: str, data: dict[str, Any]) -> None:
        """Queue a world-change event for a connected bot; sent before the next dispatch."""
        if self.identify_payloads:
            self._pending_events.append((event, data))

    async def flush_events(self) -> None:
        """Send queued world-change events (new roles, channels, members) to the bot now."""
        pending, self._pending_events = self._pending_events, []
        for event, data in pending:
            await self._dispatch_live(event, data)

    def _receives(self, conn: _Connection, data: Any) -> bool:
        """Tell whether an event goes to CONN: its guild's shard, or shard 0 without a guild."""
        raw = data.get("guild_id") if isinstance(data, Mapping) else None
        shard_id, count = conn.shard
        return shard_of(int(raw) if raw else None, count) == shard_id

    async def _dispatch_live(self, event: str, data: Any) -> None:
        for conn in [c for c in self._connections if c.session is not None and not c.ws.closed
                     and self._receives(c, data)]:
            try:
                await self._dispatch_to(conn, event, data)
            except (ConnectionError, RuntimeError):
                log.debug("gateway connection closed while sending %s", event)

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a DISPATCH event to every identified connection (waiting up to 5s for one)."""
        if not self.connected:
            await self.wait_for(
                lambda: self.connected, timeout=5.0, what=f"a bot connection to receive {event}"
            )
        await self.flush_events()
        await self._dispatch_live(event, data)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and RESUMEs."""
        for conn in list(self._connections):
            await self._send(conn, {"op": 7, "d": None, "s": None, "t": None})

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway connection with a close code (4000 lets discord.py resume)."""
        for conn in list(self._connections):
            await conn.ws.close(code=code, message=b"stand-in dropped the connection")

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws=ws, query=dict(request.query))
        self._connections.append(conn)
        try:
            await self._send(
                conn,
                {
                    "op": 10,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                },
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_message(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._connections.remove(conn)
            self._changed_now()
        return ws

    async def _on_gateway_message(self, conn: _Connection, msg: Mapping[str, Any]) -> None:
        self.gateway_received.append(dict(msg))
        op, data = msg.get("op"), msg.get("d")
        if op == 1:
            await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 3:
            self.presence_updates.append(dict(data or {}))
        elif op == 8:
            await self._member_chunk(conn, data or {})
        self._changed_now()

    async def _identify(self, conn: _Connection, data: Mapping[str, Any]) -> None:
        self.identify_payloads.append(dict(data))
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = _Session(session_id=secrets.token_hex(16))
        self._sessions[session.session_id] = session
        conn.session = session
        shard = data.get("shard") or (0, 1)
        conn.shard = session.shard = (int(shard[0]), int(shard[1]))
        guilds = [gid for gid in self.guilds if shard_of(gid, conn.shard[1]) == conn.shard[0]]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot_user,
            "user_settings": {},
            "session_type": "normal",
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
            "_trace": ['["discord-standin",{"micros":0}]'],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self._dispatch_to(conn, "READY", ready)
        for gid in guilds:
            await self._dispatch_to(conn, "GUILD_CREATE", self._guild_create_payload(gid))

    async def _resume(self, conn: _Connection, data: Mapping[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token:
            await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        for other in self._connections:
            if other.session is session:
                other.session = None  # the old socket no longer receives this session's events
        conn.session, conn.shard = session, session.shard
        await self._dispatch_to(conn, "RESUMED", {"_trace": ['["discord-standin"]']})

    async def _member_chunk(self, conn: _Connection, data: Mapping[str, Any]) -> None:
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            m
            for uid, m in self.members.items()
            if (not wanted or uid in wanted) and m["user"]["username"].lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(self.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted if u not in self.members],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        if conn.session is not None:
            await self._dispatch_to(conn, "GUILD_MEMBERS_CHUNK", chunk)

    # ----------------------------------------------------------------- interactions

    def _interaction_member(self, user_id: int, permissions: int | None) -> dict[str, Any]:
        member = dict(self.members[user_id])
        member["permissions"] = str(
            self.permissions_of(user_id) if permissions is None else permissions
        )
        return member

    def _lookup_command(
        self, name: str, guild_id: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        if guild_id is not None:
            for command in self.guild_commands.get(guild_id, []):
                if command["name"] == name and command["type"] == 1:
                    return command, guild_id
        for command in self.global_commands:
            if command["name"] == name and command["type"] == 1:
                return command, None
        return None, None

    def _option_value(
        self, kind: int, value: Any, resolved: dict[str, dict[str, Any]], in_guild: bool
    ) -> Any:
        if kind == 3:
            return str(value)
        if kind == 4:
            return int(value)
        if kind == 5:
            return bool(value)
        if kind == 10:
            return float(value) if not isinstance(value, int) else value
        if kind == 11:
            blob = value if isinstance(value, StandinAttachment) else self._blobs[int(value)]
            resolved.setdefault("attachments", {})[str(blob.id)] = blob.payload()
            return str(blob.id)
        ident = int(value["id"]) if isinstance(value, Mapping) else int(value)
        if kind == 9:
            kind = 6 if ident in self.users else 8
        if kind == 6:
            if ident not in self.users:
                raise ValueError(
                    f"user option value {ident} is not a stand-in user (use make_user)"
                )
            resolved.setdefault("users", {})[str(ident)] = self.users[ident]
            if in_guild and ident in self.members:
                member = {
                    k: v for k, v in self._interaction_member(ident, None).items() if k != "user"
                }
                resolved.setdefault("members", {})[str(ident)] = member
        elif kind == 7:
            channel = dict(self._channel(ident))
            channel["permissions"] = str(BOT_PERMISSIONS)
            resolved.setdefault("channels", {})[str(ident)] = channel
        elif kind == 8:
            if ident not in self.roles:
                raise ValueError(f"role option value {ident} is not a stand-in role (use add_role)")
            resolved.setdefault("roles", {})[str(ident)] = self.roles[ident]
        return str(ident)

    def _leaf_options(
        self,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        definitions: Sequence[Mapping[str, Any]] | None,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        in_guild: bool,
    ) -> list[dict[str, Any]]:
        if options is None:
            return []
        if not isinstance(options, Mapping):
            return [dict(o) for o in options]
        known = {d["name"]: d for d in definitions or []}
        out = []
        for name, value in options.items():
            if definitions is not None and name not in known:
                raise ValueError(
                    f"option {name!r} is not in the registered command; it has {sorted(known)}"
                )
            if isinstance(value, Mapping) and "type" in value and "username" not in value:
                option = {"name": name, **value}
            else:
                kind = int(known[name]["type"]) if name in known else _infer_option_type(value)
                if name == focused:
                    option = {"name": name, "type": kind, "value": value}
                else:
                    option = {
                        "name": name,
                        "type": kind,
                        "value": self._option_value(kind, value, resolved, in_guild),
                    }
            if name == focused:
                option["focused"] = True
            out.append(option)
        if focused is not None and focused not in options:
            raise ValueError(
                f"focused option {focused!r} is not among the options {sorted(options)}"
            )
        return out

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        focused: str | None,
        guild_id: int | None,
    ) -> dict[str, Any]:
        top, *path = name.split()
        registered, command_guild = self._lookup_command(top, guild_id)
        if registered is not None:
            command_id = registered["id"]
            definitions: list[dict[str, Any]] | None = registered.get("options") or []
        else:
            command_id = str(self._phantom_command_ids.setdefault(top, self._snowflake()))
            definitions = None
        wrappers: list[tuple[str, int]] = []
        for depth, sub in enumerate(path):
            if definitions is not None:
                found = next(
                    (d for d in definitions if d["name"] == sub and d["type"] in (1, 2)), None
                )
                if found is None:
                    raise ValueError(f"{top!r} has no subcommand or group {sub!r}")
                wrappers.append((sub, int(found["type"])))
                definitions = found.get("options") or []
            else:
                wrappers.append((sub, 2 if depth < len(path) - 1 else 1))
        resolved: dict[str, dict[str, Any]] = {}
        current = self._leaf_options(options, definitions, focused, resolved, guild_id is not None)
        for sub, kind in reversed(wrappers):
            wrapper: dict[str, Any] = {"name": sub, "type": kind}
            if current:
                wrapper["options"] = current
            current = [wrapper]
        data: dict[str, Any] = {"id": command_id, "name": top, "type": 1}
        if current:
            data["options"] = current
        if resolved:
            data["resolved"] = resolved
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        return data

    async def send_interaction(
        self,
        *,
        type: int = 2,
        name: str | None = None,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        focused: str | None = None,
        custom_id: str | None = None,
        component_type: int = 2,
        values: Sequence[str] | None = None,
        fields: Mapping[str, str] | None = None,
        message: SentMessage | Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        dm: bool = False,
        channel_id: int | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
        app_permissions: int = BOT_PERMISSIONS,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_SIZE_LIMIT,
        entitlements: Sequence[Mapping[str, Any]] = (),
        guild_id: int | None = None,
    ) -> InteractionHandle:
        """Send INTERACTION_CREATE to the bot and return a handle to collect its answers.

        type 2 = slash command (`name` may be "cmd sub" or "cmd group sub"; `options` maps option
        name to value, typed from the registered command or inferred), 4 = autocomplete (`focused`
        names the option being typed), 3 = component (`custom_id`, `component_type`, `values`,
        `message`), 5 = modal submit (`custom_id`, `fields` text-input custom_id -> value).
        In a guild channel by default (with `member`); `dm=True` puts it in the user's DM
        (with `user`, no guild); `guild_id` picks a guild of `add_guild` (its first channel).
        """
        user = dict(user or self.user)
        user_id = int(user["id"])
        guild_id = None if dm else guild_id or self.guild_id
        if dm:
            cid = self.dm_channel_id(user_id)
        else:
            assert guild_id is not None
            cid = channel_id or (self.channel_id if guild_id == self.guild_id
                                 else self.guild_channel_id(guild_id))
            if user_id not in self.members:
                raise ValueError(
                    f"user {user_id} is not a guild member; use dm=True or make_user(member=True)"
                )
        if type in (2, 4):
            if not name:
                raise ValueError("a command interaction needs name=")
            data = self._command_data(name, options, focused if type == 4 else None, guild_id)
        elif type == 3:
            if not custom_id:
                raise ValueError("a component interaction needs custom_id=")
            data = {"custom_id": custom_id, "component_type": component_type}
            if values is not None:
                data["values"] = list(values)
        elif type == 5:
            if not custom_id:
                raise ValueError("a modal submit needs custom_id=")
            data = {
                "custom_id": custom_id,
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                    for k, v in (fields or {}).items()
                ],
            }
        else:
            raise ValueError(f"unsupported interaction type {type}")

        iid = self._snowflake()
        channel = dict(self._channel(cid))
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type,
            "data": data,
            "token": f"standin-interaction-{secrets.token_urlsafe(24)}",
            "version": 1,
            "channel_id": str(cid),
            "channel": channel,
            "locale": locale,
            "app_permissions": str(app_permissions),
            "entitlements": [dict(e) for e in entitlements],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit,
        }
        if dm:
            payload.update(
                {
                    "user": user,
                    "context": 1,
                    "authorizing_integration_owners": {"0": "0"},
                }
            )
        else:
            channel["permissions"] = str(app_permissions)
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {
                        "id": str(guild_id),
                        "locale": self.guild["preferred_locale"],
                        "features": [],
                    },
                    "guild_locale": self.guild["preferred_locale"],
                    "member": self._interaction_member(user_id, permissions),
                    "context": 0,
                    "authorizing_integration_owners": {"0": str(guild_id)},
                }
            )
        source: SentMessage | None = None
        if message is not None:
            if isinstance(message, SentMessage):
                source, payload["message"] = message, message.message
            else:
                payload["message"] = dict(message)
                with contextlib.suppress(DiscordError, KeyError, ValueError):
                    source = self._find_message(int(message["channel_id"]), int(message["id"]))
        handle = InteractionHandle(self, payload, cid)
        handle.source_message = source
        self._interactions[iid] = handle
        self._by_token[handle.token] = handle
        await self.dispatch("INTERACTION_CREATE", payload)
        return handle

    async def send_command(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> InteractionHandle:
        """Invoke a slash command (type 2); see send_interaction for keyword arguments."""
        return await self.send_interaction(type=2, name=name, options=options, **kwargs)

    async def send_autocomplete(
        self, name: str, options: Mapping[str, Any], focused: str, **kwargs: Any
    ) -> InteractionHandle:
        """Send an autocomplete request (type 4) with `focused` being typed."""
        return await self.send_interaction(
            type=4, name=name, options=options, focused=focused, **kwargs
        )

    async def send_component(
        self, custom_id: str, *, message: SentMessage | Mapping[str, Any] | None, **kwargs: Any
    ) -> InteractionHandle:
        """Click a component (type 3) on a message the bot sent."""
        return await self.send_interaction(type=3, custom_id=custom_id, message=message, **kwargs)

    async def send_modal_submit(
        self, custom_id: str, fields: Mapping[str, str], **kwargs: Any
    ) -> InteractionHandle:
        """Submit a modal (type 5) with text-input values."""
        return await self.send_interaction(type=5, custom_id=custom_id, fields=fields, **kwargs)

    async def send_user_message(
        self,
        content: str,
        *,
        user: Mapping[str, Any] | None = None,
        channel_id: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE as if a user wrote `content`; return the message object."""
        user = dict(user or self.user)
        user_id = int(user["id"])
        cid = self.dm_channel_id(user_id) if dm else channel_id or self.channel_id
        message: dict[str, Any] = {
            "id": str(self._snowflake()),
            "type": 0,
            "channel_id": str(cid),
            "author": user,
            "content": content,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "timestamp": self._timestamp(),
            "edited_timestamp": None,
            "flags": 0,
        }
        if not dm:
            message["guild_id"] = str(self.guild_id)
            message["member"] = {k: v for k, v in self.members[user_id].items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", message)
        return message
