"""Shared by the cogs: who is asking, and how a core Reply becomes embeds on Discord.

Visibility rules: in a direct message everything is a normal message. In a server channel,
errors and private data are ephemeral; /log and /done (``Reply.shareable``) post publicly when
the learner's ``public_posts`` is on (the outcome's ``public``: data in hand, no second read);
celebrations are shown publicly to the channel when the learner posts publicly; notices are
always private. No message ever pings anyone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.actors import Actor
from bot.discord.pacing import DEFERRED_KEY, Pacing
from bot.presenting import present
from bot.replies import Reply
from bot.services import suggestions
from bot.services.suggestions import Suggestion

if TYPE_CHECKING:
    from bot.app import Core
    from bot.services import Services

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
COLOR_INFO = 0x5865F2
COLOR_CELEBRATE = 0xF1C40F
COLOR_ERROR = 0xED4245
COLOR_NOTICE = 0x95A5A6
EMBED_TEXT_MAX = 4000  # Discord allows 4096 per description; keep room for re-opened fences
MESSAGE_EMBED_CHARS = 5800  # Discord allows 6000 characters over all embeds of a message
EMBEDS_PER_MESSAGE = 10
TITLE_MAX = 256
T = TypeVar("T")


def actor_of(interaction: discord.Interaction) -> Actor:
    """Translate the interaction's user and place into the core's Actor."""
    user = interaction.user
    return Actor(
        platform=PLATFORM,
        external_id=str(user.id),
        display_name=user.display_name,
        space_id=str(interaction.guild_id) if interaction.guild_id else None,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
    )


def actor_of_user(user: discord.abc.User, interaction: discord.Interaction) -> Actor:
    """Build the Actor of another user named in an option (a partner), in this place."""
    return Actor(PLATFORM, str(user.id), user.display_name,
                 space_id=str(interaction.guild_id) if interaction.guild_id else None,
                 channel_id=None)


def core_of(interaction: discord.Interaction) -> Core:
    """Return the Core the PacerBot carries."""
    return interaction.client.core  # type: ignore[attr-defined,no-any-return]


def services_of(interaction: discord.Interaction) -> Services:
    """Return the typed services of the PacerBot's Core."""
    return core_of(interaction).services


def pacing_of(interaction: discord.Interaction) -> Pacing:
    """Return the Pacing the PacerBot runs commands through."""
    return interaction.client.pacing  # type: ignore[attr-defined,no-any-return]


def choices(found: Iterable[Suggestion]) -> list[app_commands.Choice[str]]:
    """Turn core suggestions into at most 25 autocomplete choices."""
    return [app_commands.Choice(name=s.label, value=s.value) for s in found][:25]


async def week_choices(interaction: discord.Interaction,
                       current: str) -> list[app_commands.Choice[int]]:
    """Offer the weeks of the learner's plan (the default plan before /start)."""
    plan = await suggestions.plan_of(services_of(interaction).ctx, actor_of(interaction))
    weeks = [n for n in range(1, plan.weeks + 1) if str(n).startswith(current.strip())]
    return [app_commands.Choice(name=f"Week {n}", value=n) for n in weeks][:25]


# --- text to embeds ---------------------------------------------------------------------


def split_text(text: str, limit: int = EMBED_TEXT_MAX) -> list[str]:
    """Split TEXT at line breaks into chunks of at most LIMIT, re-opening cut code fences."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0  # length of "\n".join(current) + 1
    fence: str | None = None
    step = max(limit - 24, 1)  # room for a re-opened fence line and a closing one
    for line in text.split("\n"):
        pieces = [line[i:i + step] for i in range(0, len(line), step)] or [""]
        for piece in pieces:
            closing = 4 if fence is not None else 0
            if current and size + len(piece) + closing > limit:
                if fence is not None:
                    current.append("```")
                chunks.append("\n".join(current))
                current = [fence] if fence is not None else []
                size = sum(len(c) + 1 for c in current)
            current.append(piece)
            size += len(piece) + 1
            if piece.lstrip().startswith("```"):
                fence = None if fence is not None else piece.strip()
    if current:
        chunks.append("\n".join(current))
    return chunks


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)


def text_embeds(text: str, *, title: str | None = None, color: int = COLOR_INFO,
                author: str | None = None) -> list[discord.Embed]:
    """Build one embed per chunk of TEXT; the first carries the title and author."""
    out = []
    for index, chunk in enumerate(split_text(text or "—")):
        embed = discord.Embed(description=chunk, color=color)
        if index == 0:
            if title:
                embed.title = title[:TITLE_MAX]
            if author:
                embed.set_author(name=author[:TITLE_MAX])
        out.append(embed)
    return out


def error_embed(text: str) -> discord.Embed:
    """Build the red embed every error message uses."""
    return text_embeds(text[:EMBED_TEXT_MAX], color=COLOR_ERROR)[0]


def celebration_embed(reply: Reply, author: str | None = None) -> discord.Embed | None:
    """Build the gold embed announcing newly reached milestones, if any."""
    if not reply.celebrations:
        return None
    lines = [f"🎉 **{c.kind.capitalize()}**: {c.title} ({c.reached_on.isoformat()})"
             for c in reply.celebrations]
    title = "Milestone reached!" if len(lines) == 1 else f"{len(lines)} milestones reached!"
    return text_embeds("\n".join(lines), title=title, color=COLOR_CELEBRATE,
                       author=author)[0]


def notices_embed(reply: Reply) -> discord.Embed | None:
    """Build the grey embed listing notices (failed deliveries...), if any."""
    if not reply.notices:
        return None
    return text_embeds("\n".join(f"ℹ️ {n}" for n in reply.notices), title="Notices",
                       color=COLOR_NOTICE)[0]


def pack(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages within Discord's per-message count and size limits."""
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        n = _embed_size(embed)
        if current and (len(current) >= EMBEDS_PER_MESSAGE or size + n > MESSAGE_EMBED_CHARS):
            messages.append(current)
            current, size = [], 0
        current.append(embed)
        size += n
    if current:
        messages.append(current)
    return messages


def to_file(reply: Reply) -> discord.File | None:
    """Turn the reply's attachment into a discord.File."""
    if reply.attachment is None:
        return None
    return discord.File(io.BytesIO(reply.attachment.data), filename=reply.attachment.filename,
                        description=reply.attachment.description or None)


# --- sending ----------------------------------------------------------------------------


async def send(interaction: discord.Interaction, embeds: Sequence[discord.Embed], *,
               ephemeral: bool, file: discord.File | None = None,
               view: discord.ui.View | None = None) -> None:
    """Send one message: the interaction's answer if none was sent yet, else a followup."""
    dm = interaction.guild_id is None
    kwargs: dict[str, Any] = {"embeds": list(embeds), "ephemeral": ephemeral and not dm,
                              "allowed_mentions": NO_MENTIONS}
    if file is not None:
        kwargs["file"] = file
    if view is not None:
        kwargs["view"] = view
    if not interaction.response.is_done():
        await interaction.response.send_message(**kwargs)
    else:
        await interaction.followup.send(**kwargs)


async def send_many(interaction: discord.Interaction, embeds: Sequence[discord.Embed], *,
                    ephemeral: bool, file: discord.File | None = None,
                    view: discord.ui.View | None = None) -> None:
    """Send embeds over as many messages as the limits need; the file rides on the first."""
    groups = pack(embeds)
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        await send(interaction, group, ephemeral=ephemeral,
                   file=file if index == 0 else None, view=view if last else None)


async def paced(interaction: discord.Interaction, work: Awaitable[T]) -> T:
    """Await WORK in the bot's pacing: in turn, deferred whenever its answer could be late."""
    return await pacing_of(interaction).run(interaction, work)


async def respond(interaction: discord.Interaction, work: Awaitable[Any], *,
                  view: discord.ui.View | None = None) -> Reply:
    """Run a service call within Discord's answer window and show ``present(outcome)``."""
    shown: list[Reply] = []

    async def answer(outcome: Any) -> None:
        shown.append(present(outcome))
        await show(interaction, shown[0], view=view)

    await pacing_of(interaction).run(interaction, work, answer)
    return shown[0]


async def show(interaction: discord.Interaction, reply: Reply, *,
               view: discord.ui.View | None = None) -> None:
    """Show a Reply with the visibility rules of this module."""
    actor = actor_of(interaction)
    in_guild = interaction.guild_id is not None
    posts_publicly = in_guild and reply.public
    if reply.error:
        public = False
    elif reply.shareable:
        public = posts_publicly
    else:
        public = not reply.private
    public = public and in_guild
    author = actor.display_name if public else None
    main = text_embeds(reply.text, title=reply.title, author=author,
                       color=COLOR_ERROR if reply.error else COLOR_INFO)
    celebration = celebration_embed(reply, author=actor.display_name if in_guild else None)
    notices = notices_embed(reply)
    extra_public: list[discord.Embed] = []
    extra_private: list[discord.Embed] = []
    if celebration is not None:
        if public or not in_guild or not posts_publicly:
            main.append(celebration)
        else:
            extra_public.append(celebration)  # a private answer, but a milestone is news
    if notices is not None:
        (extra_private if public else main).append(notices)

    ephemeral_main = in_guild and not public
    file = to_file(reply)
    if public and interaction.extras.get(DEFERRED_KEY):
        # The deferred answer is ephemeral; say where the public post went, then post it.
        await send(interaction, text_embeds("Posted in this channel.", color=COLOR_NOTICE),
                   ephemeral=True)
    await send_many(interaction, main, ephemeral=ephemeral_main, file=file, view=view)
    if extra_public:
        await send_many(interaction, extra_public, ephemeral=False)
    if extra_private:
        await send_many(interaction, extra_private, ephemeral=True)
