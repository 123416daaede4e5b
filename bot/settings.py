"""Settings: one pydantic-settings class (environment and `.env`), plus an optional TOML file of stores."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.lazada.countries import AUTH_GATEWAY, COUNTRIES, Country

__all__ = [
    "DEFAULT_DATABASE_URL",
    "BuyerDeciders",
    "Country",
    "Settings",
    "SettingsError",
    "StoreConfig",
    "Thresholds",
    "check_database_url",
    "load_settings",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///cancel-order-bot.sqlite3"

_STORE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


BuyerDeciders = Literal["approvers", "channel"]
"""Who may answer a buyer's cancellation request: the store's approvers, or anyone in its approval channel."""


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what to do."""


def check_database_url(value: str) -> str:
    """Accept a SQLite (aiosqlite) or PostgreSQL (asyncpg) URL; otherwise say which URL to write instead."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            "not a database URL: use sqlite+aiosqlite:///path/to/file.sqlite3 or postgresql+asyncpg://user@host/db"
        ) from None
    backend = url.get_backend_name()
    driver = _ASYNC_DRIVERS.get(backend)
    if driver is None:
        raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    if url.drivername != driver:
        fixed = url.set(drivername=driver).render_as_string(hide_password=True)
        raise ValueError(f"use {driver}:// (the async driver), for example {fixed}")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("give a SQLite file path, for example sqlite+aiosqlite:///cancel-order-bot.sqlite3")
    return value


class Thresholds(BaseModel):
    """A store's cancellation-rate thresholds (fractions, not percentages)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warning_rate: float = Field(default=0.03, gt=0, lt=1)
    limit_rate: float = Field(default=0.05, gt=0, lt=1)
    min_cancelled_items: int = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _warning_below_limit(self) -> Self:
        if self.warning_rate > self.limit_rate:
            raise ValueError("warning_rate must not exceed limit_rate")
        return self


def _split_ids(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_slack_ids(ids: Sequence[str]) -> list[str]:
    bad = [i for i in ids if not _SLACK_ID.match(i)]
    if bad:
        raise ValueError(f"expected Slack user IDs (U…/W…) or user group IDs (S…), got {', '.join(map(repr, bad))}")
    return list(ids)


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Singapore)") from None
    return value


class StoreConfig(BaseModel):
    """One Lazada store the bot works for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    country: Country
    name: str | None = None
    timezone: str | None = None
    api_url: str | None = None
    approval_channel: str | None = None
    digest_channel: str | None = None
    digest_time: time | None = None
    approvers: list[str] | None = None
    thresholds: Thresholds = Thresholds()
    two_approvers_near_limit: bool = True
    required_approvals: int = Field(default=1, ge=1, le=2)
    # Buyer cancellation requests: how often to look for them, who may answer them (None: the global setting).
    buyer_request_scan_seconds: float | None = Field(default=None, ge=30, le=86400)
    buyer_request_deciders: BuyerDeciders | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not _STORE_CODE.match(value):
            raise ValueError("a store code is 1-24 lowercase letters, digits, '-' or '_'")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("approvers", mode="before")
    @classmethod
    def _approvers(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("approvers")
    @classmethod
    def _approver_ids(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_slack_ids(value)

    @property
    def tz(self) -> ZoneInfo:
        """The store's time zone: set explicitly, or the country's."""
        return ZoneInfo(self.timezone or COUNTRIES[self.country].timezone)

    @property
    def label(self) -> str:
        """A short human label: the name when set, else the code."""
        return self.name or self.code


class _StoresFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stores: list[StoreConfig] = Field(min_length=1)


class Settings(BaseSettings):
    """Every setting of the bot. Public names are the upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    lazada_app_key: str | None = None
    lazada_app_secret: SecretStr | None = None
    lazada_country: Country = Country.SG
    lazada_access_token: SecretStr | None = None
    lazada_refresh_token: SecretStr | None = None
    lazada_api_url: str | None = None
    lazada_auth_url: str = AUTH_GATEWAY
    lazada_redirect_uri: str | None = None
    lazada_calls_per_second: float = Field(default=10.0, gt=0, le=1000)
    lazada_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Lazada's gateway counts calls per app and API; the default paces all of an app's calls together (stricter).
    lazada_rate_per_api: bool = False

    database_url: str = DEFAULT_DATABASE_URL
    sandbox_database_url: str | None = None

    approvers: Annotated[list[str], NoDecode] = []
    approval_channel: str | None = None
    digest_channel: str | None = None
    digest_time: time = time(9, 0)

    store_code: str = "main"
    store_name: str | None = None
    store_timezone: str | None = None
    stores_file: Path | None = None

    request_ttl_hours: float = Field(default=12.0, gt=0, le=24 * 14)
    # How long a cancellation Lazada accepted may stay pending at Lazada before a person is asked to look.
    cancel_pending_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    warning_rate: float = Field(default=0.03, gt=0, lt=1)
    limit_rate: float = Field(default=0.05, gt=0, lt=1)
    min_cancelled_items: int = Field(default=10, ge=0)
    two_approvers_near_limit: bool = True
    # How often each store's open buyer cancellation requests are listed (the first scan runs at start).
    buyer_request_scan_seconds: float = Field(default=300.0, ge=30, le=86400)
    # Who may accept or refuse a buyer's cancellation request: "approvers" (the store's) or "channel" (its members).
    buyer_request_deciders: BuyerDeciders = "approvers"
    seller_fault_initiators: Annotated[list[str], NoDecode] = [
        "cancellation-seller",
        "cancellation-internal",
    ]
    digest_skip_quiet_days: bool = False
    usergroup_cache_seconds: float = Field(default=300.0, ge=0)
    # When Slack cannot list a user group, its cached members are trusted only this long, then approval fails closed.
    usergroup_cache_max_age_seconds: float = Field(default=900.0, ge=0)
    # On SIGTERM, how long executions in flight may run on before the process closes anyway.
    shutdown_deadline_seconds: float = Field(default=30.0, ge=0, le=600)

    log_level: str = "INFO"
    log_format: str = Field(default="auto", pattern="^(auto|console|json)$")
    sentry_dsn: SecretStr | None = None

    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    http_max_connections: int = Field(default=1000, ge=1, le=100_000)

    secrets_dir: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"unknown level {value!r}: use one of {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("approvers", "seller_fault_initiators", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("approvers")
    @classmethod
    def _approver_ids(cls, value: list[str]) -> list[str]:
        return _check_slack_ids(value)

    @field_validator("store_timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("store_code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not _STORE_CODE.match(value):
            raise ValueError("a store code is 1-24 lowercase letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _warning_below_limit(self) -> Self:
        if self.warning_rate > self.limit_rate:
            raise ValueError("WARNING_RATE must not exceed LIMIT_RATE")
        return self

    def stores(self) -> list[StoreConfig]:
        """The configured stores: from STORES_FILE when set, else one store from the LAZADA_* settings."""
        if self.stores_file is not None:
            return load_stores_file(self.stores_file, defaults=self)
        return [
            StoreConfig(
                code=self.store_code,
                country=self.lazada_country,
                name=self.store_name,
                timezone=self.store_timezone,
                api_url=self.lazada_api_url,
                approval_channel=self.approval_channel,
                digest_channel=self.digest_channel,
                digest_time=self.digest_time,
                thresholds=self.thresholds(),
                two_approvers_near_limit=self.two_approvers_near_limit,
                buyer_request_scan_seconds=self.buyer_request_scan_seconds,
                buyer_request_deciders=self.buyer_request_deciders,
                access_token=self.lazada_access_token,
                refresh_token=self.lazada_refresh_token,
            )
        ]

    def thresholds(self) -> Thresholds:
        """The default thresholds, for stores that set none."""
        return Thresholds(
            warning_rate=self.warning_rate,
            limit_rate=self.limit_rate,
            min_cancelled_items=self.min_cancelled_items,
        )

    def store(self, code: str | None) -> StoreConfig:
        """The store with this code, or the only/first one when `code` is None."""
        stores = self.stores()
        if code is None:
            return stores[0]
        for store in stores:
            if store.code == code:
                return store
        known = ", ".join(s.code for s in stores)
        raise SettingsError(f"unknown store {code!r}; configured stores: {known}")

    def secret_values(self) -> list[str]:
        """Every secret value set, including the stores' tokens (for scrubbing logs)."""
        secrets = [
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.lazada_app_secret,
            self.lazada_access_token,
            self.lazada_refresh_token,
            self.sentry_dsn,
        ]
        if self.stores_file is not None:
            try:
                for store in self.stores():
                    secrets += [store.access_token, store.refresh_token]
            except SettingsError:
                pass  # a broken stores file is reported where it is read; its tokens cannot be known here
        return [s.get_secret_value() for s in secrets if s is not None]

    def require(self, *names: str) -> None:
        """Stop with a message naming each setting in `names` that is not set."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "", [])]
        if missing:
            raise SettingsError(f"missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")


def load_stores_file(path: Path, *, defaults: Settings) -> list[StoreConfig]:
    """Read a TOML file of ``[[stores]]`` tables; settings not given per store come from `defaults`."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"STORES_FILE: {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"STORES_FILE: {path} is not valid TOML: {exc}") from None
    for entry in raw.get("stores", []) if isinstance(raw.get("stores"), list) else []:
        if isinstance(entry, dict):
            entry.setdefault("approval_channel", defaults.approval_channel)
            entry.setdefault("digest_channel", defaults.digest_channel)
            entry.setdefault("digest_time", defaults.digest_time)
            entry.setdefault("two_approvers_near_limit", defaults.two_approvers_near_limit)
            entry.setdefault("buyer_request_scan_seconds", defaults.buyer_request_scan_seconds)
            entry.setdefault("buyer_request_deciders", defaults.buyer_request_deciders)
            entry.setdefault("thresholds", defaults.thresholds().model_dump())
    try:
        stores = _StoresFile.model_validate(raw).stores
    except ValidationError as exc:
        raise SettingsError(f"STORES_FILE: {path}: {_describe(exc, prefix='stores')}") from None
    codes = [s.code for s in stores]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise SettingsError(f"STORES_FILE: {path}: duplicate store code(s): {', '.join(duplicates)}")
    return stores


def _describe(exc: ValidationError, *, prefix: str | None = None, env_names: bool = False) -> str:
    parts: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        location = [str(p) for p in error["loc"]]
        if env_names and location:
            name = location[0].upper()
        else:
            name = ".".join(location) if location else (prefix or "settings")
        parts.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


class _SecretsDir(BaseSettings):
    """Only SECRETS_DIR, read first: it says where the other settings' files are."""

    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="ignore")

    secrets_dir: Path | None = None


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build Settings from the environment, `env_file` and SECRETS_DIR's files, turning errors into SettingsError.

    Precedence, highest first: `overrides`, the environment, `env_file`, a file named after the setting in
    SECRETS_DIR (as Docker and systemd mount secrets: ``/run/secrets/slack_bot_token``), the default.
    """
    try:
        secrets_dir = overrides.get("secrets_dir") or _SecretsDir(_env_file=env_file).secrets_dir
        if secrets_dir is not None and not Path(secrets_dir).is_dir():
            raise SettingsError(f"invalid setting SECRETS_DIR: {secrets_dir} is not a folder")
        return Settings(_env_file=env_file, _secrets_dir=secrets_dir, **overrides)
    except ValidationError as exc:
        raise SettingsError(f"invalid setting {_describe(exc, env_names=True)}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{env_file}: not UTF-8 text (byte {exc.start} cannot be read); save it as UTF-8") from None


def describe_sources(settings: Settings, names: Iterable[str]) -> dict[str, bool]:
    """Tell, for each name, whether it is set (for `check`, without revealing values)."""
    return {name.upper(): getattr(settings, name) not in (None, "", []) for name in names}
