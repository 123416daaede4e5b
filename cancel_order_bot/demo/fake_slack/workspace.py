"""The workspace a FakeSlack serves: team, bot identity, users, user groups, channels, scopes and tokens."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_SCOPES",
    "FakeChannel",
    "FakeUser",
    "FakeUsergroup",
    "FakeWorkspace",
    "ManualClock",
]

#: The app's manifest scopes plus the read scopes a conversations.* caller needs.
DEFAULT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "usergroups:read",
    "files:write",
    "im:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
)


@dataclass(frozen=True)
class FakeUser:
    """A workspace member as users.info describes them."""

    id: str
    name: str
    real_name: str = ""
    tz: str = "Asia/Ho_Chi_Minh"
    is_bot: bool = False


@dataclass(frozen=True)
class FakeUsergroup:
    """A user group (``S…``) and its member ids."""

    id: str
    handle: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class FakeChannel:
    """A channel: its human members, whether the bot is in it, and whether it is private."""

    id: str
    name: str
    members: tuple[str, ...] = ()
    bot_is_member: bool = True
    is_private: bool = False


@dataclass(frozen=True)
class FakeWorkspace:
    """An immutable workspace fixture; the ``with_*`` methods return a changed copy."""

    team_id: str = "T0TEAM"
    team_name: str = "Fake Seller Ops"
    domain: str = "fake-seller-ops"
    app_id: str = "A0APP"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    bot_name: str = "order-cancel"
    users: tuple[FakeUser, ...] = ()
    usergroups: tuple[FakeUsergroup, ...] = ()
    channels: tuple[FakeChannel, ...] = ()
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    bot_tokens: tuple[str, ...] = field(default=("xoxb-fake",), repr=False)
    app_tokens: tuple[str, ...] = field(default=("xapp-fake",), repr=False)

    @classmethod
    def default(cls) -> FakeWorkspace:
        """Return the demo workspace: four people, an approvers group and four channels.

        Users ``U0ALICE`` (alice), ``U0BOB`` (bob), ``U0CAROL`` (carol), ``U0DAVE`` (dave); group
        ``S0APPROVERS`` = bob + carol; channels ``C0OPS`` (order-ops) and ``C0DIGEST`` (ops-digest) with the
        bot, ``C0RANDOM`` (random, public, no bot) and ``C0SECRET`` (leadership, private, no bot).
        """
        return (
            cls()
            .with_user("U0ALICE", "alice", real_name="Alice Tran", tz="Asia/Ho_Chi_Minh")
            .with_user("U0BOB", "bob", real_name="Bob Santos", tz="Asia/Manila")
            .with_user("U0CAROL", "carol", real_name="Carol Lim", tz="Asia/Singapore")
            .with_user("U0DAVE", "dave", real_name="Dave Wong", tz="Asia/Bangkok")
            .with_usergroup("S0APPROVERS", ("U0BOB", "U0CAROL"), handle="cancel-approvers")
            .with_channel("C0OPS", "order-ops", members=("U0ALICE", "U0BOB", "U0CAROL"))
            .with_channel("C0DIGEST", "ops-digest", members=("U0ALICE", "U0BOB"))
            .with_channel("C0RANDOM", "random", members=("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"), bot_is_member=False)
            .with_channel("C0SECRET", "leadership", members=("U0DAVE",), bot_is_member=False, is_private=True)
        )

    def with_user(self, user_id: str, name: str, *, real_name: str = "", tz: str = "Asia/Ho_Chi_Minh") -> FakeWorkspace:
        """Return a copy with this user added (or replaced)."""
        user = FakeUser(id=user_id, name=name, real_name=real_name or name, tz=tz)
        return dataclasses.replace(self, users=(*(u for u in self.users if u.id != user_id), user))

    def with_usergroup(self, group_id: str, members: tuple[str, ...], *, handle: str = "") -> FakeWorkspace:
        """Return a copy with this user group added (or replaced)."""
        group = FakeUsergroup(id=group_id, handle=handle or group_id.lower(), members=tuple(members))
        return dataclasses.replace(self, usergroups=(*(g for g in self.usergroups if g.id != group_id), group))

    def with_channel(
        self,
        channel_id: str,
        name: str,
        *,
        members: tuple[str, ...] = (),
        bot_is_member: bool = True,
        is_private: bool = False,
    ) -> FakeWorkspace:
        """Return a copy with this channel added (or replaced)."""
        channel = FakeChannel(
            id=channel_id, name=name, members=tuple(members), bot_is_member=bot_is_member, is_private=is_private
        )
        return dataclasses.replace(self, channels=(*(c for c in self.channels if c.id != channel_id), channel))

    def with_scopes(self, *scopes: str) -> FakeWorkspace:
        """Return a copy whose bot token holds exactly these scopes."""
        return dataclasses.replace(self, scopes=tuple(scopes))

    def with_tokens(self, *tokens: str) -> FakeWorkspace:
        """Return a copy that accepts exactly these bot tokens."""
        return dataclasses.replace(self, bot_tokens=tuple(tokens))

    def user_named(self, name: str) -> FakeUser:
        """Return the user with this handle (``KeyError`` if none)."""
        for user in self.users:
            if user.name == name:
                return user
        raise KeyError(name)

    def channel_named(self, name: str) -> FakeChannel:
        """Return the channel with this name, without ``#`` (``KeyError`` if none)."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)


class ManualClock:
    """A wall clock that moves only when told; call it for the current epoch seconds."""

    def __init__(self, start: float | None = None) -> None:
        """Start at ``start`` epoch seconds, or at the real current time."""
        self._now = time.time() if start is None else start

    def __call__(self) -> float:
        """Return the current time in epoch seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._now += seconds
