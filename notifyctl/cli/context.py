"""What every command receives: the global options, the resolved environment,
the AWS client factory and the output. Built lazily so that `--help` and
`config show` never import boto3."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import typer

from notifyctl.cli.output import Output

if TYPE_CHECKING:
    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.config.schema import Environment

    class ClientsFactory(Protocol):
        """Builds the AWS client factory of one run (`AwsClients` itself is one)."""

        def __call__(self, settings: AwsSettings, *,
                     read_timeout: float | None = None) -> AwsClients: ...


@dataclass
class Invocation:
    """What `cli.main.run` hands the root command (as click's `obj`) and reads back
    after it: how to build the AWS clients (tests pass their own), and the endpoint
    they were built for (so an unreachable-endpoint error can name it)."""

    clients: ClientsFactory | None = None
    endpoint_url: str | None = None
    # The run is the whole process (`main.main`, not a test calling `run`): a command
    # may tune process-wide state such as the garbage collector.
    whole_process: bool = False


@dataclass
class GlobalOptions:
    env: str | None = None
    config: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    output: str = "text"
    verbose: bool = False
    read_timeout: float | None = None


@dataclass
class AppContext:
    options: GlobalOptions
    out: Output
    _env: Environment | None = None
    _config_path: str | None = None
    _aws: AwsClients | None = field(default=None, repr=False)
    invocation: Invocation = field(default_factory=Invocation, repr=False)

    @property
    def env(self) -> Environment:
        if self._env is None:
            from notifyctl.config.loader import load

            self._env, self._config_path = load(self.options.config, self.options.env)
        return self._env

    @property
    def config_path(self) -> str:
        self.env  # noqa: B018 - loads the config
        assert self._config_path is not None
        return self._config_path

    @property
    def settings(self) -> AwsSettings:
        """The effective AWS settings: config + flags + AWS_* variables (checked)."""
        from notifyctl.config.effective import effective_settings

        o = self.options
        return effective_settings(self.env, flag_profile=o.profile, flag_region=o.region,
                                  flag_endpoint=o.endpoint_url)

    @property
    def aws(self) -> AwsClients:
        if self._aws is None:
            from notifyctl.aws.session import AwsClients

            build = self.invocation.clients or AwsClients
            self._aws = build(self.settings, read_timeout=self.options.read_timeout)
            if self.out.interactive:  # a person watches: say what a slow call waits for
                from notifyctl.cli.slow_calls import attach_notice

                attach_notice(self._aws, self.out)
            self.invocation.endpoint_url = self._aws.settings.endpoint_url
        return self._aws


def get(ctx: typer.Context) -> AppContext:
    """The AppContext stored by the root callback (or a default one)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext(GlobalOptions(), Output())
    return root.obj
