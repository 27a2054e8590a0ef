"""THE one package that patches moto: a module per service (lambda_, sns, ses, ...).

Written for moto >=5.2,<5.3 (checked at start).

What moto does without Docker, and what each patch changes:

| moto behaviour                                                | patch                                   |
|---------------------------------------------------------------|-----------------------------------------|
| Invoke runs code only in Docker ("error running docker")      | Invoke -> our runtime (warm workers)    |
| Invoke ignores the Qualifier parameter; alias weights ignored | Qualifier read; weights honoured        |
| InvocationType=Event runs synchronously                       | queued (delivery.Dispatcher), 202       |
| SNS -> lambda: fake event (constant MessageId, 1970 time),    | real event (sns_event), queued, Publish |
|   synchronous; a missing function fails the whole Publish;    |   returns at once; the function's       |
|   the function's resource policy is not checked               |   policy must allow SNS (as on AWS)     |
| a second PutFunctionEventInvokeConfig is ignored              | put replaces, update merges             |
| event invoke config LastModified: the function's ISO string   | epoch seconds of the put (Go SDK and    |
|   (the API's type is a timestamp: a JSON number)              |   Terraform refuse the string)          |
| SESv2/SES keep one body (HTML or text) of a simple email      | the outbox keeps both                   |
| GetFunction Code.Location points at the real AWS host         | points at this emulator                 |
| other internal paths (e.g. SQS event source mappings) run     | LambdaFunction._invoke_lambda -> our    |
|   LambdaFunction._invoke_lambda (Docker)                      |   runtime                               |
| (our runtime) the function could import the emulator's own   | python -I -S, sys.path = task root,     |
|   site-packages (requests, yaml, notifyctl, moto)             |   layers, stdlib, runtime SDK only      |
|   (runtime/view.py)                                           |   -> Runtime.ImportModuleError          |
| (our runtime) always the host's Python; nodejs imported as    | the Runtime's pythonX.Y (pyenv, PATH),  |
|   Python (runtime/interpreters.py)                            |   else host + loud WARNING in           |
|                                                               |   INIT_START/status; non-Python ->      |
|                                                               |   Runtime.InvalidRuntime                |
| Layers accepted and ignored                                   | extracted to the environment's /opt,    |
|                                                               |   /opt/python on sys.path, later wins   |
| (our runtime) shared host /tmp, writable task root            | Linux: own mount namespace, tmpfs /tmp  |
|                                                               |   (EphemeralStorage), task root ro      |
| (our runtime) memory unlimited                                | killed at MemorySize: Runtime.ExitError |
|                                                               |   "signal: killed", REPORT Status error |
| (our runtime) a deleted or updated function's idle workers    | lambda_: Delete/UpdateFunctionCode/     |
|   lived on until the 15-minute idle timeout                   |   Configuration retire them at once     |
| CreateFunction Active at once; updates Successful at once;    | Pending -> Active, InProgress ->        |
|   overlapping updates and PublishVersion accepted             |   Successful after a delay              |
|                                                               |   (function_states.py); conflicts ->    |
|                                                               |   ResourceConflictException; previous   |
|                                                               |   code serves during an update          |
| PublishVersion ignores CodeSha256; no function RevisionId     | CodeSha256 / RevisionId preconditions   |
| Invoke payloads of any size                                   | 6 MB sync / 1 MB async request (413     |
|                                                               |   RequestEntityTooLargeException), 6 MB |
|                                                               |   response: Function.ResponseSize...    |
| (delivery) throttled async events re-queued even at reserved  | reserved 0: straight to on-failure /    |
|   concurrency 0                                               |   DLQ, no retries; account concurrency  |
|                                                               |   limit (TooManyRequests, Reason)       |
| DeadLetterConfig dropped; SNS RedrivePolicy stored, unused    | DLQ gets the event after retries; the   |
|                                                               |   subscription DLQ what SNS can't       |
|                                                               |   deliver (client-side errors)          |
| one event invoke config per function (any qualifier)          | one per qualifier; unqualified=$LATEST  |
| Invoke's x-amzn-RequestId: a random string                    | the invocation's aws_request_id         |
| LoggingConfig dropped                                         | kept and honoured: JSON format, levels, |
|                                                               |   custom log group                      |
| CloudWatch: a new alarm starts OK ("Unchecked") and is never  | starts INSUFFICIENT_DATA; evaluated by  |
|   evaluated; an update resets its state                       |   emulator/alarms.py; update keeps state|
| SetAlarmState: no history, no actions                         | history item + the state's SNS actions  |
| DescribeAlarmHistory: not implemented (HTTP 500)              | answered from the alarm engine          |
| no SQS metrics                                                | ApproximateNumberOfMessagesVisible per  |
|                                                               |   queue every (scaled) minute           |
| CodeDeploy: a deployment stays Created forever; no deployment | Lambda deployments run (emulator/       |
|   configs, StopDeployment, PutLifecycleEventHookExecution-    |   codedeploy.py): hooks, alias shifted, |
|   Status, deployment targets; ids are UUIDs                   |   alarms, rollback; d-XXXXXXXXX ids     |
| CodeDeploy: any number of deployments per group at once       | DeploymentLimitExceededException        |
| CodeDeploy group: alarmConfiguration rendered {}; a Lambda    | rendered; CodeDeployDefault.            |
|   group defaults to CodeDeployDefault.OneAtATime              |   LambdaAllAtOnce, config checked       |
| CodeDeploy: no UpdateDeploymentGroup, DeleteDeploymentGroup,  | answered (bootstrap/teardown reconcile  |
|   DeleteApplication                                           |   them; functional tests install this)  |
| CodeDeploy GetDeploymentGroup: loadBalancerInfo {} for a      | omitted, as AWS does (Terraform saw an  |
|   group without one                                           |   empty block: a perpetual plan diff)   |
| every call allowed (moto's IAM check, off by default, ignores | iam: calls with a function's role keys  |
|   Resource/Condition, knows no resource policies, answers    |   (STS-issued) authorised by            |
|   every service in IAM's error shape)                         |   iam_policy (identity + topic/queue    |
|                                                               |   policies, conditions); AWS's error    |
|                                                               |   per service; --enforce-iam all: users |
| SimulatePrincipalPolicy / SimulateCustomPolicy missing        | iam: on the same evaluator              |
| AddPermission accepts a duplicate StatementId                 | lambda_: 409 ResourceConflictException  |
| SES: no sandbox, no quota/rate (GetSendQuota counts every     | ses: ses_account rules (sandbox         |
|   send ever against 200), identities verified at once;       |   recipients, 1/s + 200/24 h or the     |
|   GetAccountSendingEnabled 500                                |   production stand-in, pause, Pending   |
|                                                               |   identities, suppressed = not sent)    |
| sesv2 GetAccount, Put/Get/List/DeleteSuppressedDestination,   | sesv2: implemented over ses_account     |
|   PutAccountSending/SuppressionAttributes: 404                 |                                         |
| SES: a send is the end of it (moto publishes a fixed sample  | ses + ses_simulator.py: the mailbox     |
|   JSON for any address containing "bounce"/"success", to      |   simulator, the account list and       |
|   domain identities only, synchronously)                      |   scripted mailboxes produce AWS's      |
|                                                               |   event JSON (ses_events.py) after the  |
|                                                               |   send, to config-set SNS destinations  |
|                                                               |   and identity topics, via SNS publish  |
|                                                               |   when the topic policy lets SES (as   |
|                                                               |   ses.amazonaws.com, SourceArn/Account) |
| hard bounce / complaint: no suppression; suppressed address   | added per the account's (or the set's)  |
|   accepted silently                                           |   SuppressedReasons; Bounce Permanent/  |
|                                                               |   OnAccountSuppressionList             |
| SendEmail ignores ConfigurationSetName and Tags              | unknown set ConfigurationSetDoesNot-    |
|                                                               |   Exist, paused set refused, invalid   |
|                                                               |   tag InvalidParameterValue            |
| sesv2 configuration set: SendingOptions nested in itself,     | rendered as AWS does; Put*Options,     |
|   later tags lost, Put*Options and event destination calls   |   Create/Get/Update/DeleteConfiguration-|
|   404, deleting a missing set 500                             |   SetEventDestination(s), NotFound      |
| ses v1: one event destination per set, names unique across   | per set; Update/Delete answered;        |
|   sets, Update/DeleteConfigurationSetEventDestination 500,    |   DescribeConfigurationSet renders      |
|   DescribeConfigurationSet lists [None] / no options          |   destinations and options              |
| ses v1 GetIdentityNotificationAttributes: no topics, headers  | topics, ForwardingEnabled and header    |
|   always false; SetIdentityHeadersInNotificationsEnabled 500; |   flags read back; unsetting is         |
|   unsetting an unset topic 500                                |   idempotent                            |
| SendTemplatedEmail: not counted, not in the outbox; a missing | counted as a send, rendered into the   |
|   template attribute is never noticed                         |   outbox, or a Rendering Failure event |
| sesv2 PutEmailIdentityFeedbackAttributes / ConfigurationSet-  | answered; forwarding defaults to on,   |
|   Attributes 404; FeedbackForwardingStatus always false       |   v1 and v2 read the same setting; the |
|                                                               |   identity's default set routes sends  |
| GetSendStatistics: one point, all-time sends, 0 bounces       | 15-minute points over two weeks        |
|                                                               |   (ses_account.SendingStats)            |
| no AWS/SES metrics                                            | Send/Delivery/Bounce/Complaint/Reject + |
|                                                               |   Reputation.BounceRate/ComplaintRate   |
|                                                               |   (account; set with reputation on)     |
| FilterLogEvents: only single terms and phrases, everything    | logs: logs_filter (terms, ?groups,      |
|   else returns every event; logStreamNamePrefix ignored       |   -exclusions, %regex%, JSON,           |
|                                                               |   space-delimited); prefix honoured     |
| DynamoDB TTL never deletes                                    | ttl.TtlSweeper (server.py), not a patch |
|                                                               | dynamodb: puts/updates feed the         |
|                                                               |   sweeper's expiry index (ttl.py)       |
| DynamoDB parses each UpdateExpression twice and each          | dynamodb: parsed once per text          |
|   ConditionExpression twice per request, deep-copies the      |   (expression_cache.py, bounded LRU),   |
|   parsed update, re-walks its pure tree checks every time,    |   copied from a pickle, tree checks     |
|   scans a 573-word list per attribute name                    |   once per text + names + key schema,   |
|                                                               |   a set for the reserved words; same    |
|                                                               |   answers and errors                    |
| (server) one lock for every service; an SQS long poll held it | one lock per service group (backends.   |
|   while it waited (all other calls stalled)                   |   MotoLock); sqs: the wait releases it  |
| CloudWatch keeps every datapoint forever (one list, scanned  | cloudwatch (metric_store.py): newest    |
|   by every read)                                              |   2,000 raw per series, then 1-minute / |
|                                                               |   1-hour statistics, AWS's retention    |
| SNS topics keep every published message; SES every sent email | sns / ses: the newest 100 (recent.py)   |
| (server) every request lists moto's package directory to find | dispatch: listed once at start          |
|   its service (~150 system calls)                             |                                         |
| (server) every request lists its response class's methods     | dispatch: kept per class (until the     |
|   (inspect.getmembers) to check the action exists             |   class or a base changes)              |
| DynamoDB item answers walked through the output shape, every  | dynamodb: written as JSON directly (the |
|   AttributeValue member under five alias rules (2 ms of an    |   same JSON: corpus test); other        |
|   UpdateItem)                                                 |   answers to moto's serializer          |
| every model object ever made (items and their per-update      | models: only S3's keys and parts are    |
|   deep copies, log events, datapoints) kept in a class list   |   tracked (S3's reset disposes them)    |
|   for the moto-api dashboard: 15 KB per delivered email       |                                         |

Each patch names the moto attribute it replaces; `install` checks that they all
exist before touching any, so a moto that moved things fails loudly at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifyctl.emulator.server import Hub

SUPPORTED = ((5, 2), (5, 3))  # [min, max)


class MotoVersionError(RuntimeError):
    pass


def check_version(version: str | None = None) -> str:
    """Raise MotoVersionError unless moto's version is in the range these patches target."""
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("moto")
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    low, high = SUPPORTED
    if not (low <= parts < high):
        raise MotoVersionError(
            f"notifyctl's emulator was written for moto >={low[0]}.{low[1]},<{high[0]}.{high[1]}; "
            f"moto {version} is installed. Install a matching moto: "
            f"pip install 'moto[server]>={low[0]}.{low[1]},<{high[0]}.{high[1]}'"
        )
    return version


_installed: Hub | None = None


def hub() -> Hub:
    if _installed is None:
        raise RuntimeError("emulator patches are not installed")
    return _installed


def _service_modules() -> list[Any]:
    """One module per AWS service; each has targets() (what it replaces) and apply()."""
    from notifyctl.emulator.patches import (
        cloudwatch,
        codedeploy,
        dispatch,
        dynamodb,
        iam,
        lambda_,
        logs,
        models,
        ses,
        sesv2,
        sns,
        sqs,
    )

    return [lambda_, sns, sqs, ses, sesv2, logs, cloudwatch, codedeploy, dynamodb, dispatch, models,
            iam]


def install(the_hub: Hub) -> None:
    """Apply every patch (idempotent: a second call only swaps the hub).

    Every moto attribute a patch replaces is checked first, so a moto that moved
    things fails loudly at start and nothing is half-patched or marked installed.
    """
    global _installed
    if _installed is not None:
        _installed = the_hub
        return
    check_version()
    modules = _service_modules()
    missing = [f"{cls.__module__}.{cls.__name__}.{name}"
               for module in modules for cls, name in module.targets() if not hasattr(cls, name)]
    if missing:
        raise MotoVersionError("moto changed: missing " + ", ".join(missing))
    for module in modules:
        module.apply()
    _installed = the_hub
