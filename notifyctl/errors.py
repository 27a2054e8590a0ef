"""The error family of notifyctl.

Every error carries its exit code and an optional hint; the CLI boundary
(`notifyctl.cli.main`) is the only place that turns them into output.

Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error,
130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class NotifyctlError(Exception):
    """Base class: an error we expected and can explain in one line."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(NotifyctlError):
    """Bad input from the user: a flag, an argument, a file they gave us."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration file or the chosen environment is invalid."""


class OperationError(NotifyctlError):
    """An operation failed: AWS refused, a delivery failed, a wait timed out."""

    exit_code = EXIT_FAILED


class AwsError(OperationError):
    """An AWS call failed; the message is already actionable."""

    def __init__(self, message: str, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
