"""DynamoDB: every item moto puts or updates is reported to the TTL sweeper's expiry
index (emulator/ttl.py `EXPIRIES`), so a sweep reads only the items that are due
instead of every item of every TTL table.

Where: `Table.put_item` (PutItem, BatchWriteItem, TransactWriteItems' puts, and an
UpdateItem that creates its item all go through it) and `DynamoDBBackend.update_item`
(it changes the stored item in place; TransactWriteItems' updates call it). Nothing
moto answers changes.
"""

from __future__ import annotations

from typing import Any

from notifyctl.emulator import ttl


def targets() -> list[tuple[Any, str]]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    return [(Table, "put_item"), (DynamoDBBackend, "update_item")]


def apply() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import table as table_module

    Table: Any = table_module.Table  # Any: we assign to its methods
    Backend: Any = models.DynamoDBBackend
    original_put = Table.put_item
    original_update = Backend.update_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        ttl.EXPIRIES.note(self, item)
        return item

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, *args, **kwargs)
        ttl.EXPIRIES.note(self.get_table(table_name), item)
        return item

    Table.put_item = put_item
    Backend.update_item = update_item
