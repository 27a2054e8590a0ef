"""The notifier Lambda function: one email per "book created" SNS message."""
