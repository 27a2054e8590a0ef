"""The emails a running emulator's SES accepted: the operator's view of
"what would have been sent". Stdlib only (the CLI imports it)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from notifyctl.errors import OperationError


@dataclass(frozen=True)
class AcceptedEmail:
    """An email SES accepted, as the operator reads it from a running emulator."""

    message_id: str
    sender: str  # "from" is a keyword; to_dict() writes it as "from"
    to: list[str]
    subject: str
    text: str | None
    html: str | None
    time: str  # ISO-8601 UTC, when SES accepted it
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    # The SNS MessageId the function handled (publish-book prints it), when known
    # from the de-duplication table (`with_sns_message_ids`).
    sns_message_id: str | None = None

    @property
    def from_(self) -> str:
        return self.sender

    @property
    def book_id(self) -> str | None:
        """The book id the function wrote in the text body ("Book id: ..."), if any."""
        match = _BOOK_ID.search(self.text or "")
        return match.group(1) if match else None

    @property
    def time_ms(self) -> int | None:
        try:
            return int(datetime.fromisoformat(self.time.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("sender")
        data["book_id"] = self.book_id
        return {k: data[k] for k in ("message_id", "sns_message_id", "book_id", "from", "to",
                                      "cc", "bcc", "subject", "text", "html", "time")}

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> AcceptedEmail:
        return cls(message_id=str(item.get("message_id", "")),
                   sender=str(item.get("source") or item.get("from") or ""),
                   to=list(item.get("to") or []), subject=str(item.get("subject") or ""),
                   text=item.get("text"), html=item.get("html"), time=str(item.get("time", "")),
                   cc=list(item.get("cc") or []), bcc=list(item.get("bcc") or []))


# lambda_src/book_notifier/mailer.compose writes this line in every text body.
_BOOK_ID = re.compile(r"^Book id: (\S+)$", re.MULTILINE)
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class OutboxPage:
    """The emails chosen by the filters, newest last, and how many there were."""

    emails: list[AcceptedEmail]
    total: int  # in the outbox
    matched: int  # after --since / --to, before --limit

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "matched": self.matched, "shown": len(self.emails),
                "emails": [e.to_dict() for e in self.emails]}


def select(emails: Sequence[AcceptedEmail], *, since_ms: int | None = None, to: str | None = None,
           limit: int | None = DEFAULT_LIMIT) -> OutboxPage:
    """Filter by time (at or after since_ms) and recipient (case-insensitive, to/cc/bcc),
    then keep the newest `limit` (None or 0: all)."""
    wanted = to.lower() if to else None
    chosen = [e for e in emails
              if (since_ms is None or (e.time_ms or 0) >= since_ms)
              and (wanted is None or wanted in (a.lower() for a in (*e.to, *e.cc, *e.bcc)))]
    shown = chosen[-limit:] if limit else chosen
    return OutboxPage(shown, len(emails), len(chosen))


def with_sns_message_ids(emails: list[AcceptedEmail], dynamodb: Any,
                         table: str) -> list[AcceptedEmail]:
    """The emails with the SNS MessageId the de-duplication table records for their SES
    message id (the table's key is the SNS MessageId). Emails the table does not know,
    or no table, keep None."""
    ses_ids = [e.message_id for e in emails if e.message_id]
    found: dict[str, str] = {}
    for start in range(0, len(ses_ids), 100):  # IN takes at most 100 values
        chunk = ses_ids[start:start + 100]
        values = {f":s{i}": {"S": v} for i, v in enumerate(chunk)}
        kwargs: dict[str, Any] = {
            "TableName": table, "ProjectionExpression": "pk, ses_message_id",
            "FilterExpression": f"ses_message_id IN ({', '.join(values)})",
            "ExpressionAttributeValues": values}
        while True:
            page = dynamodb.scan(**kwargs)
            for item in page.get("Items", []):
                found[item["ses_message_id"]["S"]] = item["pk"]["S"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [replace(e, sns_message_id=found.get(e.message_id)) for e in emails]


def read(endpoint: str, timeout: float = 5.0) -> list[AcceptedEmail]:
    """Every email the emulator at `endpoint` accepted, newest last."""
    return [AcceptedEmail.from_json(item) for item in _get(endpoint, "outbox", timeout)]


def query(endpoint: str, *, since_ms: int | None = None, to: str | None = None,
          limit: int | None = DEFAULT_LIMIT, timeout: float = 15.0) -> OutboxPage:
    """The page `select` would choose, chosen by the emulator (its outbox is on disk and
    indexed: only the page crosses the wire). limit None or 0: all (the emulator caps an
    answer at 10,000 emails)."""
    params = {k: v for k, v in (("since_ms", since_ms), ("to", to), ("limit", limit or None))
              if v is not None}
    data = _get(endpoint, "outbox/page?" + urllib.parse.urlencode(params), timeout)
    return OutboxPage([AcceptedEmail.from_json(item) for item in data["emails"]],
                      int(data["total"]), int(data["matched"]))


def _get(endpoint: str, route: str, timeout: float) -> Any:
    url = endpoint.rstrip("/") + "/_notifyctl/" + route
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise OperationError(f"{endpoint} is not a notifyctl emulator (HTTP {exc.code} from "
                             f"its outbox)", hint="start one with `notifyctl local start`") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None
