"""The digest's sentences read right for one item as for many."""

from __future__ import annotations

from bot.buyer.models import BuyerRequestCounts
from bot.slack.render.digest import render_digest
from tests.digest.factories import report, span
from tests.render.factories import check_message, walk_texts


def test_the_pipeline_sentence_says_what_is_counted_whatever_the_count() -> None:
    for cancelled, items in ((1, "1 seller-fault cancelled item"), (15, "15 seller-fault cancelled items")):
        blocks = check_message(render_digest(report(pipeline=span(7, 1, 250, cancelled))))
        text = "\n".join(t for _, t in walk_texts(blocks))
        assert f"{items} of 250 ordered. Once these orders are counted the rate will be about" in text


def _text(blocks: list[dict[str, object]]) -> str:
    return "\n".join(t for _, t in walk_texts(blocks))


def test_buyer_requests_are_counted_with_the_cancellations_they_spared() -> None:
    counts = BuyerRequestCounts(
        received=3, accepted=1, refused=1, decided_by_lazada=1, answered_elsewhere=1, items_spared=1
    )
    text = _text(check_message(render_digest(report(buyer_requests=counts))))
    assert "*Buyers' cancellation requests, last 24 h*" in text
    assert "3 received · 1 accepted · 1 refused · 1 decided by Lazada · 1 answered outside Slack" in text
    assert "1 seller-fault cancellation avoided:* an item was cancelled at the buyer's request" in text

    none_elsewhere = _text(check_message(render_digest(report(buyer_requests=BuyerRequestCounts(items_spared=4)))))
    assert "answered outside Slack" not in none_elsewhere
    assert "4 seller-fault cancellations avoided:* 4 items were cancelled" in none_elsewhere


def test_a_digest_without_the_buyer_service_says_nothing_of_buyer_requests() -> None:
    assert "Buyers' cancellation requests" not in _text(check_message(render_digest(report())))
    assert report().to_json()["buyer_requests"] is None


def test_a_buyer_request_makes_the_day_worth_posting() -> None:
    quiet = report(
        activity=report().activity.model_copy(
            update={
                "requests": 0,
                "approved": 0,
                "executed": 0,
                "rejected": 0,
                "withdrawn": 0,
                "expired": 0,
                "failed": 0,
                "needs_attention": 0,
            }
        ),
    )
    assert quiet.activity.events == 0
    base = quiet.model_copy(
        update={"status": quiet.status.OK, "projected_status": quiet.status.OK, "yesterday": quiet.window}
    )
    assert base.quiet
    assert not base.model_copy(update={"buyer_requests": BuyerRequestCounts(received=1)}).quiet
