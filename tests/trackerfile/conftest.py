"""Fixtures of the tracker-file tests: the data commands, a third learner, a second plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actors import Actor
from bot.commands import Commands
from bot.data_commands import DataCommands, register_commands
from bot.plan import PlanRegistry
from tests.trackerfile.learners import MINI_PLAN


@pytest.fixture
def dc(commands: Commands) -> DataCommands:
    return register_commands(commands)


@pytest.fixture
def carol() -> Actor:
    return Actor("console", "carol", "Carol", space_id="console")


@pytest.fixture
def mini_plans(tmp_path: Path) -> PlanRegistry:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "mini.toml").write_text(MINI_PLAN, encoding="utf-8")
    return PlanRegistry.load([folder])
