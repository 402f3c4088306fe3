"""The Slack adapter: /quote, its buttons and the admin commands on a slack-bolt AsyncApp.

`SlackAdapter` serves it in `quotebot run` (Socket Mode or HTTP); `create_app` is the one factory;
`post_quote` is the daily scheduler's way in.
"""

from bots.slack.app import SlackAdapter, create_app, post_quote, web_client

__all__ = ["SlackAdapter", "create_app", "post_quote", "web_client"]
