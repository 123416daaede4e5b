"""Migrations: an empty database upgrades to the head, the result matches the tables, and reruns are no-ops."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.store import create_engine, upgrade_to_head
from bot.store.migrate import current_revision, head_revision
from bot.store.tables import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _schema_diff(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_empty_database_reaches_head(db_url: str) -> None:
    assert await current_revision(db_url) is None

    await upgrade_to_head(db_url)

    assert await current_revision(db_url) == head_revision()
    assert await _tables(db_url) == {*metadata.tables, "alembic_version"}


async def test_migrated_schema_matches_tables(db_url: str) -> None:
    await upgrade_to_head(db_url)

    assert await _schema_diff(db_url) == []


async def test_empty_database_differs_from_tables(db_url: str) -> None:
    diff = await _schema_diff(db_url)

    assert {entry[1].name for entry in diff if entry[0] == "add_table"} == set(metadata.tables)


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await upgrade_to_head(db_url)
    await upgrade_to_head(db_url)

    assert await current_revision(db_url) == head_revision()


async def _upgrade_in_subprocess(url: str) -> tuple[int, bytes]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import asyncio, sys; from bot.store import upgrade_to_head; asyncio.run(upgrade_to_head(sys.argv[1]))",
        url,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr


async def test_replicas_upgrading_at_once_do_not_race(db_url: str) -> None:
    # Separate processes, like replicas starting together (Alembic's context is per process).
    results = await asyncio.gather(*(_upgrade_in_subprocess(db_url) for _ in range(4)))

    failures = [err.decode()[-3000:] for code, err in results if code != 0]
    assert failures == []
    assert await current_revision(db_url) == head_revision()
    assert await _schema_diff(db_url) == []


def test_head_revision_read_from_file_names_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_current_revision_reads_what_alembic_reads(db_url: str) -> None:
    await upgrade_to_head(db_url, revision="0003")
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            alembic_says = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()

    assert alembic_says == "0003"
    assert await current_revision(db_url) == "0003"


async def _facts_after_0005(db_url: str, access_token: str) -> list[tuple[str, str]]:
    await upgrade_to_head(db_url, revision="0004")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO lazada_tokens (store_code, access_token, updated_at) VALUES ('main', :token, :at)"
                ),
                {"token": access_token, "at": datetime.now(UTC)},
            )
        await upgrade_to_head(db_url)
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT name, value FROM database_facts"))
            return [(row.name, row.value) for row in rows]
    finally:
        await engine.dispose()


async def test_0005_marks_a_database_a_sandbox_run_wrote_as_the_sandboxs(db_url: str) -> None:
    assert await _facts_after_0005(db_url, "sandbox-access-token") == [("kind", "sandbox")]


async def test_0005_leaves_a_database_with_a_real_token_to_be_claimed_on_first_use(db_url: str) -> None:
    assert await _facts_after_0005(db_url, "50000000a1b2c3") == []


async def test_0010_keeps_the_requests_and_allows_a_cancellation_pending_at_lazada(db_url: str) -> None:
    from bot.store import Database, OrderStatus, RequestStatus, RequestStore
    from tests.store.factories import LEASE, NOW, new_request

    await upgrade_to_head(db_url, revision="0009")
    db = Database.from_url(db_url)
    try:
        store = RequestStore(db)
        async with db.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO cancel_requests (id, store_code, requester_id, reason_id, reason_name, justification, "
                    "zeroes_stock, repack_first, required_approvals, approval_count, status, channel_id, expires_at, "
                    "remind_at, attempts, created_at, updated_at, version) VALUES ('CR-OLD01', 'main', 'U1', '1', "
                    "'Out of Stock', 'old', false, false, 1, 1, 'executed', 'C1', :at, :at, 1, :at, :at, 2)"
                ),
                {"at": NOW},
            )
            # Rows that reference it: SQLite's batch mode must copy the table under them without breaking them.
            await conn.execute(
                sa.text(
                    "INSERT INTO request_orders (request_id, order_id, items, item_ids, status, updated_at) "
                    "VALUES ('CR-OLD01', '77', '[]', '[\"771\"]', 'executed', :at)"
                ),
                {"at": NOW},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO open_items (store_code, order_id, item_id, request_id) "
                    "VALUES ('main', '78', '781', 'CR-OLD01')"
                )
            )
        await upgrade_to_head(db_url)
        old = await store.get_request("CR-OLD01")
        assert old is not None
        assert (old.status, old.rechecks, old.recheck_at) == (RequestStatus.EXECUTED, 0, None)
        assert [(o.order_id, o.status, o.reply_due) for o in old.orders] == [("77", OrderStatus.EXECUTED, None)]

        created = await store.create_request(new_request(), now=NOW)
        await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)
        order_id = created.orders[0].order_id
        assert await store.set_order_status(
            created.id, order_id, expected=OrderStatus.PENDING, to=OrderStatus.CANCEL_PENDING, now=NOW
        )
        assert await store.transition(
            created.id, expected=RequestStatus.EXECUTING, to=RequestStatus.CANCEL_PENDING, actor="U_BOSS", now=NOW
        )
        async with db.begin() as conn:
            with pytest.raises(sa.exc.IntegrityError):
                await conn.execute(sa.text("UPDATE cancel_requests SET status = 'sometimes' WHERE id = 'CR-OLD01'"))
    finally:
        await db.close()

    # Going back, a cancellation still pending at Lazada is left to a person.
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_downgrade_to_0009)
            await conn.commit()
            statuses = await conn.execute(sa.text("SELECT status FROM cancel_requests ORDER BY id"))
            assert sorted(statuses.scalars()) == ["executed", "needs_attention"]
    finally:
        await engine.dispose()


def _downgrade_to_0009(connection: Connection) -> None:
    from alembic import command

    from bot.store.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0009")
