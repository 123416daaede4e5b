"""The countries table: one row per country, read by the settings, the CLI, the sandbox and the README."""

from __future__ import annotations

import ast
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.lazada.countries import AUTH_GATEWAY, COUNTRIES, Country
from bot.settings import StoreConfig
from cancel_order_bot.__main__ import build_parser
from cancel_order_bot.sandbox import REASON_OPTIONS, SandboxWorld

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "bot" / "lazada" / "countries.py"
# "sg" is the default country and "id" every record's key: only the other codes are unambiguous in source.
UNAMBIGUOUS = {country.value for country in Country} - {"sg", "id"}


def test_countries_table_has_one_row_per_country() -> None:
    assert list(COUNTRIES) == list(Country)
    assert all(info.country is country for country, info in COUNTRIES.items())


def test_countries_gateways_and_time_zones_are_lazadas() -> None:
    assert COUNTRIES[Country.SG].gateway == "https://api.lazada.sg/rest"
    assert COUNTRIES[Country("vn")].gateway == "https://api.lazada.vn/rest"
    assert AUTH_GATEWAY == "https://auth.lazada.com/rest"
    noon = datetime(2026, 11, 20, 12, 0)
    offsets = {country: ZoneInfo(info.timezone).utcoffset(noon) for country, info in COUNTRIES.items()}
    assert offsets[Country.SG] == offsets[Country.MY] == offsets[Country.PH] == timedelta(hours=8)
    assert offsets[Country.TH] == offsets[Country.ID] == offsets[Country.VN] == timedelta(hours=7)


def test_countries_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        COUNTRIES[Country.SG] = COUNTRIES[Country.MY]  # type: ignore[index]


def test_countries_sandbox_reason_ids_differ_between_countries() -> None:
    ids = [reason.reason_id for info in COUNTRIES.values() for reason in info.sandbox_reasons]

    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("country", list(Country))
def test_countries_sandbox_world_takes_currency_time_zone_and_reasons_from_the_table(country: Country) -> None:
    world = SandboxWorld(country=country)

    assert world.currency == COUNTRIES[country].currency
    assert world.tz == ZoneInfo(COUNTRIES[country].timezone)
    assert world.reason_options() == COUNTRIES[country].sandbox_reasons == REASON_OPTIONS[country.value]


def test_countries_sandbox_world_refuses_an_unknown_country() -> None:
    with pytest.raises(ValueError, match="unknown country 'hk'"):
        SandboxWorld(country="hk")


def test_countries_store_config_takes_its_time_zone_from_the_table() -> None:
    store = StoreConfig(code="vn-main", country=Country.VN)

    assert store.tz == ZoneInfo("Asia/Ho_Chi_Minh")


def test_countries_cli_offers_every_country_and_no_other() -> None:
    parser = build_parser()

    args = parser.parse_args(["sandbox", "--country", "vn"])
    assert args.country == "vn"
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--country", "hk"])
    for country in Country:
        assert parser.parse_args(["sandbox", "--country", country.value]).country == country.value


def test_countries_readme_lists_every_country() -> None:
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `LAZADA_COUNTRY`"))

    assert set(re.findall(r"`([a-z]{2})`", row)) == {country.value for country in Country}


def test_countries_codes_are_written_only_in_the_table() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for package in ("bot", "cancel_order_bot")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != TABLE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in UNAMBIGUOUS
    ]

    assert found == []
