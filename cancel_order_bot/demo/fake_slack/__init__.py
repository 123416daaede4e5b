"""A fake Slack Web API server with realistic state, for tests, the offline demo and benchmarks."""

from cancel_order_bot.demo.fake_slack.server import FILE_UPLOAD, RESPONSE_URL, Call, FakeSlack
from cancel_order_bot.demo.fake_slack.state import (
    MAX_BLOCKS_PER_MESSAGE,
    MAX_BLOCKS_PER_VIEW,
    RESPONSE_URL_MAX_USES,
    TRIGGER_TTL_SECONDS,
    SlackError,
    UploadedFile,
)
from cancel_order_bot.demo.fake_slack.workspace import (
    DEFAULT_SCOPES,
    FakeChannel,
    FakeUser,
    FakeUsergroup,
    FakeWorkspace,
    ManualClock,
)

__all__ = [
    "DEFAULT_SCOPES",
    "FILE_UPLOAD",
    "MAX_BLOCKS_PER_MESSAGE",
    "MAX_BLOCKS_PER_VIEW",
    "RESPONSE_URL",
    "RESPONSE_URL_MAX_USES",
    "TRIGGER_TTL_SECONDS",
    "Call",
    "FakeChannel",
    "FakeSlack",
    "FakeUser",
    "FakeUsergroup",
    "FakeWorkspace",
    "ManualClock",
    "SlackError",
    "UploadedFile",
]
