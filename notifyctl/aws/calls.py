"""The thin typed layer over boto3 calls that every reader shares.

`get_or_none` is the one "not found" check: a read that answers None when the
resource does not exist and raises anything else (AccessDenied must never look
like "missing"). The codes differ by service, hence the named tuples below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from notifyctl.aws.errors import error_code

T = TypeVar("T")

# What each service answers for a resource that does not exist.
LAMBDA_NOT_FOUND = ("ResourceNotFoundException",)
DYNAMODB_NOT_FOUND = ("ResourceNotFoundException",)
LOGS_NOT_FOUND = ("ResourceNotFoundException",)
SNS_NOT_FOUND = ("NotFound", "NotFoundException")
IAM_NOT_FOUND = ("NoSuchEntity",)
CODEDEPLOY_APP_NOT_FOUND = ("ApplicationDoesNotExistException",)
CODEDEPLOY_GROUP_NOT_FOUND = ("ApplicationDoesNotExistException",
                              "DeploymentGroupDoesNotExistException")
SESV2_NOT_FOUND = ("NotFoundException",)
SQS_NOT_FOUND = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


class ClientFactory(Protocol):
    """What domain code needs from the AWS layer (`AwsClients` is the real one;
    tests hand in moto-backed or failing ones)."""

    @property
    def region(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def partition(self) -> str: ...

    def client(self, service: str) -> Any: ...


def get_or_none(call: Callable[..., T], *not_found_codes: str, **params: Any) -> T | None:
    """`call(**params)`, or None when AWS answers one of `not_found_codes`."""
    try:
        return call(**params)
    except Exception as exc:
        if error_code(exc) in not_found_codes:
            return None
        raise


def is_error(exc: BaseException, *codes: str) -> bool:
    """Whether `exc` is an AWS error with one of `codes`."""
    return error_code(exc) in codes


def tag_dict(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """[{"Key": k, "Value": v}, ...] (IAM, SNS, DynamoDB) -> {k: v}."""
    return {t["Key"]: t["Value"] for t in tags or ()}
