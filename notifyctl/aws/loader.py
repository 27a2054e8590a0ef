"""botocore's data loader, without listing every service to load one.

botocore's `Loader.load_service_model` first lists every service it knows
(`list_available_services`: ~420 directories, ~900 listdir and ~1,800 stat calls)
only to check that the requested name is among them, and does it once per model
type: twice for a first client (service-2, endpoint-rule-set-1), ~130 ms of CPU, half of
creating a client and a tenth of a whole `notifyctl logs` read. The same check
asked of the one service's own directories (`list_api_versions`: does any API
version hold that model type?) gives the same answer. An unknown or incomplete name
takes botocore's own path, so its UnknownServiceError (with the known names) is
unchanged. Model files, search paths (AWS_DATA_PATH, ~/.aws/models), the latest
API version and the extras are botocore's own.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader, instance_cache


class ServiceLoader(Loader):
    """`botocore.loaders.Loader` whose `load_service_model` checks one service, not all."""

    @instance_cache
    def load_service_model(self, service_name: str, type_name: str,
                           api_version: str | None = None) -> Any:
        try:
            versions = self.list_api_versions(service_name, type_name)
        except DataNotFoundError:  # unknown here: botocore's error and message
            return super().load_service_model(service_name, type_name, api_version)
        if api_version is None:
            api_version = max(versions)  # botocore's determine_latest_version
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        self._extras_processor.process(
            model, self._find_extras(service_name, type_name, api_version))
        return model


def service_loader(data_path: str | None) -> ServiceLoader:
    """The loader botocore's session would build (`create_loader`), as a ServiceLoader.

    `data_path` is the session's `data_path` setting ($AWS_DATA_PATH), os.pathsep-separated."""
    if not data_path:
        return ServiceLoader()
    return ServiceLoader(extra_search_paths=[os.path.expanduser(os.path.expandvars(p))
                                             for p in data_path.split(os.pathsep)])
