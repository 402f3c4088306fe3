"""The Slack adapter: /quote, its buttons and the admin commands on a slack-bolt AsyncApp.

`create_app` is the one factory; `serve` runs it (Socket Mode or HTTP); `post_quote` is the daily
scheduler's way in.
"""

from bots.slack.app import create_app, post_quote, serve, web_client

__all__ = ["create_app", "post_quote", "serve", "web_client"]
