"""The walls of the house, checked by reading the source: package cycles, who may import Slack, thin listeners.

A package is a directory (`bot.workflow`, `bot.slack`, `bot.slack.render`, …); a module lying directly in `bot/`
or `cancel_order_bot/` (`bot.services`, `bot.settings`, `cancel_order_bot.app`, …) is a node of its own, since
the wiring modules there import everything and everything imports the settings.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("bot", "cancel_order_bot")
HANDLERS = ROOT / "cancel_order_bot" / "handlers"
LISTENER_LINES = 15

DOMAIN = ("bot.workflow", "bot.digest", "bot.store", "bot.lazada", "bot.buyer")
"""Packages that decide and must not know Slack: they emit events, and the presenter (`bot.slack`) tells Slack."""
SLACK = ("bot.slack", "slack_sdk", "slack_bolt")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    found = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()
PACKAGES = {name for name, path in SOURCES.items() if path.name == "__init__.py"}


def _imports(path: Path) -> Iterator[str]:
    """Every module an import in `path` names (lazy ones inside functions too), with `from a import b` as `a.b`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _package(module: str) -> str:
    if module in PACKAGES:
        return module
    parent = module.rpartition(".")[0]
    return module if parent in TOP else parent


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in SOURCES.items():
        for imported in _imports(path):
            if imported in SOURCES and _package(imported) != _package(module):
                edges[_package(module)].add(_package(imported))
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_reads_the_whole_project() -> None:
    edges = _graph()
    assert "bot.workflow" in edges["cancel_order_bot.handlers"]
    assert "bot.store" in edges["bot.workflow"]


def test_no_cycle_between_packages() -> None:
    # The digest still imports its Slack poster (bot.digest -> bot.slack): that edge goes with the digest split.
    edges = {
        source: targets - {"bot.slack"} if source == "bot.digest" else targets for source, targets in _graph().items()
    }
    assert _cycles(edges) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _imports_between(importers: tuple[str, ...], imported: tuple[str, ...]) -> list[str]:
    """`a imports b` for every module `a` within `importers` naming a module `b` within `imported`."""
    return [
        f"{module} imports {name}"
        for module, path in SOURCES.items()
        if _within(module, *importers)
        for name in _imports(path)
        if _within(name, *imported)
    ]


@pytest.mark.parametrize("package", DOMAIN)
def test_the_domain_imports_no_slack(package: str) -> None:
    assert _imports_between((package,), SLACK) == []


def test_nothing_in_bot_imports_the_application() -> None:
    assert _imports_between(("bot",), ("cancel_order_bot",)) == []


def _handler_modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(HANDLERS.glob("*.py"))
        if path.name != "__init__.py"
    }


def _registered(tree: ast.Module) -> set[str]:
    """The names of the methods `register` hands to Bolt: `app.<kind>(ID)(<object>.<name>)`."""
    register = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "register")
    names = set()
    for node in ast.walk(register):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and node.args:
            outer = node.func.func
            if isinstance(outer, ast.Attribute) and isinstance(outer.value, ast.Name) and outer.value.id == "app":
                listener = node.args[0]
                assert isinstance(listener, ast.Attribute), ast.unparse(node)
                names.add(listener.attr)
    return names


def _body_lines(function: ast.AsyncFunctionDef | ast.FunctionDef) -> int:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def _listeners() -> list[tuple[str, ast.AsyncFunctionDef | ast.FunctionDef]]:
    found = []
    for module, tree in _handler_modules().items():
        registered = _registered(tree)
        methods = {
            f.name: f
            for cls in tree.body
            if isinstance(cls, ast.ClassDef)
            for f in cls.body
            if isinstance(f, ast.AsyncFunctionDef | ast.FunctionDef)
        }
        assert registered <= set(methods), f"{module}: a listener that is not a handler-class method"
        found += [(f"{module}.{name}", methods[name]) for name in sorted(registered)]
    return found


def test_every_handler_module_registers_listeners() -> None:
    assert {name.split(".")[0] for name, _ in _listeners()} == {"actions", "commands", "events", "views"}


@pytest.mark.parametrize(("name", "function"), _listeners(), ids=[name for name, _ in _listeners()])
def test_every_listener_is_at_most_fifteen_lines(name: str, function: ast.AsyncFunctionDef) -> None:
    assert _body_lines(function) <= LISTENER_LINES, f"{name} is {_body_lines(function)} lines"


def test_no_handler_module_imports_another() -> None:
    modules = tuple(f"cancel_order_bot.handlers.{name}" for name in _handler_modules())
    assert _imports_between(modules, ("cancel_order_bot.handlers",)) == []


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef))]
    return {
        id(n.body[0].value)
        for n in nodes
        if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }


def test_no_words_for_people_in_handlers() -> None:
    sentences = []
    for module, tree in _handler_modules().items():
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and " " in text.strip() and id(node) not in docstrings:
                sentences.append(f"{module}: {text!r}")
    assert sentences == []
