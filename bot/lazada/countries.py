"""Lazada's countries in one table: each one's API gateway, time zone, currency and sandbox reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import assert_never

__all__ = ["AUTH_GATEWAY", "COUNTRIES", "Country", "CountryInfo", "SandboxReason", "country_info"]

AUTH_GATEWAY = "https://auth.lazada.com/rest"
"""Token calls go here whatever the seller's country."""


class Country(StrEnum):
    """A Lazada marketplace country, as Lazada spells it in tokens and push messages."""

    SG = "sg"
    MY = "my"
    TH = "th"
    PH = "ph"
    ID = "id"
    VN = "vn"


@dataclass(frozen=True, slots=True)
class SandboxReason:
    """A seller cancellation reason the sandbox offers; the ids differ per country, as on Lazada."""

    reason_id: str
    reason_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CountryInfo:
    """What the bot knows about one country; ``timezone`` is an IANA name (building a ZoneInfo reads files)."""

    country: Country
    gateway: str
    timezone: str
    currency: str
    sandbox_city: str
    sandbox_reasons: tuple[SandboxReason, ...]


def _reasons(first_id: int, *extra: str) -> tuple[SandboxReason, ...]:
    names = ("Sourcing Delay", "Out of Stock", "Wrong Price or Pricing Error", *extra)
    return tuple(SandboxReason(str(first_id + 2 * index), name) for index, name in enumerate(names))


def country_info(country: Country) -> CountryInfo:
    """Build one country's row; the ``match`` lets mypy prove every country has one."""
    match country:
        case Country.SG:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.sg/rest",
                timezone="Asia/Singapore",
                currency="SGD",
                sandbox_city="Singapore",
                sandbox_reasons=_reasons(10000019, "Unable to Ship", "Duplicate Order"),
            )
        case Country.MY:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.com.my/rest",
                timezone="Asia/Kuala_Lumpur",
                currency="MYR",
                sandbox_city="Kuala Lumpur",
                sandbox_reasons=_reasons(20000031, "Unable to Ship"),
            )
        case Country.TH:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.co.th/rest",
                timezone="Asia/Bangkok",
                currency="THB",
                sandbox_city="Bangkok",
                sandbox_reasons=_reasons(30000041, "Unable to Ship"),
            )
        case Country.PH:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.com.ph/rest",
                timezone="Asia/Manila",
                currency="PHP",
                sandbox_city="Quezon City",
                sandbox_reasons=_reasons(40000053, "Unable to Ship", "Duplicate Order"),
            )
        case Country.ID:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.co.id/rest",
                timezone="Asia/Jakarta",
                currency="IDR",
                sandbox_city="Jakarta",
                sandbox_reasons=_reasons(50000061, "Unable to Ship"),
            )
        case Country.VN:
            return CountryInfo(
                country=country,
                gateway="https://api.lazada.vn/rest",
                timezone="Asia/Ho_Chi_Minh",
                currency="VND",
                sandbox_city="Ho Chi Minh",
                sandbox_reasons=_reasons(60000071, "Unable to Ship"),
            )
        case _:
            assert_never(country)


COUNTRIES: Mapping[Country, CountryInfo] = MappingProxyType({country: country_info(country) for country in Country})
"""Every country's row, read-only."""
