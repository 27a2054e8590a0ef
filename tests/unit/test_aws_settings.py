"""AWS settings precedence: flags > AWS_* variables > the config file."""

from __future__ import annotations

import pytest

from notifyctl.aws.session import resolve_settings

pytestmark = pytest.mark.unit

BASE = {"config_profile": "dev", "config_region": "eu-west-1", "config_endpoint": None}


def test_config_values_apply_when_nothing_else_is_set() -> None:
    s = resolve_settings(**BASE, environ={})
    assert (s.profile, s.region, s.endpoint_url) == ("dev", "eu-west-1", None)


def test_aws_variables_beat_config() -> None:
    s = resolve_settings(**BASE, environ={"AWS_PROFILE": "ops", "AWS_REGION": "us-west-2"})
    assert (s.profile, s.region) == ("ops", "us-west-2")
    s = resolve_settings(**BASE, environ={"AWS_DEFAULT_REGION": "ap-south-1"})
    assert s.region == "ap-south-1"


def test_flags_beat_variables() -> None:
    s = resolve_settings(**BASE, flag_profile="admin", flag_region="ca-central-1",
                         flag_endpoint="http://127.0.0.1:9999",
                         environ={"AWS_PROFILE": "ops", "AWS_REGION": "us-west-2",
                                  "AWS_ENDPOINT_URL": "http://elsewhere:1"})
    assert (s.profile, s.region, s.endpoint_url) == ("admin", "ca-central-1",
                                                     "http://127.0.0.1:9999")
    assert s.pass_endpoint


def test_env_access_keys_make_boto3_skip_the_config_profile() -> None:
    s = resolve_settings(**BASE, environ={"AWS_ACCESS_KEY_ID": "AKIA..."})
    assert s.profile is None


def test_aws_endpoint_url_variable_is_left_to_boto3() -> None:
    s = resolve_settings(**{**BASE, "config_endpoint": "http://127.0.0.1:4566"},
                         environ={"AWS_ENDPOINT_URL": "http://localhost:5000"})
    assert s.endpoint_url == "http://localhost:5000" and not s.pass_endpoint


def test_loopback_endpoint_without_credentials_uses_dummy_credentials() -> None:
    s = resolve_settings(config_profile=None, config_region="us-east-1",
                         config_endpoint="http://127.0.0.1:4566", environ={})
    assert s.use_emulator_credentials and s.is_local


def test_real_endpoint_never_gets_dummy_credentials() -> None:
    s = resolve_settings(**BASE, environ={})
    assert not s.use_emulator_credentials and not s.is_local
