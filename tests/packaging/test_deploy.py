"""What can be checked of the deploy files without a container runtime: they parse, and every command, setting and
secret they name exists in the CLI and in Settings; the lock pins every dependency within pyproject's bounds."""

from __future__ import annotations

import configparser
import importlib.util
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from bot.settings import Settings
from cancel_order_bot.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = {name.upper() for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _parses(argv: list[str]) -> None:
    """The CLI accepts `argv` (argparse exits on an unknown command or option)."""
    build_parser().parse_args(argv)


def _runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["postgres"]]]


def test_compose_migrates_before_the_bot_starts_in_http_mode() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["command"][0] == "serve"
    assert services["bot"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["bot"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["db"]["image"].startswith("postgres:")


@pytest.mark.parametrize("service", ["migrate", "bot"])
def test_compose_names_only_commands_settings_and_secrets_that_exist(service: str) -> None:
    compose = _compose()
    spec = compose["services"][service]
    _parses(spec["command"])
    assert set(spec["environment"]) <= SETTINGS
    assert spec["environment"]["SECRETS_DIR"] == "/run/secrets"
    assert spec["env_file"] == [{"path": ".env", "required": False}], "every other setting reaches the container"
    secrets = spec["secrets"]
    assert {name.upper() for name in secrets} <= SETTINGS, "a secret file is named after its setting"
    assert set(secrets) <= set(compose["secrets"])


def test_the_dockerfile_is_multi_stage_non_root_from_the_lock_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 2
    assert "pip install --require-hashes" in text
    assert "-r /src/requirements.lock" in text
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*/healthz", text.replace("\\\n", " "), flags=re.MULTILINE)
    command = re.search(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    assert command is not None
    _parses(yaml.safe_load(command.group(1)))


def test_the_systemd_unit_runs_socket_mode_with_secrets_from_credentials() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "cancel-order-bot.service", encoding="utf-8")
    service = unit["Service"]
    for key in ("ExecStart", "ExecStartPre"):
        program, *argv = shlex.split(service[key])
        assert program.endswith("/cancel-order-bot")
        _parses(argv)
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    names = {assignment.split("=", 1)[0] for assignment in shlex.split(service["Environment"])}
    assert names <= SETTINGS
    assert "SECRETS_DIR=%d" in service["Environment"]
    text = (ROOT / "deploy" / "cancel-order-bot.service").read_text(encoding="utf-8")
    credentials = re.findall(r"^LoadCredential=([a-z_]+):", text, flags=re.MULTILINE)
    assert credentials
    assert {name.upper() for name in credentials} <= SETTINGS


def _locked() -> dict[str, tuple[Version, int]]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9][a-z0-9._-]*)==(\S+)", block)
        if match:
            pins[match.group(1)] = (Version(match.group(2)), block.count("--hash=sha256:"))
    return pins


def test_the_lock_pins_every_runtime_dependency_within_its_bounds_with_hashes() -> None:
    locked = _locked()
    for requirement in _runtime_requirements():
        name = requirement.name.lower()
        assert name in locked, f"{name} is not in requirements.lock (regenerate it: see the README)"
        version, hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), f"{name} {version} {requirement.specifier}"
        assert hashes >= 1
    assert all(hashes >= 1 for _, hashes in locked.values())


def test_starlette_and_aiohttp_stop_before_their_next_major() -> None:
    bounds = {r.name.lower(): r.specifier for r in _runtime_requirements()}
    for name in ("starlette", "aiohttp"):
        uppers = [spec for spec in bounds[name] if spec.operator == "<"]
        assert uppers, f"{name} has no upper bound"


def _lower_bounds_module() -> Any:
    spec = importlib.util.spec_from_file_location("lower_bounds", ROOT / ".ci" / "lower_bounds.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_minimum_versions_job_pins_every_runtime_dependency_at_its_lower_bound() -> None:
    pins = _lower_bounds_module().lower_bounds(ROOT / "pyproject.toml")
    for requirement in _runtime_requirements():
        version = pins[requirement.name.lower()]
        assert requirement.specifier.contains(version), f"{requirement} does not admit its own lower bound"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".ci/lower_bounds.py" in ci
    assert "-c " in ci


def test_a_dependency_without_a_lower_bound_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["httpx"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="httpx has no lower bound"):
        _lower_bounds_module().lower_bounds(pyproject)
