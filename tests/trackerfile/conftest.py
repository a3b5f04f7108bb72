"""Fixtures of the tracker-file tests: the data service, a third learner, a second plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actors import Actor
from bot.plan import PlanRegistry
from bot.services import Services
from bot.services.data import DataService
from tests.trackerfile.learners import MINI_PLAN


@pytest.fixture
def dc(services: Services) -> DataService:
    return services.data


@pytest.fixture
def carol() -> Actor:
    return Actor("console", "carol", "Carol", space_id="console")


@pytest.fixture
def mini_plans(tmp_path: Path) -> PlanRegistry:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "mini.toml").write_text(MINI_PLAN, encoding="utf-8")
    return PlanRegistry.load([folder])
