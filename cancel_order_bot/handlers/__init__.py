"""Slack adapters: one module per surface, each exporting register(app, services)."""
