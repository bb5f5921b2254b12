"""Standard Webhooks signing and the URL allow-list.

Signature: ``v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`` where the secret is
the base64 part of ``whsec_<base64>``. Receivers verify with any Standard Webhooks library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

from intake.core.errors import ConfigError

__all__ = ["sign", "signed_headers", "check_url_allowed"]


def _secret_bytes(secret: str) -> bytes:
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ConfigError("webhook secret is not whsec_<base64>") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(_secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "user-agent": "order-intake-webhooks/1",
    }


def check_url_allowed(url: str, allowed_hosts: str) -> None:
    """Refuse URLs that point at internal addresses unless their host is allow-listed.

    ``allowed_hosts`` is a comma-separated list of host names or IPs that may be internal
    (loopback, private, link-local); ``*`` in it allows every host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook URL must be http(s)://host/...: {url!r}")
    allowed = {h.strip().lower() for h in allowed_hosts.split(",") if h.strip()}
    host = parts.hostname.lower()
    if "*" in allowed or host in allowed:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise ConfigError(f"webhook host {host} does not resolve") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
            if str(ip) not in allowed:
                raise ConfigError(f"webhook host {host} resolves to internal address {ip}, which is not allow-listed "
                                  "(INTAKE_WEBHOOK_ALLOWED_HOSTS)")
