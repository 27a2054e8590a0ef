"""IAM: requests authorised against the caller's policies (see emulator/iam_enforce.py),
and `SimulatePrincipalPolicy` / `SimulateCustomPolicy` on the same evaluator.

Where: moto's `BaseResponse.call_action`, the one method every JSON/query/REST service
answers through (S3 has its own `_authenticate_and_authorize_s3_action`). moto's own
IAM check (behind `INITIAL_NO_AUTH_ACTION_COUNT`) stays off: it ignores Resource and
most conditions, knows no resource policies and answers every service with IAM's
error shape; we keep only its idea (resolve the access key, collect the policies).
"""

from __future__ import annotations

from typing import Any

from notifyctl.emulator import iam_enforce


def targets() -> list[tuple[Any, str]]:
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.iam.responses import IamResponse

    return [(BaseResponse, "call_action"),
            (ActionAuthenticatorMixin, "_authenticate_and_authorize_s3_action"),
            (IamResponse, "get_account_authorization_details")]  # the class we extend


# moto's own endpoints (moto-api, ...) have no AWS service model and no IAM actions.
UNCHECKED = frozenset({"core", "moto_api"})


def _ses_identity(account: str, region: str) -> Any:
    """Which SES identity authorises a sender: the address when it is an identity
    itself, else its domain (as SES authorises sending)."""
    from moto.ses.models import ses_backends

    identities = ses_backends[account][region].email_identities

    def lookup(address: str) -> str:
        return address if address in identities else address.rpartition("@")[2]

    return lookup


def _deployment_group(deployment_id: str) -> str | None:
    """"application/group" of a deployment the emulator's CodeDeploy engine runs."""
    from notifyctl.emulator.patches import hub

    engine = getattr(hub(), "deployments", None)
    found = engine.get(deployment_id) if engine is not None else None
    return f"{found.application}/{found.group}" if found is not None else None


def _call_of(response: Any, caller: iam_enforce.Caller) -> iam_enforce.Call:
    from moto.core.utils import get_service_model

    model = get_service_model(response.boto3_service_name)
    operation = response._get_action()
    params = iam_enforce.parse_params(model.protocol, response.querystring, response.body,
                                      getattr(response, "uri_match", {}) or {})
    signing = str(model.signing_name or model.endpoint_prefix)
    prefix = iam_enforce.IAM_PREFIX.get(signing, signing)
    return iam_enforce.Call(service=prefix, api=response.boto3_service_name,
                            operation=operation, params=params, path=response.path,
                            region=response.region, account=caller.account,
                            secure=iam_enforce.secure_transport())


def check(response: Any) -> iam_enforce.Refusal | None:
    """The refusal for this moto request, or None (allowed or not checked)."""
    enforce = iam_enforce.mode()
    if enforce == "off" or response.service_name in UNCHECKED:
        return None
    key = iam_enforce.access_key_of(response.headers)
    if key is None:
        return None
    caller = iam_enforce.find_caller(key, enforce)
    if caller is None:
        return None
    call = _call_of(response, caller)
    return iam_enforce.authorize(call, caller, _ses_identity(caller.account, call.region),
                                 _deployment_group)


def apply() -> None:
    from moto.core import authorization, responses
    from moto.core.exceptions import ServiceException
    from moto.iam import responses as iam_responses

    BaseResponse: Any = responses.BaseResponse  # Any: we assign to their methods
    Mixin: Any = authorization.ActionAuthenticatorMixin
    IamResponse: Any = iam_responses.IamResponse
    original_call_action = BaseResponse.call_action
    original_s3 = Mixin._authenticate_and_authorize_s3_action

    class Denied(ServiceException):
        """Defined outside moto's packages, so moto serialises it with the called
        service's protocol (its error lookup keys on an exception's moto package)."""

    def call_action(self: Any) -> Any:
        refused = check(self)
        if refused is None:
            return original_call_action(self)
        status, headers, body = self.serialized(
            responses.ActionResult(Denied(refused.code, refused.message)))
        headers["status"] = refused.status
        return refused.status, headers, body

    def s3_action(self: Any, bucket_name: str | None = None,
                  key_name: str | None = None) -> None:
        from moto.s3.exceptions import S3AccessDeniedError

        enforce = iam_enforce.mode()
        key = iam_enforce.access_key_of(self.headers) if enforce != "off" else None
        caller = iam_enforce.find_caller(key, enforce) if key else None
        if caller is not None:
            path = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
            call = iam_enforce.Call(service="s3", api="s3",
                                    operation=str(self.data.get("Action", "")),
                                    params={}, path=self.path, region=self.region,
                                    account=caller.account,
                                    secure=iam_enforce.secure_transport())
            if iam_enforce.authorize_on(call, caller, f"arn:aws:s3:::{path}") is not None:
                raise S3AccessDeniedError()
        return original_s3(self, bucket_name=bucket_name, key_name=key_name)

    def simulate_principal_policy(self: Any) -> Any:
        from notifyctl.emulator import iam_simulate

        return responses.ActionResult(iam_simulate.simulate_principal(
            self.current_account, self.params))

    def simulate_custom_policy(self: Any) -> Any:
        from notifyctl.emulator import iam_simulate

        return responses.ActionResult(iam_simulate.simulate_custom(
            self.current_account, self.params))

    BaseResponse.call_action = call_action
    Mixin._authenticate_and_authorize_s3_action = s3_action
    IamResponse.simulate_principal_policy = simulate_principal_policy
    IamResponse.simulate_custom_policy = simulate_custom_policy
