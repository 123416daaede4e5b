"""`lazada auth-url|exchange|status`: authorize a store with Lazada, and see each store's token health."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from datetime import datetime
from types import MappingProxyType
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict

from bot.lazada.errors import LazadaError, LazadaTransportError
from bot.lazada.tokens import StoredTokens
from bot.logs import configure_logging_for
from bot.settings import Settings, SettingsError, StoreConfig
from bot.slack.render.text import relative
from bot.slack.render.tokens import auth_url_command, exchange_command
from bot.store.tokens import DbTokenStore, TokenRecord
from bot.token_keeper import TokenHealth, assess_tokens
from cancel_order_bot.cli.errors import opened_services

__all__ = ["TokenStatus", "add_parser", "authorize_url", "consent_url", "run", "token_statuses"]

log = structlog.get_logger(__name__)

_CODE_LIFETIME_MINUTES = 30


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `lazada auth-url|exchange|status` to the command line."""
    lazada = subparsers.add_parser("lazada", help="authorize stores with Lazada and see their tokens")
    commands = lazada.add_subparsers(dest="lazada_command", required=True, metavar="SUBCOMMAND")
    auth_url = commands.add_parser("auth-url", help="print the address where the seller allows the app")
    auth_url.add_argument("--store", default=None, help="store code (required when several are configured)")
    exchange = commands.add_parser("exchange", help="trade the code Lazada returned for tokens, and store them")
    exchange.add_argument("--store", default=None, help="store code (required when several are configured)")
    exchange.add_argument(
        "code", metavar="CODE", help="the code from the address Lazada returned to (or that whole address)"
    )
    status = commands.add_parser("status", help="each store's seller, token expiry and last successful call")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    return lazada


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the `lazada` subcommand in `args`; 0 on success, 1 when Lazada refused, 2 for bad settings or input."""
    configure_logging_for(settings, level="ERROR")
    try:
        match args.lazada_command:
            case "auth-url":
                return _auth_url(args, settings)
            case "exchange":
                return await _exchange(args, settings)
            case "status":
                return await _status(args, settings)
    except SettingsError as exc:
        return _fail(str(exc), 2)
    return _fail(f"unknown lazada subcommand {args.lazada_command!r}", 2)


def _fail(message: str, code: int = 1) -> int:
    print(f"cancel-order-bot: {message}", file=sys.stderr)
    return code


def _chosen_store(settings: Settings, code: str | None) -> StoreConfig:
    stores = settings.stores()
    if code is None:
        if len(stores) > 1:
            known = ", ".join(s.code for s in stores)
            raise SettingsError(f"several stores are configured; pass --store with one of: {known}")
        return stores[0]
    return settings.store(code)


def authorize_url(auth_url: str) -> str:
    """Lazada's seller consent page next to the token API: ``https://auth.lazada.com/rest`` → ``…/oauth/authorize``."""
    parts = urlsplit(auth_url)
    path = parts.path.rstrip("/").removesuffix("/rest")
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/oauth/authorize", "", ""))


def consent_url(*, auth_url: str, app_key: str, redirect_uri: str, state: str) -> str:
    """The documented consent address: response_type=code, force_auth, redirect_uri, client_id (app key), state."""
    query = urlencode(
        {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": app_key,
            "state": state,
        }
    )
    return f"{authorize_url(auth_url)}?{query}"


def _auth_url(args: argparse.Namespace, settings: Settings) -> int:
    store = _chosen_store(settings, args.store)
    if not settings.lazada_app_key:
        raise SettingsError("missing setting: LAZADA_APP_KEY (the App Key from the Lazada App Console)")
    if not settings.lazada_redirect_uri:
        raise SettingsError(
            "missing setting: LAZADA_REDIRECT_URI (the app's callback URL, exactly as in the Lazada App Console)"
        )
    state = secrets.token_urlsafe(16)
    url = consent_url(
        auth_url=settings.lazada_auth_url,
        app_key=settings.lazada_app_key,
        redirect_uri=settings.lazada_redirect_uri,
        state=state,
    )
    print(f"Store {store.code} ({store.country.value}): open this address signed in as the seller and allow the app:")
    print(url)
    print(f"state: {state}")
    print(
        "The address Lazada sends the seller back to must carry exactly this state; if it does not, "
        "do not use its code."
    )
    print(f"Then, within {_CODE_LIFETIME_MINUTES} minutes (a code works once), run:")
    print(f"  {exchange_command(store.code)}")
    return 0


def _code_from(value: str) -> str:
    """The authorization code itself, also when the whole returned address was pasted."""
    value = value.strip()
    if "code=" in value:
        codes = parse_qs(urlsplit(value).query).get("code")
        if codes:
            return codes[0]
    return value


def _moment(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "unknown"
    return f"{value.strftime('%Y-%m-%d %H:%M UTC')} ({relative(value, now)})"


async def _exchange(args: argparse.Namespace, settings: Settings) -> int:
    store = _chosen_store(settings, args.store)
    code = _code_from(args.code)
    if not code:
        return _fail("CODE is empty: pass the code from the address Lazada returned to", 2)
    async with opened_services(settings) as services:
        client = services.clients[store.code]
        try:
            grant = await client.create_token(code=code)
        except LazadaError as exc:
            log.info("lazada_exchange_failed", store_code=store.code, error=str(exc))
            where = f" (LAZADA_AUTH_URL is {settings.lazada_auth_url})" if isinstance(exc, LazadaTransportError) else ""
            return _fail(f"store {store.code}: {exc.user_message}{where}")
        now = services.clock()
    seller = grant.seller_id or "unknown seller"
    account = f" ({grant.account})" if grant.account else ""
    print(f"Store {store.code}: authorized seller {seller}{account}, country {grant.country or 'unknown'}")
    print(f"  access token  expires {_moment(grant.access_expires_at(now), now)}")
    refresh = grant.refresh_expires_at(now)
    print(f"  refresh token expires {_moment(refresh, now)}; the seller must authorize again before then")
    if grant.country and grant.country != store.country.value:
        print(
            f"warning: Lazada authorized a seller in {grant.country!r}, but store {store.code} is configured for "
            f"{store.country.value!r}; authorize with the seller account of that country",
            file=sys.stderr,
        )
    return 0


class TokenStatus(BaseModel):
    """One store's authorization as `lazada status` shows it; never the tokens themselves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str
    configured: bool
    country: str | None
    health: TokenHealth
    seller_id: str | None = None
    account: str | None = None
    token_country: str | None = None
    access_expires_at: AwareDatetime | None = None
    refresh_expires_at: AwareDatetime | None = None
    has_refresh_token: bool = False
    last_success_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    last_refresh_error: str | None = None
    token_source: Literal["settings", "stored"] | None = None
    """Where the access token in use came from: the settings (LAZADA_ACCESS_TOKEN, STORES_FILE) or the database."""


def _status_of(code: str, store: StoreConfig | None, record: TokenRecord | None, now: datetime) -> TokenStatus:
    tokens: StoredTokens | None = record.tokens if record is not None else None
    error = record.last_refresh_error if record is not None else None
    return TokenStatus(
        store=code,
        configured=store is not None,
        country=store.country.value if store is not None else None,
        health=assess_tokens(tokens, last_refresh_error=error, now=now),
        seller_id=tokens.seller_id if tokens else None,
        account=tokens.account if tokens else None,
        token_country=tokens.country if tokens else None,
        access_expires_at=tokens.access_expires_at if tokens else None,
        refresh_expires_at=tokens.refresh_expires_at if tokens else None,
        has_refresh_token=tokens is not None and tokens.refresh_token is not None,
        last_success_at=record.last_success_at if record else None,
        updated_at=record.updated_at if record else None,
        last_refresh_error=error,
        token_source=None if tokens is None else _token_source(store, tokens),
    )


def _token_source(store: StoreConfig | None, tokens: StoredTokens) -> Literal["settings", "stored"]:
    given = store.access_token if store is not None else None
    same = given is not None and given.get_secret_value() == tokens.access_token.get_secret_value()
    return "settings" if same else "stored"


_SOURCE_WORDS = MappingProxyType(
    {
        "settings": "the one in the settings",
        "stored": "the stored one (from lazada exchange or a refresh)",
    }
)


def token_statuses(stores: list[StoreConfig], records: list[TokenRecord], now: datetime) -> list[TokenStatus]:
    """Every configured store's status in configuration order, then tokens of stores no longer configured."""
    by_code = {record.store_code: record for record in records}
    statuses = [_status_of(store.code, store, by_code.get(store.code), now) for store in stores]
    configured = {store.code for store in stores}
    statuses += [_status_of(r.store_code, None, r, now) for r in records if r.store_code not in configured]
    return statuses


_HEALTH_WORDS = MappingProxyType(
    {
        TokenHealth.OK: "ok",
        TokenHealth.REAUTHORIZE_SOON: "authorize again soon",
        TokenHealth.REFRESH_FAILED: "refresh failed",
        TokenHealth.EXPIRED: "expired: authorize again",
        TokenHealth.NOT_AUTHORIZED: "not authorized",
    }
)


def _status_lines(status: TokenStatus, now: datetime) -> list[str]:
    where = status.country or "not configured any more"
    lines = [f"{status.store} ({where}): {_HEALTH_WORDS[status.health]}"]
    if status.health is TokenHealth.NOT_AUTHORIZED:
        lines.append(f"  to do: {auth_url_command(status.store)}, then lazada exchange")
        return lines
    account = f" ({status.account})" if status.account else ""
    country = f", country {status.token_country}" if status.token_country else ""
    lines.append(f"  seller         {status.seller_id or 'unknown'}{account}{country}")
    if status.token_source is not None:
        saved = f", saved {relative(status.updated_at, now)}" if status.updated_at else ""
        lines.append(f"  token in use   {_SOURCE_WORDS[status.token_source]}{saved}")
    lines.append(f"  access token   expires {_moment(status.access_expires_at, now)}")
    if status.has_refresh_token:
        lines.append(f"  refresh token  expires {_moment(status.refresh_expires_at, now)}")
    else:
        lines.append("  refresh token  none (the access token cannot be renewed)")
    last = _moment(status.last_success_at, now) if status.last_success_at else "never"
    lines.append(f"  last success   {last}")
    if status.last_refresh_error:
        lines.append(f"  last refresh   failed: {status.last_refresh_error}")
    if status.health is not TokenHealth.OK and status.configured:
        lines.append(f"  to do: {auth_url_command(status.store)}, then lazada exchange")
    return lines


async def _status(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_services(settings) as services:
        records = await DbTokenStore(services.db).list_tokens()
        now = services.clock()
        statuses = token_statuses(services.stores, records, now)
    if args.json:
        print(json.dumps([status.model_dump(mode="json") for status in statuses], indent=2))
        return 0
    for status in statuses:
        print("\n".join(_status_lines(status, now)))
    return 0
