"""GPU truth: real training steps on a CUDA GPU, measured, next to memplan's estimates.

NOT RUN YET: no GPU was lent to the task that wrote it. On a machine with one:

    .venv/bin/python benchmarks/memplan/gpu_truth.py            # writes gpu_truth.json/.md
    .venv/bin/python benchmarks/memplan/gpu_truth.py --smoke    # CPU, tiny model, no numbers

Each setup of the accuracy matrix that fits the GPU is built from its config with random
weights directly on the GPU (no download), wrapped by peft as in training, and run for three
steps of forward, backward and optimizer step with ``torch.autocast`` as the Trainer uses it.
Recorded per setup: ``torch.cuda.max_memory_allocated`` (compare with memplan's tensor peak),
``torch.cuda.max_memory_reserved`` (allocator overhead = reserved - allocated) and the device's
used memory from ``torch.cuda.mem_get_info`` (CUDA context = used - reserved). Those two
differences are what ``memplan/constants.py`` assumes today.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from machine import machine
from matrix import describe, setups

from memplan import TrainingSetup, estimate
from memplan.constants import GIB

HERE = Path(__file__).parent


def run_steps(setup: TrainingSetup, device: str, steps: int = 3) -> dict[str, float]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = setup.arch.hf_config_fields()
    model_type = fields.pop("model_type")
    for key in ("architectures", "torch_dtype"):
        fields.pop(key, None)
    fields["use_cache"] = False
    cfg = AutoConfig.for_model(model_type, **fields)
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[
        setup.weight_dtype
    ]
    attn = "eager" if setup.attn_implementation == "eager" else "sdpa"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, dtype=dtype, attn_implementation=attn)
    if setup.lora is not None:
        from peft import LoraConfig, get_peft_model

        targets = setup.lora.target_modules
        model = get_peft_model(
            model,
            LoraConfig(
                r=setup.lora.r,
                lora_alpha=int(setup.lora.alpha),
                lora_dropout=setup.lora.dropout,
                target_modules="all-linear" if "all-linear" in targets else list(targets),
                task_type="CAUSAL_LM",
            ),
        )
    model.train()
    if setup.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    params = [p for p in model.parameters() if p.requires_grad]
    if setup.optimizer == "sgd":
        opt: Any = torch.optim.SGD(params, lr=1e-5)
    elif setup.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        opt = Adafactor(params, lr=1e-5, scale_parameter=False, relative_step=False)
    else:
        opt = torch.optim.AdamW(params, lr=1e-5, fused=device == "cuda")
    amp = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(setup.mixed_precision)
    scaler = torch.amp.GradScaler(device) if setup.mixed_precision == "fp16" else None
    ids = torch.randint(0, setup.arch.vocab_size, (setup.batch_size, setup.seq_len), device=device)
    mask = torch.ones_like(ids)
    if setup.padded:
        mask[0, : setup.seq_len // 8] = 0  # left padding on one row: the mask path
    cuda = device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(steps):
        for _micro in range(min(setup.gradient_accumulation_steps, 2)):
            with torch.autocast(device, dtype=amp, enabled=amp is not None):
                loss = model(input_ids=ids, attention_mask=mask, labels=ids).loss
            if scaler is not None:
                scaler.scale(loss).backward()
            else:
                loss.backward()
            del loss
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
    out = {"seconds": time.perf_counter() - started}
    if cuda:
        torch.cuda.synchronize()
        free, total = torch.cuda.mem_get_info()
        out.update(
            max_allocated=torch.cuda.max_memory_allocated(),
            max_reserved=torch.cuda.max_memory_reserved(),
            device_used=total - free,
            device_total=total,
        )
    del model, opt
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU, no results")
    args = parser.parse_args()
    if args.smoke:
        from memplan import LoraSetup, load_architecture

        setup = TrainingSetup(
            arch=load_architecture("tiny-mistral"),
            batch_size=2,
            seq_len=32,
            weight_dtype="float32",
            mixed_precision="bf16",
            lora=LoraSetup(r=4),
            gradient_checkpointing=True,
            gradient_accumulation_steps=2,
        )
        print(run_steps(setup, "cpu", steps=1))
        return
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU (use --smoke to exercise the code on CPU)")
    capacity = torch.cuda.mem_get_info()[1]
    rows = []
    for cid, setup in setups():
        plan = estimate(setup)
        if plan.peak_bytes > 0.95 * capacity:
            rows.append({"id": cid, "skipped": "estimated peak exceeds this GPU"})
            continue
        try:
            measured = run_steps(setup, "cuda")
        except torch.cuda.OutOfMemoryError as exc:
            rows.append({"id": cid, "oom": str(exc)[:200]})
            torch.cuda.empty_cache()
            continue
        torch.cuda.empty_cache()
        rows.append(
            {
                "id": cid,
                "setup": describe(setup),
                "analytic_tensor_gib": plan.tensor_peak_bytes / GIB,
                "analytic_peak_gib": plan.peak_gib,
                "max_allocated_gib": measured["max_allocated"] / GIB,
                "max_reserved_gib": measured["max_reserved"] / GIB,
                "device_used_gib": measured["device_used"] / GIB,
                "error_allocated": (plan.tensor_peak_bytes - measured["max_allocated"])
                / measured["max_allocated"],
                "seconds": measured["seconds"],
            }
        )
        print(rows[-1], flush=True)
    info = machine()
    info["gpu"] = torch.cuda.get_device_name(0)
    (HERE / "gpu_truth.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
    lines = [
        "# memplan vs a real GPU",
        "",
        f"GPU: {info['gpu']}",
        "",
        "| id | analytic tensor GiB | max allocated GiB | error | max reserved GiB | "
        "device used GiB | memplan peak GiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "max_allocated_gib" not in r:
            lines.append(f"| {r['id']} | {r.get('skipped') or r.get('oom')} ||||||")
            continue
        lines.append(
            f"| {r['id']} | {r['analytic_tensor_gib']:.2f} | {r['max_allocated_gib']:.2f} | "
            f"{100 * r['error_allocated']:+.1f}% | {r['max_reserved_gib']:.2f} | "
            f"{r['device_used_gib']:.2f} | {r['analytic_peak_gib']:.2f} |"
        )
    (HERE / "gpu_truth.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
