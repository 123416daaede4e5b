"""Print a pip constraints file pinning every runtime dependency of pyproject.toml at its declared lower bound.

`.ci/run` installs the project with these constraints into a second virtualenv and runs the tests there, so each
``>=`` in pyproject.toml is a version the code is known to work with, not a guess.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_LOWER = re.compile(r">=\s*([0-9][^,;\s]*)")
# Extras whose dependencies run in production, so their bounds matter too (the dev tools' do not).
_RUNTIME_EXTRAS = ("postgres",)


def lower_bounds(pyproject: Path) -> dict[str, str]:
    """Each runtime dependency's name and the version after its ``>=`` (or ``==``)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in _RUNTIME_EXTRAS:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"cannot read the requirement {requirement!r}")
        name, spec = match.groups()
        exact = re.search(r"==\s*([0-9][^,;\s]*)", spec)
        lower = exact or _LOWER.search(spec)
        if lower is None:
            raise ValueError(f"{name} has no lower bound in pyproject.toml: give it one (>=)")
        pins[name.lower()] = lower.group(1)
    return pins


def main() -> int:
    """Print ``name==version`` lines for pip's ``-c``."""
    root = Path(__file__).resolve().parent.parent
    for name, version in sorted(lower_bounds(root / "pyproject.toml").items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
