"""What every command receives: the global options, the resolved environment,
the AWS client factory and the output. Built lazily so that `--help` and
`config show` never import boto3."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from notifyctl.cli.output import Output

if TYPE_CHECKING:
    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.config.schema import Environment

    ClientsFactory = Callable[[AwsSettings], AwsClients]


@dataclass
class Invocation:
    """What `cli.main.run` hands the root command (as click's `obj`) and reads back
    after it: how to build the AWS clients (tests pass their own), and the endpoint
    they were built for (so an unreachable-endpoint error can name it)."""

    clients: ClientsFactory | None = None
    endpoint_url: str | None = None


@dataclass
class GlobalOptions:
    env: str | None = None
    config: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    output: str = "text"
    verbose: bool = False


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
    def aws(self) -> AwsClients:
        if self._aws is None:
            from notifyctl.aws.session import AwsClients, resolve_settings

            env = self.env
            settings = resolve_settings(
                config_profile=env.profile, config_region=env.region,
                config_endpoint=env.endpoint_url, flag_profile=self.options.profile,
                flag_region=self.options.region, flag_endpoint=self.options.endpoint_url,
            )
            build = self.invocation.clients or AwsClients
            self._aws = build(settings)
            self.invocation.endpoint_url = settings.endpoint_url
        return self._aws


def get(ctx: typer.Context) -> AppContext:
    """The AppContext stored by the root callback (or a default one)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext(GlobalOptions(), Output())
    return root.obj
