"""Boundaries of the code base: the core imports no chat platform; the cogs fit together."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
# The glue that starts a front may import its platform; nothing else in bot/ may.
GLUE = {"bot/slack_front.py", "bot/console.py", "bot/__main__.py"}
GLUE_PACKAGES = ("bot/discord/", "bot/slack/")  # every module of a glue package
PLATFORMS = ("discord", "slack", "slack_sdk", "slack_bolt", "cogs")
NAME_RE = re.compile(r"^[-_a-z0-9]{1,32}$")
NO_DESCRIPTION = "…"  # what discord.py fills in when a command or option has none


def core_files() -> list[Path]:
    """List every Python file of bot/ that is not glue (migrations included)."""
    return sorted(p for p in BOT.rglob("*.py")
                  if (rel := p.relative_to(ROOT).as_posix()) not in GLUE
                  and not rel.startswith(GLUE_PACKAGES) and "__pycache__" not in p.parts)


def core_modules() -> list[str]:
    """List the importable core modules (migration scripts run Alembic when imported)."""
    out = []
    for path in core_files():
        rel = path.relative_to(ROOT).with_suffix("")
        if "migrations" in rel.parts:
            continue
        name = ".".join(rel.parts)
        out.append(name.removesuffix(".__init__"))
    return out


def imported_roots(path: Path) -> set[str]:
    """Return the top-level package of every import in a file (nested imports too)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_glue_list_names_real_files_and_core_files_exist() -> None:
    assert (ROOT / "bot/discord/client.py").exists() and (ROOT / "bot/console.py").exists()
    assert len(core_files()) > 10


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_core_module_imports_no_chat_platform(path: Path) -> None:
    assert imported_roots(path).isdisjoint(PLATFORMS)


def test_glue_is_where_discord_is_imported() -> None:
    # The check above must be able to fail: the glue does import discord.
    assert "discord" in imported_roots(BOT / "discord" / "client.py")


def test_the_slack_front_is_glue_and_imports_slack() -> None:
    slack_files = sorted((BOT / "slack").glob("*.py"))
    assert slack_files and not set(slack_files) & set(core_files())
    assert "slack_bolt" in imported_roots(BOT / "slack" / "runner.py")
    assert "slack_sdk" in imported_roots(BOT / "slack" / "sender.py")


def test_importing_the_whole_core_loads_no_chat_platform() -> None:
    modules = core_modules()
    assert "bot.services.timelog" in modules
    assert not any(m.startswith(("bot.discord", "bot.slack")) for m in modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{PLATFORMS!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# --- the cogs -----------------------------------------------------------------------------


@pytest.fixture
async def loaded_bot(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    """Build a PacerBot (not connected) with every cog loaded the way setup_hook does."""
    from bot.app import build_core
    from bot.config import DatabaseSettings, Settings
    from bot.discord.client import PacerBot, cog_names

    db = tmp_path / "pacer.sqlite3"
    db.write_bytes(sqlite_template.read_bytes())
    core = await build_core(Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{db}")),
                            migrate=False)
    bot = PacerBot(core)
    for name in cog_names():
        await bot.load_extension(name)
    yield bot
    await bot.close()
    await core.close()


def test_every_cog_module_ends_with_an_async_setup() -> None:
    from bot.discord.client import cog_names

    names = cog_names()
    assert "cogs.tracking" in names and all(not n.split(".")[-1].startswith("_") for n in names)
    for name in names:
        module = importlib.import_module(name)
        assert inspect.iscoroutinefunction(module.setup), name
        source = Path(module.__file__ or "").read_text(encoding="utf-8").rstrip()
        last = ast.parse(source).body[-1]
        assert isinstance(last, ast.AsyncFunctionDef) and last.name == "setup", name


async def test_command_names_do_not_clash_across_cogs(loaded_bot) -> None:  # type: ignore[no-untyped-def]
    names = Counter()
    for cog in loaded_bot.cogs.values():
        if cog.app_command is not None:  # a GroupCog is itself a command group
            names[cog.app_command.qualified_name] += 1
        for command in cog.walk_app_commands():
            names[command.qualified_name] += 1
    assert names and max(names.values()) == 1, [n for n, c in names.items() if c > 1]
    tree_names = {c.qualified_name for c in loaded_bot.tree.walk_commands()}
    assert tree_names == set(names)  # every command of every cog reached the tree
    top = [c.name for c in loaded_bot.tree.get_commands()]
    assert len(top) == len(set(top)) <= 100


async def test_every_command_and_option_has_a_description(loaded_bot) -> None:  # type: ignore[no-untyped-def]
    from discord import app_commands

    checked = 0
    for command in loaded_bot.tree.walk_commands():
        where = f"/{command.qualified_name}"
        assert NAME_RE.match(command.name), where
        assert command.description and command.description != NO_DESCRIPTION, where
        assert len(command.description) <= 100, where
        if isinstance(command, app_commands.Command):
            params = command.parameters
            assert len(params) <= 25, where
            for param in params:
                assert NAME_RE.match(param.name), f"{where} {param.name}"
                assert param.description and param.description != NO_DESCRIPTION, (
                    f"{where} option {param.name} has no description")
                assert len(param.description) <= 100, f"{where} {param.name}"
                for choice in param.choices:
                    assert 1 <= len(choice.name) <= 100, f"{where} {param.name}"
                checked += 1
    assert checked > 40


# --- the Discord package and the cogs -------------------------------------------------------

DISCORD_PACKAGE = BOT / "discord"
COGS = ROOT / "cogs"


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(tree: ast.AST) -> set[str]:
    """Return the full name of every module an AST imports (absolute imports)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _function_imports(path: Path | str) -> list[str]:
    """List the bot/cogs imports made inside a function or method of a file (or source)."""
    found = []
    tree = ast.parse(path) if isinstance(path, str) else _parse(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for name in sorted(_imported_modules(node)):
                if name.split(".")[0] in ("bot", "cogs"):
                    found.append(f"{node.name}: {name}")
    return found


def test_the_discord_package_and_cogs_exist() -> None:
    assert (DISCORD_PACKAGE / "__init__.py").exists()
    assert not (BOT / "discord_front.py").exists() and not (COGS / "_replies.py").exists()
    assert len(_python_files(DISCORD_PACKAGE)) >= 5 and len(_python_files(COGS)) >= 5


@pytest.mark.parametrize("path", _python_files(DISCORD_PACKAGE),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_discord_package_imports_no_cog(path: Path) -> None:
    assert "cogs" not in imported_roots(path)


def test_the_cog_rule_can_fail() -> None:
    # A cog does import from the package, so the rules below see real imports.
    assert "bot.discord.replies" in _imported_modules(_parse(COGS / "tracking.py"))
    nested = "import asyncio\nasync def f():\n    from bot.discord.client import PacerBot\n"
    assert _function_imports(nested) == ["f: bot.discord.client", "f: bot.discord.client.PacerBot"]


@pytest.mark.parametrize("path", _python_files(COGS), ids=lambda p: p.name)
def test_no_cog_imports_another_cog(path: Path) -> None:
    imported = {n for n in _imported_modules(_parse(path)) if n.split(".")[0] == "cogs"}
    assert imported == set(), f"{path.name} imports {sorted(imported)}"


@pytest.mark.parametrize("path", _python_files(DISCORD_PACKAGE) + _python_files(COGS),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_import_of_our_modules_inside_functions(path: Path) -> None:
    assert _function_imports(path) == []


def test_the_cogs_load_by_name_without_importing_the_package_first() -> None:
    code = ("import sys\nimport bot.discord\n"
            "print(sorted(m for m in sys.modules if m == 'cogs' or m.startswith('cogs.')))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
