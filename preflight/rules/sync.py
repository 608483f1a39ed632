"""PF1xx: where checkpoints are written, and whether they outlive the job that wrote them.

The helpers at the top answer the questions every checkpoint rule asks of a plan (does the job
save at all, does it run on SageMaker, can it be cut off, how many steps between saves); the
other rule modules import them, so every rule resolves Trainer defaults the same way.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan

#: SageMaker's container root; a path under it means the script runs in a SageMaker job.
SAGEMAKER_ROOT = "/opt/ml"
#: Directories SageMaker uploads only once the job ends (model.tar.gz / output.tar.gz).
#: Source: docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html
END_ONLY_DIRS = ("/opt/ml/model", "/opt/ml/output/data", "/opt/ml/output")
SYNC_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html"


# --- plan facts shared by the checkpoint rules -------------------------------------------------


def unresolved(plan: Plan, key: str) -> bool:
    """The source set ``key`` to something a reader could not evaluate (an f-string, a variable).

    Readers leave such a key out of ``stated`` but record where it was written and a note naming
    it; a rule must treat it as unknown, not as absent: ``checkpoint_s3_uri=f"s3://{bucket}/x"``
    is a synced job.
    """
    loaded = plan.loaded
    if loaded.stated is None or key in loaded.stated:
        return False
    return key in loaded.lines or any(n.startswith(f"{key}:") for n in loaded.notes)


def training_value(plan: Plan, name: str, default: Any = None) -> Any:
    """The stated value of a TrainingArguments field, else Trainer's default, else ``default``.

    Trainer's defaults come from the field table (``TrainingSpec.get``); ``default`` is for the
    fields whose Trainer default is None (``output_dir``, ``save_total_limit``) or unknown, so the
    callers here pass none where the table has the value.
    """
    value = plan.spec.training.get(name)
    return default if value is None and default is not None else value


def strategy(plan: Plan, name: str, default: str) -> str:
    """A ``*_strategy`` field as Trainer normalises it: lower case, enum prefix dropped.

    ``default`` (Trainer's own) stands for an explicit None, which a reader of a script can
    record; an unstated field already reads as Trainer's default from the field table.
    """
    raw = plan.spec.training.get(name)
    if raw is None:
        return default
    return str(raw).lower().rpartition(".")[2]


def save_strategy(plan: Plan) -> str:
    return strategy(plan, "save_strategy", "steps")


def eval_strategy(plan: Plan) -> str:
    return strategy(plan, "eval_strategy", "no")


def saves_checkpoints(plan: Plan) -> bool:
    """False only when Trainer would never write a checkpoint."""
    kind = save_strategy(plan)
    if kind == "no":
        return False
    return not (kind == "best" and eval_strategy(plan) == "no")


def output_dir(plan: Plan) -> str:
    """``training.output_dir`` as Trainer resolves it (v5 default: ``trainer_output``).

    Trainer replaces only None (``TrainingArguments.__post_init__``); an empty string stays and
    ``checkpoint-N`` is joined onto it, i.e. written into the current directory: ``.``.
    """
    value = training_value(plan, "output_dir")
    if value is None:
        return "trainer_output"
    return str(value) or "."


def is_under(path: str, root: str) -> bool:
    """Whether POSIX ``path`` is ``root`` or inside it (no filesystem access)."""
    p = posixpath.normpath(path)
    r = posixpath.normpath(root)
    return p == r or p.startswith(r.rstrip("/") + "/")


def on_sagemaker(plan: Plan) -> bool:
    """The job runs in a SageMaker container: says so, or writes under /opt/ml with no compute.

    A script that only builds ``TrainingArguments(output_dir="/opt/ml/...")`` states no
    provider, but that path exists nowhere else: it is a SageMaker training script.
    """
    compute = plan.spec.compute
    if compute is not None:
        return compute.provider == "sagemaker"
    return plan.stated("training.output_dir") and is_under(output_dir(plan), SAGEMAKER_ROOT)


def launch_code_seen(plan: Plan) -> bool:
    """Whether the source holds the launch settings (an estimator, a spec's compute section).

    A training script that only writes under /opt/ml is known to run on SageMaker, but its
    instance, limits and checkpoint sync live in launch code elsewhere: unknown, not absent.
    """
    stated = plan.loaded.stated
    if stated is None:
        return plan.spec.compute is not None
    return any(k.startswith("compute.") and k != "compute.provider" for k in stated)


def checkpoint_local_path(plan: Plan) -> str:
    """The directory SageMaker syncs to ``checkpoint_s3_uri`` (an empty one reads as the
    default ``/opt/ml/checkpoints``, also for a training script seen without its launch code)."""
    compute = plan.spec.compute
    return (compute.checkpoint_local_path if compute is not None else "") or "/opt/ml/checkpoints"


def synced_to_s3(plan: Plan) -> bool:
    """Whether SageMaker copies Trainer's checkpoints to S3 while the job runs.

    That takes ``output_dir`` inside ``checkpoint_local_path`` and a ``checkpoint_s3_uri``
    (docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html). A training script seen
    without its launch code that writes into ``/opt/ml/checkpoints`` counts as synced: that
    directory exists for the sync.
    """
    if not on_sagemaker(plan):
        return False
    if not is_under(output_dir(plan), checkpoint_local_path(plan)):
        return False
    compute = plan.spec.compute
    if compute is None or not launch_code_seen(plan):
        return True
    return bool(compute.checkpoint_s3_uri) or unresolved(plan, "compute.checkpoint_s3_uri")


def cutoff_reason(plan: Plan) -> str | None:
    """Why the job can be stopped before it finishes (spot, MaxRuntime), or None for local."""
    if not on_sagemaker(plan):
        return None
    compute = plan.spec.compute
    known_limit = compute is not None and (
        plan.loaded.stated is None or plan.stated("compute.max_run_hours")
    )
    limit = (
        f"MaxRuntime of {compute.max_run_hours:g} h"
        if compute is not None and known_limit
        else "MaxRuntime, 1 day by default"
    )
    if compute is not None and compute.spot:
        return f"a spot job (interruptions, {limit})"
    return f"a job with a {limit}" if known_limit else f"a SageMaker job ({limit})"


def total_steps(plan: Plan) -> int | None:
    """Optimizer steps of the whole run: the cost model's count, else a stated ``max_steps``."""
    if plan.cost and plan.cost.get("total_steps"):
        return int(plan.cost["total_steps"])
    max_steps = training_value(plan, "max_steps")
    if isinstance(max_steps, int | float) and max_steps > 0:
        return int(max_steps)
    return None


def save_every_steps(plan: Plan) -> int | None:
    """Optimizer steps between checkpoints, as Trainer counts them (ratios resolved)."""
    kind = save_strategy(plan)
    if kind in ("no", "best"):
        return None
    if kind == "epoch":
        # One pass over the data, which only the cost model knows (the data set's size); not
        # total steps / num_train_epochs, which max_steps makes wrong (Trainer then ignores
        # num_train_epochs, but an epoch is still one pass).
        return plan.cost.get("steps_per_epoch") if plan.cost else None
    value = training_value(plan, "save_steps")
    if not isinstance(value, int | float) or value <= 0:
        return None
    if value < 1:
        steps = total_steps(plan)
        return None if steps is None else max(int(value * steps), 1)
    return int(value)


def describe_dir(plan: Plan) -> str:
    """output_dir for a message, saying when it is Trainer's default rather than the user's."""
    where = output_dir(plan)
    if "output_dir" in plan.spec.training.stated:
        return f"`{where}`"
    return f"`{where}` (Trainer's default, output_dir unset)"


# --- rules ---------------------------------------------------------------------------------------


class CheckpointsNotSynced(Rule):
    """
    What it does:
    On SageMaker, checks that Trainer writes its checkpoints inside
    `compute.checkpoint_local_path` (default `/opt/ml/checkpoints`) and that
    `compute.checkpoint_s3_uri` is set, the only combination SageMaker copies to S3 while the job
    runs.

    Why is this bad?
    Anything else stays on the instance until the job ends. A job stopped by MaxRuntime, a spot
    reclaim or a crash loses every checkpoint in it: the seed story lost 168 GPU-hours this way
    (`output_dir: /opt/ml/output/data`, uploaded only at the end). This rule cannot be silenced.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/output/data
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html
    - seed story (shared/seed): checkpoints in /opt/ml/output/data, 7-day timeout, nothing left
    """

    id = "PF101"
    name = "checkpoints-not-synced"
    severity = Severity.ERROR
    title = "Checkpoints are not synced to S3 during the job"
    fix = (
        "Set training.output_dir to compute.checkpoint_local_path (/opt/ml/checkpoints) and "
        "compute.checkpoint_s3_uri to an S3 prefix."
    )
    source_url = SYNC_DOC
    consequence = "run"
    sagemaker_only = True
    silenceable = False

    def applies(self, plan: Plan) -> bool:
        """Only jobs that write Trainer checkpoints: never one that saves nothing by design.

        ``save_strategy: "no"`` saves nothing. A script or launcher that states no training
        argument, no checkpoint setting and no distributed launch (a merge, a data download, an
        estimator whose entry script was not read) shows no evidence of a training job that
        writes checkpoints: nothing to sync.
        """
        if not on_sagemaker(plan) or not saves_checkpoints(plan):
            return False
        stated = plan.loaded.stated
        if stated is None:
            return True  # a job spec: its training section is Trainer's, defaults included
        return bool(plan.spec.training.stated) or any(
            k.startswith("compute.checkpoint") or k == "compute.distributed" for k in stated
        )

    def check(self, plan: Plan) -> Iterator[Finding]:
        if not self.applies(plan):
            return
        compute = plan.spec.compute
        local = checkpoint_local_path(plan)
        # an output_dir a reader could not evaluate is not in ``stated``: unknown, not wrong
        out_known = plan.stated("training.output_dir")
        wrong_dir = out_known and not is_under(output_dir(plan), local)
        uri_unknown = unresolved(plan, "compute.checkpoint_s3_uri") or not launch_code_seen(plan)
        no_uri = compute is not None and not compute.checkpoint_s3_uri and not uri_unknown
        uri_fix = "compute.checkpoint_s3_uri: s3://BUCKET/checkpoints/JOB (same region)"
        if wrong_dir and no_uri:  # one root cause, two keys to change: one finding
            yield self.finding(
                "training.output_dir",
                f"checkpoints go to {describe_dir(plan)}, outside `{local}`, and "
                "compute.checkpoint_s3_uri is not set: SageMaker syncs no checkpoint to S3 while "
                "the job runs, so a timeout or interruption loses them all",
                fix=f"Set training.output_dir: {local} and {uri_fix}.",
            )
        elif wrong_dir:
            yield self.finding(
                "training.output_dir",
                f"checkpoints go to {describe_dir(plan)}, outside `{local}`, the only directory "
                "SageMaker syncs to S3 during the job: a timeout or interruption loses them all",
                fix=f"Set training.output_dir: {local} (and compute.checkpoint_s3_uri).",
            )
        elif no_uri:
            yield self.finding(
                "compute.checkpoint_s3_uri",
                "compute.checkpoint_s3_uri is not set, so SageMaker syncs no checkpoint to S3 "
                "while the job runs; nothing survives a stop, timeout or interruption",
                fix=f"Set {uri_fix}.",
            )


class OutputDirUploadedAtEnd(Rule):
    """
    What it does:
    Flags a `training.output_dir` under `/opt/ml/model` or `/opt/ml/output`, the directories
    SageMaker packs into a tarball and uploads only once the job is over. Where PF101 already
    reports the same `output_dir` (not synced at all), that finding says it; this one remains
    for a directory that is synced and still packed at the end (`checkpoint_local_path` moved
    there).

    Why is this bad?
    Checkpoints there are invisible until the end, lost if the job dies, and inflate
    `model.tar.gz` (every kept checkpoint, optimizer states included) until the final upload can
    fail. `/opt/ml/model` is for the final weights, written once.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/model
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      checkpoint_local_path: /opt/ml/model
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html
    - huggingface/notebooks PR #138 (checkpoints in SM_MODEL_DIR, artifact upload failed)
    """

    id = "PF102"
    name = "output-dir-uploaded-at-end"
    severity = Severity.ERROR
    title = "output_dir is a directory SageMaker uploads only at the end of the job"
    fix = "Write checkpoints to /opt/ml/checkpoints; save only the final model to /opt/ml/model."
    source_url = (
        "https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html"
    )
    consequence = "run"
    covered_by = ("PF101",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        # an unstated output_dir is Trainer's default (``trainer_output``), never under /opt/ml
        if not saves_checkpoints(plan):
            return
        if plan.spec.compute is not None and plan.spec.compute.provider != "sagemaker":
            return
        where = output_dir(plan)
        for root in END_ONLY_DIRS:
            if is_under(where, root):
                place = (
                    f"`{where}` is uploaded"
                    if is_under(root, where)
                    else f"`{where}` is under `{root}`, which is uploaded"
                )
                yield self.finding(
                    "training.output_dir",
                    f"{place} by SageMaker only when the job ends: checkpoints written there are "
                    "lost on a timeout or interruption",
                )
                return


class SpotWithoutCheckpointSync(Rule):
    """
    What it does:
    Flags a managed spot job (`compute.spot: true`) without `compute.checkpoint_s3_uri`.

    Why is this bad?
    On every spot interruption SageMaker restarts the job on a new instance and restores only
    what was synced to `checkpoint_s3_uri`. Without it, each restart begins again from step 0,
    and the job can be billed many times for the same first hours.

    Example:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_wait_hours: 48
    ```

    Use instead:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_wait_hours: 48
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html
    - aws/sagemaker-python-sdk#1040 (every interruption restarted from scratch)
    """

    id = "PF103"
    name = "spot-without-checkpoint-sync"
    severity = Severity.ERROR
    title = "Spot job without checkpoint_s3_uri restarts from scratch after each interruption"
    fix = "Set compute.checkpoint_s3_uri, or run on demand (spot: false)."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html"
    consequence = "run"
    sagemaker_only = True
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        compute = plan.spec.compute
        if compute is None or compute.provider != "sagemaker" or not compute.spot:
            return
        if compute.checkpoint_s3_uri or unresolved(plan, "compute.checkpoint_s3_uri"):
            return
        yield self.finding(
            "compute.spot",
            "spot training without compute.checkpoint_s3_uri: each interruption restarts the "
            "job from step 0 with nothing restored",
        )


def stale_checkpoints(plan: Plan) -> tuple[Path, list[str]]:
    """The local output_dir and the ``checkpoint-*`` dirs it already holds.

    A relative output_dir is looked up next to the spec file first (where the brief's examples
    keep it) and then in the current directory (where ``trainjob run`` resolves it), so a
    leftover run is found whichever way the job is launched.
    """
    written = Path(output_dir(plan))
    candidates = [written]
    if not written.is_absolute():
        candidates = [plan.loaded.path.parent / written, Path.cwd() / written]
    for target in candidates:  # the same folder twice is globbed twice: cheaper than resolving
        found = checkpoint_dirs(target)
        if found:
            return target, found
    return candidates[0], found


def checkpoint_dirs(folder: Path) -> list[str]:
    """Names of the ``checkpoint-*`` directories in ``folder``, in Trainer's numeric order.

    An unreadable or unlistable path (a name too long for the filesystem) holds none.
    """
    try:
        return sorted(
            (p.name for p in folder.glob("checkpoint-*") if p.is_dir()),
            key=lambda n: (len(n), n),
        )
    except OSError:
        return []


class StaleLocalCheckpoints(Rule):
    """
    What it does:
    For a local job, lists `checkpoint-*` directories already present in `training.output_dir`
    (a relative output_dir is looked up next to the spec file, then in the current directory,
    where `trainjob run` puts it).

    Why is this bad?
    `save_total_limit` rotation counts every `checkpoint-*` directory in output_dir, old runs
    included, ordered by modification time: a new run's first checkpoint can be deleted at once
    because older ones fill the quota. `resume_from_checkpoint=True` picks the highest number,
    which may belong to another run, with other hyper-parameters.

    Example:
    ```yaml
    # with runs/demo/checkpoint-500 left on disk from an earlier run
    training:
      output_dir: runs/demo
    compute:
      provider: local
    ```

    Use instead:
    ```yaml
    training:
      output_dir: runs/demo-2
    compute:
      provider: local
    ```

    References:
    - huggingface/transformers PR #37260 (new checkpoint deleted because old ones existed)
    - transformers trainer_utils.rotate_checkpoints / get_last_checkpoint
    """

    id = "PF104"
    name = "stale-local-checkpoints"
    severity = Severity.WARNING
    title = "output_dir already holds checkpoints from another run"
    fix = "Use a fresh output_dir, or move the old checkpoint-* directories away first."
    source_url = "https://github.com/huggingface/transformers/pull/37260"

    def check(self, plan: Plan) -> Iterator[Finding]:
        if not plan.stated("training.output_dir") or on_sagemaker(plan):  # local or unknown
            return
        target, found = stale_checkpoints(plan)
        if not found:
            return
        shown = ", ".join(found[-5:]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        yield self.finding(
            "training.output_dir",
            f"{target} already holds {len(found)} checkpoint dir(s) ({shown}): rotation counts "
            "them and resume would pick the highest, possibly from another run",
        )


#: Bytes per stored weight by model dtype (safetensors keeps the training dtype).
DTYPE_BYTES = {"float32": 4.0, "float16": 2.0, "bfloat16": 2.0, "int8": 1.0, "nf4": 0.5}


def optimizer_bytes_per_param(optim: str) -> float:
    """Bytes of optimizer state per trainable parameter in ``optimizer.pt``.

    AdamW keeps two fp32 moments (8 bytes); bitsandbytes 8-bit variants keep two 1-byte states
    (+ block scales, ignored); SGD keeps one momentum buffer at most; Adafactor keeps factored
    second moments, small enough to ignore here.
    """
    name = optim.lower()
    if "8bit" in name:
        return 2.0
    if "sgd" in name:
        return 4.0
    if "adafactor" in name:
        return 0.0
    return 8.0


def param_counts(plan: Plan) -> tuple[int, int] | None:
    """(total, trainable) parameters from the memory estimate, else from memplan directly."""
    from .memory import memory_json

    mem = memory_json(plan)
    if mem and mem.get("total_params") and mem.get("trainable_params") is not None:
        return int(mem["total_params"]), int(mem["trainable_params"])
    spec = plan.spec
    if spec.model is None:
        return None
    try:
        import memplan

        from ..memory import lora_setup
        from ..spec.loader import model_target

        arch = memplan.load_architecture(model_target(plan.loaded.path, spec.model.name))
        counts = memplan.count_params(arch, lora_setup(spec))
    except (AttributeError, ImportError, ValueError):
        return None
    return int(counts.total), int(counts.trainable)


def checkpoint_gb(plan: Plan, total: int, trainable: int) -> float:
    """Size of one checkpoint directory in GB (10^9 bytes).

    LoRA: adapter tensors in fp32 (peft upcasts adapters of fp16/bf16 models) plus optimizer
    state for them. Full fine-tune: every weight in the model dtype plus optimizer state.
    """
    spec = plan.spec
    # unset reads as Trainer's adamw_torch; a stated None as "None": AdamW's 8 bytes either way
    optim = optimizer_bytes_per_param(str(training_value(plan, "optim")))
    if bool(training_value(plan, "save_only_model")):
        optim = 0.0
    if spec.lora is not None:
        weights = trainable * 4.0
    else:
        dtype = spec.model.dtype if spec.model is not None else "float32"
        weights = total * DTYPE_BYTES[dtype]  # every model.dtype the loader accepts
    return (weights + trainable * optim) / 1e9


#: Local NVMe instance storage (GB) of the GPU training types. On these types SageMaker does not
#: provision the EBS volume of ``VolumeSizeInGB``: datasets, checkpoints and outputs live on the
#: instance storage, whatever volume_size_gb says (ResourceConfig.VolumeSizeInGB, SageMaker API
#: reference; its examples name ml.p4d, ml.g4dn and ml.g5). Sizes: Amazon EC2 instance types,
#: accelerated computing, "Instance store specifications" (docs.aws.amazon.com/ec2/latest/
#: instancetypes/ac.html), copied by hand; g6/g6e sizes were not re-checked against the page.
#: TODO(costmodel): move into costmodel/data/instances.json as ``instance_storage_gb``.
INSTANCE_STORE_GB: dict[str, int] = {
    "ml.g4dn.xlarge": 125,
    "ml.g4dn.2xlarge": 225,
    "ml.g4dn.4xlarge": 225,
    "ml.g4dn.8xlarge": 900,
    "ml.g4dn.12xlarge": 900,
    "ml.g4dn.16xlarge": 900,
    "ml.g5.xlarge": 250,
    "ml.g5.2xlarge": 450,
    "ml.g5.4xlarge": 600,
    "ml.g5.8xlarge": 900,
    "ml.g5.12xlarge": 3800,
    "ml.g5.16xlarge": 1900,
    "ml.g5.24xlarge": 3800,
    "ml.g5.48xlarge": 7600,
    "ml.g6.xlarge": 250,
    "ml.g6.2xlarge": 450,
    "ml.g6.4xlarge": 600,
    "ml.g6.8xlarge": 900,
    "ml.g6.12xlarge": 3760,
    "ml.g6.16xlarge": 1880,
    "ml.g6.24xlarge": 3760,
    "ml.g6.48xlarge": 7520,
    "ml.g6e.xlarge": 250,
    "ml.g6e.2xlarge": 450,
    "ml.g6e.4xlarge": 600,
    "ml.g6e.8xlarge": 900,
    "ml.g6e.12xlarge": 3800,
    "ml.g6e.16xlarge": 1900,
    "ml.g6e.24xlarge": 3800,
    "ml.g6e.48xlarge": 7600,
    "ml.p4d.24xlarge": 8000,
    "ml.p4de.24xlarge": 8000,
    "ml.p5.4xlarge": 3840,
    "ml.p5.48xlarge": 30720,
}


def training_storage(plan: Plan) -> tuple[float, str, bool] | None:
    """(GB, how it is described, whether it is the EBS volume) of the disk holding checkpoints.

    The volume is sized by ``compute.volume_size_gb``; instance storage only by the type.
    """
    compute = plan.spec.compute
    if compute is None:
        return None
    local = INSTANCE_STORE_GB.get(str(compute.instance_type))
    if local is not None:
        return float(local), f"the {local} GB instance storage of {compute.instance_type}", False
    size = compute.volume_size_gb
    return float(size), f"volume_size_gb {size}", True


class CheckpointsExceedVolume(Rule):
    """
    What it does:
    Estimates one checkpoint's size from the parameter counts (LoRA adapter plus its optimizer
    state, or the full model plus optimizer state), multiplies it by the number of checkpoints
    kept (`save_total_limit`, or every save of the run when it is unset), adds the base model's
    download, and compares the sum with the disk that holds them: the instance's local NVMe
    storage on the GPU types that have one (g4dn, g5, g6, g6e, p4d, p5: SageMaker then ignores
    `volume_size_gb`), else `compute.volume_size_gb`.

    Why is this bad?
    A full disk fails in the middle of a save: the newest checkpoint is half written, and resume
    picks it (the highest number) and crashes. A full fine-tune of a 7B model writes about 70 GB
    per checkpoint with AdamW states.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    training:
      output_dir: /opt/ml/checkpoints
      max_steps: 5000
      save_steps: 500
    compute:
      provider: sagemaker
      instance_type: ml.g5.2xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/full-ft
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    training:
      output_dir: /opt/ml/checkpoints
      max_steps: 5000
      save_steps: 500
      save_total_limit: 3
    compute:
      provider: sagemaker
      instance_type: ml.g5.2xlarge
      checkpoint_s3_uri: s3://my-bucket/checkpoints/full-ft
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
      (VolumeSizeInGB: NVMe instance types use their instance storage instead)
    - shared/research/trainer-and-lint-facts.md 1.10 (what a checkpoint directory holds)
    """

    id = "PF105"
    name = "checkpoints-exceed-volume"
    severity = Severity.WARNING
    title = "Kept checkpoints do not fit on the training instance's disk"
    fix = "Lower training.save_total_limit, or give the job more disk (volume or instance size)."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html"
    sagemaker_only = True
    requires = ("compute", "model")

    def check(self, plan: Plan) -> Iterator[Finding]:
        compute = plan.spec.compute
        if compute is None or compute.provider != "sagemaker" or not saves_checkpoints(plan):
            return
        counts = param_counts(plan)
        if counts is None:
            return
        total, trainable = counts
        one = checkpoint_gb(plan, total, trainable)
        limit = training_value(plan, "save_total_limit")
        best = bool(training_value(plan, "load_best_model_at_end"))
        if isinstance(limit, int) and limit > 0:
            kept = max(limit, 2 if best else 1)
            how = f"save_total_limit {limit}"
        else:
            steps = total_steps(plan)
            every = save_every_steps(plan)
            if steps is None or every is None:
                return
            kept = steps // every + 1  # Trainer rotates only for a limit > 0: every save stays
            said = "unset" if limit is None else limit
            how = f"save_total_limit {said}: {kept} saves over {steps:,} steps"
        base = total * 2.0 / 1e9  # the base model's download (hub weights in 16-bit)
        need = kept * one + base
        storage = training_storage(plan)
        if storage is None or need <= storage[0]:
            return
        size, where, on_volume = storage
        if on_volume:
            fix = (
                f"Set compute.volume_size_gb to at least {int(need * 1.2) + 1}, or lower "
                "training.save_total_limit (keeping at least 2)."
            )
        else:
            fix = (
                "Lower training.save_total_limit (keeping at least 2), or pick a larger instance "
                "size: on this type volume_size_gb is ignored."
            )
        yield self.finding(
            "compute.volume_size_gb" if on_volume else "training.save_total_limit",
            f"{kept} checkpoint(s) of ~{one:.1f} GB ({how}) plus the {base:.0f} GB base model "
            f"need ~{need:.0f} GB, more than {where}",
            fix=fix,
        )


class CheckpointsClobberedAcrossNodes(Rule):
    """
    What it does:
    Flags `save_on_each_node: true` on a multi-instance SageMaker job with checkpoint sync.

    Why is this bad?
    Every instance syncs its own `checkpoint_local_path` to the same `checkpoint_s3_uri`
    prefix. With `save_on_each_node`, each node writes `checkpoint-N` under the same names, so
    the uploads overwrite each other and a restored checkpoint can mix files of different nodes.
    Trainer's default (save on the main process only) writes each checkpoint once.

    Example:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      save_on_each_node: true
    compute:
      provider: sagemaker
      instance_type: ml.g5.12xlarge
      instance_count: 2
      distributed: ddp
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    training:
      output_dir: /opt/ml/checkpoints
      save_on_each_node: false
    compute:
      provider: sagemaker
      instance_type: ml.g5.12xlarge
      instance_count: 2
      distributed: ddp
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html (Considerations:
      instances of one job share the S3 prefix)
    - transformers TrainingArguments.save_on_each_node
    """

    id = "PF106"
    name = "checkpoints-clobbered-across-nodes"
    severity = Severity.WARNING
    title = "Several instances write the same checkpoint names to one S3 prefix"
    fix = "Set save_on_each_node: false (the default) so only the main process saves."
    source_url = SYNC_DOC
    sagemaker_only = True
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if c is None or c.provider != "sagemaker" or c.instance_count <= 1:
            return
        if not c.checkpoint_s3_uri or not saves_checkpoints(plan):
            return
        if not bool(training_value(plan, "save_on_each_node")):
            return
        yield self.finding(
            "training.save_on_each_node",
            f"save_on_each_node on {c.instance_count} instances: each writes the same "
            "checkpoint-N names to one checkpoint_s3_uri prefix, overwriting the others",
        )
