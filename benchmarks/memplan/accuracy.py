"""Accuracy: the analytic engine against the traced engine over the benchmark matrix.

Both report tensor memory (what PyTorch's allocator is asked for, before its rounding, the CUDA
context and cuBLAS workspace). The traced figure runs the real transformers + peft code for
one training step on fake tensors (probes of 1 and 2 layers, extrapolated); a second table
checks that extrapolation against whole-model traces of Qwen2.5-0.5B (24 layers).

    .venv/bin/python benchmarks/memplan/accuracy.py   # writes accuracy.json and accuracy.md
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

from machine import machine
from matrix import LONG, describe, setups

from memplan import LoraSetup, TrainingSetup, estimate, load_architecture
from memplan.constants import GIB
from memplan.trace import _steady_state, probe, trace

HERE = Path(__file__).parent


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    for cid, setup in setups(long=True):
        started = time.perf_counter()
        traced = trace(setup)
        plan = estimate(setup)
        err = (plan.tensor_peak_bytes - traced.peak) / traced.peak
        rows.append(
            {
                "id": cid,
                "model": setup.arch.name,
                "setup": describe(setup),
                "traced_gib": round(traced.peak / GIB, 3),
                "analytic_gib": round(plan.tensor_peak_bytes / GIB, 3),
                "error": round(err, 5),
                "traced_phase": max(traced.phase_peaks, key=lambda p: traced.phase_peaks[p]),
                "analytic_phase": plan.peak_phase,
                "peak_with_overheads_gib": round(plan.peak_gib, 3),
                "trace_seconds": round(time.perf_counter() - started, 2),
            }
        )
        print(
            f"{cid:28s} traced {rows[-1]['traced_gib']:8.2f} analytic "
            f"{rows[-1]['analytic_gib']:8.2f} {100 * err:+.2f}%",
            flush=True,
        )
    extrapolation = []
    arch = load_architecture("qwen2.5-0.5b")
    for label, kw in [
        (
            "LoRA q,v bf16 b4x512",
            dict(
                batch_size=4,
                seq_len=512,
                weight_dtype="bfloat16",
                lora=LoraSetup(r=16, target_modules=("q_proj", "v_proj")),
            ),
        ),
        (
            "full bf16 b2x512 ckpt",
            dict(batch_size=2, seq_len=512, weight_dtype="bfloat16", gradient_checkpointing=True),
        ),
        (
            "full fp32 amp-bf16 b1x1024",
            dict(batch_size=1, seq_len=1024, weight_dtype="float32", mixed_precision="bf16"),
        ),
    ]:
        setup = TrainingSetup(arch=arch, **kw)  # type: ignore[arg-type]
        started = time.perf_counter()
        whole = _steady_state(probe(setup, arch.num_hidden_layers), 1)
        whole_s = time.perf_counter() - started
        ext = trace(setup)
        peak_whole = max(whole.values())
        extrapolation.append(
            {
                "setup": label,
                "whole_gib": round(peak_whole / GIB, 4),
                "extrapolated_gib": round(ext.peak / GIB, 4),
                "error": round((ext.peak - peak_whole) / peak_whole, 6),
                "whole_seconds": round(whole_s, 2),
                "probe_seconds": round(ext.seconds, 2),
            }
        )
    errors = [abs(r["error"]) for r in rows]
    summary = {
        "configs": len(rows),
        "max_abs_error": round(max(errors), 5),
        "mean_abs_error": round(sum(errors) / len(errors), 5),
        "within_5_percent": sum(e <= 0.05 for e in errors),
        "within_1_percent": sum(e <= 0.01 for e in errors),
        "within_3_percent": sum(e <= 0.03 for e in errors),
    }
    out = {"machine": machine(), "summary": summary, "rows": rows, "extrapolation": extrapolation}
    (HERE / "accuracy.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "# memplan accuracy: analytic vs traced tensor peak",
        "",
        f"{summary['configs']} configs; max |error| {100 * summary['max_abs_error']:.2f}%, "
        f"mean {100 * summary['mean_abs_error']:.2f}%; within 5%: "
        f"{summary['within_5_percent']}/{summary['configs']}, within 1%: "
        f"{summary['within_1_percent']}/{summary['configs']}, within 3%: "
        f"{summary['within_3_percent']}/{summary['configs']}. The last {len(LONG)} rows are "
        "issue 15's matrix (8k-16k tokens, eager/sdpa/FA2, fp32 master + AMP + checkpointing, "
        "foreach and fused AdamW, Gemma 2, Mixtral and Qwen3-MoE, Gemma 3 incl. the multimodal 12B).",
        "",
        "| id | model | setup | traced GiB | analytic GiB | error | peak phase |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['id']} | {r['model']} | {r['setup']} | {r['traced_gib']:.2f} | "
            f"{r['analytic_gib']:.2f} | {100 * r['error']:+.2f}% | {r['traced_phase']} |"
        )
    lines += [
        "",
        "## Probe extrapolation vs whole-model trace (Qwen2.5-0.5B, 24 layers)",
        "",
        "| setup | whole GiB | extrapolated GiB | error | whole s | probes s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in extrapolation:
        lines.append(
            f"| {r['setup']} | {r['whole_gib']:.3f} | {r['extrapolated_gib']:.3f} | "
            f"{100 * r['error']:+.3f}% | {r['whole_seconds']:.1f} | {r['probe_seconds']:.1f} |"
        )
    m = machine()
    lines += ["", "Machine: " + ", ".join(f"{k}: {v}" for k, v in m.items()), ""]
    (HERE / "accuracy.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
