"""/export, /import and /forget-me as text commands, and the JSON/CSV exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from bot import models as m
from bot.actors import Actor
from bot.grammar import COMMANDS, Grammar
from bot.services import Services
from bot.services.data import DataService
from bot.store import Store
from tests.conftest import dump_store
from tests.tracker_histories import build_rich, run

TABLES = ["learners", *(t.__tablename__ for t in m.LEARNER_TABLES), "partnerships_as_partner",
          "outbox"]


@pytest.fixture
def dc(services: Services) -> DataService:
    return services.data


def test_the_data_commands_have_help() -> None:
    assert {"export", "import", "forget-me"} <= set(COMMANDS)


async def test_help_lists_the_data_commands(grammar: Grammar, dc: DataService,
                                            alice: Actor) -> None:
    reply = await grammar.dispatch(alice, "/help")
    for name in ("/export", "/import", "/forget-me"):
        assert name in reply.text


async def test_json_export_holds_everything_stored_about_the_learner(
        store: Store, grammar: Grammar, services: Services, dc: DataService, clock: object,
        alice: Actor, bob: Actor) -> None:
    from bot.console import console_actor

    await build_rich(grammar, services, clock, alice, bob)
    await run(grammar, bob, "/start Europe/Berlin", "/partner invite alice",
              resolve=console_actor)
    file = (await dc.export(alice, "json")).attachment
    assert file is not None and file.filename == "pacer-data-2026-11-30.json"
    doc = json.loads(file.data)
    assert (doc["format"], doc["version"]) == ("pacer-export", 1)
    assert doc["subject"] == {"platform": "console", "external_id": "alice"}
    assert list(doc["tables"]) == TABLES
    dump = await dump_store(store)
    alice_id = doc["tables"]["learners"][0]["id"]
    for table in (t.__tablename__ for t in m.LEARNER_TABLES):
        stored = [r for r in dump[table] if r[1] == alice_id]
        assert len(doc["tables"][table]) == len(stored), table
    assert doc["tables"]["learners"][0]["timezone"] == "Europe/Berlin"
    assert doc["tables"]["time_logs"][0]["study_date"] == "2026-11-02"
    assert doc["tables"]["partnerships"][0]["share"] == ["hours", "days", "streak"]
    assert [r["learner_display_name"] for r in doc["tables"]["partnerships_as_partner"]] ==\
        ["Bob"]
    assert doc["tables"]["undo_log"] and "ops" in doc["tables"]["undo_log"][0]


async def test_csv_export_is_one_file_per_table_in_a_zip(
        grammar: Grammar, services: Services, dc: DataService, clock: object, alice: Actor,
        bob: Actor) -> None:
    await build_rich(grammar, services, clock, alice, bob)
    file = (await dc.export(alice, "csv")).attachment
    assert file is not None and file.filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(file.data))
    assert archive.namelist() == [f"{t}.csv" for t in TABLES]
    as_json = json.loads((await dc.export(alice, "json")).attachment.data)  # type: ignore[union-attr]
    for table in TABLES:
        rows = list(csv.reader(io.StringIO(archive.read(f"{table}.csv").decode("utf-8"))))
        assert len(rows) - 1 == len(as_json["tables"][table]), table
    header, *logs = list(csv.reader(io.StringIO(archive.read("time_logs.csv").decode())))
    assert header == ["id", "learner_id", "study_date", "minutes", "topic", "created_at"]
    assert logs[0][2:5] == ["2026-11-02", "120", "CUDA toolkit install"]
    ship_header, ship = list(csv.reader(io.StringIO(archive.read("partnerships.csv").decode())))
    assert json.loads(ship[ship_header.index("share")]) == ["hours", "days", "streak"]
    assert ship[ship_header.index("accepted_at")] == "2026-11-16T12:00:00+00:00"


@pytest.mark.parametrize(("line", "message"), [
    ("/export pdf", '"pdf" is not an export format; use markdown, json or csv'),
    ("/export markdown a b", "Usage"),
    ("/import", "Usage"),
    ("/import confirm", "No import is waiting"),
    ("/import cancel", "No import is waiting; nothing to cancel"),
    ("/forget-me now", "Usage"),
])
async def test_data_commands_refuse_bad_lines(store: Store, grammar: Grammar,
                                              dc: DataService, alice: Actor, line: str,
                                              message: str) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    before = await dump_store(store)
    reply = await grammar.dispatch(alice, line)
    assert reply.error and message in reply.text, reply.text
    assert await dump_store(store) == before


async def test_console_export_and_import_go_through_files(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor, tmp_path: Path) -> None:
    await run(grammar, alice, "/start Europe/Berlin", "/log 2h setup")
    target = tmp_path / "mine.md"
    reply = await grammar.dispatch(alice, f"/export markdown {target}")
    assert not reply.error and reply.text.startswith(f"Wrote {target}")
    text = target.read_text(encoding="utf-8")
    assert "**Hours Invested**: 2 / 150-200 hours" in text
    into_folder = await grammar.dispatch(alice, f"/export json {tmp_path}")
    assert (tmp_path / into_folder.attachment.filename).exists()  # type: ignore[union-attr]

    target.write_text(text.replace("- [ ] Install CUDA toolkit", "- [x] Install CUDA toolkit"),
                      encoding="utf-8")
    before = await dump_store(store)
    preview = await grammar.dispatch(alice, f"/import {target}")
    assert not preview.error and "tick Install CUDA toolkit" in preview.text
    cancelled = await grammar.dispatch(alice, "/import cancel")
    assert not cancelled.error and await dump_store(store) == before
    await grammar.dispatch(alice, f"/import {target}")
    applied = await grammar.dispatch(alice, "/import confirm")
    assert not applied.error and "Imported 1 change" in applied.text
    undone = await grammar.dispatch(alice, "/undo")
    assert not undone.error and await dump_store(store) == before


@pytest.mark.parametrize(("line", "message"), [
    ("/import /nonexistent/tracker.md", "There is no file"),
    ("/import {big}", "at most 512 KiB"),
    ("/import {latin}", "not UTF-8"),
    ("/import {pdf}", "is not a Markdown file"),
])
async def test_console_import_of_bad_files_changes_nothing(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor, tmp_path: Path,
        line: str, message: str) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    files = {"big": tmp_path / "big.md", "latin": tmp_path / "latin.md",
             "pdf": tmp_path / "t.pdf"}
    files["big"].write_bytes(b"#" * (600 * 1024))
    files["latin"].write_bytes("# vLLM Mastery Progress Tracker – café".encode("cp1252"))
    files["pdf"].write_bytes(b"%PDF-1.7")
    before = await dump_store(store)
    reply = await grammar.dispatch(alice, line.format(**files))
    assert reply.error and message in reply.text, reply.text
    assert await dump_store(store) == before


async def test_paths_are_read_only_on_the_console(store: Store, grammar: Grammar,
                                                  dc: DataService) -> None:
    slack = Actor("slack", "U1", "Sam", space_id="T1")
    await run(grammar, slack, "/start Europe/Berlin")
    reply = await grammar.dispatch(slack, "/import /etc/passwd")
    assert reply.error and "paths are read only on the console" in reply.text
    exported = await grammar.dispatch(slack, "/export markdown /tmp/x.md")
    assert exported.error and "only for the console" in exported.text
    plain = await grammar.dispatch(slack, "/export")
    assert plain.attachment is not None and plain.attachment.filename.endswith(".md")


async def test_import_preview_expires_and_tokens_must_match(
        store: Store, grammar: Grammar, dc: DataService, clock: object, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = (await dc.export_file(alice)).data.replace(b"- [ ] Install CUDA", b"- [x] Install CUDA")
    before = await dump_store(store)
    _reply, first = await dc.preview_import(alice, text, "t.md")
    _reply, second = await dc.preview_import(alice, text, "t.md")
    reply = await grammar.dispatch(alice, f"/import confirm {first}")
    assert reply.error and "replaced by a newer one" in reply.text
    clock.advance(minutes=11)  # type: ignore[attr-defined]
    late = await grammar.dispatch(alice, f"/import confirm {second}")
    assert late.error and "waiting for your confirmation" in late.text
    assert await dump_store(store) == before


def test_export_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.__main__ import main
    from bot.store import migrate

    db = tmp_path / "pacer.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    monkeypatch.setenv("PACER_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    async def onboard() -> None:
        from bot.app import build_core
        from bot.config import load_settings
        from bot.console import console_actor

        core = await build_core(load_settings(None))
        try:
            await run(core.grammar, console_actor("dana"), "/start Europe/Berlin")
        finally:
            await core.close()

    asyncio.run(onboard())
    out = tmp_path / "dana.md"
    assert main(["export", "--user", "dana", "--format", "markdown", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# 📊 vLLM Mastery Progress Tracker")
    assert main(["export", "--user", "nobody", str(tmp_path / "x.md")]) == 2
