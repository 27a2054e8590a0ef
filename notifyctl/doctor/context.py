"""What every check receives: the environment, the AWS client factory, the DNS
resolver and the clock, all injected (tests hand in moto, stubs and a fake resolver).

Several checks read the same answer (SESv2 GetAccount, the function's configuration):
`memo` calls AWS once per doctor run and hands every check the same answer, or the
same exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from notifyctl.aws.calls import ClientFactory
    from notifyctl.config.schema import Environment
    from notifyctl.doctor.dns import Resolver
    from notifyctl.infra.specs import Specs

T = TypeVar("T")


@dataclass
class DoctorContext:
    env: Environment
    aws: ClientFactory  # AwsClients; tests hand in moto-backed or stubbed ones
    resolver: Resolver | None = None  # None: DNS checks are skipped (warn)
    recipients: Sequence[str] = ()  # test recipients whose suppression is checked
    rate: float | None = None  # the rate (emails/s) the operator publishes at
    clock: Callable[[], float] = time.time
    perf_counter: Callable[[], float] = time.perf_counter
    # The emulator's health probe (endpoint -> document or None); injected for tests.
    probe: Callable[[str], dict[str, Any] | None] | None = None
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def endpoint_url(self) -> str | None:
        settings = getattr(self.aws, "settings", None)
        return getattr(settings, "endpoint_url", None)

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def memo(self, key: str, call: Callable[[], T]) -> T:
        """`call()` once per run; a raised exception is remembered and re-raised."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, call())
            except Exception as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    @property
    def specs(self) -> Specs:
        from notifyctl.infra.specs import build_specs

        return self.memo("specs", lambda: build_specs(
            self.env, self.aws.account_id, self.aws.region, self.aws.partition))
