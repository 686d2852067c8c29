"""Where a webhook may go (server-side request forgery): never to the platform's own network.

An endpoint's host is resolved and EVERY address it resolves to is checked, when it is registered
and again at each delivery (a name that resolved to a public address at registration may resolve to
a private one later: DNS rebinding). The delivery then connects to the checked addresses only
(`CheckedResolver` is the HTTP client's resolver, so no second lookup happens between check and
connect). Private, loopback, link-local (169.254.0.0/16: cloud metadata), multicast, reserved,
unspecified and shared (100.64.0.0/10) addresses are refused unless `DISPATCH_WEBHOOK_ALLOW_HOSTS`
names the host or a network holding the address (the tests allow 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL may not be called; the message says why (shown to the organization)."""


def refusal(address: IPAddress, host: str, allow: Sequence[str]) -> str | None:
    """Why `address` (one of `host`'s) may not be called, or None when it may. Pure: no I/O."""
    if host.lower() in allow or any(
        "/" in entry and address in ipaddress.ip_network(entry, strict=False) for entry in allow
    ):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, host, allow)
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("shared (carrier-grade NAT)", address in _SHARED),
        ("not globally reachable", not address.is_global),
    ):
        if flag:
            return f"{host} resolves to {address}, a {kind} address"
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")


def parse_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL without credentials; AddressRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise AddressRefused("the URL may not carry a user name or password")
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


async def resolve_checked(host: str, port: int, allow: Sequence[str]) -> list[IPAddress]:
    """Every address of `host`, all of them allowed; AddressRefused when any is not (or none)."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            raise AddressRefused(f"{host} does not resolve ({exc.strerror or exc})") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise AddressRefused(f"{host} does not resolve")
    for address in addresses:
        reason = refusal(address, host, allow)
        if reason is not None:
            raise AddressRefused(reason)
    return addresses


async def check_url(url: str, allow: Sequence[str]) -> None:
    host, port = parse_url(url)
    await resolve_checked(host, port, allow)


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver for deliveries: the connector connects only to what this returns, and this
    returns only checked addresses (or raises AddressRefused, before any connection is opened)."""

    def __init__(self, allow: Sequence[str]) -> None:
        self.allow = tuple(allow)

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        addresses = await resolve_checked(host, port, self.allow)
        return [
            ResolveResult(
                hostname=host,
                host=str(a),
                port=port,
                family=socket.AF_INET6 if a.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in addresses
        ]

    async def close(self) -> None:
        return None
