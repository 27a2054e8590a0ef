"""A step's changes as a readable per-field diff (the conflicts `bootstrap --adopt`
shows): scalars as `live -> wanted`, documents as a unified diff of their JSON.

Policy documents are compared in `infra.policies.normalize`'s canonical form on
both sides, so the diff shows only what makes them different policies, not
ordering or `"x"` vs `["x"]`.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from notifyctl.infra.policies import normalize
from notifyctl.plans.model import Step


def _document(value: Any) -> Any:
    if isinstance(value, dict | str) and "Statement" in value:
        try:
            return normalize(value)
        except ValueError:
            return value
    return value


def field_diff(key: str, live: Any, wanted: Any) -> list[str]:
    """Lines describing how one field differs."""
    live, wanted = _document(live), _document(wanted)
    if not isinstance(live, dict | list) and not isinstance(wanted, dict | list):
        return [f"{key}: {live!r} -> {wanted!r}"]
    before = json.dumps(live, indent=2, sort_keys=True, default=str).splitlines()
    after = json.dumps(wanted, indent=2, sort_keys=True, default=str).splitlines()
    lines = list(difflib.unified_diff(before, after, fromfile=f"{key} (live)",
                                      tofile=f"{key} (notifyctl)", lineterm="", n=2))
    return lines or [f"{key}: equal"]


def step_diff(step: Step) -> list[str]:
    """Every changed field of a step, in order."""
    lines: list[str] = []
    for key, (live, wanted) in step.changes.items():
        lines += field_diff(key, live, wanted)
    return lines
