"""Development tools shipped with the package: a fake Slack Web API and signed Slack request builders."""

from cancel_order_bot.demo.fake_slack import Call, FakeSlack, FakeWorkspace, ManualClock
from cancel_order_bot.demo.slack_payloads import Action, Delivery, SignedRequest, SlackRequests

__all__ = [
    "Action",
    "Call",
    "Delivery",
    "FakeSlack",
    "FakeWorkspace",
    "ManualClock",
    "SignedRequest",
    "SlackRequests",
]
