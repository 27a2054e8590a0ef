"""The thin AWS layer: one "not found" check, tag lists, and status's narrowed catch."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from notifyctl.aws.calls import IAM_NOT_FOUND, get_or_none, tag_dict
from notifyctl.infra import status


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Op")


def raising(exc: BaseException) -> Any:
    def call(**_: Any) -> Any:
        raise exc
    return call


def test_get_or_none_answers_none_only_for_the_not_found_codes() -> None:
    assert get_or_none(lambda **p: p, *IAM_NOT_FOUND, RoleName="r") == {"RoleName": "r"}
    assert get_or_none(raising(error("NoSuchEntity")), *IAM_NOT_FOUND, RoleName="r") is None
    with pytest.raises(ClientError):
        get_or_none(raising(error("AccessDenied")), *IAM_NOT_FOUND, RoleName="r")


def test_tag_dict_turns_a_tag_list_into_a_mapping() -> None:
    assert tag_dict([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]) == {
        "a": "1", "b": "2"}
    assert tag_dict(None) == {}


class Ses:
    def __init__(self, quota_error: BaseException | None) -> None:
        self.quota_error = quota_error

    def get_identity_verification_attributes(self, **_: Any) -> dict[str, Any]:
        return {"VerificationAttributes": {"a@example.com": {"VerificationStatus": "Success"}}}

    def get_send_quota(self) -> dict[str, Any]:
        if self.quota_error:
            raise self.quota_error
        return {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}

    def get_account(self) -> dict[str, Any]:
        raise NotImplementedError("sesv2 GetAccount")


class Factory:
    region, account_id, partition = "us-east-1", "123456789012", "aws"

    def __init__(self, ses: Ses) -> None:
        self.ses = ses

    def client(self, service: str) -> Any:
        return self.ses


def test_status_says_unknown_only_where_the_api_does_not_answer() -> None:
    report = status._ses(Factory(Ses(NotImplementedError())), "a@example.com", "email")
    assert report.quota == status.UNKNOWN and report.sandbox == status.UNKNOWN


def test_access_denied_is_an_error_not_unknown() -> None:
    with pytest.raises(ClientError):
        status._ses(Factory(Ses(error("AccessDenied"))), "a@example.com", "email")
