"""Tests of the Lazada sandbox (cancel_order_bot.sandbox)."""
