"""What every phase of ``trainjob run`` shares: the options, the loaded spec, the result.

``trainjob.run`` drives a run in the order it happens, one module per phase: ``runpaths``
(where things go and where the data is), ``resume`` (which checkpoint to start from, and whether
the job changed), ``runbuild`` (model, tokenizer, LoRA, TrainingArguments), ``runtrain`` (the
Trainer, signals, errors) and ``finish`` (final model, backup, record). Each takes a
``RunContext``, so each can be tested alone with a spec and a folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sm_env import SageMakerEnv, in_sagemaker, read_sagemaker_env

RECORD_NAME = "trainjob-run.json"
ASSETS_DIR = "trainjob-assets"
FINAL_MARKER = "trainjob-final.json"


@dataclass
class RunOptions:
    """Everything ``trainjob run`` can be told besides the spec."""

    force: bool = False
    reason: str | None = None
    output_dir: Path | None = None
    model_dir: Path | None = None
    backup_dir: Path | None = None
    allow_mismatch: bool = False
    canary_steps: int | None = 50
    canary_minutes: float | None = 30.0
    watchdog_poll_seconds: float = 30.0
    threads: int | None = None
    live: bool | None = None
    sagemaker: SageMakerEnv | None = None
    gate: bool = True
    cost: bool = True  # show cost so far from compute.instance_type (off for rehearsals)
    # Used by ``trainjob rehearse``: a shallow copy of the model and a bounded, faster run.
    shallow_layers: int | None = None
    data_limit: int | None = None
    data_path: Path | None = None
    training_overrides: dict[str, Any] = field(default_factory=dict)
    extra_callbacks: list[Any] = field(default_factory=list)


@dataclass
class RunResult:
    """How a run ended, for the CLI, the record and the tests."""

    outcome: str  # "completed" | "stopped" (SIGTERM, checkpoint saved) | "failed"
    global_step: int
    max_steps: int
    output_dir: Path
    resumed_from: str | None
    sigterm_checkpoint: str | None
    checkpoints: list[dict[str, Any]]
    quarantined: list[str]
    final_model_dir: Path | None
    truncation: str = ""
    sigterm_save_seconds: float | None = None
    final_save_failures: list[str] = field(default_factory=list)


class RunContext:
    """The loaded spec, the options and the clock of one run attempt."""

    def __init__(self, loaded: Any, options: RunOptions, gate: Any, early: Any) -> None:
        self.loaded = loaded
        self.spec = loaded.spec
        self.options = options
        self.gate = gate
        self.early = early
        self.spec_dir = Path(loaded.path).resolve().parent
        self.sm = options.sagemaker or (read_sagemaker_env() if in_sagemaker() else None)
        self.started = time.monotonic()
        self.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.sigterm_step: int | None = None
        self.sigterm_save_seconds: float | None = None

    def where(self, key: str) -> str:
        """``spec.yaml:12`` for a key, or the file alone when the key has no line."""
        line = self.loaded.line_of(key)
        return f"{self.loaded.path}:{line}" if line else str(self.loaded.path)

    def training_value(self, name: str) -> Any:
        """A training value as this run uses it: the overrides first, then the spec."""
        if name in self.options.training_overrides:
            return self.options.training_overrides[name]
        return self.spec.training.get(name)


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
