"""Every table, imported in one place so Alembic and tests see the whole schema."""

from postwise.auth.models import (
    AuthSession,
    KnownDevice,
    OneTimeToken,
    RecoveryCode,
    RefreshToken,
    SecurityEvent,
)
from postwise.db import Base
from postwise.instance.models import InstanceSetting
from postwise.users.models import User

__all__ = [
    "AuthSession",
    "Base",
    "InstanceSetting",
    "KnownDevice",
    "OneTimeToken",
    "RecoveryCode",
    "RefreshToken",
    "SecurityEvent",
    "User",
]
