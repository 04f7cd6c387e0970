"""Where a webhook may be sent: addresses on the public internet, unless configured otherwise.

A subscriber chooses the URL, and the service reports the start of every failed answer back
to it; left open, a subscription could make the service call, and read, systems on the
service's own network (server-side request forgery). So, unless
`WEBHOOK_ALLOW_PRIVATE_HOSTS` is set:

- registering a URL whose host is a loopback, private, link-local or otherwise non-public
  address literal, or `localhost`, is refused at once;
- at every delivery the host name is resolved, every address it resolves to must be public,
  and the request goes to the address that was checked, so a name cannot be pointed
  elsewhere between the check and the connection. The `Host` header and TLS (the SNI name
  and the certificate check) keep the URL's own host name.
"""

import ipaddress
import socket
from dataclasses import dataclass

import httpx

from app.core.errors import ForbiddenDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def refusal(url: str) -> str | None:
    """Why `url` may not be registered, judged without a DNS query (None: it may be)."""
    host = (httpx.URL(url).host or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine: webhooks go to public internet hosts only"
    address = _literal(host)
    if address is not None and not is_public(address):
        return f"{address} is not a public internet address"
    return None


@dataclass(frozen=True)
class Destination:
    """A request target pinned to one resolved address."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, str]


def pin(url: str, *, allow_private: bool) -> Destination:
    """Resolve the host of `url` and aim the request at the address found.

    Raises `ForbiddenDestination` when an address is not public (and that is not allowed),
    `socket.gaierror` when the name does not resolve.
    """
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")
    port = target.port or (443 if target.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        if not allow_private and not is_public(literal):
            raise ForbiddenDestination(f"{literal} is not a public internet address")
        return Destination(target, {}, {})
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [a for a in dict.fromkeys(_literal(str(info[4][0])) for info in found) if a]
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    # The addresses themselves stay unsaid: the subscriber reads this message.
    if not allow_private and not all(is_public(a) for a in addresses):
        raise ForbiddenDestination(f"{host} resolves to a non-public address")
    return Destination(
        target.copy_with(host=str(addresses[0])),
        {"host": target.netloc.decode("ascii")},
        {"sni_hostname": host} if target.scheme == "https" else {},
    )
