"""URL checks for settings: the scheme, a host and a valid port, with a message a user can act on."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["is_loopback_url", "redact_url", "url_with_schemes"]


def url_with_schemes(*schemes: str) -> Callable[[str], str]:
    """Build a validator that accepts URLs with one of ``schemes``, a host and (if given) a valid port."""
    allowed = " or ".join(f"{s}://" for s in schemes)

    def validate(value: str) -> str:
        parts = urlsplit(value.strip())
        shown = redact_url(value.strip())
        if parts.scheme not in schemes:
            found = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
            raise ValueError(f"'{shown}' is not a valid URL here: expected {allowed}, found {found}")
        if not parts.hostname:
            raise ValueError(f"'{shown}' has no host: expected {allowed}host:port")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError(f"'{shown}' has an invalid port: expected a number from 1 to 65535") from None
        return value.strip().rstrip("/")

    return validate


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` with any password in it replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
