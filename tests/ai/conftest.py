"""The assistant's API tests run on the accounts suite's harness (an app, signed-in users)."""

from tests.accounts.conftest import accounts_settings, make_harness

__all__ = ["accounts_settings", "make_harness"]
