"""The release path of the notifier function: packaging, deploy, versions, rollback."""
