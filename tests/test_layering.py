"""Layering of the code base: fronts → typed services → store and pure modules, no cycles.

The import graph is read from the source (AST), every import counted, except those under
``if TYPE_CHECKING:`` (they never run). Each rule is checked against a graph that must break it,
so a rule that cannot fail would show.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "cogs")
# Fronts and the layers that speak to users: they may call the services.
FRONT_PREFIXES = ("cogs", "bot.discord", "bot.slack", "bot.console", "bot.__main__",
                  "bot.grammar", "bot.presenting", "bot.actions", "bot.app")
SERVICES = "bot.services"
# Apply-side modules of features that write through the services' unit of work.
SERVICE_CLIENTS = ("bot.trackerfile.apply",)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def our_modules() -> dict[str, Path]:
    out = {}
    for root in OURS:
        for path in (ROOT / root).rglob("*.py"):
            if "__pycache__" in path.parts or "migrations" in path.parts:
                continue
            out[module_name(path)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skip |= {id(n) for n in ast.walk(inner)}
    return skip


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """Return the module of ours that NAME (a module or a name in one) refers to."""
    known = set(modules)
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path, modules: Iterable[str]) -> tuple[set[str], list[tuple[int, str]]]:
    """Return (modules of ours imported, imports of ours made inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    nested: list[tuple[int, str]] = []
    in_function: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function |= {id(n) for n in ast.walk(fn)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from bot import parsing`` imports the module bot.parsing, not the package.
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] not in OURS:
                continue
            target = _resolve(name, modules)
            if target is not None:
                found.add(target)
                if id(node) in in_function:
                    nested.append((node.lineno, target))
    return found, nested


def _with_parents(name: str, modules: Iterable[str]) -> set[str]:
    """Return NAME and the packages above it: importing a.b.c runs a/__init__ and a/b/__init__."""
    known = set(modules)
    out = {name}
    while "." in name:
        name = name.rpartition(".")[0]
        if name in known:
            out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    graph = {}
    for name, path in modules.items():
        targets, _nested = imports_of(path, modules)
        reach = set().union(*(_with_parents(t, modules) for t in targets)) if targets else set()
        # A module's own packages are loaded before it; they are not its imports.
        graph[name] = {t for t in reach if t != name and not name.startswith(t + ".")}
    return graph


def _is(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def front_imports_in_core(graph: Mapping[str, set[str]]) -> list[str]:
    """List core modules (not fronts) that import a front."""
    return sorted(f"{m} imports {t}" for m, targets in graph.items() if not _is(m, FRONT_PREFIXES)
                  for t in targets if _is(t, FRONT_PREFIXES))


def service_imports_below(graph: Mapping[str, set[str]]) -> list[str]:
    """List modules below the services (store, pure modules) that import the services."""
    allowed = (*FRONT_PREFIXES, SERVICES, *SERVICE_CLIENTS)
    return sorted(f"{m} imports {t}" for m, targets in graph.items() if not _is(m, allowed)
                  for t in targets if _is(t, (SERVICES,)))


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Return the import cycles of GRAPH (strongly connected parts of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- the rules, on the real tree -------------------------------------------------------------


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "bot.services.timelog" in graph and "bot.services.units" in graph["bot.services.timelog"]


def test_the_core_imports_no_front() -> None:
    assert front_imports_in_core(import_graph()) == []


def test_nothing_the_services_use_imports_the_services() -> None:
    assert service_imports_below(import_graph()) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_services_import_no_rendering_or_grammar() -> None:
    graph = import_graph()
    bad = sorted(f"{m} imports {t}" for m, ts in graph.items() if _is(m, (SERVICES,))
                 for t in ts if _is(t, ("bot.grammar", "bot.presenting", "bot.app")))
    assert bad == []


@pytest.mark.parametrize("name", sorted(n for n in our_modules() if n != "bot.__main__"))
def test_no_import_of_ours_hides_in_a_function(name: str) -> None:
    # The launcher may import a front per subcommand; nothing else defers an import of ours.
    modules = our_modules()
    _found, nested = imports_of(modules[name], modules)
    assert nested == []


# --- the checks can fail -------------------------------------------------------------------


def test_the_checks_catch_what_they_forbid() -> None:
    bad = {
        "bot.store": {"bot.services.units"},  # below the services, importing them
        "bot.services.units": {"bot.presenting", "bot.store"},
        "bot.presenting": {"bot.services.units"},
        "bot.progress": {"cogs.tracking"},  # the core importing a front
        "cogs.tracking": {"bot.services.units"},
    }
    assert service_imports_below(bad) == ["bot.store imports bot.services.units"]
    assert front_imports_in_core(bad) == ["bot.progress imports cogs.tracking",
                                          "bot.services.units imports bot.presenting"]
    assert cycles(bad) == [["bot.presenting", "bot.services.units", "bot.store"]]


def test_a_nested_import_is_found(tmp_path: Path) -> None:
    path = ROOT / "bot" / "_layering_probe.py"
    path.write_text("def f():\n    from bot import parsing\n    return parsing\n",
                    encoding="utf-8")
    try:
        _found, nested = imports_of(path, [*our_modules(), "bot.parsing"])
    finally:
        path.unlink()
    assert nested == [(2, "bot.parsing")]
