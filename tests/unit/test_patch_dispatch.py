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
