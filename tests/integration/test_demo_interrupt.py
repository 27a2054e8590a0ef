"""Issue 14: Ctrl-C during the demo's delivery step is an interruption (exit 130),
not a delivery failure (exit 1)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest

from notifyctl.config.loader import load
from notifyctl.publish.waiter import WaitResult

pytestmark = pytest.mark.integration


def test_ctrl_c_while_waiting_for_delivery_interrupts_the_demo(
        emulator: Any, local_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl import demo
    from notifyctl.publish import job

    env = load(local_config(emulator.unique("demo-int")), "local")[0]
    monkeypatch.setattr(job, "wait_for_outcomes",
                        lambda *a, **k: WaitResult(unseen=1, interrupted=True))
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        demo.run_demo(env, emulator=lambda: nullcontext(emulator.info),
                      on_step=lambda s: steps.append(s.name))
    assert steps == ["start emulator", "bootstrap", "deploy"]  # publish never "completed"


def test_keyboard_interrupt_is_exit_130_interrupted(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                    repo_config: Any) -> None:
    from notifyctl import demo

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "run_demo", interrupted)
    result = cli("demo")
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted"
