"""The Discord front's glue: everything the cogs share, and nothing of any cog.

- ``client``: ``PacerBot``, ``create_bot``, ``run_discord`` (cogs are loaded by name)
- ``sync``: ``python -m bot sync`` / ``/pacer sync`` and the invite URL
- ``replies``: who is asking (``actor_of``) and how a Reply becomes embeds, and its visibility
- ``transformers``: slash-command options converted by the pure parsers of ``bot.parsing``
- ``errors``: the one error path (domain message, or an apology with an error id)
- ``buttons``: persistent buttons, parsed once into typed actions
- ``pacing``: every interaction answered within Discord's 3 s, however many arrive
- ``ratelimit``: one limiter for every REST request (Discord's global 50/s)
- ``sender``: the dispatcher's DMs and fallback posts, one request per DM
"""

from bot.discord.client import PacerBot, create_bot, run_discord
from bot.discord.sync import invite_from_cli, sync_commands, sync_from_cli

__all__ = ["PacerBot", "create_bot", "invite_from_cli", "run_discord", "sync_commands",
           "sync_from_cli"]
