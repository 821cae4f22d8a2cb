"""Postwise: a self-hosted AI email assistant."""
