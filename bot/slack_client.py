"""The one place a Slack Web API client is built (Slack app, notifier, re-stop notices)."""

from __future__ import annotations

from slack_sdk import WebClient


def slack_client(token: str | None = None, *, api_url: str | None = None) -> WebClient:
    """A client with ``token`` (already resolved) against ``api_url`` (``SLACK_API_URL``).

    ``api_url`` is only set for the local mock; without it the client talks to Slack.
    No token gives a client whose token each request supplies (Bolt's ``authorize``).
    """
    return WebClient(token=token, base_url=api_url or WebClient.BASE_URL)
