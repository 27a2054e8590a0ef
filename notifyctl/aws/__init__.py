"""The AWS layer: one client factory, and error translation."""

from notifyctl.aws.session import AwsClients, AwsSettings, resolve_settings

__all__ = ["AwsClients", "AwsSettings", "resolve_settings"]
