"""The base of every feature service: the shared context and the unit of work."""

from __future__ import annotations

from bot.services.context import Context
from bot.services.units import Units


class Service:
    """Hold the context and the units every feature service writes through."""

    def __init__(self, ctx: Context, units: Units) -> None:
        self.ctx = ctx
        self.units = units
