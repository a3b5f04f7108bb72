"""/chart road|calendar|week on the console and on Discord: figures, files, refusals.

Alice starts Mon 30 Nov 2026 (13:00 in Berlin) with 4 h a day for 6 weeks and a target date
of Sun 31 Jan 2027, and logs 6 h. Her road: 4 h a study day, capped at the plan's 150 h on
Wed 6 Jan (37 x 4 h = 148 h), flat to the target date.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from bot.actors import Actor
from bot.grammar import Grammar
from bot.services import Services
from bot.store import Store
from tests.conftest import dump_store
from tests.discord_fixtures import World, copy_database, discord_globals_restored, start_world
from tests.standin import DiscordStandin
from tests.tracker_histories import run

PNG = b"\x89PNG\r\n\x1a\n"
START = "/start Europe/Berlin hours=4 weeks=6 target=2027-01-31"
ROAD_CAPTION = ("Logged 6h; the road is at 4h today and ends at 150h on Sun 31 Jan 2027.\n"
                "**Safety buffer**: 1 day of slack.")


@pytest.fixture
def alice() -> Actor:
    return Actor("console", "alice", "Alice", space_id="console")


@pytest.mark.parametrize(("kind", "caption"), [
    ("road", ROAD_CAPTION),
    ("calendar", "1 day since Mon 30 Nov, 1 with study, 6h in all."),
    ("week", "6h logged in the seven days to Mon 30 Nov (commitment 4h a day)."),
])
async def test_console_chart_writes_the_png_and_names_its_path(
        grammar: Grammar, alice: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        kind: str, caption: str) -> None:
    monkeypatch.chdir(tmp_path)
    await run(grammar, alice, START, "/log 6h")
    reply = await grammar.dispatch(alice, f"/chart {kind}")
    assert not reply.error, reply.text
    path = tmp_path / f"pacer-{kind}-2026-11-30.png"
    assert reply.attachment is not None
    assert reply.text == f"{caption}\nWrote {path} ({len(reply.attachment.data)} bytes)."
    assert path.read_bytes() == reply.attachment.data
    assert reply.attachment.data.startswith(PNG)
    Image.open(io.BytesIO(reply.attachment.data)).verify()


async def test_the_road_chart_is_drawn_from_the_learners_figures(
        services: Services, grammar: Grammar, alice: Actor) -> None:
    await run(grammar, alice, START, "/log 6h")
    drawn = await services.charts.chart(alice, "road")
    f = drawn.road
    assert f is not None and drawn.calendar is None and drawn.week is None
    assert (f.start, f.today, f.band) == (date(2026, 11, 30), date(2026, 11, 30), (150.0, 200.0))
    assert f.road[:2] == (4.0, 8.0) and f.road[36:38] == (148.0, 150.0)
    assert len(f.road) == 63 and f.road[-1] == 150.0  # 30 Nov - 31 Jan
    assert f.logged == (6.0,)
    # 6h in one day: 144h to go at 6h a day is 24 days, Thu 24 Dec.
    assert f.projection == ((date(2026, 11, 30), 6.0), (date(2026, 12, 24), 150.0))


BAD = [
    ("/chart pie", ('No chart "pie"', "road, calendar, week")),
    ("/chart road now", ("Usage", "/chart road|calendar|week")),
    ("/chart", ("Usage",)),
]


@pytest.mark.parametrize(("line", "words"), BAD)
async def test_bad_chart_input_is_refused_and_changes_nothing(
        grammar: Grammar, store: Store, alice: Actor, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, line: str, words: tuple[str, ...]) -> None:
    monkeypatch.chdir(tmp_path)
    await run(grammar, alice, START, "/log 6h")
    before = await dump_store(store)
    reply = await grammar.dispatch(alice, line)
    assert reply.error
    for word in words:
        assert word in reply.text, reply.text
    assert await dump_store(store) == before
    assert list(tmp_path.glob("*.png")) == []


async def test_chart_before_start_says_to_start_and_changes_nothing(
        grammar: Grammar, store: Store, alice: Actor, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = await dump_store(store)
    reply = await grammar.dispatch(alice, "/chart road")
    assert reply.error and "/start" in reply.text
    assert await dump_store(store) == before
    assert list(tmp_path.glob("*.png")) == []


# --- the same figures on Discord ----------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="function")
async def world(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[World]:
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            async for w in start_world(standin, copy_database(sqlite_template, tmp_path)):
                yield w


async def test_console_and_discord_show_the_same_chart_caption(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    user = world.new_user()
    grammar = Grammar(world.core.services)
    console = Actor("console", "alice", "Alice", space_id="console")
    discord_actor = world.actor(user)
    for who in (console, discord_actor):
        await run(grammar, who, START, "/log 6h")
    on_console = await grammar.dispatch(console, "/chart road")
    answer = await world.ask("chart", {"kind": "road"}, user=user)
    (embed,) = answer.embeds
    assert embed["description"] == on_console.text.split("\nWrote ")[0]
    assert embed["title"] == on_console.title == "Your road"
    (attachment,) = answer.first.attachments
    assert answer.first.file(attachment["filename"]).startswith(PNG)
    assert answer.ephemeral
    assert not world.standin.take_violations()  # the OpenAPI description and Discord's limits
