"""Slack front end of envctl: the `/env` command grammar and, later, its listeners."""
