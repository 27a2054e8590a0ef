"""moto's server dispatch (not a service): the list of moto's service packages, read
once instead of on every request.

Where: `moto.backends.list_of_moto_modules`, which `DomainDispatcherApplication.
get_backend_for_host` calls for every request to ask whether the host names a moto
service; it lists moto's package directory and stats each entry (~150 system calls),
about 6 % of the emulator's CPU under a sustained pipeline load. moto's files do not
change while the emulator runs, so the answer is the same every time: kept, in the
same (sorted) order.
"""

from __future__ import annotations

from typing import Any


def targets() -> list[tuple[Any, str]]:
    from moto import backends

    return [(backends, "list_of_moto_modules")]


def apply() -> None:
    from moto import backends

    modules: Any = backends  # Any: we assign to its function
    names = tuple(modules.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return names

    modules.list_of_moto_modules = list_of_moto_modules
