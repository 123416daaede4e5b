"""cancel-order-bot: two-person approval for Lazada order cancellations, in Slack."""
