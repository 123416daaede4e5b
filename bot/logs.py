"""Structured logging: structlog for our code and the stdlib loggers, with secrets scrubbed from every line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.settings import Settings

__all__ = ["SecretScrubber", "configure_logging", "configure_logging_for"]

REDACTED = "[redacted]"

# Keys whose values are never logged, whatever they hold.
_SECRET_KEYS = re.compile(r"(token|secret|sign|password|authorization|cookie)", re.IGNORECASE)
# Shapes of Slack tokens and signatures, caught even when nobody registered the value.
_SECRET_SHAPES = re.compile(r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-f]{64})")


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
    """Route structlog and stdlib logging to one handler, scrubbing secrets; return the scrubber in use."""
    scrubber = scrubber or SecretScrubber()
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
        scrubber,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(scrubber)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party loggers that are noisy at INFO.
    for name in ("httpx", "httpcore", "aiohttp.access", "apscheduler.executors.default", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return scrubber


def configure_logging_for(settings: Settings, *, level: str | None = None) -> SecretScrubber:
    """Configure logging from the settings (format, level unless given), scrubbing every secret they hold."""
    return configure_logging(
        level=level or settings.log_level,
        fmt=settings.log_format,
        scrubber=SecretScrubber(settings.secret_values()),
    )
