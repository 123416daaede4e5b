"""What the one-order and the bulk request forms share: the modal frame, the warnings and the inputs."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import PackageChoice
from bot.slack.render.ids import (
    JUSTIFICATION_BLOCK,
    MODAL_JUSTIFICATION,
    MODAL_PACKAGE_CHOICE,
    MODAL_REASON,
    PACKAGE_CHOICE_BLOCK,
    REASON_BLOCK,
)
from bot.slack.render.text import (
    OPTION_TEXT_LIMIT,
    check_view,
    escape,
    joined,
    oneline,
    plain,
    rate_text,
    ready_to_ship_text,
    section,
)
from bot.workflow.models import BulkDraft, OrderDraft, Reason

__all__ = [
    "CLOSE",
    "JUSTIFICATION_MAX_LENGTH",
    "SELECT_OPTION_LIMIT",
    "SUBMIT",
    "justification_input",
    "modal_view",
    "package_choice_input",
    "reason_input",
    "request_warnings",
]

SUBMIT = "Request approval"
CLOSE = "Close"
TITLE_LIMIT = 24
JUSTIFICATION_MAX_LENGTH = 500
SELECT_OPTION_LIMIT = 100


def modal_view(
    blocks: Sequence[Block],
    *,
    callback_id: str,
    title: str,
    metadata: str | None,
    submit: str | None = None,
    close: str = CLOSE,
) -> View:
    """A modal within Slack's view limits; without ``submit`` there is nothing to submit."""
    return check_view(
        View(
            type="modal",
            callback_id=callback_id,
            title=plain(title, TITLE_LIMIT),
            submit=PlainTextObject(text=submit) if submit else None,
            close=PlainTextObject(text=close),
            private_metadata=metadata,
            blocks=list(blocks),
        )
    )


def request_warnings(draft: OrderDraft | BulkDraft, packages: Sequence[Block]) -> list[Block]:
    """The warnings above a request's inputs: stock set to 0, the ``packages`` shared, parcels ready, the rate."""
    several = isinstance(draft, BulkDraft)
    blocks: list[Block] = []
    zeroing = [r for r in draft.reasons if r.zeroes_stock]
    if zeroing:
        reasons = " or ".join(f"“{escape(oneline(r.reason_name))}”" for r in zeroing)
        blocks.append(
            section(
                f"⚠️ *Stock goes to 0:* choosing {reasons} sets the stock of SKU "
                f"{joined(draft.stock_zeroing_skus, shown=30)} to 0 on Lazada. Someone has to restore it in Seller "
                "Center afterwards."
            )
        )
    blocks += packages
    ready = draft.ready_to_ship_selected
    if ready:
        blocks.append(section(ready_to_ship_text(ready, shown=10 if several else 20)))
    if draft.rate is not None:
        blocks.append(section(rate_text(draft.rate)))
    return blocks


def package_choice_input(label: str, *, repack_text: str, whole: Option) -> InputBlock:
    """The radio buttons for packages shared with items not requested: repack first (preselected) or ``whole``."""
    repack = Option(value=PackageChoice.REPACK_FIRST.value, text=plain(repack_text, OPTION_TEXT_LIMIT))
    return InputBlock(
        block_id=PACKAGE_CHOICE_BLOCK,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(action_id=MODAL_PACKAGE_CHOICE, options=[repack, whole], initial_option=repack),
    )


def reason_input(reasons: Sequence[Reason], label: str) -> InputBlock:
    """The select of Lazada's cancellation reasons, in groups of 100 when there are more."""
    options = [Option(value=r.reason_id, text=plain(oneline(r.reason_name), OPTION_TEXT_LIMIT)) for r in reasons]
    placeholder = PlainTextObject(text="Choose a reason")
    if len(options) <= SELECT_OPTION_LIMIT:
        select = StaticSelectElement(action_id=MODAL_REASON, placeholder=placeholder, options=options)
    else:
        select = StaticSelectElement(
            action_id=MODAL_REASON,
            placeholder=placeholder,
            option_groups=[
                OptionGroup(label=PlainTextObject(text="Reasons"), options=options[s : s + SELECT_OPTION_LIMIT])
                for s in range(0, len(options), SELECT_OPTION_LIMIT)
            ],
        )
    return InputBlock(block_id=REASON_BLOCK, label=PlainTextObject(text=label), element=select)


def justification_input(placeholder: str) -> InputBlock:
    """The required justification the approver reads, at most ``JUSTIFICATION_MAX_LENGTH`` characters."""
    return InputBlock(
        block_id=JUSTIFICATION_BLOCK,
        label=PlainTextObject(text="Justification"),
        element=PlainTextInputElement(
            action_id=MODAL_JUSTIFICATION,
            multiline=True,
            max_length=JUSTIFICATION_MAX_LENGTH,
            placeholder=PlainTextObject(text=placeholder),
        ),
        hint=PlainTextObject(text=f"Required, at most {JUSTIFICATION_MAX_LENGTH} characters."),
    )
