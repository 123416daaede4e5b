"""Buyer cancellation requests (issue 11): find them, post one card each, decide them once, count them.

`models` holds the words, `errors` the refusals for the person who acted, `events` what the presenter shows, and
`service` the decisions. Like `bot.workflow`, it imports nothing of Slack.
"""
