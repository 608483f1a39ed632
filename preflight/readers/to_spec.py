"""A complete job spec from any source a reader understands, each assumption commented.

``preflight init --from FILE`` uses this: what the source stated is copied as it is, and every
value the source did not state is filled with the honest default (SageMaker's, Trainer's) or
left null, with an ``# assumed: ...`` comment saying why, so the user reviews exactly those lines
before moving to the full check (memory, cost, AWS audit, gated launch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import LoadedSpec

DEFAULT_INSTANCE = "ml.g5.xlarge"
PLACEHOLDER_MODEL = "mistralai/Mistral-7B-v0.1"


@dataclass
class Entry:
    """One value of the written spec and, when assumed, why."""

    value: Any
    assumed: str | None = None


@dataclass
class DraftSpec:
    """Sections -> key -> Entry, in the order they are written; plus header notes."""

    sections: dict[str, dict[str, Entry]] = field(default_factory=dict)
    name: Entry | None = None
    notes: list[str] = field(default_factory=list)

    def put(self, section: str, key: str, value: Any, assumed: str | None = None) -> None:
        self.sections.setdefault(section, {})[key] = Entry(value, assumed)


def draft_from(loaded: LoadedSpec, instance: str | None = None) -> DraftSpec:
    """The complete spec for ``loaded``; ``instance`` overrides (or supplies) the instance type."""
    spec = loaded.spec
    stated = loaded.stated

    def was_stated(key: str) -> bool:
        return stated is None or key in stated

    draft = DraftSpec(notes=list(loaded.notes))
    source = loaded.path.name
    draft.name = Entry(
        spec.name or loaded.path.stem,
        None if spec.name else f"named after {source}",
    )
    # model
    if spec.model is not None:
        for key, value in spec.model.model_dump().items():
            if key == "revision" and value is None:
                continue
            why = None if was_stated(f"model.{key}") else "not in the source: the spec's default"
            draft.put("model", key, value, why)
    else:
        draft.put(
            "model",
            "name",
            PLACEHOLDER_MODEL,
            f"no model found in {source}: REPLACE with your base model",
        )
        draft.put("model", "dtype", "bfloat16", "not in the source: the spec's default")
    # lora
    if spec.lora is not None:
        for key, value in spec.lora.model_dump().items():
            why = None if was_stated(f"lora.{key}") else "not in the source: peft-style default"
            draft.put("lora", key, value, why)
    # data
    data = spec.data.model_dump(exclude_none=True) if spec.data is not None else {}
    for key in ("train", "num_examples", "avg_tokens", "max_length"):
        if key in data:
            draft.put("data", key, data[key], None if was_stated(f"data.{key}") else "default")
        else:
            draft.put("data", key, None, _DATA_HINTS[key])
    # training: exactly what the source stated
    for key, value in spec.training.values.items():
        draft.put("training", key, value)
    if not spec.training.values:
        draft.notes.append("no training arguments found: Trainer's defaults apply")
    # compute
    compute = spec.compute.model_dump() if spec.compute is not None else {}
    for key, (default, why) in _COMPUTE_DEFAULTS.items():
        if key == "instance_type" and instance:
            draft.put(
                "compute",
                key,
                instance,
                None if was_stated(f"compute.{key}") else ("from --instance"),
            )
        elif compute and was_stated(f"compute.{key}"):
            draft.put("compute", key, compute[key])
        elif compute.get(key) not in (None, default):
            draft.put("compute", key, compute[key], "not in the source: inferred by the reader")
        else:
            draft.put("compute", key, default, why)
    if spec.budget is not None:
        for key, value in spec.budget.model_dump().items():
            draft.put("budget", key, value)
    return draft


_DATA_HINTS = {
    "train": "not in the source: where the training data is (s3:// or a local path)",
    "num_examples": "unknown: state it (or data.sample_path) for duration and cost",
    "avg_tokens": "unknown: average tokens per example, for duration and cost",
    "max_length": "unknown: truncation length in tokens, for the memory estimate",
}

_COMPUTE_DEFAULTS: dict[str, tuple[Any, str]] = {
    "provider": ("sagemaker", "not in the source: a SageMaker training job"),
    "instance_type": (DEFAULT_INSTANCE, "not in the source: one A10G 24 GB; choose yours"),
    "instance_count": (1, "not in the source: SageMaker's default"),
    "spot": (False, "not in the source: on-demand, SageMaker's default"),
    "max_run_hours": (24, "not in the source: SageMaker's default MaxRuntime, 1 day"),
    "max_wait_hours": (None, "spot only; must be >= max_run_hours"),
    "checkpoint_s3_uri": (
        None,
        "not in the source: without it no checkpoint is synced to S3 during the job",
    ),
    "checkpoint_local_path": ("/opt/ml/checkpoints", "not in the source: SageMaker's default"),
    "region": ("us-east-1", "not in the source: assumed"),
    "role_arn": (None, "not in the source: the IAM role the job runs as"),
    "volume_size_gb": (30, "not in the source: SageMaker's default EBS volume"),
    "output_path": (None, "not in the source: SageMaker's default bucket"),
    "distributed": ("none", "not in the source: one process per instance"),
}
