"""The emails a running emulator's SES accepted: the operator's view of
"what would have been sent". Stdlib only (the CLI imports it)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from notifyctl.errors import OperationError


@dataclass(frozen=True)
class Email:
    message_id: str
    sender: str  # "from" is a keyword; to_dict() writes it as "from"
    to: list[str]
    subject: str
    text: str | None
    html: str | None
    time: str  # ISO-8601 UTC, when SES accepted it
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)

    @property
    def from_(self) -> str:
        return self.sender

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("sender")
        return {k: data[k] for k in ("message_id", "from", "to", "cc", "bcc", "subject",
                                      "text", "html", "time")}

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Email:
        return cls(message_id=str(item.get("message_id", "")),
                   sender=str(item.get("source") or item.get("from") or ""),
                   to=list(item.get("to") or []), subject=str(item.get("subject") or ""),
                   text=item.get("text"), html=item.get("html"), time=str(item.get("time", "")),
                   cc=list(item.get("cc") or []), bcc=list(item.get("bcc") or []))


def read(endpoint: str, timeout: float = 5.0) -> list[Email]:
    """Every email the emulator at `endpoint` accepted, newest last."""
    url = endpoint.rstrip("/") + "/_notifyctl/outbox"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            items = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise OperationError(f"{endpoint} is not a notifyctl emulator (HTTP {exc.code} from "
                             f"its outbox)", hint="start one with `notifyctl local start`") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None
    return [Email.from_json(item) for item in items]
