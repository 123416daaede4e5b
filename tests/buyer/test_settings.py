"""Buyer-request settings: the global defaults, and each store's own in STORES_FILE (None: the global one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_the_defaults_scan_every_five_minutes_and_let_approvers_decide(tmp_path: Path) -> None:
    settings = load_settings(None, stores_file=None)
    [store] = settings.stores()

    assert (settings.buyer_request_scan_seconds, settings.buyer_request_deciders) == (300.0, "approvers")
    assert (store.buyer_request_scan_seconds, store.buyer_request_deciders) == (300.0, "approvers")


def test_a_store_may_set_its_own(tmp_path: Path) -> None:
    stores = tmp_path / "stores.toml"
    stores.write_text(
        '[[stores]]\ncode = "sg"\ncountry = "sg"\nbuyer_request_deciders = "channel"\nbuyer_request_scan_seconds = 60\n'
        '[[stores]]\ncode = "ph"\ncountry = "ph"\n',
        encoding="utf-8",
    )
    settings = load_settings(None, stores_file=stores, buyer_request_scan_seconds=600)
    sg, ph = settings.stores()

    assert (sg.buyer_request_deciders, sg.buyer_request_scan_seconds) == ("channel", 60)
    assert (ph.buyer_request_deciders, ph.buyer_request_scan_seconds) == ("approvers", 600)


def test_an_unknown_kind_of_decider_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match="BUYER_REQUEST_DECIDERS"):
        load_settings(None, buyer_request_deciders="everyone")
