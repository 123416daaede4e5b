"""The README's commands are the ones CI runs, so a new user's two commands are known to work."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = _shell_blocks(readme)
    assert len(blocks) >= 2, "the quick start has two commands"
    test_command = blocks[1].strip()
    assert "pytest" in test_command
    assert test_command in ci.splitlines()


def test_quick_start_runs_the_bot_on_its_embedded_defaults() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = _shell_blocks(readme)[0].strip()
    assert first.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert "--sandbox" in first or " demo" in first


def test_configuration_table_mirrors_the_settings() -> None:
    from bot.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert missing == []


def _structure_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Project structure", 1)[1].split("\n## ", 1)[0]


def test_project_structure_names_every_package_and_only_what_exists() -> None:
    section = _structure_section()
    named = set(re.findall(r"`([\w./-]+)`", section))
    paths = {name for name in named if "/" in name}
    files = {name for name in named if "/" not in name and name.endswith(".py")}
    assert paths, "the table names folders and files"
    missing = sorted(name for name in paths if not (ROOT / name).exists())
    missing += sorted(name for name in files if not any(ROOT.glob(f"*/**/{name}")))
    assert missing == [], f"the README names what is not there: {missing}"
    packages = {
        f"{init.parent.relative_to(ROOT).as_posix()}/"
        for top in ("bot", "cancel_order_bot")
        for init in (ROOT / top).rglob("__init__.py")
    }
    # Every package one level below the two top packages has a row of its own (deeper ones are described in theirs).
    unnamed = sorted(p for p in packages if p.count("/") == 2 and p not in paths)
    assert unnamed == [], f"packages without a row in the README's Project structure: {unnamed}"
