"""patches/dispatch.py: moto's service list is read once and answers as moto's did."""

from __future__ import annotations

import pytest


def test_the_service_list_is_motos_own_in_its_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends

    from notifyctl.emulator.patches import dispatch

    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    before = list(backends.list_of_moto_modules())
    dispatch.apply()
    assert list(backends.list_of_moto_modules()) == before
    assert "dynamodb" in backends.list_of_moto_modules()
    assert "__pycache__" not in backends.list_of_moto_modules()


def test_method_names_are_kept_per_class_until_the_class_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    from notifyctl.emulator.patches import dispatch

    monkeypatch.setattr(responses, "method_names_from_class", responses.method_names_from_class)
    shipped = list(responses.method_names_from_class(DynamoHandler))
    dispatch.apply()
    kept = responses.method_names_from_class(DynamoHandler)
    assert kept == shipped and "update_item" in kept
    assert responses.method_names_from_class(DynamoHandler) is kept  # not listed again

    class Handler(DynamoHandler):
        pass

    assert "added_operation" not in responses.method_names_from_class(Handler)
    monkeypatch.setattr(DynamoHandler, "added_operation", lambda self: None, raising=False)
    assert "added_operation" in responses.method_names_from_class(Handler)  # a base changed
