"""Offline stand-ins for Slack: a mock Web API server and requests signed as Slack signs them."""
