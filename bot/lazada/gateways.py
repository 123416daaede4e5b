"""Lazada countries, their API gateways, the shared auth gateway and each country's default time zone."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["API_GATEWAYS", "AUTH_GATEWAY", "DEFAULT_TIMEZONES", "Country"]


class Country(StrEnum):
    """A Lazada marketplace country, as Lazada spells it in tokens and push messages."""

    SG = "sg"
    MY = "my"
    TH = "th"
    PH = "ph"
    ID = "id"
    VN = "vn"


API_GATEWAYS: Mapping[Country, str] = MappingProxyType(
    {
        Country.SG: "https://api.lazada.sg/rest",
        Country.MY: "https://api.lazada.com.my/rest",
        Country.TH: "https://api.lazada.co.th/rest",
        Country.PH: "https://api.lazada.com.ph/rest",
        Country.ID: "https://api.lazada.co.id/rest",
        Country.VN: "https://api.lazada.vn/rest",
    }
)

AUTH_GATEWAY = "https://auth.lazada.com/rest"

# IANA names rather than ZoneInfo objects: building a ZoneInfo reads tz data, and nothing does I/O at import.
DEFAULT_TIMEZONES: Mapping[Country, str] = MappingProxyType(
    {
        Country.SG: "Asia/Singapore",
        Country.MY: "Asia/Kuala_Lumpur",
        Country.TH: "Asia/Bangkok",
        Country.PH: "Asia/Manila",
        Country.ID: "Asia/Jakarta",
        Country.VN: "Asia/Ho_Chi_Minh",
    }
)
