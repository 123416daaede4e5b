"""FakeSlack files v2: slack_sdk's real files_upload_v2 (getUploadURLExternal → upload → complete)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.demo.fake_slack import FILE_UPLOAD

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def test_files_upload_v2_end_to_end(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.files_upload_v2(
        channel="C0DIGEST", file=PNG, filename="digest.png", title="Cancellations this week", initial_comment="Digest"
    )

    assert response["file"]["id"].startswith("F")
    assert response["file"]["title"] == "Cancellations this week"
    assert response["file"]["mimetype"] == "image/png"
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        FILE_UPLOAD,
        "files.completeUploadExternal",
    ]
    assert slack.last("files.getUploadURLExternal").body["upload_url"].startswith(slack.base_url)
    with pytest.raises(TypeError):
        _ = slack.last(FILE_UPLOAD).body
    (stored,) = slack.uploaded_files
    assert stored.content == PNG
    assert stored.length == len(PNG)
    assert (stored.filename, stored.completed, stored.channels) == ("digest.png", True, ("C0DIGEST",))
    (message,) = slack.messages("C0DIGEST")
    assert message["text"] == "Digest"
    assert message["files"][0]["id"] == stored.file_id


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("#ops-digest", "channel_not_found"),
        ("ops-digest", "channel_not_found"),
        ("U0ALICE", "channel_not_found"),
        ("C0SECRET", "channel_not_found"),
        ("C0RANDOM", "not_in_channel"),
    ],
)
async def test_files_upload_v2_needs_a_channel_id_with_the_bot(
    slack: FakeSlack, client: AsyncWebClient, channel: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.files_upload_v2(channel=channel, content=b"x", filename="a.txt")

    assert caught.value.response["error"] == error
    assert slack.messages("C0RANDOM") == []


async def test_files_upload_v2_after_bot_removed(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.remove_bot_from("C0DIGEST")

    with pytest.raises(SlackApiError) as caught:
        await client.files_upload_v2(channel="C0DIGEST", content=b"x", filename="a.txt")

    assert caught.value.response["error"] == "not_in_channel"


async def test_complete_without_uploaded_bytes_fails(slack: FakeSlack, client: AsyncWebClient) -> None:
    started = await client.files_getUploadURLExternal(filename="a.txt", length=3)

    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(files=[{"id": started["file_id"]}], channel_id="C0DIGEST")

    assert caught.value.response["error"] == "file_not_found"
