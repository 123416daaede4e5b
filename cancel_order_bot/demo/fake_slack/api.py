"""The Web API methods the fake answers: typed parameter reading and the dispatch table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from cancel_order_bot.demo.fake_slack.state import SlackError, SlackState

__all__ = ["APP_TOKEN_METHOD", "JSON_PARAMS", "METHODS", "Params"]

Json = dict[str, Any]

#: Parameters that form-encoded callers send as JSON strings; they are decoded before use and in the call log.
JSON_PARAMS = frozenset({"blocks", "attachments", "view", "metadata", "files"})


class Params:
    """Typed reads of one call's parameters (merged query, form and JSON body), failing the Slack way."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        """Wrap the parsed parameters."""
        self._values = values

    def opt_str(self, name: str) -> str | None:
        """Return a string parameter, or None when absent or empty."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {name} must be a string"]})
        return str(value)

    def req_str(self, name: str, *, error: str = "invalid_arguments") -> str:
        """Return a required string parameter, failing with ``error`` when it is missing."""
        value = self.opt_str(name)
        if value is None:
            raise SlackError(error)
        return value

    def flag(self, name: str) -> bool:
        """Return a boolean parameter sent as true/false, 1/0 or a JSON boolean."""
        value = self._values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"1", "true"} if value is not None else False

    def opt_int(self, name: str) -> int | None:
        """Return an integer parameter, or None when absent."""
        value = self.opt_str(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise SlackError("invalid_arguments") from None

    def opt_list(self, name: str) -> list[Any] | None:
        """Return a list parameter (already JSON-decoded), or None when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {name} must be an array"]})
        return value

    def opt_mapping(self, name: str) -> Mapping[str, Any] | None:
        """Return an object parameter (already JSON-decoded), or None when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {name} must be an object"]})
        return value

    def str_list(self, name: str) -> list[str]:
        """Return a comma-separated (or JSON array) parameter as a list of non-empty strings."""
        value = self._values.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def raw(self, name: str) -> Any:
        """Return a parameter exactly as parsed."""
        return self._values.get(name)


#: The one method called with the app-level token (xapp-); every other takes the bot token (xoxb-).
APP_TOKEN_METHOD = "apps.connections.open"  # noqa: S105 - a method name, not a secret


def _auth_test(state: SlackState, p: Params) -> Json:
    return state.auth_test()


def _chat_post_message(state: SlackState, p: Params) -> Json:
    return state.post_message(
        channel=p.req_str("channel", error="channel_not_found"),
        text=p.opt_str("text"),
        blocks=p.opt_list("blocks"),
        attachments=p.opt_list("attachments"),
        metadata=p.opt_mapping("metadata"),
        thread_ts=p.opt_str("thread_ts"),
        reply_broadcast=p.flag("reply_broadcast"),
    )


def _chat_update(state: SlackState, p: Params) -> Json:
    return state.update_message(
        channel=p.req_str("channel", error="channel_not_found"),
        ts=p.req_str("ts", error="message_not_found"),
        text=p.opt_str("text"),
        blocks=p.opt_list("blocks"),
        attachments=p.opt_list("attachments"),
        metadata=p.opt_mapping("metadata"),
    )


def _chat_post_ephemeral(state: SlackState, p: Params) -> Json:
    return state.post_ephemeral(
        channel=p.req_str("channel", error="channel_not_found"),
        user=p.req_str("user", error="user_not_found"),
        text=p.opt_str("text"),
        blocks=p.opt_list("blocks"),
        thread_ts=p.opt_str("thread_ts"),
    )


def _chat_delete(state: SlackState, p: Params) -> Json:
    return state.delete_message_as_bot(
        channel=p.req_str("channel", error="channel_not_found"), ts=p.req_str("ts", error="message_not_found")
    )


def _conversations_open(state: SlackState, p: Params) -> Json:
    return state.open_conversation(
        users=p.str_list("users") or None, channel=p.opt_str("channel"), return_im=p.flag("return_im")
    )


def _conversations_info(state: SlackState, p: Params) -> Json:
    return state.conversation_info(
        channel=p.req_str("channel", error="channel_not_found"), include_num_members=p.flag("include_num_members")
    )


def _conversations_members(state: SlackState, p: Params) -> Json:
    return state.conversation_members(
        channel=p.req_str("channel", error="channel_not_found"), limit=p.opt_int("limit"), cursor=p.opt_str("cursor")
    )


def _conversations_history(state: SlackState, p: Params) -> Json:
    return state.conversation_history(
        channel=p.req_str("channel", error="channel_not_found"),
        limit=p.opt_int("limit"),
        cursor=p.opt_str("cursor"),
        latest=p.opt_str("latest"),
        oldest=p.opt_str("oldest"),
        inclusive=p.flag("inclusive"),
        include_all_metadata=p.flag("include_all_metadata"),
    )


def _conversations_replies(state: SlackState, p: Params) -> Json:
    return state.conversation_replies(
        channel=p.req_str("channel", error="channel_not_found"),
        ts=p.req_str("ts", error="thread_not_found"),
        limit=p.opt_int("limit"),
        cursor=p.opt_str("cursor"),
        include_all_metadata=p.flag("include_all_metadata"),
    )


def _views_open(state: SlackState, p: Params) -> Json:
    return state.open_view(trigger_id=p.opt_str("trigger_id"), view=p.raw("view"))


def _views_push(state: SlackState, p: Params) -> Json:
    return state.push_view(trigger_id=p.opt_str("trigger_id"), view=p.raw("view"))


def _views_update(state: SlackState, p: Params) -> Json:
    return state.update_view(
        view=p.raw("view"), view_id=p.opt_str("view_id"), external_id=p.opt_str("external_id"), hash_=p.opt_str("hash")
    )


def _views_publish(state: SlackState, p: Params) -> Json:
    return state.publish_view(
        user_id=p.req_str("user_id", error="user_not_found"), view=p.raw("view"), hash_=p.opt_str("hash")
    )


def _usergroups_users_list(state: SlackState, p: Params) -> Json:
    return state.usergroup_users(usergroup=p.req_str("usergroup", error="no_such_subteam"))


def _users_info(state: SlackState, p: Params) -> Json:
    return state.user_info(user=p.req_str("user", error="user_not_found"))


def _files_get_upload_url(state: SlackState, p: Params) -> Json:
    return state.get_upload_url(
        filename=p.opt_str("filename"), length=p.opt_int("length"), alt_txt=p.opt_str("alt_txt")
    )


def _files_complete_upload(state: SlackState, p: Params) -> Json:
    files = p.opt_list("files") or []
    if not all(isinstance(f, Mapping) for f in files):
        raise SlackError("invalid_arguments")
    return state.complete_upload(
        files=files,
        channel_id=p.opt_str("channel_id"),
        channels=p.str_list("channels"),
        initial_comment=p.opt_str("initial_comment"),
        thread_ts=p.opt_str("thread_ts"),
    )


#: Web API method name → handler.
METHODS: Mapping[str, Callable[[SlackState, Params], Json]] = MappingProxyType(
    {
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.update": _chat_update,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.delete": _chat_delete,
        "conversations.open": _conversations_open,
        "conversations.info": _conversations_info,
        "conversations.members": _conversations_members,
        "conversations.history": _conversations_history,
        "conversations.replies": _conversations_replies,
        "views.open": _views_open,
        "views.push": _views_push,
        "views.update": _views_update,
        "views.publish": _views_publish,
        "usergroups.users.list": _usergroups_users_list,
        "users.info": _users_info,
        "files.getUploadURLExternal": _files_get_upload_url,
        "files.completeUploadExternal": _files_complete_upload,
    }
)
