"""The webhook API (README "Webhooks"): API-key start/stop/status for CI and ticketing."""
