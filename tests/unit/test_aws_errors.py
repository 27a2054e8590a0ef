"""Known AWS failures become one actionable line with the right exit code."""

from __future__ import annotations

import pytest
from botocore import exceptions as bx

from notifyctl.aws.errors import translate

pytestmark = pytest.mark.unit


def _client_error(code: str, op: str = "Publish") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, op)


def test_unreachable_local_endpoint_suggests_starting_the_emulator() -> None:
    exc = bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")
    err = translate(exc, "http://127.0.0.1:4566")
    assert err is not None and err.exit_code == 1
    assert "notifyctl local start" in (err.hint or "")
    assert "127.0.0.1:4566" in err.message


@pytest.mark.parametrize(
    ("code", "needle"),
    [("ExpiredToken", "expired"), ("AccessDenied", "access denied"),
     ("ThrottlingException", "throttled"), ("InvalidClientTokenId", "rejected the credentials")],
)
def test_client_errors_are_one_line(code: str, needle: str) -> None:
    err = translate(_client_error(code))
    assert err is not None and needle in err.message
    assert "\n" not in err.message and err.exit_code == 1


def test_no_credentials_and_no_region_have_hints() -> None:
    creds = translate(bx.NoCredentialsError())
    region = translate(bx.NoRegionError())
    assert creds is not None and "profile" in (creds.hint or "").lower()
    assert region is not None and "--region" in (region.hint or "")


def test_other_exceptions_are_not_translated() -> None:
    assert translate(ValueError("x")) is None
