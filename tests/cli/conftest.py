"""The CLI tests' shared rig: each command configures logging for its process, so each test gets it back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

# The third-party loggers `configure_logging` turns down.
_QUIETED_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "apscheduler.executors.default")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The command configures logging for a process; give the next test the configuration it found."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    loggers = [root, *(logging.getLogger(name) for name in _QUIETED_LOGGERS)]
    levels = [logger.level for logger in loggers]
    yield
    root.handlers[:] = handlers
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
    structlog.reset_defaults()
