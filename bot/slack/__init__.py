"""The Slack-facing presenter: the gateway, the renderers, and what turns domain outcomes into messages."""
