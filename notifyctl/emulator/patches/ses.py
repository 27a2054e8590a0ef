"""SES (v1 and v2): every accepted email lands in the outbox with both its bodies."""

from __future__ import annotations

import json
from typing import Any

from notifyctl.emulator.patches import hub


def targets() -> list[tuple[Any, str]]:
    from moto.ses.models import SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response

    return [(SESBackend, "send_email"), (SESBackend, "send_raw_email"),
            (EmailResponse, "send_email"), (SESV2Response, "send_email")]


def apply() -> None:
    from moto.ses import models, responses
    from moto.sesv2 import responses as v2_responses

    SESBackend: Any = models.SESBackend  # Any: we assign to their methods
    EmailResponse: Any = responses.EmailResponse
    SESV2Response: Any = v2_responses.SESV2Response
    backend_send, backend_raw = SESBackend.send_email, SESBackend.send_raw_email
    v1_send, v2_send = EmailResponse.send_email, SESV2Response.send_email

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = backend_send(self, *args, **kwargs)
        names = ("source", "subject", "body", "destinations")  # v1's positional order
        values = dict(zip(names, args, strict=False), **kwargs)
        hub().outbox.record_simple(message, values.get("source", ""), values.get("subject", ""),
                                   values.get("body", ""), values.get("destinations"))
        return message

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        message = backend_raw(self, source, destinations, raw_data)
        hub().outbox.record_raw(message, source, list(destinations or []), raw_data)
        return message

    def v1_send_email(self: Any) -> Any:
        hub().outbox.pending.bodies = {"text": self._get_param("Message.Body.Text.Data"),
                                       "html": self._get_param("Message.Body.Html.Data")}
        try:
            return v1_send(self)
        finally:
            hub().outbox.pending.bodies = None

    def v2_send_email(self: Any) -> Any:
        try:
            params = json.loads(self.body)
            body = params.get("Content", {}).get("Simple", {}).get("Body", {})
            hub().outbox.pending.bodies = {"text": (body.get("Text") or {}).get("Data"),
                                           "html": (body.get("Html") or {}).get("Data")}
        except (ValueError, AttributeError):
            pass
        try:
            return v2_send(self)
        finally:
            hub().outbox.pending.bodies = None

    SESBackend.send_email = send_email
    SESBackend.send_raw_email = send_raw_email
    EmailResponse.send_email = v1_send_email
    SESV2Response.send_email = v2_send_email
