"""Where a webhook may be sent: addresses on the public internet, unless configured otherwise.

A subscriber chooses the URL, and the service reports the start of every failed answer back
to it; left open, a subscription could make the service call, and read, systems on the
service's own network (server-side request forgery). So, unless
`WEBHOOK_ALLOW_PRIVATE_HOSTS` is set:

- registering a URL whose host is a loopback, private, link-local or otherwise non-public
  address literal, or `localhost`, is refused at once. That rule is a regular expression,
  `NON_PUBLIC_URL_PATTERN`, so that the OpenAPI document publishes it as it is applied
  (it refuses whole special-purpose blocks, a little more than `ipaddress` calls non-global);
- at every delivery the host name is resolved, every address it resolves to must be public,
  and the request goes to the address that was checked, so a name cannot be pointed
  elsewhere between the check and the connection. The `Host` header and TLS (the SNI name
  and the certificate check) keep the URL's own host name.
"""

import ipaddress
import re
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


# IPv4 blocks that are not the public internet: IANA's special-purpose registry (those not
# globally reachable, as whole blocks), multicast and the reserved 240/4.
NON_PUBLIC_IPV4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
_ANY_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


def _ipv4_block(cidr: str) -> str:
    """A regular expression for the dotted-decimal addresses of an IPv4 block."""
    network = ipaddress.IPv4Network(cidr)
    first, last = network.network_address.packed, network.broadcast_address.packed
    octets = []
    for low, high in zip(first, last, strict=True):
        if (low, high) == (0, 255):
            octets.append(_ANY_OCTET)
        else:
            octets.append("(?:" + "|".join(str(n) for n in range(low, high + 1)) + ")")
    return r"\.".join(octets)


_HEX = "[0-9A-Fa-f]"
# IPv6 literals by how they begin, which for a well-formed literal decides the block: a first
# group of 0 (unspecified, loopback, IPv4-mapped and -compatible), fc00::/7 (unique local),
# fe80::/9 (link- and site-local), ff00::/8 (multicast), 0100::/16 (discard), 2001::/23
# (IETF protocol assignments), 2001:db8::/32 (documentation), 64:ff9b:1::/48 (local NAT64).
NON_PUBLIC_IPV6 = "|".join(
    [
        r"::",
        r"0{1,4}:",
        rf"[Ff][CcDd]{_HEX}{{2}}:",
        rf"[Ff][Ee][89A-Fa-f]{_HEX}:",
        rf"[Ff][Ff]{_HEX}{{2}}:",
        r"0?100:",
        rf"2001:(?::|(?:{_HEX}{{1,2}}|[01]{_HEX}{{2}}|0[01]{_HEX}{{2}}):)",
        r"2001:0?[Dd][Bb]8:",
        r"0{0,2}64:[Ff][Ff]9[Bb]:0{0,3}1:",
    ]
)
_LOCALHOST = r"(?:[A-Za-z0-9-]+\.)*[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]\.?"
# Of the URLs `SubscriptionCreate` takes, those whose host is not on the public internet.
NON_PUBLIC_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:"
    + "|".join(
        [
            "(?:" + "|".join(_ipv4_block(cidr) for cidr in NON_PUBLIC_IPV4) + ")",
            rf"\[(?:{NON_PUBLIC_IPV6})[0-9A-Fa-f:.]*\]",
            _LOCALHOST,
        ]
    )
    + r")(?:[:/?#]|$)"
)
_NON_PUBLIC_URL = re.compile(NON_PUBLIC_URL_PATTERN)


def refusal(url: str) -> str | None:
    """Why `url` may not be registered, judged without a DNS query (None: it may be)."""
    if not _NON_PUBLIC_URL.match(url):
        return None
    host = (httpx.URL(url).host or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine: webhooks go to public internet hosts only"
    return f"{_literal(host) or host} is not a public internet address"


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
