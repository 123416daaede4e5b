"""The digest's sentences read right for one item as for many."""

from __future__ import annotations

from bot.slack.render.digest import render_digest
from tests.digest.factories import report, span
from tests.render.factories import check_message, walk_texts


def test_the_pipeline_sentence_says_what_is_counted_whatever_the_count() -> None:
    for cancelled, items in ((1, "1 seller-fault cancelled item"), (15, "15 seller-fault cancelled items")):
        blocks = check_message(render_digest(report(pipeline=span(7, 1, 250, cancelled))))
        text = "\n".join(t for _, t in walk_texts(blocks))
        assert f"{items} of 250 ordered. Once these orders are counted the rate will be about" in text
