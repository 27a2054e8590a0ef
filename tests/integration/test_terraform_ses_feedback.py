"""Terraform's AWS provider (5.100) manages the SES feedback resources on the emulator:
apply, a second plan with no changes (everything reads back as written), destroy.

The resources issue 17's bootstrap creates, in both API generations the provider has:
aws_sesv2_configuration_set (+ event destination), aws_sesv2_account_suppression_attributes,
aws_ses_configuration_set (+ aws_ses_event_destination) and
aws_ses_identity_notification_topic. Skips, with the reason, where terraform or the
provider mirror is missing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from terraform_cli import EMULATOR_AWS_ENV, Terraform, find_mirror, unavailable

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))]

MODULE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

variable "endpoint_url" { type = string }
variable "prefix" { type = string }

provider "aws" {
  region = "eu-north-1"
  endpoints {
    ses   = var.endpoint_url
    sesv2 = var.endpoint_url
    sns   = var.endpoint_url
    sts   = var.endpoint_url
  }
  skip_credentials_validation = true
  skip_metadata_api_check     = true
}

resource "aws_sns_topic" "events" {
  name = "${var.prefix}-ses-events"
}

resource "aws_sesv2_configuration_set" "notifications" {
  configuration_set_name = "${var.prefix}-notifications"
  reputation_options {
    reputation_metrics_enabled = true
  }
  sending_options {
    sending_enabled = true
  }
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }
  tags = { "notifyctl:env" = var.prefix }
}

resource "aws_sesv2_configuration_set_event_destination" "sns" {
  configuration_set_name = aws_sesv2_configuration_set.notifications.configuration_set_name
  event_destination_name = "sns"
  event_destination {
    enabled              = true
    matching_event_types = ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT",
                            "DELIVERY_DELAY", "RENDERING_FAILURE"]
    sns_destination {
      topic_arn = aws_sns_topic.events.arn
    }
  }
}

resource "aws_sesv2_account_suppression_attributes" "account" {
  suppressed_reasons = ["BOUNCE", "COMPLAINT"]
}

resource "aws_ses_configuration_set" "legacy" {
  name                       = "${var.prefix}-legacy"
  reputation_metrics_enabled = true
}

resource "aws_ses_event_destination" "legacy" {
  name                   = "sns"
  configuration_set_name = aws_ses_configuration_set.legacy.name
  enabled                = true
  matching_types         = ["bounce", "complaint", "delivery"]
  sns_destination {
    topic_arn = aws_sns_topic.events.arn
  }
}

resource "aws_ses_domain_identity" "sender" {
  domain = "${var.prefix}.example.com"
}

resource "aws_ses_identity_notification_topic" "bounce" {
  topic_arn                = aws_sns_topic.events.arn
  notification_type        = "Bounce"
  identity                 = aws_ses_domain_identity.sender.domain
  include_original_headers = true
}
"""


@pytest.mark.timeout(900)
def test_terraform_manages_the_ses_feedback_resources(emulator: Any, tmp_path: Path) -> None:
    prefix = f"tf-{uuid.uuid4().hex[:8]}"
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(MODULE, encoding="utf-8")
    mirror = find_mirror()
    assert mirror is not None
    tf = Terraform.offline(module, tmp_path, mirror, EMULATOR_AWS_ENV)
    north = boto3.session.Session().client(
        "sesv2", endpoint_url=emulator.endpoint, region_name="eu-north-1",
        aws_access_key_id="testing", aws_secret_access_key="testing")
    variables = ["-var", f"endpoint_url={emulator.endpoint}", "-var", f"prefix={prefix}"]
    with tf.applied(*variables):
        tf.assert_no_changes(*variables)
        got = north.get_configuration_set(ConfigurationSetName=f"{prefix}-notifications")
        assert got["ReputationOptions"]["ReputationMetricsEnabled"] is True
        destinations = north.get_configuration_set_event_destinations(
            ConfigurationSetName=f"{prefix}-notifications")["EventDestinations"]
        assert [d["Name"] for d in destinations] == ["sns"]
    assert f"{prefix}-notifications" not in north.list_configuration_sets()["ConfigurationSets"]
