"""What counts as an email address a person may sign up or sign in with.

Syntax only. email_validator also refuses addresses it judges undeliverable on the public
internet: special-use and reserved domains (.local, .test, .internal, home.arpa, localhost) and
domains without a dot. Self-hosted organisations run real mail on exactly such names (and
`postwise demo` creates demo@postwise.local), and whether an address receives mail is proven by
the verification mail, not guessed from its spelling. So Postwise asks the library for syntax
alone: `globally_deliverable=False`, no DNS, and an empty special-use list.
"""

from __future__ import annotations

import email_validator
from email_validator import EmailNotValidError, validate_email

# The special-use list is only settable process-wide; emptying it is the library's documented
# way to allow those domains (its README, "Test addresses"). Postwise has no other caller that
# wants the refusal, and pydantic's EmailStr, which reads the same list, is not used.
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()


def normalise_email(value: str) -> str:
    """Trimmed, syntax-checked and lower-cased: one account per address, whatever its case.

    Raises ValueError with the library's explanation (a 422 `validation_error` in a body)."""
    try:
        checked = validate_email(
            value.strip(), check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error
    return checked.normalized.lower()
