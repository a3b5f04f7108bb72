"""A loopback stand-in for Slack: the Web API methods Pacer calls, response URLs, Socket Mode.

It behaves like Slack where Pacer depends on it: every method checks the token (``invalid_auth``
/ ``not_authed``) and its required arguments (``missing_argument``), unknown users and channels
are refused as Slack refuses them, ``chat.postMessage`` allows one message per second per
channel (a faster one is answered 429 with ``Retry-After`` and not recorded), and a test can
make the next calls of a method answer 429. Socket Mode: ``apps.connections.open`` (app token)
returns a ``ws://`` URL; the socket says ``hello``; ``send_envelope`` sends a request and waits
for its acknowledgement. Everything received is recorded for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-bot-token-000000"
APP_TOKEN = "xapp-1-test-app-token-000000"
SIGNING_SECRET = "test-signing-secret-0123456789"
TEAM_ID = "T0PACER"
BOT_USER = "UBOTPACER"
POST_INTERVAL = 0.9  # Slack: about one message per second per channel (a little slack here)

# Required arguments of each method (Slack answers missing_argument without them).
REQUIRED: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "apps.connections.open": (),
    "users.info": ("user",),
    "conversations.open": ("users",),
    "chat.postMessage": ("channel",),
    "chat.postEphemeral": ("channel", "user"),
    "chat.update": ("channel", "ts"),
    "views.publish": ("user_id", "view"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}


@dataclass
class Call:
    """One request the stand-in answered (or refused)."""

    method: str
    args: dict[str, Any]
    status: int
    error: str | None = None


@dataclass
class Envelope:
    """A Socket Mode envelope sent to the app and its acknowledgement."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    acked: asyncio.Future[dict[str, Any]]
    sent_at: float
    acked_at: float | None = None


@dataclass
class User:
    id: str
    name: str
    tz: str | None = "Europe/Berlin"
    is_bot: bool = False
    messages_tab: bool = True  # False: the app's DM is closed to this user


@dataclass
class Channel:
    id: str
    kind: str = "channel"  # channel | im
    user: str | None = None  # the person of an im


@dataclass
class Throttle:
    remaining: int
    retry_after: int


def _json_arg(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def signed_headers(body: str, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    """Sign BODY the way Slack signs requests to an HTTP endpoint."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class SlackStandIn:
    """The stand-in's state; ``start()`` serves it on 127.0.0.1."""

    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # chat.postMessage, recorded
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)  # views.publish
    responses: list[dict[str, Any]] = field(default_factory=list)  # response_url posts
    files: list[dict[str, Any]] = field(default_factory=list)  # completed uploads
    uploads: dict[str, bytes] = field(default_factory=dict)
    pending_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds before answering
    envelopes: list[Envelope] = field(default_factory=list)
    base: str = ""
    _last_post: dict[str, float] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- set-up ---------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, tz: str | None = "Europe/Berlin") -> User:
        user = User(user_id, name, tz)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str) -> Channel:
        channel = Channel(channel_id)
        self.channels[channel_id] = channel
        return channel

    def throttle(self, method: str, times: int, retry_after: int = 1) -> None:
        """Answer the next TIMES calls of METHOD with 429 and Retry-After."""
        self.throttles[method] = Throttle(times, retry_after)

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex}"

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/link/", self._socket)
        self.users.setdefault(BOT_USER, User(BOT_USER, "pacer", None, is_bot=True))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- waiting ----------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until PREDICATE returns something truthy; return it."""
        async def until() -> Any:
            async with self._changed:
                while not (found := predicate()):
                    await self._changed.wait()
                return found
        return await asyncio.wait_for(until(), within)

    async def settle(self, seconds: float = 0.3) -> None:
        """Let in-flight work finish (to assert that nothing more arrives)."""
        await asyncio.sleep(seconds)

    # --- the Web API ------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            ctype = request.content_type
            if ctype == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        token = token or args.pop("token", None)
        return args, token

    def _fail(self, method: str, args: dict[str, Any], error: str,
              status: int = 200) -> web.Response:
        self.calls.append(Call(method, args, status, error))
        return web.json_response({"ok": False, "error": error}, status=status)

    def _ok(self, method: str, args: dict[str, Any], **data: Any) -> web.Response:
        self.calls.append(Call(method, args, 200))
        return web.json_response({"ok": True, **data})

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await self._args(request)
        try:
            return await self._answer(method, args, token)
        finally:
            await self._notify()

    async def _answer(self, method: str, args: dict[str, Any],
                      token: str | None) -> web.Response:
        if method not in REQUIRED:
            return self._fail(method, args, "unknown_method")
        if not token:
            return self._fail(method, args, "not_authed")
        wanted = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != wanted:
            return self._fail(method, args, "invalid_auth")
        missing = [a for a in REQUIRED[method] if args.get(a) in (None, "")]
        if missing:
            return self._fail(method, args, "missing_argument")
        throttle = self.throttles.get(method)
        if throttle is not None and throttle.remaining > 0:
            throttle.remaining -= 1
            self.calls.append(Call(method, args, 429, "ratelimited"))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(throttle.retry_after)})
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        handler = getattr(self, "_" + method.replace(".", "_"))
        return handler(method, args)

    def _auth_test(self, method: str, args: dict[str, Any]) -> web.Response:
        return self._ok(method, args, url="https://pacer-test.slack.com/", team="Pacer Test",
                        user="pacer", team_id=TEAM_ID, user_id=BOT_USER, bot_id="BPACER")

    def _apps_connections_open(self, method: str, args: dict[str, Any]) -> web.Response:
        ws = self.base.replace("http://", "ws://") + f"/link/?ticket={uuid.uuid4().hex}"
        return self._ok(method, args, url=ws)

    def _users_info(self, method: str, args: dict[str, Any]) -> web.Response:
        user = self.users.get(str(args["user"]))
        if user is None:
            return self._fail(method, args, "user_not_found")
        data: dict[str, Any] = {"id": user.id, "team_id": TEAM_ID, "name": user.name,
                                "is_bot": user.is_bot,
                                "profile": {"display_name": user.name.capitalize(),
                                            "real_name": user.name.capitalize()}}
        if user.tz is not None:
            data |= {"tz": user.tz, "tz_label": user.tz, "tz_offset": 3600}
        return self._ok(method, args, user=data)

    def _conversations_open(self, method: str, args: dict[str, Any]) -> web.Response:
        user = self.users.get(str(args["users"]))
        if user is None:
            return self._fail(method, args, "user_not_found")
        if user.is_bot:
            return self._fail(method, args, "cannot_dm_bot")
        channel_id = "D" + user.id[1:]
        self.channels.setdefault(channel_id, Channel(channel_id, "im", user.id))
        return self._ok(method, args, channel={"id": channel_id})

    def _has_content(self, args: dict[str, Any]) -> bool:
        return bool(args.get("text") or args.get("blocks"))

    def _chat_postMessage(self, method: str, args: dict[str, Any]) -> web.Response:
        channel = str(args["channel"])
        if channel not in self.channels:
            return self._fail(method, args, "channel_not_found")
        if not self._has_content(args):
            return self._fail(method, args, "no_text")
        im = self.channels[channel]
        if im.kind == "im" and im.user in self.users and not self.users[im.user].messages_tab:
            return self._fail(method, args, "messages_tab_disabled")
        now = time.monotonic()
        last = self._last_post.get(channel)
        if last is not None and now - last < POST_INTERVAL:
            self.calls.append(Call(method, args, 429, "ratelimited"))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "1"})
        self._last_post[channel] = now
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.messages.append({**args, "blocks": _json_arg(args.get("blocks")), "ts": ts})
        return self._ok(method, args, channel=channel, ts=ts)

    def _chat_postEphemeral(self, method: str, args: dict[str, Any]) -> web.Response:
        if str(args["channel"]) not in self.channels:
            return self._fail(method, args, "channel_not_found")
        if str(args["user"]) not in self.users:
            return self._fail(method, args, "user_not_found")
        if not self._has_content(args):
            return self._fail(method, args, "no_text")
        self.ephemerals.append({**args, "blocks": _json_arg(args.get("blocks"))})
        return self._ok(method, args, message_ts=f"{int(time.time())}.{next(self._ts):06d}")

    def _chat_update(self, method: str, args: dict[str, Any]) -> web.Response:
        found = next((m for m in self.messages if m["ts"] == args["ts"]
                      and m["channel"] == args["channel"]), None)
        if found is None:
            return self._fail(method, args, "message_not_found")
        self.updates.append({**args, "blocks": _json_arg(args.get("blocks"))})
        return self._ok(method, args, channel=args["channel"], ts=args["ts"])

    def _views_publish(self, method: str, args: dict[str, Any]) -> web.Response:
        if str(args["user_id"]) not in self.users:
            return self._fail(method, args, "user_not_found")
        view = _json_arg(args["view"])
        if not isinstance(view, dict) or view.get("type") != "home":
            return self._fail(method, args, "invalid_arguments")
        if len(view.get("blocks", [])) > 100:
            return self._fail(method, args, "invalid_blocks")
        self.views.append({"user_id": args["user_id"], "view": view})
        return self._ok(method, args, view={"id": "V" + uuid.uuid4().hex[:8], **view})

    def _files_getUploadURLExternal(self, method: str, args: dict[str, Any]) -> web.Response:
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self.pending_files[file_id] = {"filename": args["filename"],
                                       "length": int(args["length"])}
        return self._ok(method, args, upload_url=f"{self.base}/upload/{file_id}",
                        file_id=file_id)

    def _files_completeUploadExternal(self, method: str, args: dict[str, Any]) -> web.Response:
        listed = _json_arg(args["files"])
        channel = args.get("channel_id")
        if channel is not None and channel not in self.channels:
            return self._fail(method, args, "channel_not_found")
        done = []
        for entry in listed:
            file_id = entry.get("id")
            pending = self.pending_files.get(file_id)
            if pending is None or file_id not in self.uploads:
                return self._fail(method, args, "file_not_found")
            data = self.uploads[file_id]
            if len(data) != pending["length"]:
                return self._fail(method, args, "file_upload_size_mismatch")
            done.append({"id": file_id, "name": pending["filename"],
                         "title": entry.get("title"), "data": data, "channel": channel,
                         "initial_comment": args.get("initial_comment")})
        self.files += done
        return self._ok(method, args, files=[{"id": d["id"], "name": d["name"],
                                              "title": d["title"]} for d in done])

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.pending_files:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({**body, "url": str(request.url)})
        await self._notify()
        return web.Response(text="ok")

    # --- Socket Mode ------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self._sockets),
                            "debug_info": {"host": "standin"},
                            "connection_info": {"app_id": "APACER"}})
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                env = next((e for e in self.envelopes
                            if e.envelope_id == data.get("envelope_id")), None)
                if env is not None and not env.acked.done():
                    env.acked_at = time.monotonic()
                    env.acked.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    async def connected(self, within: float = 10.0) -> None:
        """Wait until the app's Socket Mode connection is open."""
        await asyncio.wait_for(self._connected.wait(), within)

    async def send_envelope(self, kind: str, payload: dict[str, Any],
                            within: float = 5.0) -> Envelope:
        """Send one Socket Mode envelope and wait for its acknowledgement."""
        await self.connected()
        env = Envelope(uuid.uuid4().hex, kind, payload, asyncio.get_running_loop().create_future(),
                       time.monotonic())
        self.envelopes.append(env)
        message: dict[str, Any] = {"envelope_id": env.envelope_id, "type": kind,
                                   "payload": payload,
                                   "accepts_response_payload": kind != "events_api",
                                   "retry_attempt": 0, "retry_reason": ""}
        await self._sockets[-1].send_json(message)
        await asyncio.wait_for(asyncio.shield(env.acked), within)
        return env

    # --- payloads ---------------------------------------------------------------------------

    def slash_payload(self, text: str, user: str, *, channel: str = "CGENERAL",
                      channel_name: str = "general", team: str = TEAM_ID) -> dict[str, str]:
        """Build what Slack sends for ``/pacer TEXT`` typed by USER in CHANNEL."""
        name = self.users[user].name if user in self.users else user
        return {"token": "deprecated-verification-token", "team_id": team,
                "team_domain": "pacer-test", "channel_id": channel, "channel_name": channel_name,
                "user_id": user, "user_name": name, "command": "/pacer", "text": text,
                "api_app_id": "APACER", "is_enterprise_install": "false",
                "response_url": self.response_url(),
                "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}"}

    def button_payload(self, action: str, user: str, *, channel: str | None = None,
                       message_ts: str | None = None, home: bool = False,
                       team: str = TEAM_ID,
                       message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build a ``block_actions`` payload: USER pressed the button of ACTION."""
        container: dict[str, Any] = (
            {"type": "view", "view_id": "VHOME"} if home else
            {"type": "message", "message_ts": message_ts or "1.0", "channel_id": channel,
             "is_ephemeral": False})
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": team, "domain": "pacer-test"},
            "user": {"id": user, "username": self.users[user].name if user in self.users
                     else user, "team_id": team},
            "api_app_id": "APACER", "token": "deprecated-verification-token",
            "container": container, "trigger_id": "1.2",
            "actions": [{"type": "button", "action_id": f"pacer:{action}", "block_id": "b1",
                         "value": action, "text": {"type": "plain_text", "text": action},
                         "action_ts": f"{time.time():.6f}"}]}
        if home:
            payload["view"] = {"id": "VHOME", "type": "home", "team_id": team}
        else:
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = ({"ts": message["ts"], "text": message.get("text"),
                                   "blocks": message.get("blocks")} if message
                                  else {"ts": message_ts or "1.0", "text": "reminder"})
            payload["response_url"] = self.response_url()
        return payload

    def home_opened_payload(self, user: str, team: str = TEAM_ID) -> dict[str, Any]:
        """Build the ``events_api`` payload of ``app_home_opened``."""
        return {"token": "deprecated-verification-token", "team_id": team,
                "api_app_id": "APACER", "type": "event_callback",
                "event_id": "Ev" + uuid.uuid4().hex[:8], "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:],
                          "tab": "home", "event_ts": f"{time.time():.6f}"}}
