"""Block Kit renderers: pure functions from workflow models to slack_sdk blocks and views, within Slack's limits."""

from bot.slack.render.help import render_help
from bot.slack.render.home import render_home
from bot.slack.render.ids import ButtonValue, ModalMetadata, PackageChoice, RejectMetadata
from bot.slack.render.modal import (
    render_loading_modal,
    render_modal_message,
    render_order_prompt_modal,
    render_reject_modal,
    render_request_modal,
    render_submitting_modal,
)
from bot.slack.render.replies import (
    already_approved,
    already_decided,
    error_for_person,
    not_an_approver,
    only_requester_can_withdraw,
    render_cancel_pending_reply,
    render_ephemeral,
    render_expired_reply,
    render_needs_attention_reply,
    render_order_late_reply,
    render_outcome_reply,
    render_rejected_reply,
    render_reminder,
    render_withdrawn_reply,
    request_not_found,
    request_posted,
    self_approval,
)
from bot.slack.render.request_message import render_request_message
from bot.slack.render.text import Message, escape

__all__ = [
    "ButtonValue",
    "Message",
    "ModalMetadata",
    "PackageChoice",
    "RejectMetadata",
    "already_approved",
    "already_decided",
    "error_for_person",
    "escape",
    "not_an_approver",
    "only_requester_can_withdraw",
    "render_cancel_pending_reply",
    "render_ephemeral",
    "render_expired_reply",
    "render_help",
    "render_home",
    "render_loading_modal",
    "render_modal_message",
    "render_needs_attention_reply",
    "render_order_late_reply",
    "render_order_prompt_modal",
    "render_outcome_reply",
    "render_reject_modal",
    "render_rejected_reply",
    "render_reminder",
    "render_request_message",
    "render_request_modal",
    "render_submitting_modal",
    "render_withdrawn_reply",
    "request_not_found",
    "request_posted",
    "self_approval",
]
