"""``trainjob run``: the LoRA fine-tune itself, with every safety of the seed built in.

The order of one run:

1. load the spec and pass the preflight gate (errors refuse the run unless ``--force --reason``);
2. resolve the paths (SageMaker's container contract when ``SM_*`` variables exist);
3. find the newest *valid* checkpoint, moving broken ones aside, and refuse a resume whose batch
   size, max steps or data differ from the checkpoint's plan unless told;
4. build model, tokenizer, LoRA and data; train with the checkpoint guard, the progress bar and
   transformers' own SIGTERM checkpoint (``enable_jit_checkpoint``), to which trainjob adds what
   it lacks: validation and manifest of the SIGTERM save, no re-save of a checkpoint that already
   exists, and a handler for a signal that arrives before training starts;
5. ``finally``: save the adapter and tokenizer to the model dir and a backup, list every
   checkpoint with its size, and append this attempt to ``trainjob-run.json``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import platform
import signal
import time
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .checkpoints import (
    CheckpointCheck,
    find_resume_point,
    folder_bytes,
    human_bytes,
    list_checkpoints,
    validate_checkpoint,
)
from .errors import RunFailed, RunRefused, TrainjobError
from .manifest import Manifest
from .secrets import without_hub_token
from .sm_env import SageMakerEnv, in_sagemaker, read_sagemaker_env

log = logging.getLogger("trainjob")

RECORD_NAME = "trainjob-run.json"
ASSETS_DIR = "trainjob-assets"
FINAL_MARKER = "trainjob-final.json"
# Plan keys that make a resume a different job if they change (batch, length of run, data).
RESUME_KEYS = (
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "world_size",
    "max_steps",
    "num_train_epochs",
    "data_sha256",
    "max_length",
    "model",
)


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


# ----------------------------------------------------------------------------------------------
# entry points


def run_job(spec_path: str | Path, options: RunOptions | None = None) -> RunResult:
    """Run the job a spec describes; raises TrainjobError (and subclasses) for what users can fix."""
    from preflight.spec import load_spec

    from .logs import setup_console_logging

    options = options or RunOptions()
    setup_console_logging(live=options.live)
    early = _EarlyStop()
    early.install()
    try:
        loaded = load_spec(spec_path)
        gate = None
        if options.gate:
            from .gate import run_gate

            gate = run_gate(loaded, force=options.force, reason=options.reason)
        return _Run(loaded, options, gate, early).execute()
    finally:
        early.uninstall()


def main_from_sagemaker_env(spec_path: str | Path, **overrides: Any) -> int:
    """Entry point for a SageMaker training container: paths from ``SM_*``, exit code returned.

    The launch side's entry script calls this with the spec it shipped. Checkpoints go to the
    synced checkpoint dir (``checkpointconfig.json`` LocalPath), the final adapter to
    ``SM_MODEL_DIR`` and a backup to ``SM_OUTPUT_DATA_DIR/final_model``; after a spot restart the
    restored checkpoints are resumed from.
    """
    options = RunOptions(sagemaker=read_sagemaker_env(), live=False, **overrides)
    return run_and_report(spec_path, options)


def run_and_report(spec_path: str | Path, options: RunOptions) -> int:
    """Run and turn the outcome into a DESIGN.md exit code, printing one clear line on failure."""
    from preflight.spec import SpecError

    try:
        result = run_job(spec_path, options)
    except SpecError as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        return 2
    except TrainjobError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted (Ctrl-C); the final adapter was saved if training had started")
        return 130
    if result.outcome == "stopped":
        log.info(
            "stopped on SIGTERM at step %d/%d; %s saved. Run again to resume.",
            result.global_step,
            result.max_steps,
            result.sigterm_checkpoint or "the last checkpoint was",
        )
    return 0


class _EarlyStop:
    """A SIGTERM that arrives before training starts (model download, tokenising) ends the run
    cleanly instead of killing it mid-write; once the Trainer exists, its JIT handler takes over
    and restores this one when training ends."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        log.warning("SIGTERM received before or after training; stopping at the next safe point")

    def install(self) -> None:
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not the main thread (e.g. called from a worker thread)
            self._previous = None

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


# ----------------------------------------------------------------------------------------------
# one run


class _Run:
    def __init__(self, loaded: Any, options: RunOptions, gate: Any, early: _EarlyStop) -> None:
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
        self._previous_sigint: Any = None

    # -- paths ----------------------------------------------------------------------------------

    def _paths(self) -> tuple[Path, Path, Path | None]:
        training = self.spec.training
        if self.sm is not None:
            output_dir = self.sm.checkpoint_dir
            stated = training.values.get("output_dir")
            if stated and Path(stated) != output_dir:
                log.warning(
                    "training.output_dir %s is not the synced checkpoint dir; writing checkpoints "
                    "to %s, the only folder SageMaker syncs to S3 during the job",
                    stated,
                    output_dir,
                )
            return output_dir, self.sm.model_dir, self.sm.output_data_dir / "final_model"
        compute = self.spec.compute
        if (
            compute is not None
            and compute.provider == "sagemaker"
            and self.options.output_dir is None
        ):
            raise RunRefused(
                f"{self._where('compute.provider')}: compute.provider: sagemaker, and this is not a "
                "SageMaker container; launch it with `trainjob launch SPEC`, or pass --output-dir "
                "to train here"
            )
        if self.options.output_dir is not None:
            output_dir = self.options.output_dir
        else:
            stated = training.values.get("output_dir")
            if not stated:
                line = self.loaded.line_of("training")
                where = f"{self.loaded.path}:{line}" if line else str(self.loaded.path)
                raise TrainjobError(
                    f"{where}: training.output_dir: required for trainjob run "
                    "(or pass --output-dir)"
                )
            output_dir = Path(stated)
        model_dir = self.options.model_dir or output_dir / "final-model"
        backup = self.options.backup_dir or output_dir / "final-model-backup"
        return output_dir, model_dir, backup

    def _data_path(self, which: str) -> Path | None:
        data = self.spec.data
        if which == "train" and self.options.data_path is not None:
            return self.options.data_path
        if self.sm is not None:
            names = ("train", "training") if which == "train" else ("eval", "validation", "test")
            for name in names:
                if name in self.sm.channels:
                    return self.sm.channels[name]
        stated = getattr(data, which, None) if data is not None else None
        if which == "train" and stated is None and data is not None:
            stated = data.sample_path
        if stated is None:
            if which == "train":
                raise TrainjobError(
                    f"{self.loaded.path}: data.train: required for trainjob run (a local jsonl "
                    "or csv file, or a folder of them)"
                )
            return None
        if "://" in stated and which == "eval" and self.sm is not None:
            log.warning("data.eval %s has no SM_CHANNEL_EVAL in this job: no evaluation", stated)
            return None
        if "://" in stated:
            raise TrainjobError(
                f"{self._where('data.' + which)}: data.{which}: {stated} is remote; trainjob run "
                "reads local files (SageMaker hands it the channel as SM_CHANNEL_TRAIN)"
            )
        path = Path(stated)
        return path if path.is_absolute() else self.spec_dir / path

    def _where(self, key: str) -> str:
        line = self.loaded.line_of(key)
        return f"{self.loaded.path}:{line}" if line else str(self.loaded.path)

    # -- the run --------------------------------------------------------------------------------

    def execute(self) -> RunResult:
        from .data import read_texts
        from .logs import add_file_log

        output_dir, model_dir, backup_dir = self._paths()
        output_dir.mkdir(parents=True, exist_ok=True)
        file_log = add_file_log(output_dir)
        try:
            _check_final_dir(model_dir)
            if backup_dir is not None:
                _check_final_dir(backup_dir)
            data = self.spec.data
            train_path = self._data_path("train")
            assert train_path is not None
            fields: dict[str, Any] = {
                "fmt": data.format if data else "text",
                "text_field": data.text_field if data else "text",
                "source_field": data.source_field if data else "source",
                "target_field": data.target_field if data else "target",
                "prompt_template": data.prompt_template if data else "{source}\n{target}",
            }
            texts = read_texts(train_path, limit=self.options.data_limit, **fields)
            eval_path = self._data_path("eval")
            eval_texts = read_texts(eval_path, **fields) if eval_path is not None else None
            log.info("data: %d rows from %s", len(texts.texts), train_path)

            manifest = Manifest(output_dir)
            save_only_model = bool(self._training_value("save_only_model"))
            point = find_resume_point(
                output_dir, require_optimizer=not save_only_model, move_aside=_is_rank_zero()
            )
            for check, moved in point.quarantined:
                log.warning(
                    "moved aside invalid %s -> %s (%s); it is kept, not deleted",
                    check.path.name,
                    moved.name,
                    "; ".join(check.problems),
                )
                manifest.mark(check.path.name, "quarantined", f"{moved.name}: {check.problems[0]}")
            if point.quarantined:
                manifest.save()
            return self._train(
                output_dir,
                model_dir,
                backup_dir,
                texts,
                eval_texts,
                manifest,
                point.checkpoint,
                [m.name for _, m in point.quarantined],
            )
        finally:
            logging.getLogger("trainjob").removeHandler(file_log)
            file_log.close()

    def _training_value(self, name: str) -> Any:
        if name in self.options.training_overrides:
            return self.options.training_overrides[name]
        return self.spec.training.get(name)

    def _train(
        self,
        output_dir: Path,
        model_dir: Path,
        backup_dir: Path | None,
        texts: Any,
        eval_texts: Any,
        manifest: Manifest,
        resume: CheckpointCheck | None,
        quarantined: list[str],
    ) -> RunResult:
        import torch

        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_warning()
        hf_logging.disable_progress_bar()
        # peft 0.21 on transformers 5.x warns on every wrap; it is theirs to fix, not the user's.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")

        built = self._build_model(output_dir, texts.texts)
        model, tokenizer = built.model, built.tokenizer
        log.info("model: %s", built.origin)

        from .data import tokenize

        max_length = self.spec.data.max_length if self.spec.data else None
        if max_length is None:
            max_length = getattr(tokenizer, "model_max_length", None)
            if max_length is None or max_length > 1_000_000:
                max_length = getattr(model.config, "max_position_embeddings", None)
        train_tok = tokenize(texts.texts, tokenizer, max_length)
        log.info("tokenised: %s", train_tok.report())
        eval_tok = tokenize(eval_texts.texts, tokenizer, max_length) if eval_texts else None

        args_values, save_total_limit = self._training_arguments(output_dir)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        plan = {
            "per_device_train_batch_size": args_values.get("per_device_train_batch_size", 8),
            "gradient_accumulation_steps": args_values.get("gradient_accumulation_steps", 1),
            "world_size": world,
            "max_steps": args_values.get("max_steps", -1),
            "num_train_epochs": args_values.get("num_train_epochs", 3.0),
            "data_sha256": texts.sha256,
            "num_examples": len(texts.texts),
            "max_length": max_length,
            "model": self.spec.model.name if self.spec.model else None,
        }
        changed = self._check_resume(resume, manifest, plan) if resume is not None else False

        model = self._wrap_lora(model, args_values)

        from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments
        from transformers.trainer_callback import PrinterCallback
        from transformers.trainer_callback import ProgressCallback as HFProgress

        try:
            args = TrainingArguments(**without_hub_token(args_values))
        except (TypeError, ValueError) as exc:
            message = str(exc).splitlines()[0]
            raise TrainjobError(
                f"{self._where('training')}: training: TrainingArguments refused these values: "
                f"{message}"
            ) from None

        from .callbacks import CheckpointGuard, ProgressCallback
        from .progress import ProgressState, Renderer

        progress = ProgressState(started=self.started, usd_per_hour=self._usd_per_hour())
        renderer = Renderer(progress, live=self.options.live)
        save_steps = args.save_steps if args.save_strategy == "steps" else None
        save_steps_int = int(save_steps) if save_steps and save_steps >= 1 else None

        def counted(step: int) -> None:
            progress.checkpoints += 1

        guard = CheckpointGuard(
            output_dir,
            manifest,
            plan,
            save_total_limit=save_total_limit,
            require_optimizer=not args.save_only_model,
            save_steps=save_steps_int,
            canary_steps=self.options.canary_steps,
            canary_seconds=(
                self.options.canary_minutes * 60 if self.options.canary_minutes else None
            ),
            watchdog_poll_seconds=self.options.watchdog_poll_seconds,
            on_checkpoint=counted,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train_tok.examples,
            eval_dataset=eval_tok.examples if eval_tok else None,
            processing_class=tokenizer,
            data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
            callbacks=[guard, ProgressCallback(progress, renderer), *self.options.extra_callbacks],
        )
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(HFProgress)
        self._wrap_jit(trainer, guard, output_dir)

        resumed_from = resume.path.name if resume is not None else None
        if resume is not None and _finished(resume, plan["max_steps"], changed):
            # Trainer would run one extra step past max_steps when resumed at the very end.
            log.info("%s is already at max_steps: nothing left to train", resume.path.name)
            trainer.state.global_step = resume.step
            trainer.state.max_steps = resume.step
            _copy_final(resume.path, [d for d in (model_dir, backup_dir) if d is not None])
            return self._finish(
                "completed",
                trainer,
                output_dir,
                None,
                None,
                manifest,
                resumed_from,
                quarantined,
                train_tok,
                tokenizer,
                trained=False,
            )
        if resume is not None:
            log.info("resuming from %s (newest valid checkpoint)", resume.path)
        if self.early.requested:
            log.warning("SIGTERM arrived before training started; nothing trained, exiting cleanly")
            return self._finish(
                "stopped",
                trainer,
                output_dir,
                None,
                None,
                manifest,
                resumed_from,
                quarantined,
                train_tok,
                tokenizer,
                trained=False,
            )

        outcome = "failed"
        error: BaseException | None = None
        try:
            trainer.train(resume_from_checkpoint=str(resume.path) if resume else None)
            outcome = "stopped" if self.sigterm_step is not None else "completed"
        except BaseException as exc:
            error = exc
            raise self._explain(exc, output_dir, manifest) from None
        finally:
            guard.stop_watchdog()
            renderer.stop()
            if self._previous_sigint is not None:
                signal.signal(signal.SIGINT, self._previous_sigint)
            result = self._finish(
                outcome,
                trainer,
                output_dir,
                model_dir,
                backup_dir,
                manifest,
                resumed_from,
                quarantined,
                train_tok,
                tokenizer,
                trained=True,
                error=error,
            )
        return result

    # -- pieces ---------------------------------------------------------------------------------

    def _build_model(self, output_dir: Path, texts: list[str]) -> Any:
        from .modelbuild import build_from_config, load_model, shallow_config

        model_spec = self.spec.model
        if model_spec is None:
            raise TrainjobError(f"{self.loaded.path}: model: required for trainjob run")
        seed = int(self._training_value("seed") or 42)
        assets = output_dir / ASSETS_DIR
        if self.options.shallow_layers is not None:
            fields, local = shallow_config(
                model_spec.name, self.spec_dir, self.options.shallow_layers
            )
            tokenizer = None
            if local is not None and (local / "tokenizer_config.json").is_file():
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(local)
                if tokenizer.pad_token is None:
                    tokenizer.pad_token = tokenizer.eos_token
            origin = f"{model_spec.name} shallow copy ({fields['num_hidden_layers']} layer(s), random init)"
            return build_from_config(
                fields, texts, assets, seed=seed, origin=origin, tokenizer=tokenizer
            )
        return load_model(
            model_spec.name,
            texts,
            assets,
            seed=seed,
            dtype=model_spec.dtype,
            attn=model_spec.attn_implementation,
            spec_dir=self.spec_dir,
            revision=model_spec.revision,
        )

    def _wrap_lora(self, model: Any, args_values: dict[str, Any]) -> Any:
        lora = self.spec.lora
        if lora is None:
            log.info("no lora section: full fine-tune")
            return model
        from peft import LoraConfig, get_peft_model

        targets: Any = lora.target_modules
        if targets == ["all-linear"]:
            targets = "all-linear"
        config = LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=targets,
            bias=lora.bias,
            task_type="CAUSAL_LM",
        )
        if args_values.get("gradient_checkpointing"):
            model.enable_input_require_grads()
        try:
            wrapped = get_peft_model(model, config)
        except ValueError as exc:
            raise TrainjobError(
                f"{self._where('lora.target_modules')}: lora.target_modules: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        trainable, total = wrapped.get_nb_trainable_parameters()
        log.info(
            "LoRA r=%d on %s: %s trainable of %s parameters",
            lora.r,
            targets,
            f"{trainable:,}",
            f"{total:,}",
        )
        return wrapped

    def _training_arguments(self, output_dir: Path) -> tuple[dict[str, Any], int | None]:
        """The spec's TrainingArguments plus trainjob's overrides, each one logged."""
        import torch

        values = dict(self.spec.training.values)
        values.update(self.options.training_overrides)
        values["output_dir"] = str(output_dir)
        if values.get("enable_jit_checkpoint") is False:
            log.warning(
                "training.enable_jit_checkpoint: false overridden: trainjob saves on SIGTERM"
            )
        values["enable_jit_checkpoint"] = True  # save on SIGTERM (transformers >= 5.0)
        limit = values.pop("save_total_limit", None)
        values["save_total_limit"] = None  # trainjob rotates, after validating the newer save
        values["disable_tqdm"] = True  # trainjob's progress bar replaces tqdm
        values.setdefault("include_num_input_tokens_seen", "non_padding")
        values.setdefault("report_to", "none")
        if values.get("gradient_checkpointing"):
            values.setdefault("gradient_checkpointing_kwargs", {"use_reentrant": False})
        if not torch.cuda.is_available():
            for key in ("bf16", "fp16", "tf32"):
                if values.pop(key, None):
                    log.info(
                        "training.%s: ignored on this machine (no CUDA GPU); training in float32",
                        key,
                    )
            values["use_cpu"] = True
        if limit is not None:
            log.info(
                "save_total_limit=%s is applied by trainjob after each new checkpoint is validated",
                limit,
            )
        return values, limit

    def _check_resume(
        self, resume: CheckpointCheck, manifest: Manifest, plan: dict[str, Any]
    ) -> bool:
        """Refuse a resume into a changed job unless allowed; True when allowed despite changes."""
        entry = manifest.entry(resume.path.name) or {}
        before = entry.get("plan")
        if not before:
            state = json.loads((resume.path / "trainer_state.json").read_text(encoding="utf-8"))
            before = {"max_steps": state.get("max_steps")}
            now_batch = plan["per_device_train_batch_size"] * max(plan["world_size"], 1)
            if state.get("train_batch_size") not in (None, now_batch):
                before["train_batch_size"] = state.get("train_batch_size")
                plan = {**plan, "train_batch_size": now_batch}
            if plan["max_steps"] in (-1, None):
                before.pop("max_steps")
        changed = [
            f"{k}: {before[k]!r} -> {plan.get(k)!r}"
            for k in (*RESUME_KEYS, "train_batch_size")
            if k in before and before[k] != plan.get(k)
        ]
        if not changed:
            return False
        text = "; ".join(changed)
        if self.options.allow_mismatch:
            log.warning(
                "resuming %s although the job changed (--allow-mismatch): %s",
                resume.path.name,
                text,
            )
            return True
        raise RunRefused(
            f"{resume.path} was trained under a different plan: {text}. Resuming would silently "
            "change the job (Trainer does not check). Restore the spec, use a new output_dir, "
            "or pass --allow-mismatch."
        )

    def _wrap_jit(self, trainer: Any, guard: Any, output_dir: Path) -> None:
        """Add what transformers' JIT checkpoint lacks: validate and record the SIGTERM save, and
        skip it when ``checkpoint-<step>`` already exists and is valid (the JIT save would rewrite
        a good checkpoint in place, and a kill during that rewrite would leave none)."""
        jit = next(
            (
                cb
                for cb in trainer.callback_handler.callbacks
                if type(cb).__name__ == "JITCheckpointCallback"
            ),
            None,
        )
        manager = getattr(jit, "jit_manager", None)
        if manager is None:
            log.warning("this transformers has no enable_jit_checkpoint: no save on SIGTERM")
            return
        original = manager.execute_jit_checkpoint

        def jit_save() -> None:
            step = trainer.state.global_step
            self.sigterm_step = step
            folder = output_dir / f"checkpoint-{step}"
            if (
                folder.is_dir()
                and validate_checkpoint(folder, require_optimizer=guard.require_optimizer).valid
            ):
                manager.is_checkpoint_requested = False
                log.info(
                    "SIGTERM: %s already saved and valid; stopping without re-saving", folder.name
                )
                return
            log.info("SIGTERM: saving %s before the grace period ends", folder.name)
            original()
            if trainer.is_world_process_zero():
                guard.after_save(step, "sigterm", epoch=trainer.state.epoch)

        manager.execute_jit_checkpoint = jit_save

        def on_sigint(signum: int, frame: Any) -> None:
            # Ctrl-C locally: the same save-and-stop as SIGTERM; a second Ctrl-C kills.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            manager._sigterm_handler(signum, frame)

        try:
            self._previous_sigint = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:
            pass

    def _usd_per_hour(self) -> float | None:
        compute = self.spec.compute
        if not self.options.cost or compute is None or not compute.instance_type:
            return None
        import costmodel

        instance = costmodel.load_catalog().instance(compute.instance_type)
        try:
            rate = (
                instance.spot_usd_per_hour(compute.region)
                if compute.spot
                else instance.on_demand_usd_per_hour(compute.region)
            )
        except Exception as exc:  # a catalog without a price for this region: no cost shown
            log.info("cost so far not shown: %s", exc)
            return None
        return float(rate) * compute.instance_count

    def _explain(self, exc: BaseException, output_dir: Path, manifest: Manifest) -> BaseException:
        """Turn a training failure into one clear error, after moving any partial save aside."""
        if isinstance(exc, TrainjobError | KeyboardInterrupt):
            if isinstance(exc, RunFailed):
                self._quarantine_partial(output_dir, manifest)
            return exc
        point = self._quarantine_partial(output_dir, manifest)
        good = point.checkpoint.path.name if point.checkpoint else "none"
        if _is_disk_full(exc):
            partial = ", ".join(m.name for _, m in point.quarantined) or "none"
            return RunFailed(
                f"disk full while writing to {output_dir}: {_first_line(exc)}. The partial "
                f"checkpoint was moved aside ({partial}); the last valid checkpoint is {good} "
                "and is intact. Free space (or use a larger volume) and run again to resume."
            )
        if type(exc).__name__ == "OutOfMemoryError":
            return RunFailed(
                f"out of memory at step {self.sigterm_step or '?'}: {_first_line(exc)}. "
                f"Last valid checkpoint: {good}. Lower per_device_train_batch_size or "
                "max_length, or enable gradient_checkpointing (memplan estimate SPEC)."
            )
        log.error("training failed:\n%s", "".join(traceback.format_exception(exc)))
        return RunFailed(
            f"training failed: {type(exc).__name__}: {_first_line(exc)} (traceback in "
            f"{output_dir / 'trainjob.log'}). Last valid checkpoint: {good}."
        )

    def _quarantine_partial(self, output_dir: Path, manifest: Manifest) -> Any:
        try:
            point = find_resume_point(output_dir)
        except OSError:
            from .checkpoints import ResumePoint

            return ResumePoint(checkpoint=None)
        for check, moved in point.quarantined:
            log.warning(
                "moved aside invalid %s -> %s (%s)",
                check.path.name,
                moved.name,
                "; ".join(check.problems),
            )
            manifest.mark(check.path.name, "quarantined", f"{moved.name}: {check.problems[0]}")
        try:
            manifest.save()
        except OSError as exc:
            log.warning("could not update the manifest: %s", _first_line(exc))
        return point

    def _finish(
        self,
        outcome: str,
        trainer: Any,
        output_dir: Path,
        model_dir: Path | None,
        backup_dir: Path | None,
        manifest: Manifest,
        resumed_from: str | None,
        quarantined: list[str],
        tokenized: Any,
        tokenizer: Any,
        *,
        trained: bool,
        error: BaseException | None = None,
    ) -> RunResult:
        """The seed's ``finally``: save the final adapter twice, list checkpoints, keep a record."""
        state = trainer.state
        saved_to: Path | None = None
        is_main = state.is_world_process_zero
        if trained and state.global_step > 0:
            for target in (model_dir, backup_dir):
                if target is None:
                    continue
                try:
                    # every rank calls save_model (FSDP/DeepSpeed gather); it writes on rank 0
                    trainer.save_model(str(target))
                    if not is_main:
                        continue
                    tokenizer.save_pretrained(str(target))
                    (target / FINAL_MARKER).write_text(
                        json.dumps(
                            {"global_step": state.global_step, "outcome": outcome, "at": _now()}
                        ),
                        encoding="utf-8",
                    )
                    log.info(
                        "final %s and tokenizer saved to %s (step %d)",
                        "adapter" if self.spec.lora else "model",
                        target,
                        state.global_step,
                    )
                    saved_to = saved_to or target
                except OSError as exc:
                    log.error("could not save the final model to %s: %s", target, _first_line(exc))
        rows = self._list_checkpoints(output_dir, manifest)
        result = RunResult(
            outcome=outcome,
            global_step=state.global_step,
            max_steps=state.max_steps,
            output_dir=output_dir,
            resumed_from=resumed_from,
            sigterm_checkpoint=f"checkpoint-{self.sigterm_step}"
            if self.sigterm_step is not None
            else None,
            checkpoints=rows,
            quarantined=quarantined,
            final_model_dir=saved_to,
            truncation=tokenized.report(),
        )
        if is_main:
            try:
                self._record(result, error)
            except OSError as exc:
                log.error("could not write %s: %s", RECORD_NAME, _first_line(exc))
        return result

    def _list_checkpoints(self, output_dir: Path, manifest: Manifest) -> list[dict[str, Any]]:
        rows = []
        log.info("=" * 72)
        log.info("SAVED CHECKPOINTS in %s:", output_dir)
        for path in list_checkpoints(output_dir):
            size = folder_bytes(path)
            entry = manifest.entry(path.name) or {}
            status = entry.get("status", "not recorded")
            rows.append(
                {"name": path.name, "bytes": size, "status": status, "kind": entry.get("kind")}
            )
            mark = "[OK]" if status == "valid" else "[??]"
            log.info("  %s %s (%s, %s)", mark, path.name, human_bytes(size), status)
        for path in sorted(output_dir.glob("quarantine-checkpoint-*")):
            log.info("  [--] %s (moved aside, kept)", path.name)
        log.info("Total checkpoints preserved: %d", len(rows))
        return rows

    def _record(self, result: RunResult, error: BaseException | None) -> None:
        path = result.output_dir / RECORD_NAME
        record: dict[str, Any] = {"attempts": []}
        if path.is_file():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                path.rename(path.with_name(f"{RECORD_NAME}.damaged-{int(time.time())}"))
        spec_file = Path(self.loaded.path)
        record.setdefault("attempts", []).append(
            {
                "started_at": self.started_at,
                "finished_at": _now(),
                "spec": str(spec_file),
                "spec_sha256": _sha256_bytes(spec_file.read_bytes())
                if spec_file.is_file()
                else None,
                "gate": self.gate.to_json() if self.gate is not None else {"skipped": True},
                "outcome": result.outcome,
                "error": f"{type(error).__name__}: {_first_line(error)}" if error else None,
                "global_step": result.global_step,
                "max_steps": result.max_steps,
                "resumed_from": result.resumed_from,
                "sigterm_checkpoint": result.sigterm_checkpoint,
                "quarantined": result.quarantined,
                "checkpoints": result.checkpoints,
                "final_model_dir": str(result.final_model_dir) if result.final_model_dir else None,
                "truncation": result.truncation,
                "sagemaker": self.sm is not None,
                "versions": _versions(),
            }
        )
        tmp = path.with_name(f".{RECORD_NAME}.tmp")
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def _is_rank_zero() -> bool:
    """Rank 0 of an ``accelerate launch``/torchrun job, or a single process."""
    return os.environ.get("RANK", "0") == "0"


def _finished(check: CheckpointCheck, planned_max_steps: int | None, changed: bool) -> bool:
    """True when the checkpoint already reached this job's last step.

    With ``max_steps`` stated that is the bound; for an epoch-based job the checkpoint's own
    ``max_steps`` is, unless the plan was changed under ``--allow-mismatch`` (then Trainer decides).
    """
    if planned_max_steps is not None and planned_max_steps > 0:
        return check.step >= planned_max_steps
    if changed:
        return False
    state = json.loads((check.path / "trainer_state.json").read_text(encoding="utf-8"))
    max_steps = state.get("max_steps") or 0
    return bool(max_steps) and check.step >= max_steps


def _copy_final(checkpoint: Path, targets: list[Path]) -> None:
    """Make sure the final dirs hold the finished checkpoint's adapter and tokenizer."""
    import shutil

    for target in targets:
        marker = target / FINAL_MARKER
        if marker.is_file():
            done = json.loads(marker.read_text(encoding="utf-8")).get("global_step")
            if done == checkpoint_step_of(checkpoint):
                continue
        target.mkdir(parents=True, exist_ok=True)
        for file in checkpoint.iterdir():
            if file.is_file() and (
                file.name.startswith(("adapter_", "tokenizer", "special_tokens"))
                or file.name in ("config.json", "model.safetensors")
            ):
                shutil.copy2(file, target / file.name)
        marker.write_text(
            json.dumps(
                {
                    "global_step": checkpoint_step_of(checkpoint),
                    "outcome": "completed",
                    "at": _now(),
                }
            ),
            encoding="utf-8",
        )
        log.info("final adapter copied from %s to %s", checkpoint.name, target)


def checkpoint_step_of(path: Path) -> int:
    return int(path.name.rsplit("-", 1)[1])


def _check_final_dir(path: Path) -> None:
    """Never overwrite a folder trainjob did not write: refuse before training, not after."""
    if path.is_dir() and any(path.iterdir()) and not (path / FINAL_MARKER).is_file():
        raise RunRefused(
            f"{path} already holds files that trainjob did not write; the final model would "
            "overwrite them. Choose another --model-dir/--backup-dir or move them."
        )


def _is_disk_full(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if "No space left on device" in str(seen) or "os error 28" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_line(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else ""
    return text.splitlines()[0] if text else type(exc).__name__


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("preflight-toolkit", "torch", "transformers", "peft", "accelerate", "tokenizers"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out
