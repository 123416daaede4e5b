"""Structured logging: structlog for our code and the stdlib loggers; secrets scrubbed, lines unforgeable."""

from __future__ import annotations

import importlib
import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.settings import Settings, SettingsError

__all__ = [
    "SecretScrubber",
    "configure_logging",
    "configure_logging_for",
    "escape_controls",
    "init_error_reporting",
    "resolve_format",
]

REDACTED = "[redacted]"

# Keys whose values are never logged, whatever they hold.
_SECRET_KEYS = re.compile(r"(token|secret|sign|password|authorization|cookie)", re.IGNORECASE)
# Shapes of Slack tokens and signatures, caught even when nobody registered the value.
_SECRET_SHAPES = re.compile(r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-f]{64})")
# Characters that could end a console line early or move the cursor: C0 and C1 controls, DEL, Unicode line breaks.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Bolt logs a refused request's whole body; the bot's own HTTP layer refuses those first, this is the fallback.
_BOLT_REFUSAL = "Invalid request signature detected"


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_CONTROLS.get(char) or (f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (``\\n``, ``\\x1b``), so it stays on one line."""
    return _CONTROLS.sub(_escape_one, text)


class _Escaped(str):
    """A value already escaped: the console renderer quotes it as it is, without escaping the escapes again."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{self}'"


def _escape_event(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Escape controls in every string value (a traceback keeps its lines, each marked as a continuation)."""
    for key, value in event_dict.items():
        if not isinstance(value, str) or not _CONTROLS.search(value):
            continue
        if key == "exception":
            event_dict[key] = "\n".join("  | " + escape_controls(line) for line in value.splitlines())
        elif key == "event":
            event_dict[key] = escape_controls(value)
        else:
            event_dict[key] = _Escaped(escape_controls(value))
    return event_dict


class _BoltBodyCut(logging.Filter):
    """Drops the unsigned body from Bolt's "Invalid request signature detected" line, keeping its length."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite Bolt's refusal line in place; let every other record through untouched."""
        if record.name.startswith("slack_bolt") and isinstance(record.msg, str) and _BOLT_REFUSAL in record.msg:
            body = record.msg.partition("body: ")[2]
            record.msg = f"{_BOLT_REFUSAL} (unsigned body of {max(len(body) - 1, 0)} characters not logged)"
            record.args = None
        return True


def resolve_format(fmt: str, stream: TextIO) -> str:
    """``json`` or ``console``: ``auto`` means console for a terminal and JSON for anything else (a file, a pipe)."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


class SecretScrubber:
    """A structlog processor and logging filter that replaces known secret values and secret-shaped strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (ignoring empty and very short ones, which would scrub ordinary text)."""
        self._secrets.update(s for s in secrets if s and len(s) >= 6)

    def scrub(self, text: str) -> str:
        """Return `text` with every registered secret and secret-shaped string replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _SECRET_SHAPES.sub(REDACTED, text)

    def _value(self, key: str, value: Any) -> Any:
        if _SECRET_KEYS.search(key) and value is not None and not isinstance(value, bool | int | float):
            return REDACTED
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, MutableMapping):
            return {k: self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(key, v) for v in value]
        return value

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        """Scrub a structlog event dict."""
        for key in list(event_dict):
            if key in {"event", "exception", "exc_info"} and isinstance(event_dict[key], str):
                event_dict[key] = self.scrub(event_dict[key])
            elif key not in {"event", "exc_info", "_record", "_from_structlog"}:
                event_dict[key] = self._value(key, event_dict[key])
        return event_dict

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub a stdlib log record's message in place (used on the root handler)."""
        if isinstance(record.msg, dict):
            return True  # a structlog event: already scrubbed by the processor chain
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        record.msg = self.scrub(str(record.msg))
        return True


def configure_logging(
    *,
    level: str = "INFO",
    fmt: str = "console",
    scrubber: SecretScrubber | None = None,
    stream: TextIO | None = None,
) -> SecretScrubber:
    """Route structlog and stdlib logging to one handler, scrubbing secrets; return the scrubber in use.

    `fmt` is ``console``, ``json`` or ``auto`` (see `resolve_format`). In the console format every control
    character in a value is escaped, so no value can start a line of its own; JSON escapes them by itself.
    """
    scrubber = scrubber or SecretScrubber()
    stream = stream or sys.stderr
    fmt = resolve_format(fmt, stream)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
        scrubber,
    ]
    renderers: list[Processor] = (
        [structlog.processors.JSONRenderer()]
        if fmt == "json"
        else [_escape_event, structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(_BoltBodyCut())
    handler.addFilter(scrubber)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party loggers that are noisy at INFO.
    for name in ("httpx", "httpcore", "aiohttp.access", "apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return scrubber


def configure_logging_for(settings: Settings, *, level: str | None = None) -> SecretScrubber:
    """Configure logging from the settings (format, level unless given), scrubbing every secret they hold.

    With ``SENTRY_DSN`` set, errors are reported to Sentry as well (see `init_error_reporting`).
    """
    scrubber = configure_logging(
        level=level or settings.log_level,
        fmt=settings.log_format,
        scrubber=SecretScrubber(settings.secret_values()),
    )
    init_error_reporting(settings, scrubber)
    return scrubber


def init_error_reporting(settings: Settings, scrubber: SecretScrubber) -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set; True when it started. Without the package, a one-line SettingsError."""
    if settings.sentry_dsn is None:
        return False
    try:
        sentry_sdk = importlib.import_module("sentry_sdk")  # an optional extra: no stubs needed without it
    except ImportError:
        raise SettingsError(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install 'cancel-order-bot[sentry]'"
        ) from None

    def scrubbed(event: Any, hint: Any) -> Any:
        # Events carry exception messages and log lines that may quote a token: scrub them as the logs are.
        return scrubber._value("event", event)

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        send_default_pii=False,
        include_local_variables=False,  # locals hold tokens and signing secrets
        before_send=scrubbed,
    )
    return True
