"""The accounts suite's harness (a running app, signed-in users, Dovecot and SMTP servers)."""

from tests.accounts.conftest import accounts_settings, mailbox, make_harness
from tests.fixtures.smtp import make_smtp_server, smtp_server

__all__ = ["accounts_settings", "mailbox", "make_harness", "make_smtp_server", "smtp_server"]
