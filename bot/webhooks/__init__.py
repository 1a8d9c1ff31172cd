"""The webhook API (DESIGN §4): API-key start/stop/status for CI and ticketing."""
