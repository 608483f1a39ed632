"""Record the catalog's config.json fields from public sources (run once; its output is committed).

Two public repositories hold hub configs for many current checkpoints:

- mlc-ai/mlc-llm ``python/mlc_llm/model/model_preset.py``: config.json dicts copied verbatim from
  the hub (one per checkpoint); used as they are.
- Lightning-AI/litgpt ``litgpt/config.py``: every size of a family, each entry linking the hub
  config.json it was read from, with ``name="Qwen2.5-7B{}"`` meaning the base and ``-Instruct``
  share the shapes. litgpt spells fields its own way; they are mapped onto config.json names
  (n_embd -> hidden_size, n_layer -> num_hidden_layers, n_head -> num_attention_heads,
  n_query_groups -> num_key_value_heads, padded_vocab_size -> vocab_size, head_size -> head_dim,
  rope_base -> rope_theta, norm_eps -> rms_norm_eps, n_expert -> num_experts,
  n_expert_per_token -> num_experts_per_tok) over a verbatim mlc-llm config of the same family,
  which supplies the remaining fields. A field neither source states for that size is listed in
  ``_unverified``.

Usage: python scripts/record_model_configs.py MLC_PRESET_PY LITGPT_CONFIG_PY  (writes
scripts/model_configs/*.json; then run scripts/gen_model_catalog.py).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "model_configs"
MLC = "https://github.com/mlc-ai/mlc-llm/blob/79d603f085f50500e9509fa01785ffa7ecfaaa93/python/mlc_llm/model/model_preset.py"
LIT = "https://github.com/Lightning-AI/litgpt/blob/26857050fe3ff627cd714fe92f5838f51a3d5efa/litgpt/config.py"

# (hub id, mlc-llm preset key, aliases): verbatim configs.
VERBATIM = [
    ("meta-llama/Llama-3.1-8B-Instruct", "llama3_1_8b", ["llama-3.1-8b-instruct"]),
    ("meta-llama/Llama-3.1-70B-Instruct", "llama3_1_70b", ["llama-3.1-70b-instruct"]),
    ("meta-llama/Llama-3.2-1B-Instruct", "llama3_2_1b", ["llama-3.2-1b-instruct"]),
    ("meta-llama/Llama-3.2-3B-Instruct", "llama3_2_3b", ["llama-3.2-3b-instruct"]),
    ("mistralai/Mistral-7B-v0.3", "mistral_7b_v03", ["mistral-7b-v0.3"]),
    ("mistralai/Mixtral-8x7B-v0.1", "Mixtral-8x7B-v0.1", ["mixtral-8x7b"]),
    ("microsoft/Phi-3.5-mini-instruct", "phi-3_5", ["phi-3.5-mini"]),
    # mlc-llm's "phi-4" preset is Phi-4-mini's config (hidden 3072, vocab 200064).
    ("microsoft/Phi-4-mini-instruct", "phi-4", ["phi-4-mini-instruct"]),
    ("Qwen/Qwen2.5-3B", "qwen2.5_3b", ["qwen2.5-3b"]),
    ("Qwen/Qwen3-0.6B", "qwen3_0.6b", ["qwen3-0.6b"]),
    ("Qwen/Qwen3-1.7B", "qwen3_1.7b", ["qwen3-1.7b"]),
    ("google/gemma-2b", "gemma_2b", ["gemma-2b"]),
    ("google/gemma-2-2b", "gemma2_2b", ["gemma-2-2b"]),
    ("google/gemma-2-27b", "gemma2_27b", ["gemma-2-27b"]),
    ("google/gemma-3-1b-it", "gemma3_1b_it", ["gemma-3-1b-it"]),
    ("bigcode/starcoder2-7b", "starcoder2", ["starcoder2-7b"]),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "smollm2_135m", ["smollm2-135m-instruct"]),
    ("HuggingFaceTB/SmolLM2-360M-Instruct", "smollm2_360m", ["smollm2-360m-instruct"]),
    ("allenai/OLMo-2-1124-7B", "olmo2_7b", ["olmo-2-7b"]),
    ("allenai/OLMo-2-1124-13B", "olmo2_13b", ["olmo-2-13b"]),
    ("allenai/OLMo-2-0325-32B", "olmo2_32b", ["olmo-2-32b"]),
    ("deepseek-ai/DeepSeek-V2-Lite", "deepseek_v2_lite", ["deepseek-v2-lite"]),
    ("openai-community/gpt2", "gpt2", ["gpt2"]),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "tinyllama_1b_chat_v1.0", ["tinyllama-1.1b-chat"]),
]

# (hub id, litgpt name, template mlc key, aliases, fields no source states for this size).
MAPPED = [
    ("meta-llama/Llama-3.1-8B", "Llama-3.1-8B{}", "llama3_1_8b", ["llama-3.1-8b"], []),
    ("meta-llama/Llama-3.1-70B", "Llama-3.1-70B{}", "llama3_1_70b", ["llama-3.1-70b"], []),
    ("meta-llama/Llama-3.2-1B", "Llama-3.2-1B{}", "llama3_2_1b", ["llama-3.2-1b"], []),
    ("meta-llama/Llama-3.2-3B", "Llama-3.2-3B{}", "llama3_2_3b", ["llama-3.2-3b"], []),
    (
        "meta-llama/Llama-3.3-70B-Instruct",
        "Llama-3.3-70B-Instruct",
        "llama3_1_70b",
        ["llama-3.3-70b-instruct", "llama-3.3-70b"],
        [],
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.3",
        "Mistral-7B-Instruct-v0.3",
        "mistral_7b_v03",
        ["mistral-7b-instruct-v0.3"],
        [],
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.1",
        "Mistral-7B-{}v0.1",
        "mistral_7b",
        ["mistral-7b-instruct-v0.1"],
        [],
    ),
    (
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "Mixtral-8x7B-{}v0.1",
        "Mixtral-8x7B-v0.1",
        ["mixtral-8x7b-instruct"],
        [],
    ),
    ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5-0.5B{}", "qwen2_0_5b", ["qwen2.5-0.5b-instruct"], []),
    ("Qwen/Qwen2.5-1.5B-Instruct", "Qwen2.5-1.5B{}", "qwen2_1_5b", ["qwen2.5-1.5b-instruct"], []),
    ("Qwen/Qwen2.5-3B-Instruct", "Qwen2.5-3B{}", "qwen2.5_3b", ["qwen2.5-3b-instruct"], []),
    ("Qwen/Qwen2.5-7B-Instruct", "Qwen2.5-7B{}", "qwen2_7b", ["qwen2.5-7b-instruct"], []),
    ("Qwen/Qwen2.5-14B", "Qwen2.5-14B{}", "qwen2_7b", ["qwen2.5-14b"], []),
    ("Qwen/Qwen2.5-14B-Instruct", "Qwen2.5-14B{}", "qwen2_7b", ["qwen2.5-14b-instruct"], []),
    ("Qwen/Qwen2.5-32B", "Qwen2.5-32B{}", "qwen2_7b", ["qwen2.5-32b"], []),
    ("Qwen/Qwen2.5-32B-Instruct", "Qwen2.5-32B{}", "qwen2_7b", ["qwen2.5-32b-instruct"], []),
    ("Qwen/Qwen2.5-72B", "Qwen2.5-72B{}", "qwen2_7b", ["qwen2.5-72b"], []),
    ("Qwen/Qwen2.5-72B-Instruct", "Qwen2.5-72B{}", "qwen2_7b", ["qwen2.5-72b-instruct"], []),
    ("Qwen/Qwen3-0.6B-Base", "Qwen3-0.6B{}", "qwen3_0.6b", ["qwen3-0.6b-base"], []),
    ("Qwen/Qwen3-1.7B-Base", "Qwen3-1.7B{}", "qwen3_1.7b", ["qwen3-1.7b-base"], []),
    ("Qwen/Qwen3-4B", "Qwen3-4B{}", "qwen3_1.7b", ["qwen3-4b"], []),
    ("Qwen/Qwen3-4B-Base", "Qwen3-4B{}", "qwen3_1.7b", ["qwen3-4b-base"], []),
    ("Qwen/Qwen3-8B", "Qwen3-8B{}", "qwen3_1.7b", ["qwen3-8b"], ["tie_word_embeddings"]),
    ("Qwen/Qwen3-8B-Base", "Qwen3-8B{}", "qwen3_1.7b", ["qwen3-8b-base"], ["tie_word_embeddings"]),
    ("Qwen/Qwen3-14B", "Qwen3-14B{}", "qwen3_1.7b", ["qwen3-14b"], ["tie_word_embeddings"]),
    (
        "Qwen/Qwen3-14B-Base",
        "Qwen3-14B{}",
        "qwen3_1.7b",
        ["qwen3-14b-base"],
        ["tie_word_embeddings"],
    ),
    ("Qwen/Qwen3-32B", "Qwen3-32B", "qwen3_1.7b", ["qwen3-32b"], ["tie_word_embeddings"]),
    (
        "Qwen/Qwen3-30B-A3B",
        "Qwen3-30B-A3B",
        "qwen3_1.7b",
        ["qwen3-30b-a3b"],
        ["tie_word_embeddings"],
    ),
    (
        "Qwen/Qwen3-30B-A3B-Base",
        "Qwen3-30B-A3B-Base",
        "qwen3_1.7b",
        ["qwen3-30b-a3b-base"],
        ["tie_word_embeddings"],
    ),
    ("HuggingFaceTB/SmolLM2-135M", "SmolLM2-135M{}", "smollm2_135m", ["smollm2-135m"], []),
    ("HuggingFaceTB/SmolLM2-360M", "SmolLM2-360M{}", "smollm2_360m", ["smollm2-360m"], []),
    ("HuggingFaceTB/SmolLM2-1.7B", "SmolLM2-1.7B{}", "smollm2_360m", ["smollm2-1.7b"], []),
    (
        "HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "SmolLM2-1.7B{}",
        "smollm2_360m",
        ["smollm2-1.7b-instruct"],
        [],
    ),
    ("microsoft/phi-4", "phi-4", "phi-3_5", ["phi-4"], []),
    (
        "microsoft/Phi-3-mini-128k-instruct",
        "Phi-3-mini-128k-instruct",
        "phi-3_5",
        ["phi-3-mini-128k"],
        [],
    ),
    (
        "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "R1-Distill-Llama-8B",
        "llama3_1_8b",
        ["deepseek-r1-distill-llama-8b"],
        [],
    ),
    (
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        "R1-Distill-Llama-70B",
        "llama3_1_70b",
        ["deepseek-r1-distill-llama-70b"],
        [],
    ),
    ("allenai/OLMo-2-1124-7B-Instruct", "OLMo-2-1124-7B{}", "olmo2_7b", ["olmo-2-7b-instruct"], []),
    (
        "allenai/OLMo-2-1124-13B-Instruct",
        "OLMo-2-1124-13B{}",
        "olmo2_13b",
        ["olmo-2-13b-instruct"],
        [],
    ),
    ("google/gemma-2-2b-it", "Gemma-2-2b", "gemma2_2b", ["gemma-2-2b-it"], []),
    ("google/gemma-2-9b-it", "Gemma-2-9b", "gemma2_9b", ["gemma-2-9b-it"], []),
    ("google/gemma-2-27b-it", "Gemma-2-27b", "gemma2_27b", ["gemma-2-27b-it"], []),
    (
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        "Qwen2.5-Coder-7B{}",
        "qwen2_7b",
        ["qwen2.5-coder-7b-instruct"],
        [],
    ),
    (
        "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        "Qwen2.5-Coder-1.5B{}",
        "qwen2_1_5b",
        ["qwen2.5-coder-1.5b-instruct"],
        [],
    ),
    (
        "tiiuae/Falcon3-7B-Base",
        "Falcon3-7B{}",
        "llama3_1_8b",
        ["falcon3-7b-base"],
        ["tie_word_embeddings"],
    ),
    (
        "tiiuae/Falcon3-7B-Instruct",
        "Falcon3-7B{}",
        "llama3_1_8b",
        ["falcon3-7b-instruct"],
        ["tie_word_embeddings"],
    ),
]

# Pythia (GPT-NeoX): litgpt states only what differs from its Config defaults (n_layer 16,
# vocab 50254 padded to padding_multiple, rotary_percentage 0.25, parallel_residual True,
# intermediate 4 x n_embd), over mlc-llm's verbatim GPT-NeoX preset for the field names.
PYTHIA = ["pythia-160m", "pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b", "pythia-6.9b",
          "pythia-12b"]  # fmt: skip

# Gemma 3 4B/12B/27B are multimodal on the hub (Gemma3ForConditionalGeneration: the language
# model plus a SigLIP vision tower). The hub config states few keys and transformers' defaults
# fill the rest (vocab 262208 among them). Text shapes: litgpt's entries; the vision tower and
# layout: dynquant's transcription of google/gemma-3-4b-it's config.json, which it cross-checks
# against two ungated mirrors and the advertised 4.30 B. The same 400M SigLIP encoder serves
# the 4B, 12B and 27B models (Gemma 3 technical report, arXiv:2503.19786, Table 1).
DYNQUANT = (
    "https://github.com/kambojvikram/dynquant/blob/87049a1e82fa5a8c14ffdb653dba60690335b47d/"
    "tests/test_quant_phase3_shapes.py"
)
GEMMA3_VISION = {
    "model_type": "siglip_vision_model",
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_attention_heads": 16,
    "num_hidden_layers": 27,
    "image_size": 896,
    "patch_size": 14,
    "num_channels": 3,
    "vision_use_head": False,
}
GEMMA3 = ["Gemma-3-4b-it", "Gemma-3-12b-it", "Gemma-3-27b-it"]

# Tied embeddings by hub id where the size's own config was not among the sources read.
TIE = {"Qwen/Qwen3-4B": True, "Qwen/Qwen3-4B-Base": True}
_LIT_TO_HF = {
    "n_embd": "hidden_size",
    "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads",
    "n_query_groups": "num_key_value_heads",
    "padded_vocab_size": "vocab_size",
    "head_size": "head_dim",
    "intermediate_size": "intermediate_size",
    "moe_intermediate_size": "moe_intermediate_size",
    "rope_base": "rope_theta",
    "norm_eps": "rms_norm_eps",
    "n_expert": "num_experts",
    "n_expert_per_token": "num_experts_per_tok",
    "block_size": "max_position_embeddings",
}


def _dict_calls(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
            kw: dict[str, Any] = {}
            for k in node.keywords:
                try:
                    kw[str(k.arg)] = ast.literal_eval(k.value)
                except ValueError:
                    continue
            if "name" in kw and "org" not in kw and ("n_layer" in kw or "n_embd" in kw):
                out[kw["name"]] = kw
                lines[kw["name"]] = node.lineno
    return out, lines


def _presets(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and len(node.keys) > 50:
            cfgs = {
                ast.literal_eval(k): ast.literal_eval(v)
                for k, v in zip(node.keys, node.values, strict=True)
            }  # type: ignore[arg-type]
            lines = {
                ast.literal_eval(k): v.lineno for k, v in zip(node.keys, node.values, strict=True)
            }  # type: ignore[arg-type]
            return cfgs, lines
    raise SystemExit(f"{path}: no preset dict found")


def _stem(hub_id: str) -> str:
    return hub_id.split("/")[-1].lower()


def main(mlc_path: str, lit_path: str) -> None:
    mlc, mlc_lines = _presets(Path(mlc_path))
    lit, lit_lines = _dict_calls(Path(lit_path))
    OUT.mkdir(exist_ok=True)
    for hub_id, key, aliases in VERBATIM:
        cfg = {k: v for k, v in mlc[key].items() if not k.startswith("_")}
        doc = {
            "_source": f"{MLC}#L{mlc_lines[key]} (preset {key!r}: the hub config.json copied verbatim)",
            "_name": hub_id,
            "_aliases": aliases,
            **cfg,
        }
        (OUT / f"{_stem(hub_id)}.json").write_text(json.dumps(doc, indent=2) + "\n")
    for name in GEMMA3:
        entry = lit[name]
        text = {
            "model_type": "gemma3_text",
            "hidden_size": entry["n_embd"],
            "intermediate_size": entry["intermediate_size"],
            "num_hidden_layers": entry["n_layer"],
            "num_attention_heads": entry["n_head"],
            "num_key_value_heads": entry["n_query_groups"],
            "head_dim": entry["head_size"],
            "sliding_window": entry["sliding_window_size"],
            "query_pre_attn_scalar": entry["attention_scores_scalar"],
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        }
        doc = {
            "_source": (
                f"{LIT}#L{lit_lines[name]} (litgpt {name!r}: text model shapes) and {DYNQUANT} "
                "(google/gemma-3-4b-it's config.json: vision tower and layout)"
            ),
            "_name": f"google/{name.lower()}",
            "_aliases": [name.lower()],
            "architectures": ["Gemma3ForConditionalGeneration"],
            "model_type": "gemma3",
            "mm_tokens_per_image": 256,
            "text_config": text,
            "vision_config": dict(GEMMA3_VISION),
        }
        (OUT / f"{name.lower()}.json").write_text(json.dumps(doc, indent=2) + "\n")
    for name in PYTHIA:
        entry = {
            "n_embd": 4096,
            "n_head": 32,
            "n_layer": 16,
            "vocab_size": 50254,
            "padding_multiple": 512,
            "rotary_percentage": 0.25,
            "parallel_residual": True,
            **lit[name],
        }
        mult = int(entry["padding_multiple"])
        cfg = {k: v for k, v in mlc["redpajama_3b_v1"].items() if not k.startswith("_")}
        cfg.update(
            hidden_size=entry["n_embd"],
            num_hidden_layers=entry["n_layer"],
            num_attention_heads=entry["n_head"],
            intermediate_size=4 * entry["n_embd"],
            vocab_size=-(-int(entry["vocab_size"]) // mult) * mult,
            max_position_embeddings=entry["block_size"],
            rotary_pct=entry["rotary_percentage"],
            use_parallel_residual=entry["parallel_residual"],
        )
        doc = {
            "_source": (
                f"{LIT}#L{lit_lines[name]} (litgpt {name!r} and its Config defaults, read from the "
                f"hub config.json) over {MLC}#L{mlc_lines['redpajama_3b_v1']} (GPT-NeoX preset, "
                "verbatim, for the other fields)"
            ),
            "_name": f"EleutherAI/{name}",
            "_aliases": [name],
            **cfg,
        }
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    for hub_id, lit_name, template, aliases, unverified in MAPPED:
        # litgpt's Config defaults for fields an entry leaves out.
        entry = {"n_embd": 4096, "n_head": 32, **lit[lit_name]}
        entry.setdefault("n_query_groups", entry["n_head"])
        cfg = {k: v for k, v in mlc[template].items() if not k.startswith("_")}
        for lk, hk in _LIT_TO_HF.items():
            if lk in entry:
                cfg[hk] = entry[lk]
        if entry.get("n_expert"):
            cfg["model_type"] = "qwen3_moe" if cfg["model_type"] == "qwen3" else cfg["model_type"]
            cfg["architectures"] = ["Qwen3MoeForCausalLM"]
            cfg["decoder_sparse_step"] = 1
            cfg["norm_topk_prob"] = True
        if "head_size" not in entry and "head_dim" in cfg:
            cfg["head_dim"] = entry["n_embd"] // entry["n_head"]
        if hub_id == "microsoft/phi-4":
            cfg["rope_scaling"] = None  # phi-4 has plain RoPE (litgpt: no rope adjustments)
            cfg.pop("original_max_position_embeddings", None)
        if hub_id in TIE:
            cfg["tie_word_embeddings"] = TIE[hub_id]
        elif "tie_word_embeddings" in unverified:
            cfg["tie_word_embeddings"] = False
        doc = {
            "_source": (
                f"{LIT}#L{lit_lines[lit_name]} (litgpt {lit_name!r}, read from the hub "
                f"config.json; shapes mapped to config.json names) over {MLC}#L"
                f"{mlc_lines[template]} (preset {template!r}, verbatim, for the other fields)"
            ),
            "_name": hub_id,
            "_aliases": aliases,
            **({"_unverified": unverified} if unverified else {}),
            **cfg,
        }
        (OUT / f"{_stem(hub_id)}.json").write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
