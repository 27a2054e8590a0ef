"""The DNS records a sending domain needs for SES (verification, Easy DKIM, SPF, DMARC)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SPF_VALUE = "v=spf1 include:amazonses.com ~all"


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str
    purpose: str
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def domain_records(domain: str, verification_token: str | None,
                   dkim_tokens: list[str]) -> list[DnsRecord]:
    records = []
    if verification_token:
        records.append(DnsRecord(f"_amazonses.{domain}", "TXT", f'"{verification_token}"',
                                 "SES domain verification"))
    for token in dkim_tokens:
        records.append(DnsRecord(f"{token}._domainkey.{domain}", "CNAME",
                                 f"{token}.dkim.amazonses.com", "Easy DKIM signing key"))
    records.append(DnsRecord(domain, "TXT", f'"{SPF_VALUE}"',
                             "SPF (recommended; merge with an existing SPF record, one per "
                             "domain)", required=False))
    records.append(DnsRecord(f"_dmarc.{domain}", "TXT",
                             f'"v=DMARC1; p=none; rua=mailto:postmaster@{domain}"',
                             "DMARC (recommended; start with p=none, move to quarantine "
                             "once reports are clean)", required=False))
    return records


def fetch(ses: Any, domain: str) -> list[DnsRecord]:
    """Read the domain's tokens from SES (v1 API) and build its records."""
    verification = ses.get_identity_verification_attributes(Identities=[domain]).get(
        "VerificationAttributes", {}).get(domain, {})
    dkim = ses.get_identity_dkim_attributes(Identities=[domain]).get(
        "DkimAttributes", {}).get(domain, {})
    return domain_records(domain, verification.get("VerificationToken"),
                          list(dkim.get("DkimTokens") or []))
