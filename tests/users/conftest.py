"""The admin's settings run on the auth suite's harness: a real app, a real SMTP server for the
verification links, and an empty instance per test (its first user is the admin)."""

from tests.auth.conftest import (
    _empty_instance,
    auth_log_file,
    auth_settings,
    h,
    make_harness,
    make_smtp_server,
    smtp_server,
)

__all__ = [
    "_empty_instance",
    "auth_log_file",
    "auth_settings",
    "h",
    "make_harness",
    "make_smtp_server",
    "smtp_server",
]
