"""Can notifyctl reach the environment at all: the endpoint, then who we are."""

from __future__ import annotations

from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, passed


def endpoint(ctx: DoctorContext) -> Outcome:
    """An emulator endpoint answers its health check; AWS's endpoints are implied by
    the identity check that follows."""
    url = ctx.endpoint_url
    if not url:
        return passed(f"AWS public endpoints, region {ctx.aws.region}")
    from notifyctl.config.schema import is_loopback_url

    if ctx.probe is not None:
        doc = ctx.probe(url)
    else:
        from notifyctl.emulator.control import health

        doc = health(url)
    if doc is not None:
        return passed(f"notifyctl emulator at {url} (pid {doc.get('pid', '?')}), "
                      f"region {ctx.aws.region}")
    if is_loopback_url(url) and not _listening(url):
        return failed(f"nothing listens at {url}", "start the emulator: `notifyctl local start`")
    # Something else answers (LocalStack, a proxy): the identity check probes it.
    return passed(f"{url} answers (not notifyctl's emulator), region {ctx.aws.region}")


def _listening(url: str, timeout: float = 1.0) -> bool:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def identity(ctx: DoctorContext) -> Outcome:
    try:
        me = ctx.client("sts").get_caller_identity()
    except Exception as exc:
        from notifyctl.aws.errors import translate

        translated = translate(exc, ctx.endpoint_url)
        if translated is None:
            raise
        return failed(translated.message, translated.hint or "check the credentials in use")
    return passed(f"account {me['Account']} as {me.get('Arn', '?')}, region {ctx.aws.region}")
