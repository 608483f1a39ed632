"""Training scripts and SageMaker launch code (``.py``, and notebooks through notebook.py).

What is read, with ``ast`` only (see pyeval.py for how values are followed):

- ``TrainingArguments(...)`` / ``Seq2SeqTrainingArguments`` / TRL's ``SFTConfig(...)`` and
  siblings -> ``training.*`` (the last one built in the file wins; a note says so);
- ``LoraConfig(...)`` -> ``lora``; ``*.from_pretrained("name", torch_dtype=...,
  quantization_config=BitsAndBytesConfig(...))`` -> ``model``;
- a SageMaker estimator or ``ModelTrainer`` -> ``compute`` (sagemaker_map.py); its
  ``hyperparameters`` are the entry script's command line, and when the entry script
  (``entry_point``/``source_dir``, or ``SourceCode(entry_script=...)``) is at hand it is read
  into the same plan, so the script's ``output_dir`` meets the estimator's checkpoint settings;
- a script with no launch code that uses SageMaker's paths (``/opt/ml/...``) or ``SM_*``
  variables runs on SageMaker: ``compute.provider`` is stated as sagemaker (and only that), so
  the sync rule can judge its output_dir while instance, limits and checkpoint sync stay unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..redact import shown_value
from .builder import SpecBuilder
from .launchers import apply_deepspeed_file
from .pyeval import CallValue, Dotted, Evaluator, LineDict, Unknown, parse_python
from .sagemaker_map import apply_estimator, config_object_names, estimator_names
from .trl_fields import config_classes

Locate = Callable[[int], tuple[int | None, int | None]]

MODEL_LOADERS = ("AutoModel", "ForCausalLM", "ForSeq2SeqLM", "ForSequenceClassification")
DTYPES = {"float16": "float16", "half": "float16", "bfloat16": "bfloat16", "float32": "float32"}
HYPER_MODEL_KEYS = ("model_name_or_path", "model_id", "model_name", "base_model")


TRAINERS = frozenset(
    {"SFTTrainer", "DPOTrainer", "ORPOTrainer", "GRPOTrainer", "KTOTrainer", "RewardTrainer"}
)
ALL_TRAINERS = TRAINERS | {"Trainer", "Seq2SeqTrainer"}
"""TRL trainers accept ``model="hub/id"`` and load it themselves."""


def _interesting(name: str) -> bool:
    return (
        name in ALL_TRAINERS
        or name in config_classes()
        or name in estimator_names()
        or name in config_object_names()
        or name
        in {
            "LoraConfig",
            "BitsAndBytesConfig",
            "from_pretrained",
            "SourceCode",
            "Torchrun",
            "MPI",
        }
    )


def _identity(line: int) -> tuple[int | None, int | None]:
    return line, None


def evaluate(text: str, path: Path, overrides: dict[str, Any] | None = None) -> Evaluator:
    tree = parse_python(text, path)
    ev = Evaluator(
        interesting=_interesting,
        overrides=dict(overrides or {}),
        config_classes=config_classes(),
        base_dir=path.parent,
    )
    ev.run(tree)
    return ev


def read_python_text(
    text: str,
    path: Path,
    kind: str = "python",
    locate: Locate = _identity,
    written: dict[str, str] | None = None,
) -> SpecBuilder:
    """Read one script (or a notebook's joined code cells, with ``locate`` mapping lines).

    ``written``: files the notebook writes itself (``%%writefile mnist_ddp.py``), by file name:
    an entry script written there is at hand even when no file of that name is.
    """
    builder = SpecBuilder(path, kind)
    ev = evaluate(text, path)
    estimator = _last(ev.calls, estimator_names())
    hyper: dict[str, Any] = {}
    entry_text: str | None = None
    if estimator is not None:
        hyper = apply_estimator(estimator, builder, locate)
        hyper_lines = hyper.lines if isinstance(hyper, LineDict) else {}
        script = _entry_script(estimator, path)
        script_read = False
        if script is not None:
            script_read = _read_entry_script(script, hyper, builder)
        if script is not None and script.is_file():
            try:  # the entry script's own words count as evidence of a Trainer job
                entry_text = script.read_text(encoding="utf-8", errors="replace")
            except OSError:
                entry_text = None
        entry = estimator.kwargs.get("entry_point")
        if entry_text is None and written and isinstance(entry, str):
            entry_text = written.get(Path(entry).name)
        if isinstance(entry, str) and entry and not entry.endswith(".py"):
            builder.entry_command = f'entry_point="{entry}"'
        if not script_read:
            _hyper_as_training(hyper, hyper_lines, builder, locate, estimator)
    _apply_training(ev, builder, locate, origin=None)
    if UNSLOTH_IMPORT.search(text) and builder.trainer_config.endswith("Config"):
        # unsloth's generated Unsloth<X>Config drops arguments the installed TRL retired, with
        # a warning (unsloth/models/rl_config_compat.py), and maps warmup_ratio itself
        # (models/rl.py): a removed key is no TypeError there
        builder.tolerant_config = True
        builder.note(
            f"unsloth patches {builder.trainer_config}: retired arguments are dropped with a "
            "warning, not a TypeError"
        )
    _apply_model_and_lora(ev, builder, locate)
    _apply_eval_dataset(ev, builder, locate)
    _apply_device_map(ev, builder, locate, None)
    _apply_hyper_model(hyper, builder, locate, estimator)
    if estimator is not None:
        has_config = any(c.name in config_classes() for c in ev.calls)
        _not_a_trainer_job(estimator, builder, locate, text, has_config, entry_text)
    provider_open = not builder.has("compute.provider") or "compute.provider" in builder.unstated
    if estimator is None and ev.sagemaker_evidence and provider_open:
        what, line = ev.sagemaker_evidence[0]
        builder.state("compute.provider", "sagemaker", *locate(line))
        builder.note(
            f"runs on SageMaker (uses {what}, line {locate(line)[0]}); instance, run limit and "
            "checkpoint sync are set by the launch code, which is not in this file"
        )
    return builder


UNSLOTH_IMPORT = re.compile(r"^\s*(?:from\s+unsloth\b|import\s+unsloth\b)", re.M)
HF_IMAGE_WORDS = ("huggingface", "pytorch")
ALGORITHM_IMAGE = re.compile(
    r"""(?:image_uris\.retrieve|get_image_uri)\(\s*(?:framework\s*=\s*)?(?:[\w.]+\s*,\s*)?["']([\w-]+)["']"""
)
"""``image_uris.retrieve("xgboost", ...)`` (SDK v2) / ``get_image_uri(region, "xgboost")`` (v1)."""
HF_TEXT = re.compile(
    r"\b(?:transformers|trl|peft|TrainingArguments|SFTTrainer|from_pretrained|Seq2SeqTrainer)\b"
)
"""Evidence in the launch file that the job trains with transformers (its own words)."""


def trains_with_transformers(call: CallValue, text: str, entry_text: str | None = None) -> bool:
    """Whether a SageMaker launch runs code this reader can judge as a Trainer job.

    A built-in algorithm (``Estimator(image_uri=image_uris.retrieve("xgboost", ...))``), a
    TensorFlow job, or ``ModelTrainer(source_code=SourceCode(command="bash ..."))`` trains
    with something else, or with code not in any file here: its checkpoints are not Trainer's.
    A generic ``Estimator`` with a custom image counts when the file shows transformers, TRL or
    peft at work (``image_name="news-classifier"`` in a TensorFlow notebook does not).
    """
    kwargs = call.kwargs
    if call.name == "HuggingFace":
        return True
    if call.name == "TensorFlow":
        return False
    hf_text = HF_TEXT.search(text) is not None
    if call.name == "ModelTrainer":
        code = kwargs.get("source_code")
        command_only = (
            isinstance(code, CallValue)
            and "command" in code.kwargs
            and "entry_script" not in code.kwargs
        )
        return not command_only
    if call.name == "PyTorch":
        # often an HF script; when its entry script is at hand, that script says (an MNIST
        # script with no transformers in it is no Trainer job)
        if entry_text is None:
            return True
        return hf_text or HF_TEXT.search(entry_text) is not None
    image = kwargs.get("image_uri", kwargs.get("image_name"))
    if isinstance(image, str):
        return hf_text or any(w in image.lower() for w in HF_IMAGE_WORDS)
    algorithms = {m.lower() for m in ALGORITHM_IMAGE.findall(text)}
    if algorithms:
        return bool(algorithms & set(HF_IMAGE_WORDS))
    return hf_text


GENERIC_HYPERPARAMETERS = frozenset({"learning_rate", "weight_decay", "seed", "momentum"})
"""TrainingArguments names every algorithm uses too: no evidence of a Trainer by themselves."""


def _not_a_trainer_job(
    estimator: CallValue,
    builder: SpecBuilder,
    locate: Locate,
    text: str,
    has_config_call: bool,
    entry_text: str | None = None,
) -> None:
    """A launch of something that is no Trainer job, stating no training: only its SDK keywords
    (PF511) are checked; its compute settings would make checkpoint rules judge a loop that
    does not exist (PF101 on an XGBoost job)."""
    if trains_with_transformers(estimator, text, entry_text):
        return
    if has_config_call or builder.values.get("model") or builder.values.get("lora"):
        return
    if set(builder.training) - GENERIC_HYPERPARAMETERS:
        return  # hyperparameters only a Trainer reads (save_total_limit, eval_strategy, ...)
    # hyperparameters named like TrainingArguments fields (DeepAR's learning_rate) are the
    # algorithm's own, not a Trainer's
    for key in list(builder.training):
        builder.drop(f"training.{key}")
    for section in ("compute", "data", "budget"):
        for key in list(builder.values.get(section, {})):
            builder.drop(f"{section}.{key}")
    builder.note(
        f"{estimator.name} at line {locate(estimator.line)[0]} launches no Trainer job this "
        "file shows (a built-in algorithm, TensorFlow, or a shell command): training and "
        "checkpoint rules do not apply; its SDK keywords are checked"
    )
    builder.launch_only = True


def _last(calls: list[CallValue], names: frozenset[str]) -> CallValue | None:
    found = [c for c in calls if c.name in names]
    return found[-1] if found else None


def _apply_training(
    ev: Evaluator, builder: SpecBuilder, locate: Locate, origin: str | None
) -> bool:
    """State the keys of the last TrainingArguments-like call; False if there is none."""
    configs = [c for c in ev.calls if c.name in config_classes() and c.name not in ev.foreign_names]
    if not configs:
        return False
    call = configs[-1]
    where = f" in {origin}" if origin else ""
    if len(configs) > 1:
        lines = ", ".join(str(locate(c.line)[0]) for c in configs)
        builder.note(
            f"{len(configs)} {call.name}/TrainingArguments calls{where} (lines {lines}); "
            f"checked the last one, line {locate(call.line)[0]}"
        )
    builder.trainer_config = (
        "TrainingArguments"
        if call.name in {"TrainingArguments", "Seq2SeqTrainingArguments"}
        else call.name
    )
    from ..rules.arguments import removed_arguments
    from .builder import trainer_config_fields

    removed = set(removed_arguments()) | set(trainer_config_fields(builder.trainer_config)[1])
    call_line, call_cell = locate(call.line)
    if call_line is not None:  # unstated training keys point at the call that would take them
        builder.lines["training"] = call_line
    if call_cell is not None:
        builder.cells["training"] = call_cell
    for key, value in call.kwargs.items():
        line, cell = locate(call.kw_lines.get(key, call.line))
        dotted = f"training.{key}"
        if isinstance(value, Unknown | Dotted | CallValue):
            why = value.why if isinstance(value, Unknown) else _text(value)
            builder.note(f"{dotted}: could not be resolved{where} ({why}); left unknown")
            builder.position(dotted, line, cell)
            if key in removed and "only when the `if`" not in why:
                # passed whatever its value (`evaluation_strategy="steps" if x else "no"`):
                # the keyword itself is the TypeError, so the key counts as stated
                builder.state(dotted, None, line, cell)
            continue
        if isinstance(value, str) and key == "deepspeed":
            apply_deepspeed_file(builder.path.parent / value, builder, (line, cell))
        builder.state(dotted, _plain(value), line, cell)
        if key in call.origins:
            builder.note(
                f"{dotted} = {shown_value(dotted, value)}{where} from {'; '.join(call.origins[key])}"
            )
    for star in call.star_unknown:
        if star.startswith("@"):
            builder.note(
                f"{call.name} fields{where} come from the {star[1:]}: not in this file; check "
                "the recipe passed with --config, or the launch code's hyperparameters"
            )
        else:
            builder.note(
                f"{call.name}(**{star}){where} could not be resolved; its keys are unknown"
            )
    if call.name == "Seq2SeqTrainingArguments":
        builder.trainer_config = "Seq2SeqTrainingArguments"
    _length_into_data(builder, call, locate)
    return True


def _length_into_data(builder: SpecBuilder, call: CallValue, locate: Locate) -> None:
    for key in ("max_length", "max_seq_length"):
        value = builder.get(f"training.{key}")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            line, cell = locate(call.kw_lines.get(key, call.line))
            builder.state("data.max_length", value, line, cell)
            return


def _apply_eval_dataset(ev: Evaluator, builder: SpecBuilder, locate: Locate) -> None:
    """``Trainer(..., eval_dataset=...)``: the script evaluates on something (PF209 reads it)."""
    for trainer in reversed([c for c in ev.calls if c.name in ALL_TRAINERS]):
        if "eval_dataset" in trainer.kwargs and trainer.kwargs["eval_dataset"] is not None:
            value = trainer.kwargs["eval_dataset"]
            text = value if isinstance(value, str) else "passed as eval_dataset in the script"
            builder.state("data.eval", text, *locate(trainer.kw_lines["eval_dataset"]))
            return


SPLITTING_DEVICE_MAPS = frozenset({"auto", "balanced", "balanced_low_0", "sequential"})
"""``from_pretrained(device_map=...)`` values that spread one model over every visible GPU
(accelerate's ``infer_auto_device_map``): Trainer then sees ``hf_device_map`` on several
devices, sets ``is_model_parallel`` and ``n_gpu = 1`` (transformers 5.24 trainer.py, Trainer
``__init__``), so no nn.DataParallel wraps it."""


def _apply_device_map(
    ev: Evaluator, builder: SpecBuilder, locate: Locate, origin: str | None
) -> None:
    """Record a model loaded with a splitting ``device_map`` (PF704 reads it)."""
    for call in ev.calls:
        if call.name != "from_pretrained" or any(
            word in call.callee for word in ("Tokenizer", "Processor", "Config")
        ):
            continue
        value = call.kwargs.get("device_map")
        if isinstance(value, str) and value in SPLITTING_DEVICE_MAPS:
            line = locate(call.kw_lines.get("device_map", call.line))[0]
            where = f"{origin}:{line}" if origin else f"line {line}"
            builder.device_map = f'device_map="{value}" ({where})'
            return


def _apply_model_and_lora(ev: Evaluator, builder: SpecBuilder, locate: Locate) -> None:
    lora = _last(ev.calls, frozenset({"LoraConfig"}))
    if lora is not None:
        mapping = {"r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout"}
        mapping["target_modules"] = "target_modules"
        for kw, key in mapping.items():
            value = lora.kwargs.get(kw)
            if value is None or isinstance(value, Unknown | Dotted | CallValue):
                continue
            if key == "target_modules" and isinstance(value, str):
                value = [value]
            builder.state(f"lora.{key}", _plain(value), *locate(lora.kw_lines.get(kw, lora.line)))
        if not builder.values.get("lora"):
            builder.state("lora.r", 8, *locate(lora.line))  # peft's LoraConfig default r
            builder.unstated.add("lora.r")
            builder.note(f"LoraConfig at line {locate(lora.line)[0]} states no rank: peft's r=8")
    loaders = [c for c in ev.calls if c.name == "from_pretrained"]
    for call in loaders:
        name = call.args[0] if call.args else call.kwargs.get("pretrained_model_name_or_path")
        if not isinstance(name, str) or any(
            word in call.callee for word in ("Tokenizer", "Processor", "Config")
        ):
            continue
        builder.state("model.name", name, *locate(call.line))
        _model_dtype(call, builder, locate)
        break
    else:
        # the name comes later (an estimator's hyperparameters): the loader's quantisation and
        # dtype are still this script's (run_clm.py's BitsAndBytesConfig(load_in_4bit=True))
        models = [
            c
            for c in loaders
            if not any(word in c.callee for word in ("Tokenizer", "Processor", "Config"))
        ]
        if models:
            _model_dtype(models[0], builder, locate)
        for trainer in (c for c in ev.calls if c.name in TRAINERS):
            name = trainer.kwargs.get("model")
            if isinstance(name, str):
                builder.state("model.name", name, *locate(trainer.kw_lines["model"]))
                return
        unresolved = [c for c in loaders if c.args and isinstance(c.args[0], Unknown)]
        if unresolved:
            arg = unresolved[0].args[0]
            builder.note(f"model name could not be resolved ({arg.why}); model unknown")


def _model_dtype(call: CallValue, builder: SpecBuilder, locate: Locate) -> None:
    quant = call.kwargs.get("quantization_config")
    if isinstance(quant, CallValue) and quant.name == "BitsAndBytesConfig":
        if quant.kwargs.get("load_in_4bit") is True:
            builder.state("model.dtype", "nf4", *locate(quant.kw_lines["load_in_4bit"]))
            return
        if quant.kwargs.get("load_in_8bit") is True:
            builder.state("model.dtype", "int8", *locate(quant.kw_lines["load_in_8bit"]))
            return
    for kw in ("torch_dtype", "dtype"):
        value = call.kwargs.get(kw)
        text = value.text if isinstance(value, Dotted) else value if isinstance(value, str) else ""
        dtype = DTYPES.get(text.rsplit(".", 1)[-1]) if text else None
        if dtype:
            builder.state("model.dtype", dtype, *locate(call.kw_lines[kw]))
    attn = call.kwargs.get("attn_implementation")
    if attn in {"eager", "sdpa", "flash_attention_2"}:
        builder.state(
            "model.attn_implementation", attn, *locate(call.kw_lines["attn_implementation"])
        )


def _apply_hyper_model(
    hyper: dict[str, Any], builder: SpecBuilder, locate: Locate, estimator: CallValue | None
) -> None:
    """A model named only in the hyperparameters counts when the entry script was read.

    Without the script, LoRA, batch size and dtype are unknown, and a memory estimate built on
    Trainer's defaults (a full fine-tune, batch 8) would be a guess presented as a finding.
    """
    if builder.has("model.name") or estimator is None:
        return
    lines = hyper.lines if isinstance(hyper, LineDict) else {}
    for key in HYPER_MODEL_KEYS:
        value = hyper.get(key)
        if not isinstance(value, str):
            continue
        if not builder.key_files:
            builder.note(
                f"hyperparameter {key}={value!r} names the model, but the entry script is not "
                "at hand: LoRA, batch size and dtype are unknown, so memory is not estimated "
                "(check the launch code and the script together)"
            )
            return
        builder.state("model.name", value, *locate(lines.get(key, estimator.line)))
        return


def _entry_script(estimator: CallValue, path: Path) -> Path | None:
    entry = estimator.kwargs.get("entry_point")
    source_dir = estimator.kwargs.get("source_dir")
    code = estimator.kwargs.get("source_code")
    if isinstance(code, CallValue) and code.name == "SourceCode":
        entry = code.kwargs.get("entry_script")
        source_dir = code.kwargs.get("source_dir")
    if not isinstance(entry, str) or not entry.endswith(".py"):
        return None
    base = path.parent
    if isinstance(source_dir, str) and not source_dir.startswith("s3://"):
        base = base / source_dir
    candidate = base / entry
    return candidate if candidate.is_file() else None


def _read_entry_script(script: Path, hyper: dict[str, Any], builder: SpecBuilder) -> bool:
    """Read the entry script into ``builder``; its lines are the script's (see ReaderSpec)."""
    try:
        text = script.read_text(encoding="utf-8")
        ev = evaluate(text, script, overrides=_cli_values(hyper))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        builder.note(f"entry script {script} could not be read ({exc}); its settings are unknown")
        return False
    rel = _relative(script, builder.path)
    before = set(builder.lines)
    found = _apply_training(ev, builder, _identity, origin=rel)
    if found:
        builder.note(
            f"training.* read from the entry script {rel}, with the estimator's hyperparameters"
        )
        if not builder.has("model.name"):
            _apply_model_and_lora(ev, builder, _identity)
        _apply_eval_dataset(ev, builder, _identity)
        _apply_device_map(ev, builder, _identity, rel)
    for key in set(builder.lines) - before:
        builder.key_files[key] = script
    if not found:
        return False
    return True


def _cli_values(hyper: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as the entry script sees them (the SDK passes them as --key value)."""
    return {str(k).replace("-", "_"): v for k, v in hyper.items() if not isinstance(v, Unknown)}


def _hyper_as_training(
    hyper: dict[str, Any],
    lines: dict[str, int],
    builder: SpecBuilder,
    locate: Locate,
    estimator: CallValue,
) -> None:
    """Without the entry script, hyperparameters named like training fields are training keys."""
    from ..spec.training_fields import training_fields

    fields = training_fields().fields
    used = False
    for key, value in hyper.items():
        if key in fields and not isinstance(value, Unknown | Dotted | CallValue):
            builder.state(f"training.{key}", _plain(value), *locate(lines.get(key, estimator.line)))
            builder.cli_keys.add(key)
            used = True
    if used:
        builder.note(
            "the entry script is not at hand: hyperparameters named like TrainingArguments "
            "fields were read as training keys"
        )


def _relative(path: Path, to: Path) -> str:
    try:
        return str(path.relative_to(to.parent))
    except ValueError:
        return str(path)


def _plain(value: Any) -> Any:
    if isinstance(value, LineDict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, Dotted):
        return value.text
    if isinstance(value, CallValue):
        return f"{value.name}(...)"
    return json.dumps(value, default=str)
