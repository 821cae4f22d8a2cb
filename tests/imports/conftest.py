"""The import API runs on the accounts harness (an app with its lifespan and a real Store)."""

from tests.accounts.conftest import accounts_settings, h, make_harness

__all__ = ["accounts_settings", "h", "make_harness"]
