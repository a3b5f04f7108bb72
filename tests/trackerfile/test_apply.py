"""Applying an import: every change goes through a service's write rule, in one unit of work."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from bot.actors import Actor
from bot.grammar import Grammar
from bot.presenting import present
from bot.services import Services
from bot.services.data import DataService
from bot.trackerfile import apply as apply_module
from tests.tracker_histories import export_of, run

TODAY = date(2026, 11, 30)


def test_the_import_writes_no_row_itself() -> None:
    tree = ast.parse(Path(apply_module.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert not {m for m in imported if m and (m.startswith("sqlalchemy") or m == "bot.models")}


async def test_an_import_moves_stored_dates_and_fills_a_challenge(
        grammar: Grammar, services: Services, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-23", "/done install-cuda",
              "/log 1h setup", '/deadline add "Portfolio Due" 2026-12-20')
    await services.notes.add_challenge(alice, "Build failed")
    text = await export_of(dc, alice)
    edits = [
        ("- [x] Install CUDA toolkit (done 2026-11-30)",
         "- [x] Install CUDA toolkit (done 2026-11-28)"),
        ("- [x] First study session logged (reached 2026-11-30)",
         "- [x] First study session logged (reached 2026-11-29)"),
        ("- Portfolio Due: 2026-12-20", "- Portfolio Due: 2026-12-22"),
        ("   **Solution**: ___________________________________", "   **Solution**: Pin CUDA"),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    reply, token = await dc.preview_import(alice, text.encode(), "tracker.md")
    assert "could not read" not in reply.text, reply.text
    done = present(await dc.confirm_import(alice, token))
    assert "Imported 4 changes" in done.text
    data, _plan, _today = await dc.snapshot(alice)
    assert data.done["install-cuda"] == date(2026, 11, 28)
    assert data.milestones["first-log"] == date(2026, 11, 29)
    assert [(d.title, d.due_date) for d in data.deadlines] == [("Portfolio Due",
                                                                date(2026, 12, 22))]
    assert [(n.text, n.solution) for n in data.notes] == [("Build failed", "Pin CUDA")]
    undo = await grammar.dispatch(alice, "/undo")
    assert not undo.error, undo.text
    data, _plan, _today = await dc.snapshot(alice)
    assert data.done["install-cuda"] == TODAY and data.milestones["first-log"] == TODAY
    assert [n.solution for n in data.notes] == [None]
