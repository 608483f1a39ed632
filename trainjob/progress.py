"""Progress a person can read: steps, loss, tokens/s, ETA, checkpoints written and cost so far.

Computing (``ProgressState``) is kept apart from showing it: on a terminal a rich progress bar,
elsewhere (CloudWatch, CI, a redirected log) one plain line per logging step, because a redrawn
bar in a log file is unreadable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("trainjob")


@dataclass
class ProgressState:
    """What the bar shows; updated by the progress callback, read by a renderer."""

    step: int = 0
    max_steps: int = 0
    first_step: int = 0
    loss: float | None = None
    tokens_seen: int = 0
    tokens_at_start: int = 0
    checkpoints: int = 0
    started: float = 0.0
    train_started: float = 0.0
    usd_per_hour: float | None = None

    def elapsed(self, now: float | None = None) -> float:
        return (now or time.monotonic()) - self.train_started

    def tokens_per_second(self, now: float | None = None) -> float | None:
        elapsed = self.elapsed(now)
        done = self.tokens_seen - self.tokens_at_start
        return done / elapsed if elapsed > 0 and done > 0 else None

    def eta_seconds(self, now: float | None = None) -> float | None:
        done = self.step - self.first_step
        if done <= 0 or self.max_steps <= 0:
            return None
        return self.elapsed(now) / done * max(self.max_steps - self.step, 0)

    def cost_usd(self, now: float | None = None) -> float | None:
        """Billed since the process started (the instance is billed from before step 1)."""
        if self.usd_per_hour is None:
            return None
        return ((now or time.monotonic()) - self.started) / 3600.0 * self.usd_per_hour

    def fields(self) -> dict[str, str]:
        now = time.monotonic()
        tps = self.tokens_per_second(now)
        eta = self.eta_seconds(now)
        cost = self.cost_usd(now)
        return {
            "loss": f"{self.loss:.4f}" if self.loss is not None else "-",
            "tps": f"{tps:,.0f}" if tps is not None else "-",
            "eta": _clock(eta) if eta is not None else "-",
            "ckpts": str(self.checkpoints),
            "cost": f"${cost:,.2f}" if cost is not None else "-",
        }

    def line(self) -> str:
        f = self.fields()
        return (
            f"step {self.step}/{self.max_steps} loss {f['loss']} tok/s {f['tps']} "
            f"eta {f['eta']} checkpoints {f['ckpts']} cost {f['cost']}"
        )


_CONSOLE: Any = None


def console() -> Any:
    """The one rich Console (stderr) that the bar and the log handler share, so they interleave."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        _CONSOLE = Console(stderr=True)
    return _CONSOLE


def _clock(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Renderer:
    """Shows a ProgressState: a rich bar on a terminal, else a log line per logging step."""

    def __init__(self, state: ProgressState, *, live: bool | None = None) -> None:
        self.state = state
        self.console = console()
        self.live = self.console.is_terminal if live is None else live
        self._progress: Any = None
        self._task: Any = None

    def start(self) -> None:
        if not self.live:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "loss {task.fields[loss]} · {task.fields[tps]} tok/s · ETA {task.fields[eta]}"
                " · ckpts {task.fields[ckpts]} · {task.fields[cost]}"
            ),
            console=self.console,
            refresh_per_second=4,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "train",
            total=self.state.max_steps or None,
            completed=self.state.step,
            **self.state.fields(),
        )

    def update(self, *, logged: bool) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.state.step, **self.state.fields())
        elif logged:
            log.info(self.state.line())

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.state.step, **self.state.fields())
            self._progress.stop()
            self._progress = None
