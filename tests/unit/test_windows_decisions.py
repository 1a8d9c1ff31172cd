"""Decisions of the window analysis that the broader window tests do not pin down."""
