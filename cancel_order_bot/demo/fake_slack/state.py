"""In-memory Slack workspace state and the rules Slack applies to each change; no HTTP here.

Every public method takes already-parsed parameters and returns the JSON body Slack would answer with, or raises
:class:`SlackError` carrying Slack's error code. Where Slack's behaviour is undocumented the fake is stricter
(e.g. a reply to an unknown ``thread_ts`` fails with ``thread_not_found``) so that bugs show up in tests.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cancel_order_bot.demo.fake_slack.workspace import FakeUser, FakeWorkspace

__all__ = [
    "MAX_BLOCKS_PER_MESSAGE",
    "MAX_BLOCKS_PER_VIEW",
    "MAX_VIEW_STACK",
    "RESPONSE_URL_MAX_USES",
    "RESPONSE_URL_TTL_SECONDS",
    "TRIGGER_TTL_SECONDS",
    "SlackError",
    "SlackState",
    "UploadedFile",
]

Json = dict[str, Any]
ChannelKind = Literal["channel", "im", "mpim"]

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60.0
MAX_BLOCKS_PER_MESSAGE = 50
MAX_BLOCKS_PER_VIEW = 100
MAX_VIEW_STACK = 3


class SlackError(Exception):
    """A Slack Web API failure: answered as ``{"ok": false, "error": <error>, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        """Carry Slack's error code and any extra top-level fields of the error body."""
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> Json:
        """Return the JSON body Slack sends for this failure."""
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True)
class UploadedFile:
    """A file sent through the files v2 flow: declared metadata, received bytes and where it was shared."""

    file_id: str
    filename: str
    length: int
    title: str | None
    content: bytes | None
    completed: bool
    channels: tuple[str, ...]


@dataclass
class _Channel:
    id: str
    name: str
    kind: ChannelKind
    members: list[str]
    bot_is_member: bool
    is_private: bool
    created: int
    messages: list[Json] = field(default_factory=list)
    replies: dict[str, list[Json]] = field(default_factory=dict)
    by_ts: dict[str, Json] = field(default_factory=dict)


@dataclass
class _Trigger:
    user_id: str | None
    issued_at: float
    used: bool = False


@dataclass
class _File:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    title: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)


@dataclass
class _ResponseUrl:
    channel: str | None
    user: str | None
    message_ts: str | None
    issued_at: float
    uses: int = 0


class SlackState:
    """The mutable workspace behind a FakeSlack: messages, threads, ephemerals, views, files, response URLs."""

    def __init__(self, workspace: FakeWorkspace, clock: Callable[[], float]) -> None:
        """Seed the state from ``workspace``; ``clock`` gives epoch seconds (ts values, trigger expiry)."""
        self.workspace = workspace
        self.base_url = "http://127.0.0.1:0"
        self._clock = clock
        self._counter = itertools.count(1)
        self._last_ts_micros = 0
        bot = FakeUser(id=workspace.bot_user_id, name=workspace.bot_name, real_name=workspace.bot_name, is_bot=True)
        self._users: dict[str, FakeUser] = {u.id: u for u in (*workspace.users, bot)}
        self._usergroups = {g.id: list(g.members) for g in workspace.usergroups}
        created = int(clock())
        self._channels: dict[str, _Channel] = {
            c.id: _Channel(
                id=c.id,
                name=c.name,
                kind="channel",
                members=list(c.members),
                bot_is_member=c.bot_is_member,
                is_private=c.is_private,
                created=created,
            )
            for c in workspace.channels
        }
        self._ims: dict[str, str] = {}
        self._ephemerals: dict[str, list[Json]] = {}
        self._views: dict[str, Json] = {}
        self._view_stacks: dict[str | None, list[str]] = {}
        self._home_views: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._files: dict[str, _File] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}

    # ----- ids and time -------------------------------------------------------------------------------------

    def now(self) -> float:
        """Return the fake's current time in epoch seconds."""
        return self._clock()

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):08d}"

    def next_ts(self) -> str:
        """Return a new message ts from the clock, strictly greater than any issued before."""
        micros = max(int(self._clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _require_scope(self, scope: str) -> None:
        if scope not in self.workspace.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(self.workspace.scopes))

    # ----- lookups ------------------------------------------------------------------------------------------

    def _user(self, user_id: str) -> FakeUser:
        user = self._users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _channel(self, channel_id: str) -> _Channel:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _visible_channel(self, channel_id: str) -> _Channel:
        """Return a channel the bot may read about: private ones only when it is a member."""
        channel = self._channel(channel_id)
        if channel.is_private and not channel.bot_is_member:
            raise SlackError("channel_not_found")
        return channel

    def _writable_channel(self, channel_ref: str) -> _Channel:
        """Resolve a postMessage ``channel`` (ID, ``#name``, name or user ID) to a channel the bot may write to."""
        if channel_ref.startswith(("U", "W")) and channel_ref in self._users:
            return self._channels[self._open_im(channel_ref)[0]]
        channel = self._channels.get(channel_ref)
        if channel is None:
            wanted = channel_ref.removeprefix("#")
            channel = next((c for c in self._channels.values() if c.name == wanted and c.kind == "channel"), None)
        if channel is None:
            raise SlackError("channel_not_found")
        return self._check_writable(channel)

    def _check_writable(self, channel: _Channel) -> _Channel:
        if channel.bot_is_member:
            return channel
        if channel.is_private:
            raise SlackError("channel_not_found")
        if "chat:write.public" in self.workspace.scopes:
            return channel
        raise SlackError("not_in_channel")

    def _scope_for(self, channel: _Channel, family: Literal["read", "history"]) -> str:
        if channel.kind == "im":
            return f"im:{family}"
        if channel.kind == "mpim":
            return f"mpim:{family}"
        prefix = "groups" if channel.is_private else "channels"
        return f"{prefix}:{family}"

    @staticmethod
    def _find_message(channel: _Channel, ts: str) -> Json | None:
        return channel.by_ts.get(ts)

    def _own_message(self, channel: str, ts: str, *, refusal: str) -> tuple[_Channel, Json]:
        """The bot's own message ``ts`` in a channel it may write to; ``refusal`` when it is someone else's."""
        self._require_scope("chat:write")
        target = self._check_writable(self._channel(channel))
        message = self._find_message(target, ts)
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != self.workspace.bot_id:
            raise SlackError(refusal)
        return target, message

    # ----- auth ---------------------------------------------------------------------------------------------

    def token_is_valid(self, token: str | None) -> bool:
        """Return whether ``token`` is one of the workspace's bot or app-level tokens."""
        return token is not None and (token in self.workspace.bot_tokens or token in self.workspace.app_tokens)

    def auth_test(self) -> Json:
        """Answer auth.test for the bot token."""
        ws = self.workspace
        return {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    # ----- messages -----------------------------------------------------------------------------------------

    def _bot_message(self, ts: str, text: str) -> Json:
        ws = self.workspace
        return {
            "type": "message",
            "user": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "app_id": ws.app_id,
            "text": text,
            "ts": ts,
            "team": ws.team_id,
            "bot_profile": {
                "id": ws.bot_id,
                "app_id": ws.app_id,
                "name": ws.bot_name,
                "deleted": False,
                "team_id": ws.team_id,
            },
        }

    @staticmethod
    def _check_content(
        text: str | None, blocks: Sequence[Any] | None, attachments: Sequence[Any] | None, *, needs_content: bool
    ) -> None:
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
                raise SlackError("invalid_blocks_format")
            if len(blocks) > MAX_BLOCKS_PER_MESSAGE:
                raise SlackError(
                    "invalid_blocks",
                    response_metadata={"messages": [f"[ERROR] no more than {MAX_BLOCKS_PER_MESSAGE} items allowed"]},
                )
        if needs_content and not text and not blocks and not attachments:
            raise SlackError("no_text")

    def _append(self, channel: _Channel, message: Json, thread_ts: str | None, *, broadcast: bool = False) -> None:
        if thread_ts is None:
            channel.messages.append(message)
            channel.by_ts[message["ts"]] = message
            return
        parent = channel.by_ts.get(thread_ts)
        if parent is None or "parent_user_id" in parent:
            raise SlackError("thread_not_found")
        channel.by_ts[message["ts"]] = message
        message["thread_ts"] = thread_ts
        message["parent_user_id"] = parent.get("user")
        replies = channel.replies.setdefault(thread_ts, [])
        replies.append(message)
        reply_users = list(dict.fromkeys([*parent.get("reply_users", []), message.get("user")]))
        parent.update(
            thread_ts=thread_ts,
            reply_count=len(replies),
            reply_users=reply_users,
            reply_users_count=len(reply_users),
            latest_reply=message["ts"],
        )
        if broadcast:
            channel.messages.append({**message, "subtype": "thread_broadcast", "root": copy.deepcopy(parent)})

    def post_message(
        self,
        *,
        channel: str,
        text: str | None,
        blocks: list[Any] | None,
        attachments: list[Any] | None,
        metadata: Mapping[str, Any] | None,
        thread_ts: str | None,
        reply_broadcast: bool,
    ) -> Json:
        """Answer chat.postMessage: store a bot message (or thread reply) with a new ts."""
        self._require_scope("chat:write")
        target = self._writable_channel(channel)
        self._check_content(text, blocks, attachments, needs_content=True)
        message = self._bot_message(self.next_ts(), text or "")
        if blocks is not None:
            message["blocks"] = copy.deepcopy(blocks)
        if attachments is not None:
            message["attachments"] = copy.deepcopy(attachments)
        if metadata is not None:
            message["metadata"] = copy.deepcopy(dict(metadata))
        self._append(target, message, thread_ts, broadcast=reply_broadcast)
        return {"ok": True, "channel": target.id, "ts": message["ts"], "message": copy.deepcopy(message)}

    def update_message(
        self,
        *,
        channel: str,
        ts: str,
        text: str | None,
        blocks: list[Any] | None,
        attachments: list[Any] | None,
        metadata: Mapping[str, Any] | None,
    ) -> Json:
        """Answer chat.update: only the bot's own, still existing messages; omitted blocks are kept."""
        target, message = self._own_message(channel, ts, refusal="cant_update_message")
        self._check_content(text, blocks, attachments, needs_content=False)
        if text is not None:
            message["text"] = text
        for key, value in (("blocks", blocks), ("attachments", attachments)):
            if value == []:
                message.pop(key, None)
            elif value is not None:
                message[key] = copy.deepcopy(value)
        if metadata is not None:
            message["metadata"] = copy.deepcopy(dict(metadata))
        message["edited"] = {"user": self.workspace.bot_user_id, "ts": self.next_ts()}
        return {
            "ok": True,
            "channel": target.id,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def delete_message_as_bot(self, *, channel: str, ts: str) -> Json:
        """Answer chat.delete: the bot may delete only its own messages."""
        target, _ = self._own_message(channel, ts, refusal="cant_delete_message")
        self.remove_message(channel, ts)
        return {"ok": True, "channel": target.id, "ts": ts}

    def remove_message(self, channel: str, ts: str) -> None:
        """Delete a message as a person would (no checks); ``KeyError`` if it does not exist."""
        target = self._channels[channel]
        message = target.by_ts.pop(ts, None)
        if message is None:
            raise KeyError(f"no message {ts} in {channel}")
        target.messages = [m for m in target.messages if m["ts"] != ts]
        parent_ts = message.get("thread_ts")
        if parent_ts is not None and parent_ts != ts:
            target.replies[parent_ts] = [m for m in target.replies.get(parent_ts, []) if m["ts"] != ts]

    def add_user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
        """Store a message written by a person (not the bot) and return its ts."""
        target = self._channels[channel]
        message: Json = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": self.next_ts(),
            "team": self.workspace.team_id,
        }
        self._append(target, message, thread_ts)
        return str(message["ts"])

    def post_ephemeral(
        self, *, channel: str, user: str, text: str | None, blocks: list[Any] | None, thread_ts: str | None
    ) -> Json:
        """Answer chat.postEphemeral: the user must be in the channel; returns ``message_ts``."""
        self._require_scope("chat:write")
        target = self._writable_channel(channel)
        self._user(user)
        self._check_content(text, blocks, None, needs_content=True)
        if user not in target.members:
            raise SlackError("user_not_in_channel")
        return {"ok": True, "message_ts": self._store_ephemeral(target.id, user, text, blocks, thread_ts)}

    def _store_ephemeral(
        self, channel: str, user: str, text: str | None, blocks: list[Any] | None, thread_ts: str | None
    ) -> str:
        ts = self.next_ts()
        ephemeral: Json = {"channel": channel, "user": user, "message_ts": ts, "text": text or ""}
        if blocks is not None:
            ephemeral["blocks"] = copy.deepcopy(blocks)
        if thread_ts is not None:
            ephemeral["thread_ts"] = thread_ts
        self._ephemerals.setdefault(user, []).append(ephemeral)
        return ts

    # ----- conversations ------------------------------------------------------------------------------------

    def _open_im(self, user: str) -> tuple[str, bool]:
        existing = self._ims.get(user)
        if existing is not None:
            return existing, True
        channel = _Channel(
            id=self._id("D"),
            name=user,
            kind="im",
            members=[user],
            bot_is_member=True,
            is_private=True,
            created=int(self.now()),
        )
        self._channels[channel.id] = channel
        self._ims[user] = channel.id
        return channel.id, False

    def open_conversation(self, *, users: Sequence[str] | None, channel: str | None, return_im: bool) -> Json:
        """Answer conversations.open: one user gives a ``D…`` IM (reused), several an ``G…`` group DM."""
        self._require_scope("im:write")
        if channel is not None:
            target = self._visible_channel(channel)
            return {"ok": True, "no_op": True, "already_open": True, "channel": self._channel_object(target)}
        if not users:
            raise SlackError("users_list_not_supplied")
        for user in users:
            self._user(user)
        if len(users) == 1:
            channel_id, already_open = self._open_im(users[0])
        else:
            channel_id, already_open = self._open_mpim(users)
        body: Json = {"ok": True}
        if already_open:
            body.update(no_op=True, already_open=True)
        target = self._channels[channel_id]
        body["channel"] = self._channel_object(target) if return_im else {"id": channel_id}
        return body

    def _open_mpim(self, users: Sequence[str]) -> tuple[str, bool]:
        wanted = sorted(set(users))
        for channel in self._channels.values():
            if channel.kind == "mpim" and sorted(channel.members) == wanted:
                return channel.id, True
        channel = _Channel(
            id=self._id("G"),
            name="mpdm-" + "--".join(self._users[u].name for u in wanted) + "-1",
            kind="mpim",
            members=wanted,
            bot_is_member=True,
            is_private=True,
            created=int(self.now()),
        )
        self._channels[channel.id] = channel
        return channel.id, False

    def _channel_object(self, channel: _Channel, *, num_members: bool = False) -> Json:
        if channel.kind == "im":
            return {
                "id": channel.id,
                "created": channel.created,
                "is_im": True,
                "is_org_shared": False,
                "user": channel.members[0],
                "is_user_deleted": False,
                "priority": 0,
            }
        body: Json = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": channel.kind == "channel" and not channel.is_private,
            "is_group": channel.kind == "channel" and channel.is_private,
            "is_im": False,
            "is_mpim": channel.kind == "mpim",
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": False,
            "is_general": False,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_member": channel.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        if num_members:
            body["num_members"] = len(self._members_of(channel))
        return body

    def _members_of(self, channel: _Channel) -> list[str]:
        bot = [self.workspace.bot_user_id] if channel.bot_is_member else []
        return [*channel.members, *bot]

    def conversation_info(self, *, channel: str, include_num_members: bool) -> Json:
        """Answer conversations.info."""
        target = self._visible_channel(channel)
        self._require_scope(self._scope_for(target, "read"))
        return {"ok": True, "channel": self._channel_object(target, num_members=include_num_members)}

    def conversation_members(self, *, channel: str, limit: int | None, cursor: str | None) -> Json:
        """Answer conversations.members (bot included when it is a member), paginated by offset cursor."""
        target = self._visible_channel(channel)
        self._require_scope(self._scope_for(target, "read"))
        members = self._members_of(target)
        start = int(cursor) if cursor else 0
        end = len(members) if not limit else start + limit
        next_cursor = str(end) if end < len(members) else ""
        return {"ok": True, "members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}

    def _readable_history(self, channel: str) -> _Channel:
        target = self._visible_channel(channel)
        self._require_scope(self._scope_for(target, "history"))
        if not target.bot_is_member:
            raise SlackError("not_in_channel")
        return target

    @staticmethod
    def _page(
        messages: list[Json],
        *,
        limit: int | None,
        cursor: str | None,
        include_all_metadata: bool,
        newest_first: bool,
    ) -> Json:
        ordered = list(reversed(messages)) if newest_first else list(messages)
        start = int(cursor) if cursor else 0
        end = len(ordered) if not limit else start + limit
        page = [copy.deepcopy(m) for m in ordered[start:end]]
        if not include_all_metadata:
            for message in page:
                message.pop("metadata", None)
        has_more = end < len(ordered)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "response_metadata": {"next_cursor": str(end) if has_more else ""},
        }

    def conversation_history(
        self,
        *,
        channel: str,
        limit: int | None,
        cursor: str | None,
        latest: str | None,
        oldest: str | None,
        inclusive: bool,
        include_all_metadata: bool,
    ) -> Json:
        """Answer conversations.history: top-level messages, newest first; metadata only when asked for."""
        target = self._readable_history(channel)

        def in_range(message: Json) -> bool:
            ts = float(message["ts"])
            low = float(oldest) if oldest else float("-inf")
            high = float(latest) if latest else float("inf")
            if inclusive:
                return low <= ts <= high
            return low < ts < high

        messages = [m for m in target.messages if in_range(m)]
        body = self._page(
            messages, limit=limit, cursor=cursor, include_all_metadata=include_all_metadata, newest_first=True
        )
        return {**body, "pin_count": 0}

    def conversation_replies(
        self, *, channel: str, ts: str, limit: int | None, cursor: str | None, include_all_metadata: bool
    ) -> Json:
        """Answer conversations.replies: the parent, then its replies oldest first."""
        target = self._readable_history(channel)
        message = self._find_message(target, ts)
        if message is None:
            raise SlackError("thread_not_found")
        parent_ts = str(message.get("thread_ts", ts))
        parent = target.by_ts.get(parent_ts, message)
        thread = [parent, *target.replies.get(parent_ts, [])]
        return self._page(
            thread, limit=limit, cursor=cursor, include_all_metadata=include_all_metadata, newest_first=False
        )

    # ----- people -------------------------------------------------------------------------------------------

    def usergroup_users(self, *, usergroup: str) -> Json:
        """Answer usergroups.users.list."""
        self._require_scope("usergroups:read")
        members = self._usergroups.get(usergroup)
        if members is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(members)}

    def user_info(self, *, user: str) -> Json:
        """Answer users.info with the profile, time zone and its current offset."""
        self._require_scope("users:read")
        person = self._user(user)
        try:
            moment = datetime.fromtimestamp(self.now(), tz=ZoneInfo(person.tz))
            offset = moment.utcoffset()
            tz_offset = int(offset.total_seconds()) if offset is not None else 0
            tz_label = moment.tzname() or person.tz
        except ZoneInfoNotFoundError:
            tz_offset, tz_label = 0, "UTC"
        profile: Json = {
            "real_name": person.real_name,
            "real_name_normalized": person.real_name,
            "display_name": person.name,
            "display_name_normalized": person.name,
            "team": self.workspace.team_id,
        }
        if person.is_bot:
            profile["bot_id"] = self.workspace.bot_id
        return {
            "ok": True,
            "user": {
                "id": person.id,
                "team_id": self.workspace.team_id,
                "name": person.name,
                "deleted": False,
                "real_name": person.real_name,
                "tz": person.tz,
                "tz_label": tz_label,
                "tz_offset": tz_offset,
                "profile": profile,
                "is_admin": False,
                "is_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": person.is_bot,
                "is_app_user": False,
                "updated": int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()),
            },
        }

    # ----- views --------------------------------------------------------------------------------------------

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Issue a trigger id valid for 3 s of the fake's clock, for one views.open/views.push."""
        trigger_id = f"{next(self._counter)}.{int(self.now())}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = _Trigger(user_id=user_id, issued_at=self.now())
        return trigger_id

    def _exchange_trigger(self, trigger_id: str | None) -> _Trigger:
        trigger = self._triggers.get(trigger_id or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.now() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _check_view(self, view: Any, expected_type: str) -> Mapping[str, Any]:
        if not isinstance(view, Mapping) or view.get("type") != expected_type:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] view must be a {expected_type} view"]}
            )
        blocks = view.get("blocks", [])
        if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS_PER_VIEW:
            raise SlackError(
                "invalid_arguments",
                response_metadata={
                    "messages": [
                        f"[ERROR] no more than {MAX_BLOCKS_PER_VIEW} items allowed [json-pointer:/view/blocks]"
                    ]
                },
            )
        external_id = view.get("external_id")
        if external_id:
            for stored in self._views.values():
                if stored.get("external_id") == external_id and stored["id"] != view.get("id"):
                    raise SlackError("duplicate_external_id")
        return view

    def _new_hash(self) -> str:
        return f"{int(self.now())}.{secrets.token_hex(4)}"

    def _store_view(self, view: Mapping[str, Any], *, root_view_id: str | None, previous_view_id: str | None) -> Json:
        ws = self.workspace
        view_id = self._id("V")
        stored: Json = {
            "id": view_id,
            "team_id": ws.team_id,
            "type": view["type"],
            "blocks": copy.deepcopy(list(view.get("blocks", []))),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": ws.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        self._views[view_id] = stored
        return stored

    def open_view(self, *, trigger_id: str | None, view: Any) -> Json:
        """Answer views.open: needs a fresh, unused trigger id; starts the user's modal stack."""
        checked = self._check_view(view, "modal")
        trigger = self._exchange_trigger(trigger_id)
        stored = self._store_view(checked, root_view_id=None, previous_view_id=None)
        self._view_stacks[trigger.user_id] = [stored["id"]]
        return {"ok": True, "view": copy.deepcopy(stored)}

    def push_view(self, *, trigger_id: str | None, view: Any) -> Json:
        """Answer views.push: onto the trigger user's modal stack, at most 3 deep."""
        checked = self._check_view(view, "modal")
        trigger = self._exchange_trigger(trigger_id)
        stack = self._view_stacks.setdefault(trigger.user_id, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        root = stack[0] if stack else None
        previous = stack[-1] if stack else None
        stored = self._store_view(checked, root_view_id=root, previous_view_id=previous)
        stack.append(stored["id"])
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _replace_view(self, stored: Json, view: Mapping[str, Any], hash_: str | None) -> Json:
        if hash_ is not None and hash_ != stored["hash"]:
            raise SlackError("hash_conflict")
        stored.update(
            blocks=copy.deepcopy(list(view.get("blocks", []))),
            title=copy.deepcopy(view.get("title")),
            close=copy.deepcopy(view.get("close")),
            submit=copy.deepcopy(view.get("submit")),
            private_metadata=view.get("private_metadata", ""),
            callback_id=view.get("callback_id", ""),
            external_id=view.get("external_id", stored["external_id"]),
            clear_on_close=bool(view.get("clear_on_close", False)),
            notify_on_close=bool(view.get("notify_on_close", False)),
            hash=self._new_hash(),
        )
        return {"ok": True, "view": copy.deepcopy(stored)}

    def update_view(self, *, view: Any, view_id: str | None, external_id: str | None, hash_: str | None) -> Json:
        """Answer views.update, found by ``view_id`` or ``external_id``; a stale ``hash`` gives hash_conflict."""
        stored: Json | None = None
        if view_id:
            stored = self._views.get(view_id)
        elif external_id:
            stored = next((v for v in self._views.values() if v.get("external_id") == external_id), None)
        else:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id is required"]}
            )
        if stored is None:
            raise SlackError("not_found")
        checked = self._check_view(
            {**dict(view), "id": stored["id"]} if isinstance(view, Mapping) else view, stored["type"]
        )
        return self._replace_view(stored, checked, hash_)

    def publish_view(self, *, user_id: str, view: Any, hash_: str | None) -> Json:
        """Answer views.publish: store (or replace) the user's Home tab view."""
        self._user(user_id)
        existing_id = self._home_views.get(user_id)
        if existing_id is not None:
            checked = self._check_view({**dict(view), "id": existing_id} if isinstance(view, Mapping) else view, "home")
            return self._replace_view(self._views[existing_id], checked, hash_)
        checked = self._check_view(view, "home")
        stored = self._store_view(checked, root_view_id=None, previous_view_id=None)
        self._home_views[user_id] = stored["id"]
        return {"ok": True, "view": copy.deepcopy(stored)}

    # ----- files --------------------------------------------------------------------------------------------

    def get_upload_url(self, *, filename: str | None, length: int | None, alt_txt: str | None) -> Json:
        """Answer files.getUploadURLExternal with an upload URL on this server."""
        self._require_scope("files:write")
        if not filename or length is None or length < 0:
            raise SlackError("invalid_arguments")
        file_id = self._id("F")
        self._files[file_id] = _File(file_id=file_id, filename=filename, length=length, alt_txt=alt_txt)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        """Store the bytes POSTed to an upload URL; return False for an unknown or completed file."""
        upload = self._files.get(file_id)
        if upload is None or upload.completed:
            return False
        upload.content = content
        return True

    def complete_upload(
        self,
        *,
        files: Sequence[Mapping[str, Any]],
        channel_id: str | None,
        channels: Sequence[str],
        initial_comment: str | None,
        thread_ts: str | None,
    ) -> Json:
        """Answer files.completeUploadExternal: share into channels given by ID where the bot is a member."""
        self._require_scope("files:write")
        if not files:
            raise SlackError("invalid_arguments")
        targets = [*([channel_id] if channel_id else []), *channels]
        resolved: list[_Channel] = []
        for ref in targets:
            channel = self._channels.get(ref)
            if channel is None or (channel.is_private and not channel.bot_is_member):
                raise SlackError("channel_not_found")
            if not channel.bot_is_member:
                raise SlackError("not_in_channel")
            resolved.append(channel)
        uploads: list[_File] = []
        for item in files:
            upload = self._files.get(str(item.get("id", "")))
            if upload is None or upload.content is None or upload.completed:
                raise SlackError("file_not_found")
            uploads.append(upload)
        file_objects = []
        for upload, item in zip(uploads, files, strict=True):
            upload.title = str(item.get("title") or upload.filename)
            upload.completed = True
            upload.channels = [c.id for c in resolved]
            file_objects.append(self._file_object(upload))
        for channel in resolved:
            message = self._bot_message(self.next_ts(), initial_comment or "")
            message.update(files=copy.deepcopy(file_objects), upload=True, display_as_bot=False)
            self._append(channel, message, thread_ts)
        return {"ok": True, "files": file_objects}

    def _file_object(self, upload: _File) -> Json:
        now = int(self.now())
        mimetype = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        filetype = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "binary"
        shared = [c for c in upload.channels if c.startswith("C")]
        return {
            "id": upload.file_id,
            "created": now,
            "timestamp": now,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": mimetype,
            "filetype": filetype,
            "user": self.workspace.bot_user_id,
            "user_team": self.workspace.team_id,
            "size": len(upload.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": bool(shared),
            "alt_txt": upload.alt_txt,
            "url_private": f"{self.base_url}/files-pri/{self.workspace.team_id}-{upload.file_id}/{upload.filename}",
            "channels": shared,
            "groups": [c for c in upload.channels if c.startswith("G")],
            "ims": [c for c in upload.channels if c.startswith("D")],
        }

    def uploaded_files(self) -> list[UploadedFile]:
        """Return every file announced through files.getUploadURLExternal, in order."""
        return [
            UploadedFile(
                file_id=f.file_id,
                filename=f.filename,
                length=f.length,
                title=f.title,
                content=f.content,
                completed=f.completed,
                channels=tuple(f.channels),
            )
            for f in self._files.values()
        ]

    # ----- response_url -------------------------------------------------------------------------------------

    def new_response_url(self, *, channel: str | None, user: str | None, message_ts: str | None) -> str:
        """Issue a response URL for an interaction in ``channel`` by ``user`` on message ``message_ts``."""
        url_id = secrets.token_hex(12)
        self._response_urls[url_id] = _ResponseUrl(
            channel=channel, user=user, message_ts=message_ts, issued_at=self.now()
        )
        return f"{self.base_url}/response/{url_id}"

    def respond(self, url_id: str, payload: Mapping[str, Any]) -> tuple[int, str]:
        """Apply a response_url POST; return (HTTP status, body). 5 uses within 30 minutes, then 404."""
        target = self._response_urls.get(url_id)
        if target is None:
            return 404, "invalid_url"
        if self.now() - target.issued_at > RESPONSE_URL_TTL_SECONDS:
            return 404, "expired_url"
        if target.uses >= RESPONSE_URL_MAX_USES:
            return 404, "used_url"
        target.uses += 1
        try:
            self._apply_response(target, payload)
        except SlackError as exc:
            return 400, exc.error
        return 200, '{"ok":true}'

    def _apply_response(self, target: _ResponseUrl, payload: Mapping[str, Any]) -> None:
        text = payload.get("text")
        blocks = payload.get("blocks")
        if payload.get("delete_original"):
            self._respond_on_original(target, delete=True, text=None, blocks=None)
        elif payload.get("replace_original") and target.message_ts is not None:
            self._respond_on_original(target, delete=False, text=text, blocks=blocks)
        elif payload.get("response_type") == "in_channel" and target.channel is not None:
            message = self._bot_message(self.next_ts(), str(text or ""))
            if blocks is not None:
                message["blocks"] = copy.deepcopy(blocks)
            self._append(self._channels[target.channel], message, payload.get("thread_ts"))
        elif target.channel is not None and target.user is not None:
            self._store_ephemeral(target.channel, target.user, text, blocks, payload.get("thread_ts"))

    def _respond_on_original(self, target: _ResponseUrl, *, delete: bool, text: Any, blocks: Any) -> None:
        if target.channel is None or target.message_ts is None:
            return
        channel = self._channels.get(target.channel)
        message = self._find_message(channel, target.message_ts) if channel else None
        if channel is not None and message is not None:
            if delete:
                self.remove_message(channel.id, target.message_ts)
                return
            message["text"] = str(text or "")
            if blocks is not None:
                message["blocks"] = copy.deepcopy(blocks)
            else:
                message.pop("blocks", None)
            return
        for ephemerals in self._ephemerals.values():
            for index, ephemeral in enumerate(ephemerals):
                if ephemeral["message_ts"] == target.message_ts:
                    if delete:
                        del ephemerals[index]
                        return
                    ephemeral["text"] = str(text or "")
                    if blocks is not None:
                        ephemeral["blocks"] = copy.deepcopy(blocks)
                    else:
                        ephemeral.pop("blocks", None)
                    return

    # ----- test-side changes and reads ----------------------------------------------------------------------

    def set_bot_membership(self, channel: str, member: bool) -> None:
        """Add the bot to, or remove it from, a channel."""
        self._channels[channel].bot_is_member = member

    def messages(self, channel: str) -> list[Json]:
        """Return copies of the channel's top-level messages, oldest first."""
        return copy.deepcopy(self._channels[channel].messages)

    def message(self, channel: str, ts: str) -> Json | None:
        """Return a copy of a message or thread reply, or None if absent."""
        found = self._find_message(self._channels[channel], ts)
        return copy.deepcopy(found) if found is not None else None

    def thread(self, channel: str, ts: str) -> list[Json]:
        """Return copies of the replies under parent ``ts``, oldest first (the parent excluded)."""
        return copy.deepcopy(self._channels[channel].replies.get(ts, []))

    def ephemerals(self, user: str) -> list[Json]:
        """Return copies of the ephemeral messages shown to ``user``, oldest first."""
        return copy.deepcopy(self._ephemerals.get(user, []))

    def view(self, view_id: str) -> Json | None:
        """Return a copy of a view as last opened/updated/published, or None."""
        found = self._views.get(view_id)
        return copy.deepcopy(found) if found is not None else None

    def home_view(self, user: str) -> Json | None:
        """Return a copy of the user's published Home view, or None."""
        view_id = self._home_views.get(user)
        return self.view(view_id) if view_id is not None else None

    def im_channel(self, user: str) -> str | None:
        """Return the ``D…`` channel opened with ``user``, if any."""
        return self._ims.get(user)
