"""The application: the command line, the composition root that builds the Bolt app, and the Slack listeners."""
