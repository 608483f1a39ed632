"""PF2xx: Trainer's saving, rotation, best-model and resume semantics.

Every rule reads the values Trainer would use (stated, else its default) through the helpers of
``sync.py``. Facts: shared/research/trainer-and-lint-facts.md section 1 (transformers 5.23/5.24
``training_args.py``, ``trainer.py``, ``trainer_utils.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from .base import Rule
from .sync import (
    cutoff_reason,
    eval_strategy,
    is_under,
    on_sagemaker,
    save_every_steps,
    save_strategy,
    saves_checkpoints,
    synced_to_s3,
    total_steps,
    training_value,
)

if TYPE_CHECKING:
    from ..plan import Plan

INPUT_CHANNELS = "/opt/ml/input/data"
"""Where SageMaker puts each input channel before the script starts, at every (re)start."""
SYNC_DOC_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html"
TRAINER_DOC = (
    "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"
)


def best_model(plan: Plan) -> bool:
    return bool(training_value(plan, "load_best_model_at_end"))


class NoCheckpoints(Rule):
    """
    What it does:
    Flags `save_strategy: "no"`: the run never writes a checkpoint.

    Why is this bad?
    Anything that stops the job before its last line (timeout, spot reclaim, OOM on a long
    batch, a node failure) throws the whole run away; there is nothing to resume from and no
    intermediate model to salvage.

    Example:
    ```yaml
    training:
      save_strategy: "no"
    ```

    Use instead:
    ```yaml
    training:
      save_strategy: steps
      save_steps: 1000
    ```

    References:
    - transformers TrainingArguments.save_strategy
    - Boise-State-Development/agentcore-public-stack PR #1024 (whole budget spent, nothing saved)
    """

    id = "PF201"
    name = "no-checkpoints"
    severity = Severity.ERROR
    title = "The job never saves a checkpoint"
    fix = "Set training.save_strategy: steps with a save_steps the run reaches."
    source_url = TRAINER_DOC
    consequence = "run"

    def check(self, plan: Plan) -> Iterator[Finding]:
        if save_strategy(plan) != "no":
            return
        yield self.finding(
            "training.save_strategy",
            'save_strategy is "no": a stop, timeout or crash loses the whole run',
        )


class RotationLeavesNothing(Rule):
    """
    What it does:
    Flags `save_total_limit: 1` where it can leave no complete checkpoint to resume from: on a
    SageMaker job whose checkpoints are synced to S3 (`output_dir` inside
    `checkpoint_local_path`, with `checkpoint_s3_uri`). With `load_best_model_at_end` and no S3
    sync it only notes (info) that a clean finish deletes every checkpoint but the best.

    Why is this bad?
    Locally, rotation is safe: Trainer deletes the old checkpoint only after the new one is fully
    written (`_save_checkpoint` writes model, optimizer, `trainer_state.json`, then calls
    `rotate_checkpoints`), so a save cut off half-way leaves the previous one on disk. On
    SageMaker the copy to S3 runs beside training (AWS documents the sync as "real time", not
    its trigger or latency; the training process never waits for it), and a deletion in the
    container is mirrored in S3: with a limit of 1, the moment rotation deletes the previous
    checkpoint S3 holds only the new one, still uploading. A stop or spot reclaim in that window
    leaves S3, the only copy a restarted job gets back, with no complete checkpoint. (With
    `load_best_model_at_end`, rotation keeps the best as well, except when the newest is the
    best.) A limit of 2 always keeps one complete older checkpoint. At the end of a clean finish
    with `load_best_model_at_end`, a limit of 1 makes Trainer delete every checkpoint but the
    best, the latest included: the run cannot be continued from its last step.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      save_total_limit: 1
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      save_total_limit: 2
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - transformers 5.24 trainer.py `_save_checkpoint` (rotation after the new checkpoint is
      written) and the end-of-train cleanup for save_total_limit 1; trainer_utils.py
      `rotate_checkpoints` (shared/research/trainer-and-lint-facts.md 1.2)
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html (checkpoints are
      copied to S3 while the job runs; "If a checkpoint is deleted in the SageMaker container,
      it will also be deleted in the S3 folder"; shared/research/catalog-facts.md 3.2)
    - huggingface/transformers#25129, #35070 (limit 1 with best tracking deletes the latest)
    """

    id = "PF202"
    name = "rotation-leaves-nothing"
    severity = Severity.WARNING
    title = "save_total_limit 1 with S3 sync can leave no complete checkpoint in S3"
    fix = "Set save_total_limit to at least 2, or leave it unset."
    source_url = SYNC_DOC_URL
    consequence = "run"

    def check(self, plan: Plan) -> Iterator[Finding]:
        limit = training_value(plan, "save_total_limit")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit != 1:
            return
        if not saves_checkpoints(plan):
            return
        best = best_model(plan)
        if synced_to_s3(plan):
            end = (
                "; and at a clean finish Trainer deletes every checkpoint but the best"
                if best
                else ""
            )
            yield self.finding(
                "training.save_total_limit",
                "save_total_limit 1 with checkpoints synced to S3: rotation deletes the previous "
                "checkpoint (in S3 too) as soon as the new one is written, while the new one is "
                "still uploading; a stop in that window leaves S3 with no complete checkpoint "
                f"to resume from{end}",
            )
        elif best:
            yield self.finding(
                "training.save_total_limit",
                "save_total_limit 1 with load_best_model_at_end: at a clean finish Trainer "
                "deletes every checkpoint except the best, the latest included, so the run "
                "cannot be continued from its last step",
                severity=Severity.INFO,
            )


class BestModelWithoutEvaluation(Rule):
    """
    What it does:
    Flags `save_strategy: best` or `load_best_model_at_end: true` while `eval_strategy` is
    "no" (its default).

    Why is this bad?
    `save_strategy: best` saves only when an evaluation reports a new best metric: with no
    evaluation it never saves, silently. `load_best_model_at_end` without evaluation raises a
    ValueError when TrainingArguments is built, after the instance is paid for.

    Example:
    ```yaml
    training:
      save_strategy: best
    ```

    Use instead:
    ```yaml
    training:
      save_strategy: best
      eval_strategy: steps
      eval_steps: 500
      metric_for_best_model: eval_loss
    ```

    References:
    - transformers trainer.py `_maybe_log_save_evaluate` (save only on a new best)
    - transformers training_args.py `__post_init__` (load_best_model_at_end checks)
    """

    id = "PF203"
    name = "best-model-without-evaluation"
    severity = Severity.ERROR
    title = "Best-model saving is on but nothing is evaluated"
    fix = "Set training.eval_strategy (and eval_steps), or use save_strategy: steps."
    source_url = TRAINER_DOC

    def check(self, plan: Plan) -> Iterator[Finding]:
        if eval_strategy(plan) != "no":
            return
        if save_strategy(plan) == "best":
            yield self.finding(
                "training.save_strategy",
                'save_strategy "best" with eval_strategy "no": no evaluation ever reports a '
                "best metric, so no checkpoint is ever written",
            )
        elif best_model(plan):
            yield self.finding(
                "training.load_best_model_at_end",
                'load_best_model_at_end with eval_strategy "no": TrainingArguments raises a '
                "ValueError at start (the strategies must match)",
            )


class BestModelStrategyMismatch(Rule):
    """
    What it does:
    With `load_best_model_at_end`, checks that `eval_strategy` equals `save_strategy` and, for
    "steps", that `save_steps` is a multiple of `eval_steps` (both absolute or both ratios).

    Why is this bad?
    TrainingArguments raises a ValueError for either mismatch when the job starts. The check is
    cheap here and costly on a GPU instance.

    Example:
    ```yaml
    training:
      load_best_model_at_end: true
      eval_strategy: steps
      eval_steps: 300
      save_strategy: steps
      save_steps: 1000
    ```

    Use instead:
    ```yaml
    training:
      load_best_model_at_end: true
      eval_strategy: steps
      eval_steps: 500
      save_strategy: steps
      save_steps: 1000
    ```

    References:
    - transformers training_args.py `__post_init__` (load_best_model_at_end requirements)
    """

    id = "PF204"
    name = "best-model-strategy-mismatch"
    severity = Severity.ERROR
    title = "load_best_model_at_end with mismatched save and eval schedules"
    fix = "Use the same eval_strategy and save_strategy, and save_steps a multiple of eval_steps."
    source_url = TRAINER_DOC

    def check(self, plan: Plan) -> Iterator[Finding]:
        if not best_model(plan):
            return
        save, ev = save_strategy(plan), eval_strategy(plan)
        if save == "best" or ev == "no":
            return  # "best" is exempt; no evaluation at all is PF203
        if save != ev:
            yield self.finding(
                "training.eval_strategy",
                f'load_best_model_at_end needs eval_strategy == save_strategy, got "{ev}" and '
                f'"{save}" (ValueError at start)',
            )
            return
        if save != "steps":
            return
        s = training_value(plan, "save_steps", 500)
        e = training_value(plan, "eval_steps")
        if e is None:
            e = training_value(plan, "logging_steps", 500)  # Trainer's fallback for eval_steps
        if not isinstance(s, int | float) or not isinstance(e, int | float) or s <= 0 or e <= 0:
            return
        if (s < 1) != (e < 1):
            yield self.finding(
                "training.save_steps",
                f"save_steps {s:g} and eval_steps {e:g} mix a ratio and a step count "
                "(ValueError at start with load_best_model_at_end)",
            )
            return
        ratio = s / e
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            yield self.finding(
                "training.save_steps",
                f"save_steps {s:g} is not a multiple of eval_steps {e:g} "
                "(ValueError at start with load_best_model_at_end)",
                fix=f"Set save_steps to a multiple of {e:g}, e.g. {max(round(ratio), 1) * e:g}.",
            )


class BestModelOnInterruptibleJob(Rule):
    """
    What it does:
    Flags `load_best_model_at_end: true` on a job that can be stopped before it ends: every
    SageMaker job (MaxRuntime) and every spot job.

    Why is this bad?
    The best checkpoint is loaded only after a clean finish. A timed-out or interrupted job never
    gets there, and the best checkpoint still takes one of the `save_total_limit` slots, so fewer
    recent checkpoints survive. The seed job relied on it and hit its 7-day limit.

    Example:
    ```yaml
    training:
      load_best_model_at_end: true
      eval_strategy: steps
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    training:
      load_best_model_at_end: false
      eval_strategy: steps
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - transformers trainer.py (best model loaded at the end of `train()` only)
    - seed story (shared/seed): load_best_model_at_end assumed a clean finish
    """

    id = "PF205"
    name = "best-model-on-interruptible-job"
    severity = Severity.WARNING
    title = "load_best_model_at_end relies on a clean finish the job may not reach"
    fix = (
        "Set load_best_model_at_end: false and pick the best checkpoint afterwards from "
        "trainer_state.json's log_history."
    )
    source_url = TRAINER_DOC
    consequence = "progress"

    def check(self, plan: Plan) -> Iterator[Finding]:
        reason = cutoff_reason(plan)
        if reason is None or not best_model(plan):
            return
        yield self.finding(
            "training.load_best_model_at_end",
            f"load_best_model_at_end only acts after a clean finish, and this is {reason}; "
            "the best checkpoint also takes a save_total_limit slot",
        )


class SaveOnlyModelOnInterruptibleJob(Rule):
    """
    What it does:
    Flags `save_only_model: true` on a job that may have to resume (SageMaker, spot).

    Why is this bad?
    Those checkpoints hold no optimizer, scheduler or RNG state. Resuming from one silently
    starts a fresh AdamW and restarts the learning-rate schedule (warm-up included): the loss
    spikes and the run is not the one planned.

    Example:
    ```yaml
    training:
      save_only_model: true
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
    ```

    Use instead:
    ```yaml
    training:
      save_only_model: false
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
    ```

    References:
    - transformers trainer.py `_load_optimizer_and_scheduler` (skips missing files silently)
    - huggingface/transformers PR #46826 (docs: the optimizer restarts from scratch)
    """

    id = "PF206"
    name = "save-only-model-on-interruptible-job"
    severity = Severity.WARNING
    title = "save_only_model checkpoints cannot resume the optimizer and LR schedule"
    fix = "Set save_only_model: false on jobs that may resume."
    source_url = TRAINER_DOC
    consequence = "progress"

    def check(self, plan: Plan) -> Iterator[Finding]:
        reason = cutoff_reason(plan)
        if reason is None or not bool(training_value(plan, "save_only_model")):
            return
        yield self.finding(
            "training.save_only_model",
            f"save_only_model on {reason}: a resume would restart AdamW and the LR schedule "
            "from scratch, silently",
        )


class NoSigtermSave(Rule):
    """
    What it does:
    Warns when a SageMaker or spot job does not save on SIGTERM (`enable_jit_checkpoint`, added
    in transformers 5.0, is false). `trainjob run` installs its own SIGTERM save, so jobs
    launched through it are covered either way. Silent on a launch whose entry point is a
    shell command (`entry_point="train.sh"`): the code that trains is not seen, and the advice
    is Trainer's. Like every *progress* rule it is silent on a demo (a MaxRuntime of an hour or
    less, for one).

    Why is this bad?
    SageMaker sends SIGTERM at MaxRuntime and on StopTrainingJob, and kills the container 120 s
    later. Without a handler the process dies at once and everything since the last periodic
    checkpoint is lost: up to one whole save interval.

    Example:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    training:
      enable_jit_checkpoint: true
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    - huggingface/transformers PR #41723 (enable_jit_checkpoint)
    """

    id = "PF207"
    name = "no-sigterm-save"
    severity = Severity.WARNING
    title = "No checkpoint is saved when SageMaker sends SIGTERM"
    fix = "Set training.enable_jit_checkpoint: true (transformers >= 5), or launch with trainjob."
    source_url = (
        "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html"
    )
    consequence = "progress"

    def check(self, plan: Plan) -> Iterator[Finding]:
        reason = cutoff_reason(plan)
        if reason is None or save_strategy(plan) == "no":
            return
        if bool(training_value(plan, "enable_jit_checkpoint")):
            return
        if getattr(plan.loaded, "entry_command", None):
            return  # a shell entry point (NVIDIA's BERT train.sh): no Trainer seen to advise
        from .arguments import fields_for

        version, fields = fields_for(plan)
        if "enable_jit_checkpoint" in fields:
            yield self.finding(
                "training.enable_jit_checkpoint",
                f"this is {reason}, and nothing saves on SIGTERM: work since the last checkpoint "
                "is lost when it is stopped (trainjob run adds a SIGTERM save)",
            )
            return
        # the release the job runs with has no enable_jit_checkpoint: a fix that exists there
        yield self.finding(
            "training.enable_jit_checkpoint",
            f"this is {reason}, and nothing saves on SIGTERM in transformers {version}: work "
            "since the last checkpoint is lost when it is stopped",
            fix="Launch with trainjob (it adds a SIGTERM save), add a SIGTERM handler that calls "
            "trainer.save_model(), or move to transformers >= 5.0 and set enable_jit_checkpoint.",
        )


class ResumeFromNowhere(Rule):
    """
    What it does:
    Checks `training.resume_from_checkpoint` when it is a path: on SageMaker it must be under
    `compute.checkpoint_local_path` (restored from S3 at each start) or an input channel
    (`/opt/ml/input/data/<channel>`, downloaded or mounted at each start: the SMP v2 examples
    resume from an FSx channel); locally it must exist.

    Why is this bad?
    Trainer ignores the TrainingArguments field itself; scripts pass it to `train()`. A path
    nothing restores makes the first attempt fail with "Can't find a valid checkpoint", or, when
    the script skips a missing path, makes every restart begin from step 0.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      resume_from_checkpoint: /opt/ml/model/checkpoint-1000
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      resume_from_checkpoint: /opt/ml/checkpoints/checkpoint-1000
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - transformers training_args.py (resume_from_checkpoint is not used by Trainer directly)
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-access-training-data.html (input
      channels under /opt/ml/input/data/<channel>, File mode copies them in before training)
    """

    id = "PF208"
    name = "resume-from-nowhere"
    severity = Severity.WARNING
    title = "resume_from_checkpoint points where no checkpoint will be"
    fix = (
        "Point resume_from_checkpoint inside the synced checkpoint directory (or an input "
        "channel holding the checkpoint), or remove it."
    )
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html"

    def check(self, plan: Plan) -> Iterator[Finding]:
        value = plan.spec.training.values.get("resume_from_checkpoint")
        if not isinstance(value, str) or not value or value.lower() in ("true", "false"):
            return
        compute = plan.spec.compute
        if on_sagemaker(plan):
            local = compute.checkpoint_local_path if compute else "/opt/ml/checkpoints"
            if is_under(value, INPUT_CHANNELS):
                return  # an input channel: downloaded (or mounted) again at every start
            if not is_under(value, local):
                yield self.finding(
                    "training.resume_from_checkpoint",
                    f"`{value}` is outside `{local}`, the only directory SageMaker restores from "
                    "S3 when a job (re)starts",
                )
            return
        path = Path(value)
        if not path.is_absolute():
            path = plan.loaded.path.parent / path
        if not path.exists():
            yield self.finding(
                "training.resume_from_checkpoint",
                f"`{value}` does not exist ({path}): train() fails with "
                '"Can\'t find a valid checkpoint"',
            )


class EvaluationWithoutEvalData(Rule):
    """
    What it does:
    Flags an `eval_strategy` other than "no" when the spec's `data:` section names no `eval`
    dataset.

    Why is this bad?
    Trainer raises a ValueError at construction when evaluation is on and no `eval_dataset` is
    given. (A script that carves an eval split out of the train set is fine: silence the rule
    with a reason.)

    Example:
    ```yaml
    data:
      train: s3://my-bucket/train.jsonl
    training:
      eval_strategy: steps
    ```

    Use instead:
    ```yaml
    data:
      train: s3://my-bucket/train.jsonl
      eval: s3://my-bucket/eval.jsonl
    training:
      eval_strategy: steps
    ```

    References:
    - transformers trainer.py `Trainer.__init__` (eval_strategy without eval_dataset)
    """

    id = "PF209"
    name = "evaluation-without-eval-data"
    severity = Severity.WARNING
    title = "Evaluation is on but no eval dataset is named"
    fix = "Set data.eval, or eval_strategy: no."
    source_url = TRAINER_DOC
    requires = ("data",)

    def applies(self, plan: Plan) -> bool:
        return eval_strategy(plan) != "no"

    def check(self, plan: Plan) -> Iterator[Finding]:
        data = plan.spec.data  # evaluation is on: applies() said so
        if data is None or data.eval:
            return
        if plan.loaded.stated is not None and not plan.stated("data"):
            return  # a partial source that says nothing about data: unknown, not missing
        yield self.finding(
            "training.eval_strategy",
            f'eval_strategy "{eval_strategy(plan)}" but data.eval is not set: Trainer raises '
            "a ValueError without an eval_dataset",
        )


#: PF210's fix for a single-epoch run saved per epoch: the step count may be unknown, a ratio
#: of the run is not (Trainer reads a save_steps below 1 as a share of the total steps).
EPOCH_RATIO_FIX = 'Set save_strategy "steps" and save_steps 0.1 (a save every tenth of the run).'


class FirstSaveAfterRunEnds(Rule):
    """
    What it does:
    Compares the steps between saves with the run's total optimizer steps (`max_steps`, or the
    cost model's count from the data size), and flags `save_strategy: epoch` on a single-epoch
    run, or with a `max_steps` that ends the run inside its first epoch (an epoch is one pass over
    the data whatever `num_train_epochs` says).

    Why is this bad?
    If the first periodic save comes after the last step, the only checkpoint is the final one,
    written at the very end: a run cut off at 99% leaves nothing. `save_steps` counts optimizer
    steps (after gradient accumulation), so a large `gradient_accumulation_steps` easily pushes
    it past the end.

    Example:
    ```yaml
    training:
      max_steps: 800
      save_steps: 1000
    ```

    Use instead:
    ```yaml
    training:
      max_steps: 800
      save_steps: 200
    ```

    References:
    - transformers trainer_callback.py `DefaultFlowCallback.on_step_end`
    - huggingface/transformers PR #28500 (max_steps < save_steps)
    """

    id = "PF210"
    name = "first-save-after-run-ends"
    severity = Severity.WARNING
    title = "The run ends before its first periodic checkpoint"
    fix = "Lower save_steps (or use a ratio such as 0.05) so several saves happen during the run."
    source_url = "https://github.com/huggingface/transformers/pull/28500"
    consequence = "run"

    def check(self, plan: Plan) -> Iterator[Finding]:
        steps = total_steps(plan)
        kind = save_strategy(plan)
        if kind == "epoch":
            epochs = float(training_value(plan, "num_train_epochs") or 3.0)
            max_steps = training_value(plan, "max_steps")
            capped = isinstance(max_steps, int) and max_steps > 0
            if epochs <= 1 and not capped:
                yield self.finding(
                    "training.save_strategy",
                    f'save_strategy "epoch" with num_train_epochs {epochs:g}: the only '
                    "checkpoint is written at the very end of the run",
                    fix=EPOCH_RATIO_FIX,
                )
            per_epoch = save_every_steps(plan)  # one pass over the data: the cost model's
            if capped and steps is not None and per_epoch is not None and per_epoch > steps:
                yield self.finding(
                    "training.save_strategy",
                    f'save_strategy "epoch" with max_steps {max_steps:,}: an epoch is '
                    f"{per_epoch:,} optimizer steps, so the run stops before its first epoch "
                    "save and the only checkpoint is the final one",
                    fix=f'Set save_strategy "steps" and save_steps to at most '
                    f"{max(steps // 10, 1):,} (a tenth of the run).",
                )
            return
        every = save_every_steps(plan)
        if steps is None or every is None or every <= steps:
            return
        yield self.finding(
            "training.save_steps",
            f"save_steps {every:,} is more than the run's {steps:,} optimizer steps: the only "
            "checkpoint is the final one",
            fix=f"Set save_steps to at most {max(steps // 10, 1):,} (a tenth of the run).",
        )


#: Batches a resume fast-forwards through before training continues; above this the skip takes
#: long enough to notice (huggingface/transformers#11284: 28 h for 660k batches).
SKIP_BATCHES_WARN = 100_000


class SlowResumeDataSkip(Rule):
    """
    What it does:
    Estimates how many batches a resume near the end of an epoch must skip (Trainer replays the
    data loader up to the saved position unless `ignore_data_skip` is true) and flags more
    than 100,000.

    Why is this bad?
    The skip loads and collates every skipped batch: with millions of examples a restart after a
    spot interruption can spend hours on the GPU bill before the first training step.

    Example:
    ```yaml
    data:
      num_examples: 19500000
    training:
      per_device_train_batch_size: 1
      gradient_accumulation_steps: 16
    ```

    Use instead:
    ```yaml
    data:
      num_examples: 19500000
    training:
      per_device_train_batch_size: 1
      gradient_accumulation_steps: 16
      ignore_data_skip: true
    ```

    References:
    - transformers trainer.py `_inner_training_loop` (skip of `steps_trained_in_current_epoch`)
    - huggingface/transformers#11284 (28 h to skip 660k batches)
    """

    id = "PF211"
    name = "slow-resume-data-skip"
    severity = Severity.INFO
    title = "Resuming would replay a very large number of batches"
    fix = (
        "Set ignore_data_skip: true (and shuffle with a new seed on resume), or split the data "
        "into smaller epochs."
    )
    source_url = "https://github.com/huggingface/transformers/issues/11284"
    consequence = "progress"
    requires = ("data",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        data = plan.spec.data
        if data is None or not data.num_examples:
            return
        if bool(training_value(plan, "ignore_data_skip")):
            return
        batch = int(training_value(plan, "per_device_train_batch_size") or 8)
        gpus = plan.spec.compute.instance_count if plan.spec.compute else 1
        batches_per_epoch = data.num_examples // max(batch * gpus, 1)
        steps = total_steps(plan)
        gas = int(training_value(plan, "gradient_accumulation_steps") or 1)
        if steps is not None:
            batches_per_epoch = min(batches_per_epoch, steps * gas)
        if batches_per_epoch < SKIP_BATCHES_WARN:
            return
        yield self.finding(
            "training.ignore_data_skip",
            f"a resume late in an epoch replays up to {batches_per_epoch:,} batches before "
            "training continues (ignore_data_skip is false)",
        )


class HubPushAsRecovery(Rule):
    """
    What it does:
    With `push_to_hub: true` on a job that can be cut off and has no S3 checkpoint sync, flags
    `hub_strategy` "end" or "every_save", which do not leave a resumable checkpoint on the Hub.

    Why is this bad?
    "end" pushes only after a clean finish; "every_save" pushes the weights but no optimizer or
    scheduler state, and skips a push while the previous one is still uploading
    (`hub_always_push: false`). Neither lets a stopped run continue.

    Example:
    ```yaml
    training:
      push_to_hub: true
      hub_strategy: end
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    training:
      push_to_hub: true
      hub_strategy: checkpoint
      hub_always_push: true
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - transformers training_args.py (hub_strategy), trainer.py `_push_from_checkpoint`
    - axolotl-ai-cloud/axolotl PR #1049 (skipped pushes, missing Hub checkpoints)
    """

    id = "PF212"
    name = "hub-push-as-recovery"
    severity = Severity.INFO
    title = "Hub pushes would not give a resumable checkpoint"
    fix = "Use hub_strategy: checkpoint with hub_always_push: true, or sync checkpoints to S3."
    source_url = TRAINER_DOC
    consequence = "progress"

    def check(self, plan: Plan) -> Iterator[Finding]:
        if not bool(training_value(plan, "push_to_hub")):
            return
        reason = cutoff_reason(plan)
        compute = plan.spec.compute
        if reason is None or (compute is not None and compute.checkpoint_s3_uri):
            return
        hub = str(training_value(plan, "hub_strategy", "every_save")).lower().rpartition(".")[2]
        if hub == "checkpoint" and bool(training_value(plan, "hub_always_push")):
            return
        if hub in ("end", "every_save"):
            what = (
                "pushes only after a clean finish"
                if hub == "end"
                else ("pushes weights without optimizer state")
            )
        else:
            what = "skips a push while the previous one is uploading (hub_always_push false)"
        yield self.finding(
            "training.hub_strategy",
            f'hub_strategy "{hub}" {what}, and this is {reason} with no S3 checkpoint sync',
        )


def checkpoints_written(plan: Plan) -> tuple[int, str] | None:
    """(checkpoints the run writes, how that was counted), or None when its length is unknown.

    Periodic saves every ``save_every_steps`` plus the final save Trainer forces at the last step
    (DefaultFlowCallback). When the cost model expects the run to outlast ``max_run_hours`` on
    SageMaker, only the saves before the stop are counted: those are the ones rotation acts on.
    """
    steps = total_steps(plan)
    every = save_every_steps(plan)
    if steps is None or every is None:
        return None
    hours = plan.cost.get("hours") if plan.cost else None
    compute = plan.spec.compute
    if (
        on_sagemaker(plan)
        and compute is not None
        and isinstance(hours, int | float)
        and hours > compute.max_run_hours  # the spec's schema keeps max_run_hours > 0
    ):
        reached = int(steps * compute.max_run_hours / hours)
        written = reached // every
        full = steps // every + (1 if steps % every else 0)
        return written, (
            f"before MaxRuntime stops it at {compute.max_run_hours:g} h "
            f"({full:,} if it ran to its {steps:,} steps)"
        )
    written = steps // every + (1 if steps % every else 0)
    return written, f"over its {steps:,} steps, one every {every:,}"


class RetentionDeletesLongRun(Rule):
    """
    What it does:
    On a long run (an expected 24 h or more) or a SageMaker job of unknown length, flags a
    `save_total_limit` that deletes checkpoints as the run goes. It says how many checkpoints
    the run writes, how many survive (with `load_best_model_at_end`, the best plus
    `save_total_limit - 1` of the newest), and what keeping them all would take on disk and in
    S3.

    Why is this bad?
    Rotation deletes the oldest checkpoint after every save, for good: with SageMaker's
    checkpoint sync the deletion reaches the S3 copy too. On a run of days the early and middle
    checkpoints are the only way back from a diverged loss, a bad data shard or a corrupt newest
    save, and the seed job kept 3 of about 150 (`save_total_limit: 3`,
    `load_best_model_at_end: true`, 168 h). A LoRA checkpoint of a 7B model is about 0.1 GB: all
    of them usually cost less than one GPU-hour to keep.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      max_steps: 150000
      save_steps: 1000
      save_total_limit: 3
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 168
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      max_steps: 150000
      save_steps: 5000
      save_total_limit: null
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 168
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - transformers trainer_utils.rotate_checkpoints (keeps max(limit, {newest, best}));
      TrainingArguments.save_total_limit docs: "save_total_limit=5 keeps the 4 most recent plus
      the best" (shared/research/trainer-and-lint-facts.md 1.2)
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html ("If a checkpoint
      is deleted in the SageMaker container, it will also be deleted in the S3 folder")
    - seed story (shared/seed): "Never use save_total_limit with a low value for critical
      long-running training jobs"
    """

    id = "PF213"
    name = "retention-deletes-long-run"
    severity = Severity.WARNING
    title = "save_total_limit deletes the checkpoints of a long run"
    fix = (
        "Set save_total_limit: null (keep every checkpoint; save less often if disk is short), "
        "or a limit that covers the whole run."
    )
    source_url = SYNC_DOC_URL
    consequence = "progress"
    covered_by = ("PF202",)  # a limit too low to resume from says it already, on the same key

    def applies(self, plan: Plan) -> bool:
        limit = training_value(plan, "save_total_limit")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            return False
        return save_strategy(plan) not in ("no", "best")

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..severity import LONG_RUN_HOURS, run_size
        from .limits import DEFAULT_MAX_RUN_HOURS

        limit = int(training_value(plan, "save_total_limit"))
        best = best_model(plan)
        kept = max(limit, 2) if best else limit
        recent = kept - 1 if best else kept
        newest = "the newest checkpoint" if recent == 1 else f"the {recent} newest checkpoints"
        how_kept = f"the best and {newest}" if best else newest
        size = run_size(plan)
        written = checkpoints_written(plan)
        synced = bool(plan.spec.compute and plan.spec.compute.checkpoint_s3_uri)
        where = (
            "on the instance and in S3 (the checkpoint sync mirrors deletions)"
            if synced
            else ("on the instance" if on_sagemaker(plan) else "on disk")
        )
        reason = cutoff_reason(plan)
        compute = plan.spec.compute
        limit_hours = compute.max_run_hours if compute is not None else DEFAULT_MAX_RUN_HOURS
        # Without an expected duration, a SageMaker job allowed a day or more may be a long run.
        may_be_long = reason is not None and limit_hours >= LONG_RUN_HOURS
        hours_known = bool(plan.cost and plan.cost.get("hours") is not None)
        if written is None:
            if size.kind != "unknown" or not may_be_long:
                return
            yield self.finding(
                "training.save_total_limit",
                f"save_total_limit {limit} keeps only {how_kept}, and this is {reason} whose "
                f"length in steps is not known here: every save after the first {kept} deletes "
                f"the oldest {where}, for good",
            )
            return
        count, counted = written
        if count <= kept:
            return
        if (size.kind != "long") if hours_known else not may_be_long:
            return
        cost = self._keep_all_cost(plan, count)
        yield self.finding(
            "training.save_total_limit",
            f"the run writes {count:,} checkpoints {counted}; save_total_limit {limit} keeps "
            f"{how_kept} and deletes {count - kept:,} {where}{cost}",
        )

    @staticmethod
    def _keep_all_cost(plan: Plan, count: int) -> str:
        from .sync import checkpoint_gb, param_counts

        counts = param_counts(plan)
        if counts is None:
            return ""
        one = checkpoint_gb(plan, *counts)
        return (
            f"; keeping all {count:,} takes ~{one * count:,.1f} GB (~{one:.2f} GB each) on disk "
            "and as much in S3"
        )
