"""memplan: the GPU memory of a training step, before any GPU is rented.

Two engines answer the same question. The analytic engine (:func:`estimate`) needs no torch and
runs in microseconds; the traced engine (:func:`memplan.trace.trace`) runs the real
transformers + peft code on fake tensors and is the reference the analytic engine is tested
against. Neither imports preflight, trainjob or any YAML.
"""

from memplan.analytic import estimate
from memplan.architecture import (
    Architecture,
    UnknownModelError,
    catalog_names,
    load_architecture,
)
from memplan.params import LoraSetup, ParamCounts, count_params
from memplan.plan import MemoryPlan
from memplan.setup import TrainingSetup, optimizer_kind

__all__ = [
    "Architecture",
    "LoraSetup",
    "MemoryPlan",
    "ParamCounts",
    "TrainingSetup",
    "UnknownModelError",
    "catalog_names",
    "count_params",
    "estimate",
    "load_architecture",
    "optimizer_kind",
]
