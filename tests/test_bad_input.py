"""Every command refuses malformed input with a specific message and leaves the store as it was."""

from __future__ import annotations

import pytest

from bot.actors import Actor
from bot.grammar import Grammar
from bot.store import Store
from tests.conftest import FakeClock, dump_store

SETUP = [
    "/start Europe/Berlin start=2026-11-23 target=2027-01-15 hours=4",
    "/log 3h warm-up",
    "/done day01",
    "/quiz week1 15/20",
    "/mock 7 first try",
    '/deadline add "NVIDIA Interview" 2027-01-15',
]

# (command line, words the message must contain: what was wrong and what is accepted)
CASES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "log": [
        ("/log", ("Usage", "/log DURATION")),
        ("/log 0h", ("more than 0",)),
        ("/log -2h", ("duration",)),
        ("/log 25h", ("more than 24 hours",)),
        ("/log 4x", ("not a duration", "1h30m")),
        ("/log 1:75", ("1:30",)),
        ("/log 45", ("45m",)),
        ("/log nan", ("duration",)),
        ("/log inf", ("duration",)),
        ("/log 2h topic 2099-01-01", ("future",)),
        ("/log 2h topic 2026-01-01", ("before your start date",)),
        ("/log 22h late 2026-11-30", ("already has 3h logged", "at most 21h")),
        ("/log 2h " + "x" * 201, ("topic", "200")),
        ("/log 1h 90m", ("duration",)),
    ],
    "done": [
        ("/done", ("Usage", "/done ITEM")),
        ("/done day15", ("day 15", "day 1 to day 14")),
        ("/done day00", ("day",)),
        ("/done zzzz-not-an-item", ("zzzz-not-an-item",)),
        ("/done day01", ("already done",)),
        ("/done d", ("d",)),
        ("/done day05 2099-01-01", ("future",)),
        ("/done 99", ("day",)),
        ("/done @everyone", ("@\u200beveryone",)),
        ("/done " + "y" * 300, ("y",)),
        ("/undone day02", ("not marked done",)),
    ],
    "quiz": [
        ("/quiz", ("Usage",)),
        ("/quiz week1", ("Usage",)),
        ("/quiz week1 21/20", ("20",)),
        ("/quiz week1 17/10", ("out of 20",)),
        ("/quiz week1 -1", ("score",)),
        ("/quiz week1 abc", ("score",)),
        ("/quiz week9 10/20", ("week 9", "weeks 1 to 4")),
        ("/quiz week1 17.5", ("score",)),
        ("/quiz week1 17/20 extra", ("Too many words",)),
        ("/quiz nonsense 10", ("nonsense",)),
        ("/quiz week1 999999999999", ("score",)),
    ],
    "mock": [
        ("/mock", ("Usage",)),
        ("/mock 11", ("10",)),
        ("/mock -1", ("score",)),
        ("/mock eight", ("score",)),
        ("/mock 8/20", ("out of 10",)),
        ("/mock 8 good 2099-01-01", ("future",)),
        ("/mock 8 fine slot=9", ("slot must be 1 to 5",)),
        ("/mock 8 fine slot=x", ("slot",)),
        ("/mock 8 " + "f" * 501, ("feedback", "500")),
        ("/mock 7.5", ("score",)),
        ("/mock 8 ok 1900-01-01", ("2000",)),
    ],
    "rate": [
        ("/rate", ("Usage",)),
        ("/rate pagedattention", ("Usage",)),
        ("/rate pagedattention 6", ("1", "5")),
        ("/rate pagedattention 0", ("1", "5")),
        ("/rate pagedattention x", ("rating",)),
        ("/rate nosuchskill 4", ("nosuchskill",)),
        ("/rate pagedattention 4 week9", ("week must be 1 to 4",)),
        ("/rate pagedattention 4 weekX", ("rating",)),
        ("/rate pagedattention 3.5", ("rating",)),
        ("/rate pagedattention -2", ("rating",)),
        ("/rate pagedattention 4 0", ("week must be 1 to 4",)),
    ],
    "deadline": [
        ("/deadline add", ("title and a date",)),
        ('/deadline add "Only title"', ("title and a date",)),
        ('/deadline add "Past" 2020-01-01', ("has passed",)),
        ('/deadline add "Bad" 2027-13-01', ("date",)),
        ('/deadline add "Ambiguous" 01/02/2027', ("ambiguous",)),
        ('/deadline add "NVIDIA Interview" 2027-02-01', ("already have a deadline",)),
        ('/deadline add "' + "t" * 101 + '" 2027-02-01', ("100",)),
        ("/deadline remove 999", ("no deadline",)),
        ("/deadline remove", ("Usage",)),
        ("/deadline frobnicate", ("add, list or remove",)),
        ('/deadline add "Unclosed 2027-02-01', ("quote",)),
        ('/deadline add "Far" 2300-01-01', ("2100",)),
    ],
    "count": [
        ("/count cuda-basic +11", ("out of 10",)),
        ("/count cuda-basic -1", ("below 0",)),
        ("/count nosuch +1", ("nosuch",)),
        ("/count cuda-basic +x", ("cuda-basic +x",)),
    ],
    "confidence": [
        ("/confidence coding 6", ("1", "5")),
        ("/confidence nosuch 3", ("nosuch",)),
        ("/confidence coding", ("Usage",)),
    ],
    "settings": [
        ("/settings reminder=25:00", ("time",)),
        ("/settings timezone=Mars/Olympus", ("IANA",)),
        ("/settings nosuch=1", ("no setting",)),
        ("/settings target=2026-01-01", ("must come after the start",)),
        ("/settings daystart=13", ("0", "12")),
        ("/settings digest_every=monthly", ("weekly or biweekly",)),
        ("/settings hours=0", ("more than 0",)),
    ],
    "other": [
        ("/frobnicate", ("Unknown command",)),
        ("/start Europe/Berlin", ("already set up",)),
        ("/week 0x", ("not a week",)),
        ("/week 99", ("weeks 1 to 6", "week 99")),
        ("/week 0", ("week",)),
        ("/pause until 2020-01-01", ("in the past",)),
        ("/resume", ("not paused",)),
        ("/notes remove 999", ("no note",)),
        ("/partner accept", ("No invitation",)),
        ("/partner share everything", ("choose from",)),
        ("/challenge a | b | c | d", ("at most three parts",)),
        ("/insight week9 deep thought", ("week must be 1 to 4",)),
        ("/set nosuchfield 1", ("nosuchfield",)),
        ("/set track Expert", ("Advanced",)),
    ],
}

async def assert_refused(grammar: Grammar, store: Store, actor: Actor, line: str,
                         words: tuple[str, ...]) -> None:
    """Run LINE; it must be refused with a message naming WORDS, and change no row."""
    before = await dump_store(store)
    reply = await grammar.dispatch(actor, line)
    assert reply.error, f"{line!r} was accepted: {reply.text}"
    for word in words:
        assert word.lower() in reply.text.lower(), (line, reply.text)
    assert await dump_store(store) == before


ALL = [(group, line, words) for group, cases in CASES.items() for line, words in cases]


@pytest.mark.parametrize(("group", "line", "words"), ALL,
                         ids=[f"{g}:{line[:40]}" for g, line, _ in ALL])
async def test_bad_input_is_refused_and_changes_nothing(
        grammar: Grammar, store: Store, alice: Actor, clock: FakeClock,
        group: str, line: str, words: tuple[str, ...]) -> None:
    for setup in SETUP:
        reply = await grammar.dispatch(alice, setup)
        assert not reply.error, (setup, reply.text)
    await assert_refused(grammar, store, alice, line, words)


START_CASES = [
    ("/start", ("Usage",)),
    ("/start Mars/Olympus", ("IANA",)),
    ("/start UTC+2", ("daylight saving",)),
    ("/start EST", ("daylight",)),
    ("/start Europe/Berlin hours=25", ("24",)),
    ("/start Europe/Berlin hours=abc", ("hours per day",)),
    ("/start Europe/Berlin weeks=0", ("1 to 104",)),
    ("/start Europe/Berlin weeks=500", ("1 to 104",)),
    ("/start Europe/Berlin start=2026-12-01 target=2026-11-01", ("must come after",)),
    ("/start Europe/Berlin reminder=26:00", ("time",)),
    ("/start Europe/Berlin daystart=20", ("0", "12")),
    ("/start Europe/Berlin bogus=1", ("no setting",)),
    ("/start Europe/Berlin start=1999-01-01", ("2000",)),
    ("/start Europe/Berlin start=2030-01-01", ("more than a year",)),
    ("/start Europe/Berlin extra words", ("name=value",)),
    ('/start Europe/Berlin goal="' + "g" * 501 + '"', ("500",)),
    ("/start Europe/Berlin public=off", ("/settings",)),
]


@pytest.mark.parametrize(("line", "words"), START_CASES, ids=[c[0][:50] for c in START_CASES])
async def test_bad_start_is_refused_and_creates_nothing(
        grammar: Grammar, store: Store, alice: Actor, line: str,
        words: tuple[str, ...]) -> None:
    await assert_refused(grammar, store, alice, line, words)


async def test_commands_before_start_explain_how_to_begin(grammar: Grammar,
                                                           alice: Actor) -> None:
    for line in ("/log 2h", "/done day01", "/progress", "/undo", "/quiz week1 10/20"):
        reply = await grammar.dispatch(alice, line)
        assert reply.error
        assert "/start" in reply.text
