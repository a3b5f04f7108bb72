"""The data rights of every learner: /export, /import and /forget-me.

``core.services.data`` is the ``DataService`` object whose methods the fronts call (the
Discord cog with attachment bytes, the line grammar with paths on the console):

- ``await dc.export(actor, "markdown" | "json" | "csv") -> Reply`` (``reply.attachment``);
- ``await dc.preview_import(actor, data, filename) -> (Reply, token | None)``, then
  ``await dc.confirm_import(actor, token)`` or ``await dc.cancel_import(actor)``;
- ``await dc.forget_me(actor) -> (Reply, token)``, then ``await dc.forget_me_confirm(actor,
  token)``.

Pending imports and deletions are kept in memory for ``PENDING_MINUTES`` per person (the
newest replaces an older one); after a restart the person simply runs the command again.
Paths are read and written only for the console front, which runs on the operator's machine.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.actors import Actor
from bot.data_rights import forget_me as forget_rows
from bot.data_rights import holdings
from bot.errors import InputError, StateError
from bot.outcomes import Imported
from bot.parsing import quote_input
from bot.plan import Plan
from bot.replies import Attachment, Reply
from bot.services.context import Context
from bot.snapshot import LearnerData, load_one
from bot.trackerfile import (
    MAX_BYTES,
    ImportPlan,
    collect,
    export_filename,
    filenames,
    render_markdown,
    to_csv_zip,
    to_json,
)
from bot.trackerfile.apply import apply_import, prepare_import

log = logging.getLogger(__name__)

PENDING_MINUTES = 10
FORMATS = ("markdown", "json", "csv")
FORMAT_ALIASES = {"md": "markdown", "markdown": "markdown", "json": "json", "csv": "csv",
                  "zip": "csv"}
CONSOLE = "console"

USAGE_LINES = {
    "export": "/export [markdown|json|csv] [PATH]   (the console writes the file to PATH)",
    "import": "/import PATH | /import confirm | /import cancel   (Discord: attach the .md file)",
    "forget-me": "/forget-me | /forget-me confirm   (deletes everything Pacer stores about you)",
}


@dataclass
class _Pending:
    token: str
    expires: datetime
    payload: Any


def _who(actor: Actor) -> tuple[str, str]:
    return actor.platform, actor.external_id


class DataService:
    """Export, import and forget-me for one tracker; pending confirmations live in memory."""

    def __init__(self, tracker: Context, pending_minutes: int = PENDING_MINUTES) -> None:
        self.tracker = tracker
        self.ttl = timedelta(minutes=pending_minutes)
        self._imports: dict[tuple[str, str], _Pending] = {}
        self._forgets: dict[tuple[str, str], _Pending] = {}

    # --- export --------------------------------------------------------------------------

    async def snapshot(self, actor: Actor) -> tuple[LearnerData, Plan, date]:
        """Load the learner's tracker without consuming their notices."""
        async with self.tracker.store.read() as session:
            row = await self.tracker.learner(session, actor)
            data = await load_one(session, row.id)
            return data, self.tracker.plan_for(row), self.tracker.today_for(row)

    async def export_file(self, actor: Actor, fmt: str = "markdown") -> Attachment:
        """Build the export file of one format."""
        kind = FORMAT_ALIASES.get(fmt.strip().lower())
        if kind is None:
            raise InputError(f"{quote_input(fmt)} is not an export format; use markdown, json "
                             "or csv.")
        if kind == "markdown":
            data, plan, today = await self.snapshot(actor)
            text = render_markdown(data, plan, today)
            return Attachment(export_filename(plan, today), text.encode("utf-8"),
                              f"{plan.title}, filled in on {today.isoformat()}")
        now = self.tracker.now()
        async with self.tracker.store.read() as session:
            bundle = await collect(session, actor.platform, actor.external_id, now)
        today = now.date()
        if bundle.tables["learners"]:
            learner = bundle.tables["learners"][0]
            today = self.tracker.today_for(_Zone(learner["timezone"], learner["day_start_hour"]))
        name = filenames(today)[kind]
        if kind == "json":
            return Attachment(name, to_json(bundle), "Everything Pacer stores about you (JSON)")
        return Attachment(name, to_csv_zip(bundle),
                          "Everything Pacer stores about you (one CSV per table)")

    async def export(self, actor: Actor, fmt: str = "markdown") -> Reply:
        """Reply with the export as an attachment."""
        file = await self.export_file(actor, fmt)
        return Reply(f"Here is your export: {file.filename} ({len(file.data)} bytes). "
                     "docs/export-format.md describes every field.",
                     title="Export", attachment=file)

    # --- import ----------------------------------------------------------------------------

    async def preview_import(self, actor: Actor, data: bytes,
                             filename: str) -> tuple[Reply, str | None]:
        """Read an uploaded tracker and say what it would change; nothing is written yet."""
        plan = await prepare_import(self.tracker, actor, data, filename)
        if not plan.changes:
            self._imports.pop(_who(actor), None)
            return Reply(plan.preview(), title="Import: nothing to change"), None
        token = secrets.token_hex(4)
        self._imports[_who(actor)] = _Pending(token, self.tracker.now() + self.ttl, plan)
        text = (plan.preview() + f"\n\nConfirm within {int(self.ttl.total_seconds() // 60)} "
                "minutes with `/import confirm` (or the button), or drop it with "
                "`/import cancel`.")
        return Reply(text, title="Import preview", data={"token": token,
                                                          "changes": len(plan.changes)}), token

    def _take(self, store: dict[tuple[str, str], _Pending], actor: Actor, token: str | None,
              what: str, again: str) -> Any:
        pending = store.get(_who(actor))
        if pending is None or pending.expires <= self.tracker.now():
            store.pop(_who(actor), None)
            raise StateError(f"No {what} is waiting for your confirmation (previews last "
                             f"{int(self.ttl.total_seconds() // 60)} minutes). {again}")
        if token is not None and token != pending.token:
            raise StateError(f"That {what} was replaced by a newer one; confirm the newest "
                             f"or start again. {again}")
        del store[_who(actor)]
        return pending.payload

    async def confirm_import(self, actor: Actor, token: str | None = None) -> Imported:
        """Apply the pending import in one transaction (one /undo reverts it)."""
        plan: ImportPlan = self._take(self._imports, actor, token, "import",
                                      "Upload the file again with /import.")
        return await apply_import(self.tracker, actor, plan)

    async def cancel_import(self, actor: Actor) -> Reply:
        """Drop the pending import."""
        if self._imports.pop(_who(actor), None) is None:
            raise StateError("No import is waiting; nothing to cancel.")
        return Reply("Import cancelled; nothing was changed.", title="Import")

    # --- forget-me --------------------------------------------------------------------------

    async def forget_me(self, actor: Actor) -> tuple[Reply, str]:
        """Say what would be deleted and ask for confirmation."""
        counts = await holdings(self.tracker.store, actor)
        if not counts:
            raise StateError("Pacer stores nothing about you; there is nothing to delete.")
        token = secrets.token_hex(4)
        self._forgets[_who(actor)] = _Pending(token, self.tracker.now() + self.ttl, counts)
        listed = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items())
        text = ("This deletes everything Pacer stores about you — " + listed + " — including "
                "partner links. It cannot be undone; `/export json` first if you want a copy.\n"
                f"Confirm within {int(self.ttl.total_seconds() // 60)} minutes with "
                "`/forget-me confirm` (or the button).")
        return Reply(text, title="Forget me?", data={"token": token, "counts": counts}), token

    async def forget_me_confirm(self, actor: Actor, token: str | None = None) -> Reply:
        """Delete everything stored about the actor after their confirmation."""
        self._take(self._forgets, actor, token, "deletion", "Run /forget-me first.")
        counts = await forget_rows(self.tracker.store, actor)
        self._imports.pop(_who(actor), None)
        total = sum(counts.values())
        return Reply(f"Done: {total} stored rows about you were deleted, partner links "
                     "included. Pacer no longer knows you; /start begins afresh.",
                     title="Forgotten", data={"deleted": counts})

    # --- the line grammar (console, Slack) ---------------------------------------------------

    async def line_export(self, actor: Actor, args: list[str]) -> Reply:
        fmt = args[0] if args else "markdown"
        if len(args) > 2:
            raise InputError(f"Usage: `{USAGE_LINES['export']}`")
        reply = await self.export(actor, fmt)
        if actor.platform == CONSOLE and reply.attachment is not None:
            target = args[1] if len(args) > 1 else reply.attachment.filename
            path = await asyncio.to_thread(_write_file, target, reply.attachment)
            reply.text = f"Wrote {path} ({len(reply.attachment.data)} bytes)."
        elif len(args) > 1:
            raise InputError("A path is only for the console; here the file comes as an "
                             "attachment.")
        return reply

    async def line_import(self, actor: Actor, args: list[str]) -> Reply:
        if not args:
            raise InputError(f"Usage: `{USAGE_LINES['import']}`")
        sub = args[0].lower()
        if sub == "confirm" and len(args) <= 2:
            return await self.confirm_import(actor, args[1] if len(args) > 1 else None)
        if sub == "cancel" and len(args) == 1:
            return await self.cancel_import(actor)
        if actor.platform != CONSOLE:
            raise InputError("Attach your tracker's .md file to /import; paths are read only "
                             "on the console.")
        name, data = await asyncio.to_thread(_read_file, " ".join(args))
        reply, _token = await self.preview_import(actor, data, name)
        return reply

    async def line_forget(self, actor: Actor, args: list[str]) -> Reply:
        if not args:
            reply, _token = await self.forget_me(actor)
            return reply
        if [a.lower() for a in args] == ["confirm"]:
            return await self.forget_me_confirm(actor)
        raise InputError(f"Usage: `{USAGE_LINES['forget-me']}`")


def _write_file(target: str, file: Attachment) -> Path:
    """Write an export where the console user asked (a folder gets the file's own name)."""
    path = Path(target).expanduser()
    if path.is_dir():
        path = path / file.filename
    try:
        path.write_bytes(file.data)
    except OSError as exc:
        raise InputError(f"Cannot write {path}: {exc.strerror}.") from None
    return path


def _read_file(target: str) -> tuple[str, bytes]:
    """Read a tracker file for the console, refusing to read more than the import limit."""
    path = Path(target).expanduser()
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # enough for the importer to refuse a larger file
    except FileNotFoundError:
        raise InputError(f"There is no file {quote_input(str(path), 80)}.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {quote_input(str(path), 80)}: {exc.strerror}.") from None
    return path.name, data


@dataclass(frozen=True)
class _Zone:
    timezone: str
    day_start_hour: int
