"""Looking up what DNS actually publishes, with short timeouts.

`Resolver` is the seam: doctor asks it for the TXT/CNAME values of a name, tests hand
in a dictionary-backed one, and nothing in the test suite reaches the network. The
real one is dnspython's stub resolver with a 2-second lifetime per query: when DNS
cannot be reached at all (offline, no resolv.conf), lookups raise `DnsUnavailable`
and the DNS check becomes a `warn` saying so, rather than a false `fail`.
"""

from __future__ import annotations

from typing import Protocol

TIMEOUT_S = 2.0


class DnsUnavailable(Exception):
    """DNS could not be queried at all (as opposed to: the name has no such record)."""


class Resolver(Protocol):
    def lookup(self, name: str, rdtype: str) -> list[str]:
        """The record values (TXT strings joined and unquoted, CNAME targets without
        the trailing dot); [] when the name or the type does not exist."""
        ...


class DnsPythonResolver:
    def __init__(self, timeout: float = TIMEOUT_S) -> None:
        import dns.resolver

        try:
            self._resolver = dns.resolver.Resolver()
        except Exception as exc:  # no /etc/resolv.conf, no nameservers
            raise DnsUnavailable(f"no DNS resolver configured ({exc})") from exc
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout

    def lookup(self, name: str, rdtype: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = self._resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.resolver.NoNameservers, dns.exception.Timeout,
                dns.resolver.LifetimeTimeout) as exc:
            raise DnsUnavailable(f"DNS did not answer for {name} ({type(exc).__name__})") \
                from exc
        except OSError as exc:
            raise DnsUnavailable(f"DNS unreachable: {exc}") from exc
        values = []
        for rdata in answer:
            if rdtype == "TXT":
                values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
            else:
                values.append(str(rdata.target).rstrip("."))
        return values


def default_resolver() -> Resolver | None:
    """dnspython's resolver, or None when none can be configured on this machine."""
    try:
        return DnsPythonResolver()
    except DnsUnavailable:
        return None


def unquote(value: str) -> str:
    """`"v=spf1 ..."` (our DnsRecord values are zone-file quoted) -> `v=spf1 ...`."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
