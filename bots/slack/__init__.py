"""The Slack adapter on a slack-bolt AsyncApp: `SlackAdapter` (run), `create_app`, `post_quote` (daily)."""

from bots.slack.app import SlackAdapter, SlackPoster, create_app, post_quote, web_client

__all__ = ["SlackAdapter", "SlackPoster", "create_app", "post_quote", "web_client"]
