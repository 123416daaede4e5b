"""The digest and the token keeper decide without Slack; matplotlib loads only when a chart is drawn."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bot

BOT = Path(bot.__file__).parent
PRESENTER = ("bot.slack", "slack_sdk", "slack_bolt", "matplotlib")
DOMAIN = [*sorted((BOT / "digest").rglob("*.py")), BOT / "token_keeper.py"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return names


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(  # noqa: S603 - the interpreter running the tests, on code written here
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=BOT.parent
    ).stdout
    return [name for name in out.split() if name.startswith(PRESENTER)]


def test_digest_and_token_keeper_import_nothing_of_the_presenter_or_slack() -> None:
    assert len(DOMAIN) > 5
    offending = {
        f"{path.relative_to(BOT.parent)}: {name}"
        for path in DOMAIN
        for name in _imports(path)
        if name == "bot.slack" or name.startswith(PRESENTER)
    }
    assert offending == set()


def test_importing_the_digest_service_loads_no_slack_and_the_services_no_matplotlib() -> None:
    assert _loaded_after("import bot.digest.service, bot.token_keeper") == []
    assert [name for name in _loaded_after("import bot.services") if name.startswith("matplotlib")] == []
    assert "matplotlib" in _loaded_after(
        "import bot.slack.chart as c, tests.digest.factories as f; c.render_chart(f.report())"
    )
