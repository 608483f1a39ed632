"""SageMaker launch code (SDK v2 estimators, SDK v3 ModelTrainer) -> the spec's ``compute`` keys.

The keyword table lives in ``preflight/data/sagemaker_estimator.yaml`` with its sources. SDK v1
keywords (``train_instance_type`` ...) are read into today's keys as well, so the plan is
complete, and recorded for PF504, which reports them as removed.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from .builder import SpecBuilder
from .pyeval import CallValue, Dotted, Unknown


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    from ruamel.yaml import YAML

    text = resources.files("preflight.data").joinpath("sagemaker_estimator.yaml").read_text()
    data: dict[str, Any] = YAML(typ="safe").load(text)
    return data


def estimator_names() -> frozenset[str]:
    return frozenset(table()["estimators"])


def config_object_names() -> frozenset[str]:
    return frozenset(table()["config_objects"])


def _convert(value: Any, how: str) -> Any:
    if how == "hours" and isinstance(value, int | float) and not isinstance(value, bool):
        return value / 3600
    if how == "ids" and isinstance(value, tuple):
        return list(value)
    return value


def apply_estimator(
    call: CallValue, builder: SpecBuilder, locate: Any, notes_prefix: str = ""
) -> dict[str, Any]:
    """State the estimator's compute keys; return its hyperparameters (resolved ones)."""
    data = table()
    keywords: dict[str, list[str]] = data["estimator_keywords"]
    renames: dict[str, str] = data["v1_renames"]
    builder.state("compute.provider", "sagemaker", *locate(call.line))
    for kw, value in call.kwargs.items():
        line, cell = locate(call.kw_lines.get(kw, call.line))
        today = renames.get(kw)
        name = today or kw
        if today is not None:
            target = keywords.get(today, [f"sagemaker.{kw}", "same"])[0]
            builder.legacy_sagemaker[kw] = target
            builder.position(target, line, cell)
        if isinstance(value, CallValue) and value.name in config_object_names():
            _apply_config_object(value, builder, locate)
            continue
        if name not in keywords:
            continue
        key, how = keywords[name]
        if _unresolved(value):
            builder.note(f"{key}: {call.name}({kw}=...) could not be resolved ({_why(value)})")
            builder.position(key, line, cell)
            continue
        builder.state(key, _convert(value, how), line, cell)
    distribution = call.kwargs.get("distribution") or call.kwargs.get("distributed")
    if distribution is not None:
        _distribution(distribution, builder, locate(call.kw_lines.get("distribution", call.line)))
    hyper = call.kwargs.get("hyperparameters")
    if isinstance(hyper, dict):
        return hyper
    if hyper is not None:
        builder.note(f"{call.name} hyperparameters could not be resolved ({_why(hyper)})")
    return {}


def _apply_config_object(obj: CallValue, builder: SpecBuilder, locate: Any) -> None:
    mapping: dict[str, list[str]] = table()["config_objects"][obj.name]
    for kw, value in obj.kwargs.items():
        if kw not in mapping:
            continue
        key, how = mapping[kw]
        line, cell = locate(obj.kw_lines.get(kw, obj.line))
        if _unresolved(value):
            builder.note(f"{key}: {obj.name}({kw}=...) could not be resolved ({_why(value)})")
            continue
        builder.state(key, _convert(value, how), line, cell)


def _distribution(value: Any, builder: SpecBuilder, where: tuple[int | None, int | None]) -> None:
    """SDK v2 ``distribution={...}`` or v3 ``distributed=Torchrun()``: data parallel -> ddp."""
    kind: str | None = None
    if isinstance(value, dict):
        for key, setting in value.items():
            enabled = isinstance(setting, dict) and setting.get("enabled") is True
            # pytorchxla: SageMaker Training Compiler's launcher, one process per GPU
            if key in {"torch_distributed", "pytorchddp", "mpi", "pytorchxla"} and enabled:
                kind = "ddp"
            if key == "smdistributed" and isinstance(setting, dict):
                kind = "ddp"
    elif isinstance(value, CallValue) and value.name in {"Torchrun", "MPI"}:
        kind = "ddp"
    if kind:
        builder.state("compute.distributed", kind, *where)


def _unresolved(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(_unresolved(v) for v in value)
    return isinstance(value, Unknown | Dotted | CallValue)


def _why(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.why
    if isinstance(value, Dotted):
        return value.text
    if isinstance(value, CallValue):
        return f"{value.name}(...)"
    if isinstance(value, list | tuple):
        return next((_why(v) for v in value if _unresolved(v)), repr(value))
    return repr(value)
