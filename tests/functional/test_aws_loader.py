"""ServiceLoader loads what botocore's Loader loads, without listing every service."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from notifyctl.aws.loader import ServiceLoader, service_loader


@pytest.mark.parametrize(("service", "type_name"), [
    ("logs", "service-2"), ("logs", "endpoint-rule-set-1"), ("sesv2", "service-2"),
    ("dynamodb", "paginators-1"), ("lambda", "waiters-2"), ("s3", "service-2"),
])
def test_models_are_botocores(service: str, type_name: str) -> None:
    assert ServiceLoader().load_service_model(service, type_name) \
        == Loader().load_service_model(service, type_name)


def test_an_unknown_service_is_botocores_error_and_no_walk_for_a_known_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    loader = ServiceLoader()
    walks: list[str] = []
    original = Loader.list_available_services

    def counting(self: Loader, type_name: str) -> list[str]:
        walks.append(type_name)
        return original(self, type_name)  # type: ignore[no-any-return]

    monkeypatch.setattr(Loader, "list_available_services", counting)
    loader.load_service_model("logs", "service-2")
    assert walks == []
    with pytest.raises(UnknownServiceError, match="Unknown service: 'no-such-service'"):
        loader.load_service_model("no-such-service", "service-2")
    assert walks == ["service-2"]


def test_the_data_path_setting_is_searched_first(tmp_path: Path) -> None:
    loader = service_loader(f"{tmp_path}:/nowhere")
    assert loader.search_paths[:2] == [str(tmp_path), "/nowhere"]
    assert service_loader(None).search_paths == Loader().search_paths
