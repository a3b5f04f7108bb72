"""The registry of loaded plans: the built-in ones and those of the configured folders."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.errors import InputError, PlanError
from bot.parsing import quote_input
from bot.plan.loading import load_plan
from bot.plan.model import BUILTIN_PLAN_DIR, DEFAULT_PLAN_ID, Plan

log = logging.getLogger(__name__)

# --- the registry ------------------------------------------------------------------------


class PlanRegistry:
    """The plans a deployment offers: the built-in ones plus those of configured folders."""

    def __init__(self, plans: Iterable[Plan], default_id: str = DEFAULT_PLAN_ID) -> None:
        self._plans: dict[str, Plan] = {}
        for plan in plans:
            if plan.id in self._plans:
                first = self._plans[plan.id].source
                raise PlanError(
                    f"{plan.source.name if plan.source else plan.id}: plan id \"{plan.id}\" is "
                    f"already used by {first if first else 'another plan'}"
                )
            self._plans[plan.id] = plan
        if default_id not in self._plans:
            known = ", ".join(sorted(self._plans)) or "none"
            raise PlanError(f'default plan "{default_id}" is not among the loaded plans '
                            f"({known})")
        self.default_id = default_id

    @classmethod
    def load(cls, extra_dirs: Sequence[Path | str] = (), *, default_id: str = DEFAULT_PLAN_ID,
             builtin_dir: Path = BUILTIN_PLAN_DIR) -> PlanRegistry:
        """Load ``builtin_dir/*.toml`` and every ``*.toml`` of `extra_dirs` (which must exist)."""
        plans: list[Plan] = []
        for directory in (Path(builtin_dir), *(Path(d) for d in extra_dirs)):
            if not directory.is_dir():
                raise PlanError(f"{directory}: plan folder does not exist")
            for path in sorted(directory.glob("*.toml")):
                plans.append(load_plan(path))
        registry = cls(plans, default_id)
        log.info("plans loaded: %s (default %s)", ", ".join(registry.ids()), default_id)
        return registry

    def get(self, plan_id: str) -> Plan:
        """Return the plan with this id (case-insensitive); InputError listing the known ids."""
        key = plan_id.strip().casefold()
        for ident, plan in self._plans.items():
            if ident == key:
                return plan
        raise InputError(f"No plan called {quote_input(plan_id.strip())}. "
                         f"Known plans: {', '.join(self.ids())}.")

    def ids(self) -> tuple[str, ...]:
        """Return the plan ids, sorted."""
        return tuple(sorted(self._plans))

    def all(self) -> tuple[Plan, ...]:
        """Return every plan, sorted by id."""
        return tuple(self._plans[i] for i in self.ids())

    @property
    def default(self) -> Plan:
        """Return the default plan."""
        return self._plans[self.default_id]

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._plans

    def __len__(self) -> int:
        return len(self._plans)

