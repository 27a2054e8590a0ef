"""SES: can this account send, from this identity, to these people, right now.

=================  ===============================================  ====================
check              reads                                            fails when
=================  ===============================================  ====================
ses.account        sesv2 GetAccount                                 enforcement SHUTDOWN
                                                                    (sandbox: warn)
ses.sending        GetAccount.SendingEnabled (v1 fallback)          sending disabled
ses.quota          GetAccount.SendQuota (v1 GetSendQuota fallback)  24 h quota used up, or
                                                                    --rate above the max
ses.identity       GetIdentityVerificationAttributes                not verified
ses.dkim           GetIdentityDkimAttributes (domains)              DKIM Failed / off
ses.dns            the records SES wants, resolved in public DNS    a required one missing
ses.reputation     CloudWatch AWS/SES Reputation.* (or v1           at AWS's pause levels
                   GetSendStatistics)                               (review levels: warn)
ses.recipients     sesv2 GetSuppressedDestination, sandbox          suppressed, or not
                   verification of each --recipient                 verified in the sandbox
=================  ===============================================  ====================

APIs an endpoint does not implement (moto, the emulator before it grew them) make the
check a `warn` that says so: doctor never pretends a fact it could not read.
"""

from __future__ import annotations

from typing import Any

from notifyctl.aws.calls import is_error
from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, not_implemented, passed, warned

# AWS's thresholds (SES developer guide, "Sending review process"): above the review
# rates an account is placed under review, above the pause rates sending may be paused.
# Defined once, in infra.reputation (`status` shows the same rates).
from notifyctl.infra.reputation import PAUSE_BOUNCE as BOUNCE_PAUSE
from notifyctl.infra.reputation import PAUSE_COMPLAINT as COMPLAINT_PAUSE
from notifyctl.infra.reputation import REVIEW_BOUNCE as BOUNCE_REVIEW
from notifyctl.infra.reputation import REVIEW_COMPLAINT as COMPLAINT_REVIEW

# Warn when less than this share of the 24-hour quota is left.
QUOTA_HEADROOM = 0.10

SANDBOX_FIX = ("request production access: SES console > Account dashboard > Request "
               "production access (or `aws sesv2 put-account-details "
               "--production-access-enabled ...`)")


def _account(ctx: DoctorContext) -> dict[str, Any] | None:
    """SESv2 GetAccount, or None when the endpoint does not implement it."""
    def call() -> dict[str, Any] | None:
        try:
            return dict(ctx.client("sesv2").get_account())
        except Exception as exc:
            if not_implemented(exc):
                return None
            raise
    return ctx.memo("sesv2.get_account", call)


def account(ctx: DoctorContext) -> Outcome:
    acct = _account(ctx)
    if acct is None or "ProductionAccessEnabled" not in acct:
        return warned("sandbox or production: unknown (the endpoint does not answer "
                      "sesv2 GetAccount)", "on AWS: `aws sesv2 get-account`")
    enforcement = acct.get("EnforcementStatus") or "HEALTHY"
    if enforcement == "SHUTDOWN":
        return failed("SES has paused sending for this account (EnforcementStatus SHUTDOWN)",
                      "fix the cause AWS named in its message, then ask AWS Support to "
                      "resume sending")
    if not acct["ProductionAccessEnabled"]:
        return warned(f"sandbox in {ctx.aws.region}: mail goes only to verified addresses "
                      "and the mailbox simulator, at most 200/24 h and 1/s",
                      SANDBOX_FIX)
    if enforcement == "PROBATION":
        return warned("production access, but the account is under review (PROBATION)",
                      "lower the bounce and complaint rates (see ses.reputation)")
    return passed(f"production access in {ctx.aws.region} ({enforcement})")


def sending(ctx: DoctorContext) -> Outcome:
    acct = _account(ctx)
    enabled: bool | None = None
    if acct is not None and "SendingEnabled" in acct:
        enabled = bool(acct["SendingEnabled"])
    else:
        try:
            enabled = bool(ctx.client("ses").get_account_sending_enabled().get("Enabled"))
        except Exception as exc:
            if not not_implemented(exc):
                raise
    if enabled is None:
        return warned("sending enabled: unknown (the endpoint answers neither sesv2 "
                      "GetAccount nor ses GetAccountSendingEnabled)",
                      "on AWS: `aws sesv2 get-account`")
    if not enabled:
        return failed(f"sending is disabled for the account in {ctx.aws.region}",
                      "`aws sesv2 put-account-sending-attributes --sending-enabled`")
    return passed(f"sending enabled in {ctx.aws.region}")


def quota(ctx: DoctorContext) -> Outcome:
    acct = _account(ctx)
    q = (acct or {}).get("SendQuota")
    if not q:
        q = ctx.client("ses").get_send_quota()
    max_24h = float(q.get("Max24HourSend", 0))
    sent = float(q.get("SentLast24Hours", 0))
    max_rate = float(q.get("MaxSendRate", 0))
    cap = "unlimited" if max_24h < 0 else f"{max_24h:.0f}"  # -1: no 24-hour cap
    evidence = f"{sent:.0f} of {cap} sent in 24 h, max {max_rate:g}/s"
    if ctx.rate is not None and max_rate >= 0 and ctx.rate > max_rate > 0:
        return failed(f"{evidence}; you publish at {ctx.rate:g}/s",
                      f"publish at most --rate {max_rate:g}, or request a higher sending "
                      "rate (Service Quotas: SES 'Sending rate')")
    if max_24h >= 0 and sent >= max_24h > 0:
        return failed(f"{evidence}: the 24-hour quota is used up",
                      "wait for the 24-hour window to roll, or request a higher quota")
    if max_24h > 0 and (max_24h - sent) < QUOTA_HEADROOM * max_24h:
        return warned(f"{evidence}: less than {QUOTA_HEADROOM:.0%} left",
                      "request a higher quota before the next batch")
    return passed(evidence)


def _verification(ctx: DoctorContext, identity: str) -> dict[str, Any]:
    return dict(ctx.client("ses").get_identity_verification_attributes(
        Identities=[identity]).get("VerificationAttributes", {}).get(identity, {}))


def identity(ctx: DoctorContext) -> Outcome:
    env = ctx.env
    name = env.sending_domain or env.sender
    kind = "domain" if env.sending_domain else "address"
    status = _verification(ctx, name).get("VerificationStatus")
    if status == "Success":
        extra = f", sender {env.sender}" if env.sending_domain else ""
        return passed(f"{kind} {name} verified{extra}")
    if status is None:
        return failed(f"{kind} {name} is not an SES identity in {ctx.aws.region}",
                      "`notifyctl bootstrap` (creates it; an address gets a verification "
                      "email, a domain DNS records to publish)")
    if status == "Pending":
        fix = ("publish the DNS records `notifyctl bootstrap --plan` prints (see ses.dns)"
               if env.sending_domain else f"click the link AWS emailed to {env.sender} "
                                          "(links expire after 24 h: `notifyctl bootstrap` "
                                          "sends a new one)")
        return failed(f"{kind} {name} is Pending verification: SES refuses to send from it",
                      fix)
    return failed(f"{kind} {name} verification {status}",
                  "`notifyctl bootstrap` to start verification again")


def dkim(ctx: DoctorContext) -> Outcome:
    env = ctx.env
    if not env.sending_domain:
        return passed(f"address identity {env.sender}: no Easy DKIM of its own "
                      "(set sending_domain to sign with your domain)")
    domain = env.sending_domain
    attrs = ctx.client("ses").get_identity_dkim_attributes(Identities=[domain]).get(
        "DkimAttributes", {}).get(domain, {})
    if not attrs.get("DkimEnabled"):
        return failed(f"DKIM signing is off for {domain}",
                      f"`aws ses set-identity-dkim-enabled --identity {domain} --dkim-enabled`"
                      " (or `notifyctl bootstrap`)")
    status = attrs.get("DkimVerificationStatus", "NotStarted")
    if status == "Success":
        return passed(f"Easy DKIM verified for {domain}")
    if status in ("Pending", "NotStarted"):
        return warned(f"Easy DKIM {status} for {domain}: mail is sent but not signed with "
                      "your domain", "publish the three DKIM CNAMEs (see ses.dns); "
                                     "detection can take up to 72 h")
    return failed(f"Easy DKIM {status} for {domain}",
                  "publish the three DKIM CNAMEs (see ses.dns), then "
                  f"`aws ses verify-domain-dkim --domain {domain}`")


def dns(ctx: DoctorContext) -> Outcome:
    env = ctx.env
    if not env.sending_domain:
        return passed(f"address identity {env.sender}: no DNS records to publish")
    if ctx.resolver is None:
        return warned("skipped: no DNS resolver on this machine (offline?)",
                      "run doctor where DNS resolves, or compare `notifyctl bootstrap --plan` "
                      "with your zone")
    from notifyctl.doctor.dns import DnsUnavailable, unquote
    from notifyctl.infra import dns_records

    wanted = dns_records.fetch(ctx.client("ses"), env.sending_domain)
    missing: list[dns_records.DnsRecord] = []
    optional: list[dns_records.DnsRecord] = []
    try:
        for record in wanted:
            values = ctx.resolver.lookup(record.name, record.type)
            want = unquote(record.value)
            if record.name.startswith("_dmarc."):
                ok = any(v.startswith("v=DMARC1") for v in values)
            elif record.type == "TXT" and want.startswith("v=spf1"):
                ok = any(v.startswith("v=spf1") and "include:amazonses.com" in v
                         for v in values)
            else:
                ok = any(v.lower() == want.lower() for v in values)
            if not ok:
                (missing if record.required else optional).append(record)
    except DnsUnavailable as exc:
        return warned(f"skipped: {exc}", "run doctor where DNS resolves")
    if missing:
        first = missing[0]
        return failed(f"{len(missing)} of {sum(r.required for r in wanted)} required records "
                      f"not published: {', '.join(f'{r.type} {r.name}' for r in missing)}",
                      f"publish {first.type} {first.name} = {first.value}"
                      + (f" (and {len(missing) - 1} more: `notifyctl bootstrap --plan` "
                         "lists them)" if len(missing) > 1 else ""))
    if optional:
        first = optional[0]
        return warned(f"required records published; missing "
                      f"{', '.join(f'{r.type} {r.name}' for r in optional)}",
                      f"publish {first.type} {first.name} = {first.value}")
    return passed(f"all {len(wanted)} records published for {env.sending_domain}")


def reputation(ctx: DoctorContext) -> Outcome:
    """The rates `status` shows (infra.reputation: CloudWatch Reputation.*, else the
    send statistics), against the same thresholds."""
    from notifyctl.infra import reputation as rep

    found = rep.read(ctx.client("cloudwatch"), ctx.client("ses"), clock=ctx.clock)
    if found.source == rep.NO_DATA:
        return passed("no sends in the last 2 weeks: no bounce or complaint rate yet")
    source = ("CloudWatch AWS/SES Reputation.*, latest hour" if found.source == rep.CLOUDWATCH
              else f"GetSendStatistics, {found.delivery_attempts} delivery attempts in 2 weeks")
    bounce, complaint = found.bounce_rate or 0.0, found.complaint_rate or 0.0
    evidence = f"bounce {bounce:.2%}, complaint {complaint:.3%} ({source})"
    fix = ("remove bad addresses (use the suppression list), send only to people who asked; "
           "see SES 'Sending review process'")
    if found.level == rep.PAUSE:
        return failed(f"{evidence}: at AWS's pause level ({BOUNCE_PAUSE:.0%} / "
                      f"{COMPLAINT_PAUSE:.1%})", fix)
    if found.level == rep.REVIEW:
        return warned(f"{evidence}: at AWS's review level ({BOUNCE_REVIEW:.0%} / "
                      f"{COMPLAINT_REVIEW:.1%})", fix)
    return passed(evidence)


def recipients(ctx: DoctorContext) -> Outcome:
    if not ctx.recipients:
        return passed("no test recipients given (--recipient ADDR checks one)")
    sesv2 = ctx.client("sesv2")
    acct = _account(ctx)
    sandbox = acct is not None and acct.get("ProductionAccessEnabled") is False
    problems: list[tuple[str, str]] = []
    unknown: list[str] = []
    for address in ctx.recipients:
        try:
            found = sesv2.get_suppressed_destination(EmailAddress=address)
            reason = found.get("SuppressedDestination", {}).get("Reason", "?")
            problems.append((f"{address} is on the account's suppression list ({reason})",
                             f"`aws sesv2 delete-suppressed-destination --email-address "
                             f"{address}`"))
            continue
        except Exception as exc:
            if not_implemented(exc):
                unknown.append(address)
            elif not is_error(exc, "NotFoundException"):
                raise
        if sandbox and _verification(ctx, address).get("VerificationStatus") != "Success":
            problems.append((f"{address} is not verified and the account is in the sandbox",
                             f"`aws sesv2 create-email-identity --email-identity {address}` "
                             "(then click the link), or leave the sandbox"))
    if problems:
        return failed("; ".join(p for p, _ in problems), problems[0][1])
    if unknown:
        return warned(f"suppression not checked for {', '.join(unknown)}: the endpoint does "
                      "not implement sesv2 GetSuppressedDestination",
                      "on AWS: `aws sesv2 get-suppressed-destination --email-address ADDR`")
    return passed(f"{len(ctx.recipients)} recipient(s) not suppressed"
                  + (", verified for the sandbox" if sandbox else ""))
