"""Turning botocore exceptions into one actionable line each."""

from __future__ import annotations

from notifyctl.errors import AwsError, NotifyctlError

_THROTTLING = {"Throttling", "ThrottlingException", "TooManyRequestsException",
               "RequestLimitExceeded", "ProvisionedThroughputExceededException",
               "SlowDown", "RequestThrottled"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "AuthorizationError", "AuthorizationErrorException"}
_BAD_CREDS = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
              "InvalidSignatureException"}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or "" for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def translate(exc: BaseException, endpoint_url: str | None = None) -> NotifyctlError | None:
    """Map a botocore/boto3 exception to an AwsError, or None if it is not one."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - botocore is a dependency
        return None
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AwsError("No AWS credentials found.",
                        hint="Set --profile / AWS_PROFILE, or run `aws configure` "
                             "(`aws sso login` for SSO profiles).", code="NoCredentials")
    if isinstance(exc, bx.ProfileNotFound):
        return AwsError(f"{exc}.", hint="List profiles with `aws configure list-profiles`.",
                        code="ProfileNotFound")
    if isinstance(exc, bx.NoRegionError):
        return AwsError("No AWS Region set.", hint="Pass --region, set AWS_REGION, or set "
                        "`region` in the environment's config.", code="NoRegion")
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return AwsError("The SSO session has expired.", hint="Run `aws sso login`.",
                        code="ExpiredToken")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        url = endpoint_url or getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        from notifyctl.config.schema import is_loopback_url

        if is_loopback_url(endpoint_url):
            return AwsError(f"Could not reach {url} — is the local emulator running?",
                            hint="Start it with `notifyctl local start`.", code="EndpointUnreachable")
        return AwsError(f"Could not reach {url}.", hint="Check the network, the Region and "
                        "--endpoint-url.", code="EndpointUnreachable")
    if isinstance(exc, bx.ReadTimeoutError):
        return AwsError(f"AWS did not answer in time: {exc}", code="ReadTimeout")
    if isinstance(exc, bx.ClientError):
        code = error_code(exc)
        op = getattr(exc, "operation_name", "the call")
        msg = exc.response.get("Error", {}).get("Message", "") or code
        if code in _EXPIRED:
            return AwsError(f"{op}: the AWS credentials have expired.",
                            hint="Refresh them (`aws sso login`, or new session credentials).",
                            code=code)
        if code in _BAD_CREDS:
            return AwsError(f"{op}: AWS rejected the credentials ({code}).",
                            hint="Check the profile and keys in use: `aws sts get-caller-identity`.",
                            code=code)
        if code in _DENIED:
            return AwsError(f"{op}: access denied: {msg}",
                            hint="The identity in use lacks this permission; see README "
                                 "'Permissions'.", code=code)
        if code in _THROTTLING:
            return AwsError(f"{op}: throttled by AWS after retries ({code}).",
                            hint="Try again shortly, or lower --rate / concurrency.", code=code)
        return AwsError(f"{op} failed: {code}: {msg}", code=code)
    if isinstance(exc, bx.WaiterError):
        return AwsError(f"Waiting failed: {exc}", code="WaiterError")
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"AWS SDK error: {exc}", code=type(exc).__name__)
    return None
