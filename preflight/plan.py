"""The resolved plan that rules read: the spec plus what memplan, costmodel and the AWS audit said.

Rules never read raw YAML; they read a Plan. What a source did not state stays unknown here
(``memory is None``, ``compute is None``), and a rule that needs it is reported once as
not checkable instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import JobSpec, LoadedSpec
from .spec.yaml_source import nearest


@dataclass
class Plan:
    """Everything known about one training job before launch."""

    loaded: LoadedSpec
    memory: Any | None = None
    """memplan.MemoryPlan for the job, when the model (and a GPU) are known."""
    memory_note: str | None = None
    """Why there is no memory estimate, when there is none."""
    cost: dict[str, Any] | None = None
    """The cost/duration summary (preflight.cost.cost_summary) when computable."""
    cost_note: str | None = None
    aws: Any | None = None
    """Facts gathered from the AWS account by the audit (preflight --aws), else None."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> JobSpec:
        return self.loaded.spec

    def stated(self, key: str) -> bool:
        """Whether the source itself wrote ``key`` (always true-ish for full specs' defaults)."""
        if self.loaded.stated is None:
            return True
        return key in self.loaded.stated or any(k.startswith(key + ".") for k in self.loaded.stated)

    def training_stated(self, name: str) -> bool:
        return name in self.spec.training.stated

    def locate(self, key: str | None) -> tuple[int | None, int | None]:
        """(line, cell) of a dotted key in the source."""
        if not key:
            return None, None
        return self.loaded.line_of(key), nearest(self.loaded.cells, key)

    # Facts a rule may require (Rule.requires); each is a property so the engine can ask by name.
    def has(self, fact: str) -> bool:
        spec = self.spec
        checks = {
            "model": spec.model is not None,
            "data": spec.data is not None,
            "compute": spec.compute is not None,
            "sagemaker": spec.compute is not None and spec.compute.provider == "sagemaker",
            "instance": spec.compute is not None and spec.compute.instance_type is not None,
            "memory": self.memory is not None,
            "cost": self.cost is not None,
            "aws": self.aws is not None,
        }
        return checks[fact]


FACT_HINTS: dict[str, str] = {
    "model": "model.name",
    "data": "data.num_examples and data.avg_tokens (or data.sample_path)",
    "compute": "compute.provider and compute.instance_type",
    "sagemaker": "compute.provider: sagemaker",
    "instance": "compute.instance_type",
    "memory": "model.name and compute.instance_type",
    "cost": "model.name, data.num_examples, data.avg_tokens and compute.instance_type",
    "aws": "--aws (with AWS credentials)",
}
"""For a rule that could not run: which keys would let it."""
