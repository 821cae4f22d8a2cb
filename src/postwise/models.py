"""Every table, imported in one place so Alembic and tests see the whole schema."""

from postwise.accounts.models import MailAccount
from postwise.ai.models import AiAction, AiCache, AiSettings, AiUsage, AiUserModel, SenderStats
from postwise.auth.models import (
    AuthSession,
    KnownDevice,
    OneTimeToken,
    RecoveryCode,
    RefreshToken,
    SecurityEvent,
)
from postwise.compose.models import Contact, ContactScan, Draft, DraftAttachment
from postwise.db import Base
from postwise.instance.models import InstanceSetting
from postwise.mail.models import (
    Attachment,
    Folder,
    Message,
    MessageInsight,
    PendingChange,
    Thread,
)
from postwise.notifications.models import Notification
from postwise.users.models import User

__all__ = [
    "AiAction",
    "AiCache",
    "AiSettings",
    "AiUsage",
    "AiUserModel",
    "Attachment",
    "AuthSession",
    "Base",
    "Contact",
    "ContactScan",
    "Draft",
    "DraftAttachment",
    "Folder",
    "InstanceSetting",
    "KnownDevice",
    "MailAccount",
    "Message",
    "MessageInsight",
    "Notification",
    "OneTimeToken",
    "PendingChange",
    "RecoveryCode",
    "RefreshToken",
    "SecurityEvent",
    "SenderStats",
    "Thread",
    "User",
]
