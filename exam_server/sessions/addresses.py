"""The client address a login is counted against.

Without trusted proxies (the default) it is the TCP peer, ``request.client.host``: an
``X-Forwarded-For`` header is then ignored, since any client can write one. Behind a reverse
proxy or load balancer, list its addresses in ``EXAM_TRUSTED_PROXIES``; the address is then the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy.
"""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """``10.0.0.5`` or ``10.0.0.0/8`` (IPv6 too); a bad entry raises ValueError at startup."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(request: HTTPConnection, trusted: Sequence[Network]) -> str:
    peer = request.client.host if request.client else UNKNOWN
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer
