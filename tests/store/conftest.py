"""Store test fixtures (the database fixtures themselves are in `tests/conftest.py`)."""

from __future__ import annotations

import pytest

from bot.store import Database, RequestStore


@pytest.fixture
def store(database: Database) -> RequestStore:
    """A `RequestStore` on the test database."""
    return RequestStore(database)
