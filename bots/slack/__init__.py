"""The Slack adapter on a slack-bolt AsyncApp: `SlackAdapter` (run), `create_app`, `post_quote` (daily)."""

from bots.slack.app import SlackAdapter, create_app, post_quote, web_client

__all__ = ["SlackAdapter", "create_app", "post_quote", "web_client"]
