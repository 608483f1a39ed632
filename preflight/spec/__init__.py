"""The job spec: pydantic models, the YAML loader with line numbers, and the field tables."""

from .errors import SpecError, SpecIssue
from .loader import LoadedSpec, load_spec, validate_document
from .models import (
    BudgetSpec,
    ComputeSpec,
    DataSpec,
    IgnoreEntry,
    JobSpec,
    LoraSpec,
    ModelSpec,
    TrainingSpec,
)
from .training_fields import training_fields

__all__ = [
    "BudgetSpec",
    "ComputeSpec",
    "DataSpec",
    "IgnoreEntry",
    "JobSpec",
    "LoadedSpec",
    "LoraSpec",
    "ModelSpec",
    "SpecError",
    "SpecIssue",
    "TrainingSpec",
    "load_spec",
    "training_fields",
    "validate_document",
]
