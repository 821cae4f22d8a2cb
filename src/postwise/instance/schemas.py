"""The admin's instance settings over the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from postwise.instance.service import RegistrationMode


class InstanceSettingsOut(BaseModel):
    # What sign-up does now, whichever of the two below decided it.
    registration: RegistrationMode
    # "admin" when an admin chose the mode here, "environment" when POSTWISE_REGISTRATION did.
    registration_source: Literal["admin", "environment"]
    # POSTWISE_REGISTRATION: what applies again once the admin's choice is cleared.
    registration_default: RegistrationMode


class InstanceSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registration: RegistrationMode | None = Field(
        description="open, invite (an invitation is needed) or closed; null hands the choice "
        "back to POSTWISE_REGISTRATION."
    )
