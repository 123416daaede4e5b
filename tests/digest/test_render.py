"""The digest renderers: within Slack's limits, every outside text escaped, the change's direction and "estimate"."""

from __future__ import annotations

import json
import re

from slack_sdk.models.blocks import Block

from bot.digest.models import ApproverCount, NamedCount, RateStatus
from bot.slack.render.digest import render_digest, render_digest_ephemeral
from bot.slack.render.text import Message
from tests.digest.factories import HOSTILE, activity, report, span
from tests.render.factories import check_message, walk_texts

# The markup the digest writes itself: user mentions of well-formed ids and dates.
_OUR_MARKUP = re.compile(r"<@[UW][A-Z0-9]+>|<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>")


def text_of(message: Message) -> str:
    """Every block as JSON, checked against Slack's limits by slack_sdk on the way."""
    return json.dumps([block.to_dict() for block in message.blocks], ensure_ascii=False)


def test_digest_says_the_rate_direction_pipeline_and_that_it_is_an_estimate() -> None:
    message = render_digest(report())
    text = text_of(message)

    assert "*2.50%* estimated seller-fault cancellation rate" in text
    assert "*warning*" in text
    assert "25 of 1000 items cancelled for seller fault" in text
    assert "↑ up 0.50 pp (was 2.00%)" in text
    assert "↓ down 0.50 pp (was 3.00%)" in text
    assert "15 seller-fault cancelled items of 250 ordered" in text
    assert "*4.00%*" in text
    assert "estimate of Lazada's own figure" in text
    assert (
        "3 requests · 2 approved · 2 executed · 1 rejected · 0 withdrawn · 0 expired · 0 failed · 1 still pending"
        in text
    )
    assert "<@U0ALICE> 3" in text
    assert "<@U0BOB> 2 approved, 1 rejected" in text
    assert "Out of Stock 2" in text
    assert len(message.blocks) <= 50
    assert "2.50%" in message.text


def test_digest_without_history_says_the_change_is_not_known() -> None:
    text = text_of(render_digest(report(yesterday=None, week_ago=None)))

    assert text.count("not known yet") == 2


def test_an_unchanged_rate_says_so() -> None:
    text = text_of(render_digest(report(yesterday=span(36, 9, 1000, 25))))

    assert "→ unchanged (was 2.50%)" in text


def test_hostile_store_label_reasons_and_people_cannot_ping_link_or_format() -> None:
    hostile = report(
        store_label=HOSTILE,
        timezone=HOSTILE,
        activity=activity(
            by_reason=(NamedCount(name=HOSTILE, count=1),),
            by_requester=(NamedCount(name=HOSTILE, count=1),),
            by_approver=(ApproverCount(approver_id=HOSTILE, approved=1),),
        ),
    )

    for message in (render_digest(hostile), render_digest_ephemeral(hostile)):
        blocks = check_message(message)
        texts = [*walk_texts(blocks), ("mrkdwn", message.text)]
        for kind, text in texts:
            assert not re.search(r"[@＠](channel|here|everyone)", text), text
            if kind == "plain_text":
                assert not re.search(r"<[!@#]", text), text
                continue
            rest = _OUR_MARKUP.sub("", text)
            assert not re.search("[<>]", rest), rest
            assert not any(marker in rest for marker in ("*bold*", "_it_", "~s~", "`code`")), rest
        assert "&lt;http://evil.example|click&gt;" in "\n".join(text for _, text in texts)


def test_many_people_stay_within_the_limits() -> None:
    crowd = tuple(NamedCount(name=f"U0PERSON{n:03d}", count=1) for n in range(300))
    big = report(
        activity=activity(
            by_reason=tuple(NamedCount(name=f"Reason {n} " + "x" * 50, count=1) for n in range(300)),
            by_requester=crowd,
            by_approver=tuple(ApproverCount(approver_id=f"U0APPR{n:03d}", approved=1) for n in range(300)),
        )
    )

    message = render_digest(big)
    text = text_of(message)

    assert "and 290 more" in text
    assert all(isinstance(block, Block) for block in message.blocks)


def test_an_incomplete_report_says_so() -> None:
    text = text_of(render_digest(report(window=span(35, 8, 1000, 25, unread_orders=3))))

    assert "3 orders with cancelled items could not be read yet" in text


def test_over_the_limit_shows_the_stop_sign() -> None:
    text = text_of(render_digest(report(status=RateStatus.OVER_LIMIT)))

    assert "🛑" in text
    assert "over the limit" in text


def test_ephemeral_is_short_and_says_estimate() -> None:
    message = render_digest_ephemeral(report())
    text = text_of(message)

    assert len(message.blocks) == 2
    assert "*Thai Main*: *2.50%* estimated seller-fault cancellation rate" in text
    assert "↑ up 0.50 pp" in text
    assert "about 4.00% once counted" in text
    assert "estimate of Lazada's own figure" in text
