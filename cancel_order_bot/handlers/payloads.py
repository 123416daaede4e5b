"""Typed views of the Slack payloads the handlers read; anything malformed fails validation, not deep in a handler."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "ActionPayload",
    "CommandPayload",
    "SelectedOption",
    "ViewPayload",
    "parse",
]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class CommandPayload(_Payload):
    """A slash command invocation."""

    user_id: str = Field(min_length=1, max_length=32)
    channel_id: str = Field(min_length=1, max_length=32)
    team_id: str | None = None
    text: str = ""
    trigger_id: str = Field(min_length=1)
    response_url: str | None = None


class SelectedOption(_Payload):
    """An option picked in a select, checkbox group or radio group."""

    value: str


class _Id(_Payload):
    id: str = Field(min_length=1, max_length=32)


class _Action(_Payload):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    selected_option: SelectedOption | None = None
    selected_options: tuple[SelectedOption, ...] | None = None


class _Container(_Payload):
    type: str
    channel_id: str | None = None
    message_ts: str | None = None
    view_id: str | None = None


class _View(_Payload):
    id: str
    hash: str | None = None
    callback_id: str | None = None
    private_metadata: str = ""
    state: dict[str, Any] = Field(default_factory=dict)


class ActionPayload(_Payload):
    """A block_actions payload: one click or selection, from a message, a modal or App Home."""

    user: _Id
    actions: tuple[_Action, ...] = Field(min_length=1)
    container: _Container | None = None
    channel: _Id | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    view: _View | None = None

    @property
    def action(self) -> _Action:
        """The action that was taken (Slack sends one per payload)."""
        return self.actions[0]

    @property
    def channel_id(self) -> str | None:
        """The channel of the message the action came from, if any."""
        if self.channel is not None:
            return self.channel.id
        return self.container.channel_id if self.container else None


class ViewPayload(_Payload):
    """A view_submission payload."""

    user: _Id
    view: _View

    def values(self) -> dict[str, dict[str, Any]]:
        """The submitted input values by block id and action id."""
        state = self.view.state.get("values", {})
        return state if isinstance(state, dict) else {}

    def value(self, block_id: str, action_id: str) -> dict[str, Any]:
        """One input's state (empty when absent)."""
        block = self.values().get(block_id) or {}
        value = block.get(action_id) if isinstance(block, dict) else None
        return value if isinstance(value, dict) else {}


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], body: Any) -> T | None:
    """Validate a payload; None when it is malformed (the caller answers politely and changes nothing)."""
    try:
        return model.model_validate(body)
    except ValidationError:
        return None
