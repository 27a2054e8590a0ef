"""The CodeDeploy AppSpec of a Lambda release.

For teams that shift traffic with CodeDeploy (Canary10Percent5Minutes, ...):
the file names the function, the alias, the version the alias points at now and
the one it should point at. Written by hand rather than with a YAML dumper so
the layout is the one AWS documents (`version: 0.0`, versions as strings).
"""

from __future__ import annotations

import re
from pathlib import Path


def _logical_name(function_name: str) -> str:
    # The resource key is a free-form logical name; keep it alphanumeric.
    return re.sub(r"[^A-Za-z0-9]", "", function_name.title()) or "Function"


def render(function_name: str, alias: str, current_version: str, target_version: str,
           hooks: dict[str, str] | None = None) -> str:
    """The AppSpec; `hooks` maps BeforeAllowTraffic/AfterAllowTraffic to a function name."""
    text = (
        "version: 0.0\n"
        "Resources:\n"
        f"  - {_logical_name(function_name)}:\n"
        "      Type: AWS::Lambda::Function\n"
        "      Properties:\n"
        f'        Name: "{function_name}"\n'
        f'        Alias: "{alias}"\n'
        f'        CurrentVersion: "{current_version}"\n'
        f'        TargetVersion: "{target_version}"\n'
    )
    if hooks:
        text += "Hooks:\n" + "".join(f'  - {event}: "{fn}"\n' for event, fn in hooks.items())
    return text


def write(path: Path, function_name: str, alias: str, current_version: str,
          target_version: str) -> Path:
    path = path.expanduser()  # its directory must exist (checked by the CLI beforehand)
    path.write_text(render(function_name, alias, current_version, target_version),
                    encoding="utf-8")
    return path
