"""Peers: what other estimators say for the benchmark matrix, next to the traced reference.

Each peer is re-implemented from its documented rule (no peer is installed or run):

- accelerate ``estimate-memory`` (huggingface/accelerate 1.15.0,
  ``src/accelerate/commands/estimate.py``, ``estimate_training_usage``): the model's fp32 size
  S = 4 bytes x params; "Training using Adam" is max(model, gradients, optimizer, step) =
  4 x S for float32 and 2 x S for float16/bfloat16 (int8/int4 give N/A). Weights and Adam
  only: no activations, no LoRA.
- DeepSpeed's model-state estimator (deepspeedai/DeepSpeed,
  ``deepspeed/runtime/zero/stage_1_and_2.py``, ``estimate_zero2_model_states_mem_needs``,
  without offload): 4 x params + 16 x params / GPUs per GPU. Model states only.
- A typical web-calculator formula (EleutherAI, "Transformer Math 101", 2023, which uses the
  activation rule of Korthikanti et al. 2022, arXiv 2205.05198): weights at the model dtype,
  gradients at the model dtype for trainable parameters, 12 bytes per trainable parameter for
  AdamW (8 for SGD), activations ``s*b*h*L*(34 + 5*a*s/h)`` bytes, or ``2*s*b*h*L`` with full
  recomputation.

    .venv/bin/python benchmarks/memplan/peers.py   # reads accuracy.json, writes peers.json/.md
"""

from __future__ import annotations

import json
from pathlib import Path

from machine import machine
from matrix import setups

from memplan import TrainingSetup, count_params, estimate
from memplan.constants import BYTES, GIB

HERE = Path(__file__).parent


def accelerate_rule(setup: TrainingSetup) -> float | None:
    fp32_size = 4 * count_params(setup.arch).total
    if setup.weight_dtype == "float32":
        return 4.0 * fp32_size
    if setup.weight_dtype in ("float16", "bfloat16"):
        return 2.0 * fp32_size
    return None


def deepspeed_zero2_rule(setup: TrainingSetup) -> float:
    n = count_params(setup.arch, setup.lora).total
    gpus = setup.num_gpus
    return 4.0 * n + 16.0 * n / gpus


def web_calculator_rule(setup: TrainingSetup) -> float:
    arch = setup.arch
    counts = count_params(arch, setup.lora)
    wb = BYTES[setup.weight_dtype]
    weights = counts.total * wb
    grads = counts.trainable * wb
    optim = counts.trainable * (8 if setup.optimizer == "sgd" else 12)
    s, b, h, layers = setup.seq_len, setup.batch_size, arch.hidden_size, arch.num_hidden_layers
    a = arch.num_attention_heads
    if setup.gradient_checkpointing:
        acts = 2.0 * s * b * h * layers
    else:
        acts = s * b * h * layers * (34 + 5 * a * s / h)
    return weights + grads + optim + acts


def main() -> None:
    acc = {r["id"]: r for r in json.loads((HERE / "accuracy.json").read_text())["rows"]}
    rows = []
    for cid, setup in setups():
        traced = acc[cid]["traced_gib"] * GIB
        plan = estimate(setup)
        peers = {
            "memplan": plan.tensor_peak_bytes,
            "accelerate": accelerate_rule(setup),
            "deepspeed_zero2": deepspeed_zero2_rule(setup),
            "web_calculator": web_calculator_rule(setup),
        }
        rows.append(
            {
                "id": cid,
                "traced_gib": round(traced / GIB, 3),
                **{f"{k}_gib": None if v is None else round(v / GIB, 3) for k, v in peers.items()},
                **{
                    f"{k}_error": None if v is None else round((v - traced) / traced, 4)
                    for k, v in peers.items()
                },
            }
        )
    summary = {}
    for peer in ("memplan", "accelerate", "deepspeed_zero2", "web_calculator"):
        errs = [abs(r[f"{peer}_error"]) for r in rows if r[f"{peer}_error"] is not None]
        summary[peer] = {
            "configs": len(errs),
            "mean_abs_error": round(sum(errs) / len(errs), 4),
            "max_abs_error": round(max(errs), 4),
            "within_10_percent": sum(e <= 0.10 for e in errs),
        }
    (HERE / "peers.json").write_text(
        json.dumps({"machine": machine(), "summary": summary, "rows": rows}, indent=2) + "\n"
    )

    def cell(r: dict[str, object], peer: str) -> str:
        gib, err = r[f"{peer}_gib"], r[f"{peer}_error"]
        if gib is None or err is None:
            return "N/A"
        assert isinstance(gib, float) and isinstance(err, float)
        return f"{gib:.1f} ({100 * err:+.0f}%)"

    lines = [
        "# memplan vs other estimators (tensor memory, GiB, error vs traced)",
        "",
        "| estimator | configs | mean abs error | max abs error | within 10% |",
        "|---|---:|---:|---:|---:|",
    ]
    for peer, s in summary.items():
        lines.append(
            f"| {peer} | {s['configs']} | {100 * s['mean_abs_error']:.1f}% | "
            f"{100 * s['max_abs_error']:.1f}% | {s['within_10_percent']} |"
        )
    lines += [
        "",
        "| id | traced | memplan | accelerate | DeepSpeed ZeRO-2 | web calculator |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['id']} | {r['traced_gib']:.1f} | {cell(r, 'memplan')} | "
            f"{cell(r, 'accelerate')} | {cell(r, 'deepspeed_zero2')} | "
            f"{cell(r, 'web_calculator')} |"
        )
    lines.append("")
    (HERE / "peers.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
