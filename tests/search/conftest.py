"""The accounts suite's harness (a running app and signed-in users)."""

from tests.accounts.conftest import accounts_settings, make_harness
from tests.fixtures.smtp import make_smtp_server, smtp_server

__all__ = ["accounts_settings", "make_harness", "make_smtp_server", "smtp_server"]
