"""Logging, metrics, request context middleware and health checks."""
