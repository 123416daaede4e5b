"""Action, callback and block ids, and the typed payloads that travel through Slack."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from bot.slack.render import ids
from bot.slack.render.ids import ButtonValue, ModalMetadata, RejectMetadata

_IDS = {name: value for name, value in vars(ids).items() if name.isupper() and isinstance(value, str)}
_BLOCKS = [value for name, value in _IDS.items() if name.endswith("_BLOCK")]
_CALLBACKS = [value for name, value in _IDS.items() if name.endswith("_MODAL")]
_ACTIONS = [value for name, value in _IDS.items() if not name.endswith(("_BLOCK", "_MODAL"))]


@pytest.mark.parametrize("named", [_BLOCKS, _CALLBACKS, _ACTIONS], ids=["blocks", "callbacks", "actions"])
def test_ids_of_one_kind_are_distinct(named: list[str]) -> None:
    assert len(named) >= 3
    assert len(set(named)) == len(named)


def test_action_ids_are_dotted_names() -> None:
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", action) for action in _ACTIONS), _ACTIONS


def test_button_value_round_trips_as_compact_json() -> None:
    packed = ButtonValue(request_id="CR-7K2Q9").pack()
    assert packed == '{"k":"req","request_id":"CR-7K2Q9"}'
    assert ButtonValue.unpack(packed) == ButtonValue(request_id="CR-7K2Q9")


def test_button_value_is_frozen() -> None:
    value = ButtonValue(request_id="CR-7K2Q9")
    with pytest.raises(ValidationError):
        value.request_id = "CR-OTHER"  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "CR-7K2Q9",
        "not json {",
        "null",
        "[]",
        '"CR-7K2Q9"',
        "{}",
        '{"request_id":"CR-7K2Q9"}',
        '{"k":"other","request_id":"CR-7K2Q9"}',
        '{"k":"req"}',
        '{"k":"req","request_id":7}',
        '{"k":"req","request_id":null}',
        '{"k":"req","request_id":"CR-7K2Q9","admin":true}',
        '{"k":"req","request_id":"<!channel>"}',
        '{"k":"req","request_id":""}',
        '{"k":"req","request_id":"CR-7K2Q9\\n"}',
        '{"k":"req","request_id":"' + "A" * 40 + '"}',
        '{"k":"req","request_id":"CR-1"' + " " * 2000 + "}",
        ModalMetadata(store_code="sg", order_id="1", channel_id="C1", requester_id="U1").pack(),
    ],
)
def test_button_value_unpack_rejects_malformed_or_foreign_values(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid ButtonValue"):
        ButtonValue.unpack(raw)


@pytest.mark.parametrize("raw", [None, 7, b'{"k":"req","request_id":"CR-1"}', {"k": "req", "request_id": "CR-1"}])
def test_button_value_unpack_rejects_non_strings(raw: object) -> None:
    with pytest.raises(ValueError, match="not a valid ButtonValue"):
        ButtonValue.unpack(raw)


def test_button_value_unpack_does_not_echo_the_untrusted_value() -> None:
    with pytest.raises(ValueError, match="not a valid ButtonValue") as caught:
        ButtonValue.unpack('{"k":"req","request_id":"<script>"}')
    assert "script" not in str(caught.value)


def test_modal_metadata_round_trips_with_and_without_an_order() -> None:
    for order_id in ("123456789", None):
        meta = ModalMetadata(store_code="sg-main", order_id=order_id, channel_id="C0OPS", requester_id="U0REQ")
        packed = meta.pack()
        assert len(packed) <= 3000
        assert json.loads(packed)["k"] == "modal"
        assert ModalMetadata.unpack(packed) == meta


@pytest.mark.parametrize(
    "change",
    [{"channel_id": "#ops"}, {"store_code": "SG MAIN"}, {"order_id": "1; drop"}, {"requester_id": ""}],
)
def test_modal_metadata_rejects_bad_fields(change: dict[str, str]) -> None:
    data = {"k": "modal", "store_code": "sg-main", "order_id": "1", "channel_id": "C0OPS", "requester_id": "U0REQ"}
    data.update(change)
    with pytest.raises(ValueError, match="not a valid ModalMetadata"):
        ModalMetadata.unpack(json.dumps(data))


def test_reject_metadata_round_trips_with_and_without_a_message() -> None:
    full = RejectMetadata(request_id="CR-7K2Q9", channel_id="C0OPS", message_ts="1796032800.000100")
    assert RejectMetadata.unpack(full.pack()) == full
    home = RejectMetadata(request_id="CR-7K2Q9")
    assert RejectMetadata.unpack(home.pack()) == home


def test_reject_metadata_is_not_a_button_value() -> None:
    packed = RejectMetadata(request_id="CR-7K2Q9").pack()
    with pytest.raises(ValueError, match="not a valid ButtonValue"):
        ButtonValue.unpack(packed)
