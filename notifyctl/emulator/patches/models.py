"""moto's model registry (not a service): model objects are no longer kept forever.

Where: `moto.core.common_models.BaseModel.__new__` appends every model object moto
creates to its class's `instances_tracked` list, for the moto-api dashboard, and
nothing ever removes one. Under the pipeline that is every DynamoDB item, two more
copies of it per UpdateItem (moto deep-copies the item twice to compare old and new),
every log event, every datapoint: measured (issue 20, bench_memory.py) about 15 KB per delivered email that
no table, stream or metric held, RSS growing 25 KB per email where the data a user
stored grew 10 KB.

Only S3 reads the lists (its reset disposes the temporary files of every key and
multipart part ever made), so those two classes are still tracked; every other model
object lives as long as moto's backends refer to it. The moto-api dashboard
(`/moto-api/data.json`), which the emulator does not use, then lists S3's objects only.
"""

from __future__ import annotations

from typing import Any

TRACKED = {("moto.s3.models", "FakeKey"), ("moto.s3.models", "FakeMultipart")}


def targets() -> list[tuple[Any, str]]:
    from moto.core.common_models import BaseModel

    return [(BaseModel, "__new__")]


def apply() -> None:
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data

    tracked: dict[type, bool] = {}

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807 - moto's name
        instance: Any = object.__new__(cls)
        keep = tracked.get(cls)
        if keep is None:
            keep = tracked[cls] = (cls.__module__, cls.__name__) in TRACKED
        if keep:
            cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
        return instance

    model_class: Any = BaseModel  # Any: we assign to its __new__
    model_class.__new__ = staticmethod(__new__)
    classes: list[Any] = [model for models in model_data.values() for model in models.values()]
    for model in classes:  # what was made before the patch
        if (model.__module__, model.__name__) not in TRACKED:
            model.instances_tracked.clear()


def registry_size() -> int:
    """Model objects in moto's registry: only S3's stay (the memory census's "kept")."""
    from moto.core.model_instances import model_data

    classes: list[Any] = [model for models in list(model_data.values())
                          for model in list(models.values())]
    return sum(len(model.instances_tracked) for model in classes)
