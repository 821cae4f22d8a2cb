"""Compose and send: undo window → SMTP 250 latency, and a 500-message queue draining."""
