"""A complete notifyctl config for one `local` environment on a test emulator, with no
repository file: the tests (and benchmarks) that bootstrap whole stacks write it with
their own prefix, so they never touch each other's resources."""

from __future__ import annotations

_EMULATOR_CONFIG = """\
project: books
defaults:
  profile: null
  region: us-east-1
  endpoint_url: {endpoint}
  prefix: {prefix}
  sender: {sender}
  sending_domain: null
  link_base_url: http://localhost:8000/books/
  link_allowed_hosts: []
  allow_http_links: true
  function: {{runtime: python3.12, memory_mb: 256, timeout_s: 30,
             log_retention_days: 30, log_level: INFO}}
  dedup: {{retention_hours: 168, point_in_time_recovery: false, deletion_protection: false}}
{release}environments:
  local: {{}}
"""
_CANARY_RELEASE = ("  release: {strategy: canary10-5m, errors_threshold: 1, throttles_threshold: 1,\n"
                   "            alarm_period_s: 60}\n")


def emulator_config(endpoint: str, prefix: str, *, sender: str = "notifications@example.com",
                    canary: bool = False) -> str:
    """The text of that config; `canary` releases with canary10-5m and tight alarms."""
    return _EMULATOR_CONFIG.format(endpoint=endpoint, prefix=prefix, sender=sender,
                                   release=_CANARY_RELEASE if canary else "")
