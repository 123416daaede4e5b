"""`check`: validate the configuration, then reach Slack, the database and each store's Lazada token.

Each check is a small function returning a `CheckResult`; `run` prints one ``✓``/``⚠``/``✗`` line per check (a
warning is an optional setting left out), a fix under each failure, and exits 1 when any failed. It never creates or
migrates a database: it says what `db upgrade` would do. Only a Lazada access token that has expired is refreshed
(and the settings' tokens are stored, as the bot does at start). `--sandbox` checks the setup of `run --sandbox`.
"""

from __future__ import annotations

import argparse
import importlib.resources
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

import cancel_order_bot
from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.countries import COUNTRIES
from bot.lazada.errors import LazadaAuthError, LazadaError, LazadaTransportError
from bot.lazada.tokens import TokenStore
from bot.logs import configure_logging_for
from bot.services import OTHER_KIND_FIX
from bot.settings import Settings, SettingsError, StoreConfig
from bot.slack.render.tokens import auth_url_command
from bot.store.db import Database, create_engine, default_sqlite_url
from bot.store.facts import DatabaseKind, DatabaseKindError, FactStore
from bot.store.migrate import current_revision, head_revision
from bot.store.tables import database_facts
from bot.store.tokens import DbTokenStore
from bot.token_keeper import TokenHealth, assess_tokens, renewal_deadline
from cancel_order_bot.cli.errors import opened_services, shown_database_url

__all__ = [
    "CheckResult",
    "add_parser",
    "check_approver",
    "check_channel",
    "check_database",
    "check_settings",
    "check_slack_app_token",
    "check_slack_auth",
    "check_slack_scopes",
    "check_store_token",
    "check_stores",
    "find_manifest",
    "manifest_bot_scopes",
    "run",
]

_SLACK_TIMEOUT = 15
_MANIFEST_SCOPES_PATH = ("oauth_config", "scopes", "bot")
_CHECK_RETRY = RetryPolicy(attempts=2, timeout=20.0, wait_initial=0.5, wait_max=1.0, wait_jitter=0.0)
_SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, TimeoutError)
_BOT_CREDENTIAL_FIX = (
    "SLACK_BOT_TOKEN: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page; "
    "reinstall the app to the workspace if it was revoked"
)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: what was checked, whether it passed, what was found, and what to do when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warning: bool = False

    @property
    def mark(self) -> str:
        """``✓`` passed, ``⚠`` passed with a warning, ``✗`` failed."""
        if not self.ok:
            return "✗"
        return "⚠" if self.warning else "✓"

    def lines(self) -> list[str]:
        """The printed form: ``✓ name: detail``, or ``✗``/``⚠ name: detail`` and ``  → fix``."""
        head = f"{self.mark} {self.name}: {self.detail}"
        if (self.ok and not self.warning) or not self.fix:
            return [head]
        return [head, f"    → {self.fix}"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `check` to the command line."""
    check = subparsers.add_parser("check", help="validate the configuration and reach Slack, Lazada and the database")
    check.add_argument(
        "--manifest", type=Path, default=None, help="the app manifest to compare scopes with (default: manifest.yml)"
    )
    check.add_argument(
        "--sandbox", action="store_true", help="check the setup of `run --sandbox` (no Lazada app or tokens needed)"
    )
    return check


# -- configuration ---------------------------------------------------------------------------------------------


def _is_set(value: object) -> bool:
    return value not in (None, "", [])


def _token_shape_problems(settings: Settings) -> list[str]:
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if bot_token and app_token and bot_token.startswith("xapp-") and app_token.startswith("xoxb-"):
        return ["SLACK_BOT_TOKEN and SLACK_APP_TOKEN are swapped (the bot token is xoxb-…, the app-level one xapp-…)"]
    wrong: list[str] = []
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        wrong.append("SLACK_BOT_TOKEN does not start with xoxb- (the Bot User OAuth Token does)")
    if app_token is not None and not app_token.startswith("xapp-"):
        wrong.append("SLACK_APP_TOKEN does not start with xapp- (an app-level token with connections:write does)")
    return wrong


def check_settings(settings: Settings, *, sandbox: bool = False) -> CheckResult:
    """The settings every mode needs are set (no Lazada app with `sandbox`); the Slack tokens have the right shapes."""
    required = ("slack_bot_token",) if sandbox else ("slack_bot_token", "lazada_app_key", "lazada_app_secret")
    missing = [name.upper() for name in required if not _is_set(getattr(settings, name))]
    has_app_token = settings.slack_app_token is not None
    has_signing_secret = settings.slack_signing_secret is not None
    if not has_app_token and not has_signing_secret:
        missing.append("SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")
    wrong = _token_shape_problems(settings)
    if missing or wrong:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + wrong
        return CheckResult(
            "settings",
            False,
            "; ".join(problems),
            "set them in the environment or .env (the README's configuration table lists every setting)",
        )
    modes = [
        mode for mode, ready in (("run (Socket Mode)", has_app_token), ("serve (HTTP)", has_signing_secret)) if ready
    ]
    lazada = "; Lazada is the built-in sandbox" if sandbox else ""
    return CheckResult("settings", True, f"required settings present; ready for {' and '.join(modes)}{lazada}")


def _approvers(settings: Settings, store: StoreConfig) -> list[str]:
    return list(store.approvers) if store.approvers else list(settings.approvers)


def check_stores(settings: Settings) -> CheckResult:
    """The stores load and each has approvers; a store without a digest channel is a warning (it is optional)."""
    try:
        stores = settings.stores()
    except SettingsError as exc:
        return CheckResult("stores", False, str(exc), "correct STORES_FILE (a TOML file of [[stores]] tables)")
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    for store in stores:
        if not _approvers(settings, store):
            problems.append(f"store {store.code} has no approvers, so nobody can approve its requests")
        if not store.digest_channel:
            warnings.append(f"store {store.code} has no digest channel, so its daily digest is not posted")
        if not store.approval_channel:
            notes.append(f"{store.code}'s requests are posted where /cancel-order runs")
            warnings.append(
                f"store {store.code} has no approval channel, so buyers' cancellation requests are not looked for"
            )
    if problems:
        return CheckResult(
            "stores",
            False,
            "; ".join(problems),
            "set APPROVERS (user IDs U…, user group IDs S…), or approvers per store in STORES_FILE",
        )
    listed = ", ".join(f"{store.code} ({store.country.value})" for store in stores)
    detail = f"{len(stores)} store{'s' if len(stores) != 1 else ''}: {listed}"
    detail += "".join(f"; {text}" for text in (*warnings, *notes))
    if warnings:
        missing = [
            name
            for name, unset in (
                ("DIGEST_CHANNEL", any(not s.digest_channel for s in stores)),
                ("APPROVAL_CHANNEL", any(not s.approval_channel for s in stores)),
            )
            if unset
        ]
        per_store = " or ".join(name.lower() for name in missing)
        fix = f"set {' and '.join(missing)} (a channel ID), or {per_store} per store"
        return CheckResult("stores", True, detail, fix, warning=True)
    return CheckResult("stores", True, detail)


# -- database ----------------------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


@dataclass(frozen=True)
class _DatabaseState:
    result: CheckResult
    at_head: bool


async def check_database(url: str, *, sandbox: bool = False) -> CheckResult:
    """The database answers, holds this kind of data, and its schema is the one this code needs.

    Says what `db upgrade` would do, and does nothing: it never creates, migrates or marks a database.
    `sandbox`: `url` is the sandbox's database (`SANDBOX_DATABASE_URL`), which a `--sandbox` run migrates itself.
    """
    return (await _database_state(url, sandbox=sandbox)).result


def _upgrade_would(current: str | None, head: str) -> str:
    return f"create the schema at {head}" if current is None else f"upgrade {current} → {head}"


async def _held_kind(url: str) -> DatabaseKind | None:
    """The kind of data the database holds, read without writing; None before its schema has `database_facts`."""
    db = Database(create_engine(url, poolclass=NullPool))
    try:
        async with db.read() as conn:
            has_facts = await conn.run_sync(lambda sync: sa.inspect(sync).has_table(database_facts.name))
        return await FactStore(db).kind() if has_facts else None
    finally:
        await db.close()


async def _sandbox_database_state(settings: Settings) -> _DatabaseState:
    # Imported only here: production's `check` loads no sandbox.
    from cancel_order_bot.sandbox.target import sandbox_database_url

    try:
        url = sandbox_database_url(settings)
    except SettingsError as exc:
        fix = "set SANDBOX_DATABASE_URL to a database of the sandbox's own"
        return _DatabaseState(CheckResult("database", False, str(exc), fix), at_head=False)
    return await _database_state(url, sandbox=True)


async def _database_state(url: str, *, sandbox: bool = False) -> _DatabaseState:
    parsed = make_url(url)
    shown = shown_database_url(url)
    head = head_revision()
    setting = "SANDBOX_DATABASE_URL" if sandbox else "DATABASE_URL"
    wanted = DatabaseKind.SANDBOX if sandbox else DatabaseKind.LAZADA
    creator = "a `--sandbox` run" if sandbox else "`cancel-order-bot db upgrade` (or the bot at start)"
    sqlite_file = Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None
    if sqlite_file is not None and not sqlite_file.exists():
        if not sqlite_file.parent.is_dir():
            fix = f"create the folder, or point {setting} at a file in a folder that exists"
            detail = f"cannot reach {shown}: the folder {sqlite_file.parent} does not exist"
            return _DatabaseState(CheckResult("database", False, detail, fix), at_head=False)
        detail = f"{shown} does not exist yet; {creator} would create it"
        fix = f"nothing to do: the schema will be created at {head}"
        return _DatabaseState(CheckResult("database", True, detail, fix, warning=True), at_head=False)
    try:
        current = await current_revision(url)
        holds = await _held_kind(url)
    except (SQLAlchemyError, OSError) as exc:
        fix = f"check {setting}, that the server runs and accepts this user"
        return _DatabaseState(
            CheckResult("database", False, f"cannot reach {shown}: {_short(exc)}", fix), at_head=False
        )
    if holds is not None and holds != wanted:
        detail = f"{shown}: {DatabaseKindError(holds=holds, wanted=wanted)}"
        fix = f"{OTHER_KIND_FIX[wanted]}: point {setting} at another database"
        return _DatabaseState(CheckResult("database", False, detail, fix), at_head=False)
    if current == head:
        return _DatabaseState(CheckResult("database", True, f"{shown}, schema up to date ({head})"), at_head=True)
    would = _upgrade_would(current, head)
    if sqlite_file is not None or sandbox:
        who = "a `--sandbox` run upgrades its database" if sandbox else "the bot upgrades SQLite"
        detail = f"{shown}, schema at {current or 'nothing yet'}; {who} when it starts"
        fix = f"nothing to do: {creator} would {would}"
        return _DatabaseState(CheckResult("database", True, detail, fix, warning=True), at_head=False)
    return _DatabaseState(
        CheckResult(
            "database",
            False,
            f"{shown}: schema at {current or 'nothing yet'}, this version needs {head}",
            f"run `cancel-order-bot db upgrade` (once, before starting the replicas): it would {would}",
        ),
        at_head=False,
    )


# -- Slack -------------------------------------------------------------------------------------------------------


def _slack_error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "unknown_error")
    return type(exc).__name__


def _needed_scope(exc: BaseException) -> str | None:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        needed = exc.response.get("needed")
        return str(needed) if needed else None
    return None


def _slack_fix(exc: BaseException, otherwise: str) -> str:
    error = _slack_error(exc)
    if error in {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}:
        return _BOT_CREDENTIAL_FIX
    if error == "missing_scope":
        scope = _needed_scope(exc) or "the scope Slack names"
        return f"add the {scope} bot scope (it is in manifest.yml) and reinstall the app to the workspace"
    if not isinstance(exc, SlackApiError):
        return "check the network and SLACK_API_URL"
    return otherwise


async def check_slack_auth(client: AsyncWebClient) -> CheckResult:
    """auth.test: the bot token is valid, and for which workspace and bot user."""
    try:
        response = await client.auth_test()
    except _SLACK_FAILURES as exc:
        return CheckResult(
            "slack auth", False, f"auth.test failed: {_slack_error(exc)}", _slack_fix(exc, _BOT_CREDENTIAL_FIX)
        )
    return CheckResult(
        "slack auth",
        True,
        f"bot {response.get('user')} ({response.get('user_id')}) in workspace {response.get('team')} "
        f"({response.get('team_id')})",
    )


_APP_LEVEL_FIX = (
    "SLACK_APP_TOKEN: generate an app-level token with the connections:write scope (Basic Information → App-Level "
    "Tokens) and turn Socket Mode on"
)


async def check_slack_app_token(app_token: str, api_url: str) -> CheckResult:
    """apps.connections.open: the app-level token may open Socket Mode connections (the URL it returns is unused)."""
    client = AsyncWebClient(base_url=api_url, timeout=_SLACK_TIMEOUT)
    try:
        await client.apps_connections_open(app_token=app_token)
    except _SLACK_FAILURES as exc:
        error = _slack_error(exc)
        fix = "check the network and SLACK_API_URL" if not isinstance(exc, SlackApiError) else _APP_LEVEL_FIX
        return CheckResult("slack app token", False, f"apps.connections.open failed: {error}", fix)
    return CheckResult("slack app token", True, "Socket Mode connections open with SLACK_APP_TOKEN")


def find_manifest() -> str | None:
    """The app manifest's text, shipped inside the package (``manifest.yml`` at the repository's root links to it)."""
    packaged = importlib.resources.files(cancel_order_bot).joinpath("manifest.yml")
    return packaged.read_text(encoding="utf-8") if packaged.is_file() else None


def manifest_bot_scopes(text: str) -> tuple[str, ...]:
    """The scopes under ``oauth_config.scopes.bot`` of a manifest in YAML."""
    import yaml  # only `check` reads YAML: the serving process never loads it

    node: Any = yaml.safe_load(text)
    for key in _MANIFEST_SCOPES_PATH:
        node = node.get(key) if isinstance(node, dict) else None
    return tuple(str(scope) for scope in node or () if scope)


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


async def check_slack_scopes(client: AsyncWebClient, required: Sequence[str]) -> CheckResult:
    """The bot token holds every bot scope the manifest asks for (auth.test's ``x-oauth-scopes`` header)."""
    try:
        response = await client.auth_test()
    except _SLACK_FAILURES as exc:
        return CheckResult(
            "slack scopes", False, f"auth.test failed: {_slack_error(exc)}", _slack_fix(exc, _BOT_CREDENTIAL_FIX)
        )
    header = _header(response.headers, "x-oauth-scopes")
    if header is None:
        return CheckResult(
            "slack scopes",
            False,
            "Slack did not say which scopes the token holds (no x-oauth-scopes header)",
            "check that SLACK_API_URL is Slack's Web API (https://slack.com/api/)",
        )
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = [scope for scope in required if scope not in granted]
    if missing:
        return CheckResult(
            "slack scopes",
            False,
            f"the bot token lacks {', '.join(missing)}",
            "add the missing bot scopes on the app's OAuth & Permissions page (or update the app from manifest.yml), "
            "then reinstall the app to the workspace",
        )
    extra = sorted(granted - set(required))
    more = f" (the token also holds {', '.join(extra)})" if extra else ""
    return CheckResult("slack scopes", True, f"all {len(required)} manifest scopes granted{more}")


async def check_channel(client: AsyncWebClient, channel: str, uses: Sequence[str]) -> CheckResult:
    """The channel exists, is not archived, and the bot is a member."""
    name = f"channel {channel}"
    what = " and ".join(uses)
    if channel[:1] not in {"C", "G"} or not channel.isalnum():
        return CheckResult(
            name,
            False,
            f"{what} is not a channel ID",
            "use the channel ID (C…), shown at the bottom of the channel's details in Slack",
        )
    try:
        response = await client.conversations_info(channel=channel)
    except _SLACK_FAILURES as exc:
        error = _slack_error(exc)
        otherwise = (
            "check the channel ID; for a private channel, invite the bot first (/invite in the channel)"
            if error == "channel_not_found"
            else "check the channel ID and try again"
        )
        return CheckResult(name, False, f"{what}: conversations.info failed: {error}", _slack_fix(exc, otherwise))
    info = response.get("channel") or {}
    label = f"#{info.get('name')}" if info.get("name") else channel
    if info.get("is_archived"):
        return CheckResult(name, False, f"{what} {label} is archived", "unarchive it, or configure another channel")
    if not info.get("is_member"):
        return CheckResult(
            name,
            False,
            f"the bot is not a member of {label} ({what})",
            f"invite the bot: type /invite in {label} and pick the app",
        )
    return CheckResult(name, True, f"{what} {label}; the bot is a member")


async def check_approver(client: AsyncWebClient, approver: str) -> CheckResult:
    """An approver user exists, or an approver user group exists and has members."""
    if approver.startswith("S"):
        name = f"approver group {approver}"
        try:
            response = await client.usergroups_users_list(usergroup=approver)
        except _SLACK_FAILURES as exc:
            error = _slack_error(exc)
            return CheckResult(
                name,
                False,
                f"usergroups.users.list failed: {error}",
                _slack_fix(exc, "check the user group ID (S…) in APPROVERS or the store's approvers"),
            )
        members = response.get("users") or []
        if not members:
            return CheckResult(
                name, False, "the group has no members, so nobody in it can approve", "add the approvers to the group"
            )
        return CheckResult(name, True, f"{len(members)} member{'s' if len(members) != 1 else ''}")
    name = f"approver {approver}"
    try:
        response = await client.users_info(user=approver)
    except _SLACK_FAILURES as exc:
        error = _slack_error(exc)
        return CheckResult(
            name,
            False,
            f"users.info failed: {error}",
            _slack_fix(exc, "check the user ID (U…) in APPROVERS or the store's approvers"),
        )
    person = response.get("user") or {}
    if person.get("deleted"):
        return CheckResult(name, False, "the account is deactivated", "replace it in APPROVERS")
    return CheckResult(name, True, f"{person.get('real_name') or person.get('name') or approver}")


# -- Lazada ------------------------------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "unknown"


async def check_store_token(
    client: LazadaClient, store: StoreConfig, token_store: TokenStore, *, api_url: str, now: datetime
) -> CheckResult:
    """The store has a token and Lazada accepts it: one read-only GetOrders call for the last day, one order."""
    name = f"lazada store {store.code}"
    if await token_store.load(store.code) is None:
        return CheckResult(
            name,
            False,
            "no Lazada token is stored or configured for this store",
            f"run `{auth_url_command(store.code)}`, then `cancel-order-bot lazada exchange`",
        )
    try:
        await client.get_orders(created_after=now - timedelta(days=1), limit=1)
    except LazadaAuthError as exc:
        return CheckResult(
            name,
            False,
            f"Lazada refused the token: {exc.user_message}",
            f"authorize the store again: `{auth_url_command(store.code)}`, then `cancel-order-bot lazada exchange`",
        )
    except LazadaTransportError as exc:
        return CheckResult(
            name,
            False,
            f"Lazada did not answer at {api_url}: {exc.user_message}",
            "check the network and LAZADA_API_URL",
        )
    except LazadaError as exc:
        return CheckResult(
            name, False, f"Lazada answered with an error: {exc.user_message}", "try again later; the logs have detail"
        )
    # Read again: the call may have refreshed an access token that had expired.
    tokens = await token_store.load(store.code)
    if tokens is None:
        return CheckResult(name, False, "the store's tokens disappeared during the check", "run the check again")
    seller = f"seller {tokens.seller_id}" if tokens.seller_id else "the token"
    detail = f"{seller} works; access token expires {_when(tokens.access_expires_at)}"
    health = assess_tokens(tokens, last_refresh_error=None, now=now)
    if health is TokenHealth.REAUTHORIZE_SOON:
        detail += (
            f"; renewal ends {_when(renewal_deadline(tokens))}: authorize again before then "
            f"(`{auth_url_command(store.code)}`)"
        )
    return CheckResult(name, True, detail)


async def _lazada_checks(
    settings: Settings, stores: Sequence[StoreConfig], database: _DatabaseState, *, sandbox: bool
) -> list[CheckResult]:
    if not database.result.ok:
        return [
            CheckResult(f"lazada store {s.code}", False, "not checked: the database is not usable", "fix it first")
            for s in stores
        ]
    try:
        if database.at_head and not sandbox:
            return await _store_token_checks(settings, stores, migrate=False)
        # No schema to read tokens from yet (or the sandbox, which never touches the real database): check the
        # tokens the settings give, in a throwaway database, so the real one is neither created nor migrated.
        with tempfile.TemporaryDirectory(prefix="cancel-order-bot-check-") as folder:
            scratch = settings.model_copy(update={"database_url": default_sqlite_url(Path(folder) / "check.sqlite3")})
            return await _store_token_checks(scratch, stores, migrate=True, sandbox=sandbox)
    except SettingsError as exc:
        return [
            CheckResult(f"lazada store {s.code}", False, f"not checked: {exc}", "correct the settings first")
            for s in stores
        ]


async def _store_token_checks(
    settings: Settings, stores: Sequence[StoreConfig], *, migrate: bool, sandbox: bool = False
) -> list[CheckResult]:
    lazada = None
    if sandbox:  # imported only here: production's `check` loads no sandbox
        from cancel_order_bot.sandbox import SandboxWorld
        from cancel_order_bot.sandbox.target import sandbox_target

        world = SandboxWorld(country=settings.lazada_country.value)
        lazada = sandbox_target(settings, world, database_url=settings.database_url)
    results: list[CheckResult] = []
    async with opened_services(settings, retry=_CHECK_RETRY, migrate=migrate, lazada=lazada) as services:
        tokens = DbTokenStore(services.db)
        for store in services.stores if sandbox else stores:
            api_url = "the built-in sandbox" if sandbox else store.api_url or settings.lazada_api_url
            client = services.clients[store.code]
            results.append(
                await check_store_token(
                    client, store, tokens, api_url=api_url or COUNTRIES[store.country].gateway, now=services.clock()
                )
            )
    return results


# -- running -----------------------------------------------------------------------------------------------------


def _manifest_text(path: Path | None) -> str | None:
    if path is None:
        return find_manifest()
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _channels(stores: Iterable[StoreConfig]) -> dict[str, list[str]]:
    uses: dict[str, list[str]] = {}
    for store in stores:
        if store.approval_channel:
            uses.setdefault(store.approval_channel, []).append(f"approval channel of {store.code}")
        if store.digest_channel:
            uses.setdefault(store.digest_channel, []).append(f"digest channel of {store.code}")
    return uses


def _all_approvers(settings: Settings, stores: Iterable[StoreConfig]) -> list[str]:
    seen: dict[str, None] = {}
    for store in stores:
        seen.update(dict.fromkeys(_approvers(settings, store)))
    return list(seen)


def _report(result: CheckResult, results: list[CheckResult]) -> None:
    results.append(result)
    print("\n".join(result.lines()), flush=True)


async def _slack_checks(settings: Settings, stores: Sequence[StoreConfig], manifest: str | None) -> list[CheckResult]:
    results: list[CheckResult] = []
    if settings.slack_bot_token is None:
        _report(
            CheckResult("slack auth", False, "not checked: SLACK_BOT_TOKEN is not set", _BOT_CREDENTIAL_FIX), results
        )
        return results
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=_SLACK_TIMEOUT
    )
    auth = await check_slack_auth(client)
    _report(auth, results)
    if settings.slack_app_token is not None and not _token_shape_problems(settings):
        _report(
            await check_slack_app_token(settings.slack_app_token.get_secret_value(), settings.slack_api_url), results
        )
    if not auth.ok:
        return results
    if manifest is None:
        _report(
            CheckResult(
                "slack scopes",
                False,
                "manifest.yml was not found, so the scopes cannot be compared",
                "pass --manifest PATH to the app manifest",
            ),
            results,
        )
    else:
        _report(await check_slack_scopes(client, manifest_bot_scopes(manifest)), results)
    for channel, uses in _channels(stores).items():
        _report(await check_channel(client, channel, uses), results)
    for approver in _all_approvers(settings, stores):
        _report(await check_approver(client, approver), results)
    return results


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run every check, printing one line each; 0 when all passed, 1 when any failed."""
    configure_logging_for(settings, level="ERROR")
    sandbox = bool(getattr(args, "sandbox", False))
    results: list[CheckResult] = []
    _report(check_settings(settings, sandbox=sandbox), results)
    stores_result = check_stores(settings)
    _report(stores_result, results)
    try:
        stores = settings.stores()
    except SettingsError:
        stores = []
    database = await (_sandbox_database_state(settings) if sandbox else _database_state(settings.database_url))
    _report(database.result, results)
    manifest = _manifest_text(getattr(args, "manifest", None))
    results += await _slack_checks(settings, stores, manifest)
    for result in await _lazada_checks(settings, stores, database, sandbox=sandbox):
        _report(result, results)
    failed = [result for result in results if not result.ok]
    warned = [result for result in results if result.ok and result.warning]
    if failed:
        print(f"{len(failed)} of {len(results)} checks failed", flush=True)
        return 1
    note = f", {len(warned)} with a warning" if warned else ""
    print(f"all {len(results)} checks passed{note}", flush=True)
    return 0
