"""The resource tables of `bootstrap --plan` and `status`, readable at 80 columns.

On a narrow terminal rich shrinks no-wrap columns until they are cut (`presen`,
`unchang`) and may squeeze the last column to nothing, hiding what changes. Here the
state and resource columns keep their full width, the last column (what changes,
the detail) keeps at least DETAIL_MIN_WIDTH, and the name column - the longest,
an ARN at times - folds onto several lines instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DETAIL_MIN_WIDTH = 24


def resource_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                   plain: Sequence[Sequence[str]] | None = None) -> Any:
    """A rich Table of (state, resource, name, detail) rows (markup allowed).

    `plain`: the same rows without markup, to measure the fixed columns (defaults to
    `rows`)."""
    from rich.table import Table

    measure = plain if plain is not None else rows
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    last = len(headers) - 1
    for i, header in enumerate(headers):
        longest = max([len(header)] + [len(r[i]) for r in measure if i < len(r)])
        if i == last:
            table.add_column(header, overflow="fold", min_width=min(DETAIL_MIN_WIDTH, longest),
                             ratio=1)
        elif i == last - 1:  # the name: folds when space is short
            table.add_column(header, overflow="fold", no_wrap=False, max_width=max(longest, 1))
        else:
            table.add_column(header, no_wrap=True, min_width=longest)
    for row in rows:
        table.add_row(*row)
    return table
