"""The AWS layer: one client factory (`session`), the shared read helpers
(`calls`: get_or_none, tag_dict, ClientFactory) and error translation (`errors`)."""

from notifyctl.aws.session import AwsClients, AwsSettings, resolve_settings

__all__ = ["AwsClients", "AwsSettings", "resolve_settings"]
