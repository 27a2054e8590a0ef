"""moto's server dispatch (not a service): what every request asked moto afresh, kept.

1. The list of moto's service packages, read once instead of on every request.

Where: `moto.backends.list_of_moto_modules`, which `DomainDispatcherApplication.
get_backend_for_host` calls for every request to ask whether the host names a moto
service; it lists moto's package directory and stats each entry (~150 system calls),
about 6 % of the emulator's CPU under a sustained pipeline load. moto's files do not
change while the emulator runs, so the answer is the same every time: kept, in the
same (sorted) order.

2. A response class's method names. `BaseResponse.call_action` lists them with
`inspect.getmembers` on every request to check the action exists (0.3 ms of each
request, every service). Kept per class, and computed again when that class or one of
its bases gained or lost an attribute (a patch that adds an operation).
"""

from __future__ import annotations

from typing import Any


def targets() -> list[tuple[Any, str]]:
    from moto import backends
    from moto.core import responses

    return [(backends, "list_of_moto_modules"), (responses, "method_names_from_class")]


def apply() -> None:
    from moto import backends

    modules: Any = backends  # Any: we assign to its function
    names = tuple(modules.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return names

    modules.list_of_moto_modules = list_of_moto_modules

    _apply_method_names()


def _apply_method_names() -> None:
    from moto.core import responses

    module: Any = responses  # Any: we assign to its function
    original = module.method_names_from_class
    kept: dict[type, tuple[tuple[int, ...], list[str]]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        if not isinstance(clazz, type):
            return list(original(clazz))
        sizes = tuple(len(vars(c)) for c in clazz.__mro__)
        entry = kept.get(clazz)
        if entry is None or entry[0] != sizes:
            entry = kept[clazz] = (sizes, list(original(clazz)))
        return entry[1]

    module.method_names_from_class = method_names_from_class
