"""CloudWatch Logs: FilterLogEvents with AWS's filter pattern syntax
(emulator/logs_filter.py) and `logStreamNamePrefix` honoured.

moto matches only single terms and quoted phrases and returns every event for any
other pattern (JSON, `?a ?b`, `-term`, space-delimited), and ignores the stream prefix.
"""

from __future__ import annotations

from typing import Any

from notifyctl.emulator import logs_filter


def targets() -> list[tuple[Any, str]]:
    from moto.logs import models
    from moto.logs.responses import LogsResponse

    return [(models, "EventMessageFilter"), (models.LogsBackend, "filter_log_events"),
            (LogsResponse, "filter_log_events")]


class PatternFilter:
    """moto's EventMessageFilter interface over our compiled pattern (cached)."""

    def __init__(self, pattern: str | None) -> None:
        self._match = logs_filter.compile_pattern(pattern)

    def matches(self, message: str) -> bool:
        return self._match(message)


def apply() -> None:
    from moto.logs import models, responses
    from moto.logs.exceptions import InvalidParameterException

    LogsBackend: Any = models.LogsBackend  # Any: we assign to their methods
    LogsResponse: Any = responses.LogsResponse
    backend_filter = LogsBackend.filter_log_events
    response_filter = LogsResponse.filter_log_events

    def filter_log_events(self: Any, log_group_name: str, log_stream_names: list[str],
                          *args: Any, **kwargs: Any) -> Any:
        pattern = kwargs.get("filter_pattern", args[4] if len(args) > 4 else None)
        try:
            logs_filter.compile_pattern(pattern)
        except logs_filter.FilterPatternError as exc:
            raise InvalidParameterException(str(exc)) from None
        return backend_filter(self, log_group_name, log_stream_names, *args, **kwargs)

    def response_filter_log_events(self: Any) -> Any:
        prefix = self._get_param("logStreamNamePrefix")
        if not prefix:
            return response_filter(self)
        if self._get_param("logStreamNames"):
            raise InvalidParameterException(
                "Cannot specify both logStreamNames and logStreamNamePrefix")
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        names = [n for n in (group.streams if group is not None else {}) if n.startswith(prefix)]
        if group is not None and not names:
            import json

            return json.dumps({"events": [], "searchedLogStreams": []})
        original_get = self._get_param

        def get_param(name: str, default: Any = None) -> Any:
            return names if name == "logStreamNames" else original_get(name, default)

        self._get_param = get_param
        try:
            return response_filter(self)
        finally:
            del self._get_param

    module: Any = models  # Any: we replace a class its streams use by name
    module.EventMessageFilter = PatternFilter
    LogsBackend.filter_log_events = filter_log_events
    LogsResponse.filter_log_events = response_filter_log_events
