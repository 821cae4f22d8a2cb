"""Every table, imported in one place so Alembic and tests see the whole schema."""

from postwise.db import Base
from postwise.instance.models import InstanceSetting

__all__ = ["Base", "InstanceSetting"]
