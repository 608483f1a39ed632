"""PF5xx: training arguments that the installed (or target) transformers does not accept."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from ..spec.training_fields import training_fields
from ..suggest import nearest
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan


@lru_cache(maxsize=1)
def removed_arguments() -> dict[str, dict[str, Any]]:
    """The removed-in-v5 table, ``preflight/data/removed_training_args.yaml``."""
    from ruamel.yaml import YAML

    text = resources.files("preflight.data").joinpath("removed_training_args.yaml").read_text()
    data: dict[str, dict[str, Any]] = YAML(typ="safe").load(text)
    return data


def judged_version(plan: Plan, package: str = "transformers") -> tuple[str, str] | None:
    """(version, why) when the source runs with a pinned release, not the installed one."""
    found = getattr(plan.loaded, "versions", {}).get(package)
    if found is None or found[1].startswith("installed"):
        return None
    return found


def fields_for(plan: Plan) -> tuple[str, set[str]]:
    """(transformers version, its TrainingArguments field names) the plan is judged against."""
    pinned = judged_version(plan)
    if pinned is None:
        table = training_fields()
        return table.version, set(table.fields)
    from ..spec.field_history import training_fields_at

    return pinned[0], set(training_fields_at(pinned[0]))


def _span_text(name: str) -> str:
    from ..spec.field_history import training_field_span

    span = training_field_span(name)
    if span is None:
        return ""
    first, last = (_minor(v) if v else None for v in span)
    return f" (it exists in {first} to {last})" if last else f" (added in {first})"


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class RemovedTrainingArgument(Rule):
    """
    What it does:
    Flags `training:` keys that transformers v5 removed, and names what replaces them.

    Why is this bad?
    transformers v5 dropped these arguments without a deprecation cycle: passing one raises
    `TypeError: TrainingArguments.__init__() got an unexpected keyword argument` when the job
    starts, after the instance has been paid for and the image pulled.

    Example:
    ```yaml
    training:
      save_safetensors: true
      evaluation_strategy: steps
    ```

    Use instead:
    ```yaml
    training:
      eval_strategy: steps
    ```

    References:
    - transformers MIGRATION_GUIDE_V5.md
    - shared/research/trainer-and-lint-facts.md section 1.11 (field diff of 4.57.3 and 5.23.0)
    """

    id = "PF501"
    name = "removed-training-argument"
    severity = Severity.ERROR
    title = "A training argument was removed in transformers v5"
    fix = "Delete the key or use its replacement."
    source_url = "https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md"

    def check(self, plan: Plan) -> Iterator[Finding]:
        table = removed_arguments()
        version, fields = fields_for(plan)
        pinned = judged_version(plan)
        why = f"; judged for transformers {version}, {pinned[1]}" if pinned else ""
        for key in sorted(plan.spec.training.stated):
            entry = table.get(key)
            if entry is None or key in fields or key in plan.loaded.extra_training_fields:
                continue
            if _not_yet(key, version):
                continue  # older than the key itself: PF502 says so
            replacement = entry.get("replacement")
            if replacement and replacement not in fields:
                replacement = None  # no successor in the release the job runs with
            instead = f"; use `{replacement}` instead" if replacement else ""
            yield self.finding(
                f"training.{key}",
                f"`{key}` was removed in transformers {entry['removed_in']} "
                f"(TypeError at start){instead}{why}",
                fix=entry.get("note") or self.fix,
            )


class UnknownTrainingArgument(Rule):
    """
    What it does:
    Flags `training:` keys that are not `TrainingArguments` fields, with the nearest real name.

    Why is this bad?
    A misspelt key is either a TypeError at start (TrainingArguments) or, worse, silently
    dropped by a config loader, so `save_total_limt: 100` leaves Trainer's own setting in force
    for a whole run.

    Example:
    ```yaml
    training:
      save_total_limt: 100
    ```

    Use instead:
    ```yaml
    training:
      save_total_limit: 100
    ```

    References:
    - https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments
    """

    id = "PF502"
    name = "unknown-training-argument"
    severity = Severity.ERROR
    title = "A training argument is not a TrainingArguments field"
    fix = "Correct the spelling or delete the key."
    source_url = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"

    def check(self, plan: Plan) -> Iterator[Finding]:
        version, fields = fields_for(plan)
        removed = removed_arguments()
        extra_ok = plan.loaded.extra_training_fields | getattr(plan.loaded, "cli_keys", set())
        pinned = judged_version(plan)
        for key in sorted(plan.spec.training.stated):
            if key in fields or key in extra_ok:
                continue
            if key in removed and not _not_yet(key, version):
                continue  # PF501 reports it, with its successor
            close = nearest(key, fields)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            why = f", {pinned[1]}" if pinned else ""
            yield self.finding(
                f"training.{key}",
                f"`{key}` is not a {plan.loaded.trainer_config} field "
                f"(transformers {version}{why}){_span_text(key)}{hint}",
                fix=f"Rename it to `{close[0]}`." if close else self.fix,
            )


def _not_yet(key: str, version: str) -> bool:
    """True when transformers ``version`` is older than the key itself (PF502's, not PF501's)."""
    from ..spec.field_history import training_field_span, vkey

    span = training_field_span(key)
    return span is not None and vkey(version)[:2] < vkey(span[0])[:2]


#: A dead run (NaN loss, stalled data loader) should show in the logs within this many hours.
LOGGING_MAX_HOURS = 1.0


class LoggingTooRare(Rule):
    """
    What it does:
    Flags `logging_strategy: "no"`, and, when the cost model knows the seconds per step, a
    `logging_steps` interval longer than an hour.

    Why is this bad?
    The training loss in the logs is how a person notices a diverged (NaN) or stalled run.
    With logs every few hours, a dead run keeps billing until the next line, or until the end.

    Example:
    ```yaml
    training:
      logging_strategy: "no"
    ```

    Use instead:
    ```yaml
    training:
      logging_strategy: steps
      logging_steps: 50
    ```

    References:
    - https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments
    """

    id = "PF503"
    name = "logging-too-rare"
    severity = Severity.WARNING
    title = "Training loss is logged too rarely to notice a dead run"
    fix = "Log at least every few minutes: lower training.logging_steps."
    source_url = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"

    def check(self, plan: Plan) -> Iterator[Finding]:
        tr = plan.spec.training
        kind = str(tr.get("logging_strategy", "steps") or "steps").lower().rpartition(".")[2]
        if kind == "no":
            yield self.finding(
                "training.logging_strategy",
                'logging_strategy "no": a diverged or stalled run shows nothing until it ends',
            )
            return
        if kind != "steps" or not plan.cost:
            return
        seconds = plan.cost.get("seconds_per_step")
        steps = tr.get("logging_steps", 500)
        total = plan.cost.get("total_steps")
        if not isinstance(seconds, int | float) or not isinstance(steps, int | float):
            return
        if 0 < steps < 1 and isinstance(total, int | float):
            steps = steps * total
        hours = steps * seconds / 3600.0
        if hours <= LOGGING_MAX_HOURS:
            return
        per_hour = max(int(3600.0 / max(seconds, 1e-9) / 4), 1)
        yield self.finding(
            "training.logging_steps",
            f"logging_steps {steps:g} at ~{seconds:.1f} s/step logs every {hours:.1f} h: "
            "a dead run goes unnoticed for hours",
            fix=f"Set training.logging_steps: {per_hour} (every ~15 minutes).",
        )


class Fp16AndBf16(Rule):
    """
    What it does:
    Flags `fp16: true` together with `bf16: true`.

    Why is this bad?
    TrainingArguments raises "At most one of fp16 and bf16 can be True, but not both" when the
    job starts.

    Example:
    ```yaml
    training:
      fp16: true
      bf16: true
    ```

    Use instead:
    ```yaml
    training:
      bf16: true
    ```

    References:
    - transformers training_args.py `__post_init__`
    """

    id = "PF504"
    name = "fp16-and-bf16"
    severity = Severity.ERROR
    title = "fp16 and bf16 are both on"
    fix = "Keep one: bf16 on Ampere or newer GPUs, fp16 on T4/V100."
    source_url = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"

    def check(self, plan: Plan) -> Iterator[Finding]:
        tr = plan.spec.training
        if bool(tr.get("fp16", False)) and bool(tr.get("bf16", False)):
            yield self.finding(
                "training.bf16",
                "fp16 and bf16 are both true: TrainingArguments raises a ValueError at start",
            )


VALUE_FIELDS = {
    "optim": "optim",
    "lr_scheduler_type": "lr_scheduler_type",
    "eval_strategy": "eval_strategy",
    "evaluation_strategy": "eval_strategy",
    "logging_strategy": "logging_strategy",
    "save_strategy": "save_strategy",
    "hub_strategy": "hub_strategy",
    "report_to": "report_to",
}
"""Training key -> the closed value set (in preflight/data/field_history.json) it must be in."""


def _candidate(value: Any) -> str | None:
    """The plain string a closed-set field holds, or None when it is unknown or computed."""
    if not isinstance(value, str) or not value or any(c in value for c in "${}<>()"):
        return None
    head, dot, tail = value.rpartition(".")
    if dot and head.endswith(("Strategy", "Type", "Names")):
        return tail.lower()  # IntervalStrategy.STEPS, as a Python reader may hold it
    return value


class InvalidTrainingValue(Rule):
    """
    What it does:
    Flags a closed-set training value (`optim`, `lr_scheduler_type`, `eval_strategy`,
    `save_strategy`, `logging_strategy`, `hub_strategy`, `report_to`) that the transformers
    release the job runs with does not know, with the nearest valid value.

    Why is this bad?
    TrainingArguments turns these strings into enums when it is built: `optim: adamw_torch_fusd`
    is `ValueError: adamw_torch_fusd is not a valid OptimizerNames` at the start of a paid job,
    after the image is pulled and the model downloaded.

    Example:
    ```yaml
    training:
      optim: adamw_torch_fusd
      lr_scheduler_type: cosin
    ```

    Use instead:
    ```yaml
    training:
      optim: adamw_torch_fused
      lr_scheduler_type: cosine
    ```

    References:
    - transformers training_args.py (OptimizerNames), trainer_utils.py (SchedulerType,
      IntervalStrategy, SaveStrategy, HubStrategy), integrations/integration_utils.py
      (INTEGRATION_TO_CALLBACK)
    - preflight/data/field_history.json (the value sets of each release, 4.36 onwards)
    """

    id = "PF505"
    name = "invalid-training-value"
    severity = Severity.ERROR
    title = "A training value is not one the field accepts"
    fix = "Use one of the values the field accepts."
    source_url = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..spec.field_history import allowed_values, value_span

        version, _ = fields_for(plan)
        tr = plan.spec.training
        for key in sorted(plan.spec.training.stated & set(VALUE_FIELDS)):
            table = VALUE_FIELDS[key]
            allowed = allowed_values(table, version)
            raw = tr.values.get(key)
            items = raw if isinstance(raw, list) and key == "report_to" else [raw]
            for item in items:
                value = _candidate(item)
                if value is None or allowed is None or value in allowed:
                    continue
                if key == "report_to" and "," in value:
                    continue
                span = value_span(table, value)
                if span is not None:
                    first, last = (_minor(v) if v else None for v in span)
                    known = f"; it exists in transformers {first}" + (
                        f" to {last}" if last else "+"
                    )
                else:
                    known = ""
                close = nearest(value, allowed, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                yield self.finding(
                    f"training.{key}",
                    f"{key} `{value}` is not a valid value in transformers {version} (ValueError "
                    f"at start){known}{hint}",
                    fix=f"Set training.{key}: {close[0]}." if close else self.fix,
                )


LORA_MODULE_PATHS = {"attn": "model.layers.0.self_attn.", "mlp": "model.layers.0.mlp."}
"""Where transformers' decoder models (llama, mistral, qwen2, gemma2, phi3) put their linears;
peft matches a target against a module's full name, exactly or as a "."-suffix."""
LORA_ATTN = {"q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj"}
REGEX_CHARS = set(".*|()[]^$\\+?")


def _module_names(arch: Any) -> dict[str, str]:
    """Short name -> full module name, for the linears peft can target in ``arch``."""
    out = {}
    for linear in arch.layer_linears():
        where = "attn" if linear.name in LORA_ATTN else "mlp"
        out[linear.name] = LORA_MODULE_PATHS[where] + linear.name
    out["lm_head"] = "lm_head"
    out["embed_tokens"] = "model.embed_tokens"
    return out


class LoraTargetNotInModel(Rule):
    """
    What it does:
    Flags `lora.target_modules` entries that match no module of the model (when memplan knows
    the model's architecture), with the nearest module name.

    Why is this bad?
    peft matches each target against the model's module names. When none matches,
    `get_peft_model` raises "Target modules ... not found in the base model" at the start of the
    job; when only some match, the rest are dropped without a word, and the run trains a
    different (smaller) adapter than the one configured: `[q_proj, vproj]` adapts `q_proj` only.

    Example:
    ```yaml
    model:
      name: Qwen/Qwen2.5-0.5B
    lora:
      target_modules: [q_proj, vproj]
    ```

    Use instead:
    ```yaml
    model:
      name: Qwen/Qwen2.5-0.5B
    lora:
      target_modules: [q_proj, v_proj]
    ```

    References:
    - peft tuners/tuners_utils.py (inject_adapter: NoMatchingPeftModuleError)
    - memplan's architecture catalog (the linear names of each model family)
    """

    id = "PF506"
    name = "lora-target-not-in-model"
    severity = Severity.ERROR
    title = "A LoRA target module matches no module of the model"
    fix = "Use the model's module names (or all-linear)."
    source_url = "https://huggingface.co/docs/peft/developer_guides/troubleshooting"

    def applies(self, plan: Plan) -> bool:
        return plan.spec.lora is not None and plan.spec.model is not None

    def check(self, plan: Plan) -> Iterator[Finding]:
        import memplan

        spec = plan.spec
        if spec.lora is None or spec.model is None:
            return
        targets = [t for t in spec.lora.target_modules if isinstance(t, str)]
        if not targets or "all-linear" in targets or any(REGEX_CHARS & set(t) for t in targets):
            return  # a regex string is matched by re.fullmatch: not judged here
        try:
            arch = memplan.load_architecture(plan.loaded.model_target() or spec.model.name)
        except (ValueError, OSError):
            return
        if arch.model_type not in {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3"}:
            return  # module names of other families are not in memplan's table
        names = _module_names(arch)
        matched, missing = [], []
        for target in targets:
            hit = any(full == target or full.endswith("." + target) for full in names.values())
            (matched if hit else missing).append(target)
        if not missing:
            return
        hints = []
        for target in missing:
            close = nearest(target, names, n=1)
            hints.append(f"`{target}`" + (f" (did you mean `{close[0]}`?)" if close else ""))
        if matched:
            effect = f"peft adapts only {', '.join(matched)} and drops the rest silently"
        else:
            effect = "peft raises 'Target modules ... not found in the base model' at start"
        yield self.finding(
            "lora.target_modules",
            f"{', '.join(hints)} matches no module of {spec.model.name}: {effect}",
            fix=f"Use {arch.name}'s module names: {', '.join(names)} (or all-linear).",
        )


class LoraDropoutOnMoeExperts(Rule):
    """
    What it does:
    Flags a `lora.dropout` other than 0 when the LoRA targets include MoE expert or router
    weights that peft adapts as parameters (Mixtral, Qwen-MoE and the families peft converts
    under transformers 5; `all-linear` includes them).

    Why is this bad?
    transformers 5 stores each MoE layer's experts as fused tensors, not as one `nn.Linear` per
    expert; peft adapts them with `lora.ParamWrapper`, which cannot put dropout in front of the
    adapter and raises "lora.ParamWrapper does not work with lora_dropout != 0." in
    `get_peft_model`: the job fails at start, after the instance, the image and the model
    download were paid for. (Seen while tracing Qwen3-30B-A3B with all-linear targets.)

    Example:
    ```yaml
    model:
      name: Qwen/Qwen3-30B-A3B
    lora:
      dropout: 0.05
      target_modules: [all-linear]
    ```

    Use instead:
    ```yaml
    model:
      name: Qwen/Qwen3-30B-A3B
    lora:
      dropout: 0.0
      target_modules: [all-linear]
    ```

    References:
    - peft tuners/lora/layer.py (ParamWrapper.__init__: lora_dropout, fan_in_fan_out, lora_bias)
    - peft utils/transformers_weight_conversion.py (MoE target conversion)
    """

    id = "PF507"
    name = "lora-dropout-on-moe-experts"
    severity = Severity.ERROR
    title = "LoRA dropout on MoE expert weights: peft refuses it at start"
    fix = "Set lora.dropout: 0, or leave the experts and router out of lora.target_modules."
    source_url = "https://github.com/huggingface/peft/blob/main/src/peft/tuners/lora/layer.py"

    def applies(self, plan: Plan) -> bool:
        lora = plan.spec.lora
        return lora is not None and plan.spec.model is not None and bool(lora.dropout)

    def check(self, plan: Plan) -> Iterator[Finding]:
        import memplan
        from memplan.params import parameter_targets

        spec = plan.spec
        if spec.lora is None or spec.model is None or not spec.lora.dropout:
            return
        targets = tuple(t for t in spec.lora.target_modules if isinstance(t, str))
        try:
            arch = memplan.load_architecture(plan.loaded.model_target() or spec.model.name)
        except (ValueError, OSError):
            return
        params = parameter_targets(arch, targets)
        if not params:
            return
        where = ", ".join(p.removeprefix("model.layers.{i}.") for p in params)
        yield self.finding(
            "lora.dropout",
            f"lora.dropout {spec.lora.dropout} with targets that adapt {arch.name}'s {where} as "
            "parameters: peft raises 'lora.ParamWrapper does not work with lora_dropout != 0' "
            "in get_peft_model",
        )
