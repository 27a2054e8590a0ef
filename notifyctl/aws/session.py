"""The one place that builds the AWS session and clients.

Domain code receives an `AwsClients` and asks it for clients; it never calls
`boto3.client` itself, so tests can hand it moto-backed or stubbed clients.

Precedence (documented in the README):
  profile:   --profile > $AWS_PROFILE > config `profile` > boto3's default chain
  region:    --region > $AWS_REGION / $AWS_DEFAULT_REGION > config `region`
  endpoint:  --endpoint-url > $AWS_ENDPOINT_URL(_<SERVICE>) > config `endpoint_url`
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notifyctl import __version__
from notifyctl.config.schema import is_loopback_url

if TYPE_CHECKING:
    import botocore.session

# Credentials handed to a loopback emulator when the user has none configured:
# the emulator does not check them, and a newcomer needs no AWS account.
EMULATOR_CREDENTIALS = ("test", "test")
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60


@dataclass(frozen=True)
class AwsSettings:
    profile: str | None
    region: str
    endpoint_url: str | None
    # Whether endpoint_url must be passed to clients (False when $AWS_ENDPOINT_URL
    # is set and boto3 reads it itself, per service).
    pass_endpoint: bool
    use_emulator_credentials: bool

    @property
    def is_local(self) -> bool:
        return is_loopback_url(self.endpoint_url)


def resolve_settings(
    *,
    config_profile: str | None,
    config_region: str,
    config_endpoint: str | None,
    flag_profile: str | None = None,
    flag_region: str | None = None,
    flag_endpoint: str | None = None,
    environ: dict[str, str] | None = None,
) -> AwsSettings:
    env = dict(os.environ) if environ is None else environ
    env_creds = bool(env.get("AWS_ACCESS_KEY_ID"))
    profile = flag_profile or env.get("AWS_PROFILE") or (None if env_creds else config_profile)
    region = flag_region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or config_region
    endpoint: str | None
    if flag_endpoint:
        endpoint, pass_endpoint = flag_endpoint, True
    elif env.get("AWS_ENDPOINT_URL"):
        endpoint, pass_endpoint = env["AWS_ENDPOINT_URL"], False
    else:
        endpoint, pass_endpoint = config_endpoint, bool(config_endpoint)
    local = is_loopback_url(endpoint)
    # Against a loopback emulator, without an explicit profile or key, use dummy
    # credentials: no real secret is sent and no IMDS lookup delays the call.
    emulator_creds = local and not env_creds and not flag_profile and not env.get("AWS_PROFILE")
    if emulator_creds:
        profile = None
    return AwsSettings(profile, region, endpoint, pass_endpoint, emulator_creds)


class AwsClients:
    """Builds one session and caches one client per service (thread-safe).

    The session is botocore's, not boto3's: the clients are the same objects, and
    skipping boto3's resource machinery saves ~45 ms on every command."""

    def __init__(self, settings: AwsSettings,
                 session: botocore.session.Session | None = None,
                 max_attempts: int | None = None, read_timeout: float | None = None) -> None:
        self.settings = settings
        self.read_timeout = read_timeout or READ_TIMEOUT_S  # per attempt (--read-timeout)
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account_id: str | None = None
        # An emulator answers unimplemented calls with HTTP 500, which botocore
        # retries: keep retries short there, standard elsewhere.
        self._max_attempts = max_attempts or (2 if settings.is_local else 5)

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def session(self) -> botocore.session.Session:
        if self._session is None:
            import botocore.session

            emulator = self.settings.use_emulator_credentials
            # profile=None leaves botocore's own lookup ($AWS_PROFILE, default chain).
            session = botocore.session.Session(
                profile=None if emulator else self.settings.profile)
            if emulator:
                from botocore.configprovider import ConstantProvider

                # Nothing of the user's: not even an $AWS_PROFILE that names a
                # profile this machine does not have.
                session.get_component("config_store").set_config_provider(
                    "profile", ConstantProvider(None))
                session.set_credentials(*EMULATOR_CREDENTIALS)
            from notifyctl.aws.loader import service_loader

            # Loads a client's model without walking every service's directory; built
            # on first use, as botocore builds its own (`data_path` reads the profile).
            session.lazy_register_component(
                "data_loader", lambda: service_loader(session.get_config_variable("data_path")))
            self._session = session
        return self._session

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "max_attempts": self._max_attempts},
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=self.read_timeout,
                    user_agent_extra=f"notifyctl/{__version__}",
                    max_pool_connections=32,
                )
                kwargs: dict[str, Any] = {"config": config, "region_name": self.settings.region}
                if self.settings.pass_endpoint and self.settings.endpoint_url:
                    kwargs["endpoint_url"] = self.settings.endpoint_url
                self._clients[service] = self.session.create_client(service, **kwargs)
            return self._clients[service]

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = self.client("sts").get_caller_identity()["Account"]
        return self._account_id

    @property
    def partition(self) -> str:
        region = self.settings.region
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"
