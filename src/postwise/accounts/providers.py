"""The big providers' servers, from their own help pages: no network needed to set them up.

Checked against each provider's documentation (IMAP and SMTP/submission settings pages of
Google, Microsoft, Yahoo, Apple, Fastmail, GMX and Zoho). Where a provider documents both 465
(implicit TLS) and 587 (STARTTLS) for sending, the table uses implicit TLS, as RFC 8314 advises.
"""

from __future__ import annotations

from dataclasses import dataclass

from postwise.accounts.connection import ServerEndpoint
from postwise.accounts.models import Security


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    domains: frozenset[str]
    imap: ServerEndpoint
    smtp: ServerEndpoint
    # Tenant domains such as contoso.onmicrosoft.com: matched by suffix, not listed one by one.
    domain_suffixes: tuple[str, ...] = ()
    # Shown with a failed sign-in: what people trip over with this provider.
    sign_in_hint: str = ""


def _ssl(host: str, port: int) -> ServerEndpoint:
    return ServerEndpoint(host, port, Security.SSL)


def _starttls(host: str, port: int) -> ServerEndpoint:
    return ServerEndpoint(host, port, Security.STARTTLS)


_APP_PASSWORD = "{name} accepts an app password here, not your normal password: create one in "

PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="Gmail",
        domains=frozenset({"gmail.com", "googlemail.com"}),
        imap=_ssl("imap.gmail.com", 993),
        smtp=_ssl("smtp.gmail.com", 465),
        sign_in_hint=_APP_PASSWORD.format(name="Gmail")
        + "your Google account's security settings (2-Step Verification must be on).",
    ),
    Provider(
        name="Outlook.com",
        domains=frozenset(
            {
                "outlook.com",
                "hotmail.com",
                "live.com",
                "msn.com",
                "passport.com",
                "outlook.de",
                "outlook.fr",
                "outlook.es",
                "outlook.it",
                "hotmail.co.uk",
                "hotmail.de",
                "hotmail.fr",
                "hotmail.it",
                "hotmail.es",
                "live.co.uk",
                "live.de",
                "live.fr",
                "live.it",
                "live.nl",
            }
        ),
        imap=_ssl("outlook.office365.com", 993),
        smtp=_starttls("smtp-mail.outlook.com", 587),
        sign_in_hint="Microsoft may refuse passwords over IMAP for this account; an app "
        "password (account security settings) works where Microsoft still allows one.",
    ),
    Provider(
        name="Microsoft 365",
        domains=frozenset({"office365.com"}),
        domain_suffixes=(".onmicrosoft.com",),
        imap=_ssl("outlook.office365.com", 993),
        smtp=_starttls("smtp.office365.com", 587),
        sign_in_hint="Your organisation must allow IMAP and SMTP AUTH for the mailbox.",
    ),
    Provider(
        name="Yahoo",
        domains=frozenset(
            {
                "yahoo.com",
                "ymail.com",
                "rocketmail.com",
                "yahoo.co.uk",
                "yahoo.de",
                "yahoo.fr",
                "yahoo.it",
                "yahoo.es",
                "yahoo.ca",
                "yahoo.com.au",
                "yahoo.co.in",
                "yahoo.co.jp",
            }
        ),
        imap=_ssl("imap.mail.yahoo.com", 993),
        smtp=_ssl("smtp.mail.yahoo.com", 465),
        sign_in_hint=_APP_PASSWORD.format(name="Yahoo") + "Yahoo's account security page.",
    ),
    Provider(
        name="iCloud",
        domains=frozenset({"icloud.com", "me.com", "mac.com"}),
        imap=_ssl("imap.mail.me.com", 993),
        # Apple documents STARTTLS on 587 only for iCloud's submission server.
        smtp=_starttls("smtp.mail.me.com", 587),
        sign_in_hint=_APP_PASSWORD.format(name="iCloud") + "your Apple Account settings.",
    ),
    Provider(
        name="Fastmail",
        domains=frozenset({"fastmail.com", "fastmail.fm"}),
        imap=_ssl("imap.fastmail.com", 993),
        smtp=_ssl("smtp.fastmail.com", 465),
        sign_in_hint=_APP_PASSWORD.format(name="Fastmail")
        + "Fastmail's Settings → Privacy & Security.",
    ),
    Provider(
        name="GMX",
        # gmx.net and gmx.de are the German service, with its own servers.
        domains=frozenset({"gmx.net", "gmx.de", "gmx.at", "gmx.ch"}),
        imap=_ssl("imap.gmx.net", 993),
        smtp=_starttls("mail.gmx.net", 587),
        sign_in_hint="IMAP access must be switched on in GMX's settings (POP3 & IMAP).",
    ),
    Provider(
        name="GMX",
        domains=frozenset({"gmx.com", "gmx.us"}),
        imap=_ssl("imap.gmx.com", 993),
        smtp=_starttls("mail.gmx.com", 587),
        sign_in_hint="IMAP access must be switched on in GMX's settings (POP3 & IMAP).",
    ),
    Provider(
        name="Zoho Mail",
        domains=frozenset({"zoho.com", "zohomail.com"}),
        imap=_ssl("imap.zoho.com", 993),
        smtp=_ssl("smtp.zoho.com", 465),
        sign_in_hint="IMAP access must be enabled in Zoho Mail's settings; with two-factor "
        "sign-in, use an application-specific password.",
    ),
    Provider(
        name="Zoho Mail",
        domains=frozenset({"zoho.eu", "zohomail.eu"}),
        imap=_ssl("imap.zoho.eu", 993),
        smtp=_ssl("smtp.zoho.eu", 465),
        sign_in_hint="IMAP access must be enabled in Zoho Mail's settings; with two-factor "
        "sign-in, use an application-specific password.",
    ),
    Provider(
        name="Zoho Mail",
        domains=frozenset({"zoho.in", "zohomail.in"}),
        imap=_ssl("imap.zoho.in", 993),
        smtp=_ssl("smtp.zoho.in", 465),
        sign_in_hint="IMAP access must be enabled in Zoho Mail's settings; with two-factor "
        "sign-in, use an application-specific password.",
    ),
)

_BY_DOMAIN: dict[str, Provider] = {
    domain: provider for provider in PROVIDERS for domain in provider.domains
}


def provider_for(domain: str) -> Provider | None:
    """The provider serving addresses at `domain` (case-insensitive), if it is a known one."""
    domain = domain.strip().lower().rstrip(".")
    found = _BY_DOMAIN.get(domain)
    if found is not None:
        return found
    for provider in PROVIDERS:
        if any(domain.endswith(suffix) for suffix in provider.domain_suffixes):
            return provider
    return None
