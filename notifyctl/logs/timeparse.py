"""Time arguments: relative (`30s`, `10m`, `2h`, `1d`, `1w`) or absolute (ISO 8601).

An absolute time without a zone is read as local time (UTC with `utc=True`), the
way an operator reads the clock on the wall; `Z` or an offset always wins.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from notifyctl.errors import UsageError

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*(?:ago)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
EXAMPLES = "a relative time such as 30s, 10m, 2h or 1d, or ISO 8601 such as 2026-11-28T14:05:00Z"


def parse_duration_ms(text: str) -> int | None:
    """`10m` -> 600000; None when `text` is not a relative duration."""
    match = _RELATIVE.match(text)
    if not match:
        return None
    return int(float(match.group(1)) * _UNIT_MS[match.group(2).lower()])


def parse_time(text: str, now_ms: int, *, utc: bool = False, option: str = "--since") -> int:
    """Epoch milliseconds for a time argument; UsageError (exit 2) with an example if bad."""
    value = (text or "").strip()
    if value.lower() == "now":
        return now_ms
    rel = parse_duration_ms(value)
    if rel is not None:
        return now_ms - rel
    if value.isdigit() and len(value) in (10, 13):  # epoch seconds or milliseconds
        return int(value) * (1000 if len(value) == 10 else 1)
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise UsageError(f"{option}: cannot read {text!r} as a time",
                         hint=f"Use {EXAMPLES}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC) if utc else moment.astimezone()
    return int(moment.timestamp() * 1000)
