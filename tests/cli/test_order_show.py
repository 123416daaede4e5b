"""`order show` end to end: a real process against the sandbox served over HTTP on a free port."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cancel_order_bot.sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    FaultKind,
    SandboxServer,
    SandboxWorld,
)
from cancel_order_bot.sandbox.showcase import SHOWCASE, add_showcase_orders


@pytest.fixture
async def served() -> AsyncIterator[tuple[SandboxWorld, str]]:
    """The sandbox on a free port, with the showcase orders."""
    world = SandboxWorld()
    add_showcase_orders(world)
    async with SandboxServer(world, port=0) as server:
        yield world, server.base_url


async def _run(args: list[str], base_url: str, tmp_path: Path, **extra: str) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LAZADA_API_URL": base_url,
        "LAZADA_APP_KEY": SANDBOX_APP_KEY,
        "LAZADA_APP_SECRET": SANDBOX_APP_SECRET,
        "LAZADA_ACCESS_TOKEN": SANDBOX_ACCESS_TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        **extra,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cancel_order_bot",
        *args,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_order_show_prints_items_reasons_and_tip(served: tuple[SandboxWorld, str], tmp_path: Path) -> None:
    world, base_url = served
    code, out, err = await _run(["order", "show", str(SHOWCASE.packed)], base_url, tmp_path)
    assert code == 0, err
    assert "Wireless Mouse" in out
    assert "no (shipped)" in out
    assert "10000021  Out of Stock" in out
    assert "Lazada says (warning)" in out
    assert world.call_count("/order/reverse/cancel/create") == 0
    assert SANDBOX_APP_SECRET not in out + err
    assert SANDBOX_ACCESS_TOKEN not in out + err


async def test_order_show_json(served: tuple[SandboxWorld, str], tmp_path: Path) -> None:
    _, base_url = served
    code, out, _ = await _run(["order", "show", "--json", str(SHOWCASE.pending)], base_url, tmp_path)
    assert code == 0
    data = json.loads(out)
    assert data["order_id"] == str(SHOWCASE.pending)
    assert [i["cancellable"] for i in data["items"]] == [True]
    assert {r["reason_id"] for r in data["reasons"]} >= {"10000019", "10000021"}


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["order", "show", "12ab"], 2, "is not a Lazada order number"),
        (["order", "show", "999999999"], 1, "does not know this order"),
        (["order", "show", "--store", "elsewhere", str(SHOWCASE.pending)], 2, "There is no store"),
    ],
)
async def test_order_show_bad_input_gives_one_line(
    served: tuple[SandboxWorld, str], tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    _, base_url = served
    got, out, err = await _run(args, base_url, tmp_path)
    assert got == code
    assert words in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (FaultKind.ILLEGAL_ACCESS_TOKEN, "authoriz"),
        (FaultKind.CAMPAIGN_DISABLED, "campaign"),
        (FaultKind.MALFORMED_JSON, "Lazada"),
        (FaultKind.HTTP_502, "Lazada"),
    ],
)
async def test_order_show_lazada_errors(
    served: tuple[SandboxWorld, str], tmp_path: Path, fault: FaultKind, words: str
) -> None:
    world, base_url = served
    world.faults.inject(fault, times=10)
    code, out, err = await _run(["order", "show", str(SHOWCASE.pending)], base_url, tmp_path)
    assert out == ""
    assert code == 1
    assert words.lower() in err.lower()
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


async def test_missing_setting_is_named(served: tuple[SandboxWorld, str], tmp_path: Path) -> None:
    _, base_url = served
    code, _, err = await _run(["order", "show", "123456"], base_url, tmp_path, LIMIT_RATE="lots")
    assert code == 2
    assert "LIMIT_RATE" in err


async def test_missing_app_key_is_named(served: tuple[SandboxWorld, str], tmp_path: Path) -> None:
    _, base_url = served
    code, _, err = await _run(["order", "show", "123456"], base_url, tmp_path, LAZADA_APP_KEY="")
    assert code == 2
    assert "LAZADA_APP_KEY" in err


async def test_order_show_names_a_ready_to_ship_sibling_and_the_repack_option(
    served: tuple[SandboxWorld, str], tmp_path: Path
) -> None:
    world, base_url = served
    bulb, shade = world.order_items(SHOWCASE.ready_to_ship_package)
    code, out, err = await _run(["order", "show", str(SHOWCASE.ready_to_ship_package)], base_url, tmp_path)
    assert code == 0, err
    package = bulb.package_id
    assert package is not None
    assert f"package {package} holds LED Bulb E27 [{bulb.order_item_id}] (ready to ship)" in out
    assert f"Linen Lamp Shade [{shade.order_item_id}] (ready to ship)" in out
    assert "“Repack first”" in out

    code, out, _ = await _run(["order", "show", "--json", str(SHOWCASE.ready_to_ship_package)], base_url, tmp_path)
    assert code == 0
    (shared,) = json.loads(out)["shared_packages"]
    assert shared == {
        "package_id": package,
        "item_ids": [str(bulb.order_item_id), str(shade.order_item_id)],
        "repack_first": True,
    }


async def test_order_show_lists_the_buyers_open_request(served: tuple[SandboxWorld, str], tmp_path: Path) -> None:
    world, base_url = served
    (request,) = world.open_buyer_requests()
    code, out, err = await _run(["order", "show", str(SHOWCASE.buyer_request)], base_url, tmp_path)
    assert code == 0, err
    assert "The buyer asked to cancel (1 open request(s) waiting for the seller's answer):" in out
    assert f"reverse order {request.reverse_order_id}: Bluetooth Headset" in out
    assert "Headset Pouch" in out
    assert "refund SGD 56.50" in out
    assert "answer by " in out
    # The deadline as the card writes it: the store's time with its zone's name, and the time left in days and hours.
    assert re.search(r"answer by \w{3} \d{2} \w{3} \d{2}:\d{2} \(Asia/Singapore\), in 1 d 23 h", out), out
    assert "if nobody answers, Lazada decides by itself" in out
    assert "does not count against the seller's cancellation rate" in out
    assert world.call_count("/order/reverse/cancel/seller/decide") == 0, "order show never decides"

    code, out, err = await _run(["order", "show", "--json", str(SHOWCASE.buyer_request)], base_url, tmp_path)
    assert code == 0, err
    (listed,) = json.loads(out)["buyer_requests"]
    assert listed["reverse_order_id"] == str(request.reverse_order_id)
    assert listed["status"] == "open"
    assert listed["refund_total"] == 5650
    assert listed["refund_currency"] == "SGD"
    assert listed["deadline"] == request.deadline.isoformat()


async def test_order_show_without_a_buyer_request_says_nothing_of_one(
    served: tuple[SandboxWorld, str], tmp_path: Path
) -> None:
    _, base_url = served
    code, out, _ = await _run(["order", "show", str(SHOWCASE.pending)], base_url, tmp_path)
    assert code == 0
    assert "buyer asked" not in out
    code, out, _ = await _run(["order", "show", "--json", str(SHOWCASE.pending)], base_url, tmp_path)
    assert json.loads(out)["buyer_requests"] == []
