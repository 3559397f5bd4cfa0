"""The optional-reason modal behind "Not helpful"."""

from __future__ import annotations

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

CALLBACK_NOT_HELPFUL = "feedback_reason"
CALLBACK_THANKS = "feedback_reason_thanks"
REASON_BLOCK = "reason"
REASON_ACTION = "reason_input"


def reason_modal(private_metadata: str) -> View:
    view = View(
        type="modal",
        callback_id=CALLBACK_NOT_HELPFUL,
        title="Not helpful",
        submit="Send",
        close="Skip",
        notify_on_close=True,
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(text="Thanks for saying. If you have a moment, what was missing?"),
            InputBlock(
                block_id=REASON_BLOCK,
                label="What would have helped?",  # Slack adds "(optional)" itself
                optional=True,
                element=PlainTextInputElement(
                    action_id=REASON_ACTION, multiline=True, max_length=1000
                ),
            ),
        ],
    )
    view.validate_json()
    return view


def reason_thanks_view() -> View:
    """What the "Not helpful" modal becomes once sent, so the reason is seen to arrive."""
    view = View(
        type="modal",
        callback_id=CALLBACK_THANKS,
        title="Not helpful",
        close="Close",
        blocks=[
            SectionBlock(
                text="Thank you. That helps the people who look after my guidance to improve it."
            )
        ],
    )
    view.validate_json()
    return view
