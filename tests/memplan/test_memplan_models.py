"""Any model transformers can build: catalog, local config dirs of many model types, HF cache, hub.

Counts are checked against peft's ``get_peft_model`` on models built independently by
transformers on the meta device (no weights), so a wrong inventory or a wrong LoRA rule fails.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from memplan import LoraSetup, UnknownModelError, catalog_names, count_params, load_architecture

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")


def _peft_counts(model: Any, targets: str | list[str]) -> tuple[int, int]:
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = peft.get_peft_model(model, peft.LoraConfig(r=8, target_modules=targets))
    trainable, total = wrapped.get_nb_trainable_parameters()
    return int(trainable), int(total)


def _built(arch_fields: dict[str, Any], task: str) -> Any:
    from memplan.inventory import build_model

    return build_model(arch_fields, task)


@pytest.mark.parametrize("name", catalog_names())
def test_catalog_counts_equal_peft(name: str) -> None:
    full = load_architecture(name)
    assert full.resolved_from == "catalog" and full.inventory_path == "precomputed"
    arch = full.with_layers(2)
    model = _built(arch.config, arch.inventory.task if arch.inventory else "causal_lm")
    assert count_params(arch).total == sum(p.numel() for p in model.parameters())
    trainable, total = _peft_counts(model, "all-linear")
    counts = count_params(arch, LoraSetup(r=8, target_modules=("all-linear",)))
    assert (counts.trainable, counts.total) == (trainable, total)


@pytest.mark.parametrize(
    "name",
    ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-30B-A3B", "google/gemma-3-1b-it"],
)
def test_precomputed_inventory_equals_a_fresh_full_depth_build(name: str) -> None:
    arch = load_architecture(name)
    model = _built(arch.config, "causal_lm")
    assert count_params(arch).total == sum(p.numel() for p in model.parameters())


def test_instruct_variants_resolve_to_their_own_config() -> None:
    base = load_architecture("meta-llama/Llama-3.1-8B")
    inst = load_architecture("meta-llama/Llama-3.1-8B-Instruct")
    assert base.name != inst.name and inst.source != base.source
    assert load_architecture("Qwen/Qwen2.5-7B-Instruct").name == "Qwen/Qwen2.5-7B-Instruct"
    assert load_architecture("gemma-3-1b-it").name == "google/gemma-3-1b-it"


def test_moe_counts_all_experts_and_routes_top_k() -> None:
    arch = load_architecture("Qwen/Qwen3-30B-A3B")
    assert 30.4e9 < count_params(arch).total < 30.6e9  # "30B": every expert's weights
    dims = arch.inventory.dims if arch.inventory else {}
    assert (dims["num_experts"], dims["top_k"]) == (128, 8)
    # Activations follow 8 routed experts of 768, not 128 of them.
    assert arch.intermediate_size == 8 * 768


def test_qlora_leaves_fused_experts_unquantized() -> None:
    """transformers' bitsandbytes integration replaces nn.Linear only (replace_with_bnb_linear);
    Mixtral's fused expert tensors stay bf16, which decides whether a QLoRA run fits."""
    from memplan import TrainingSetup, estimate

    arch = load_architecture("mistralai/Mixtral-8x7B-v0.1")
    experts = sum(m.total_params for m in arch.inventory.modules if m.kind == "experts")
    lora = LoraSetup(r=16, target_modules=("q_proj", "v_proj"))
    plan = estimate(TrainingSetup(arch=arch, weight_dtype="nf4", mixed_precision="bf16", lora=lora))
    assert plan.breakdown["weights"] > 2 * experts
    assert any("nn.Linear layers only" in n for n in plan.notes)


# Tiny sizes, applied to whichever of these fields a model type's config has.
TINY = {
    "hidden_size": 64,
    "d_model": 64,
    "n_embd": 64,
    "intermediate_size": 128,
    "d_ff": 128,
    "ffn_dim": 128,
    "num_hidden_layers": 2,
    "num_layers": 2,
    "n_layer": 2,
    "num_decoder_layers": 2,
    "num_attention_heads": 4,
    "num_heads": 4,
    "n_head": 4,
    "num_key_value_heads": 2,
    "num_kv_heads": 2,
    "head_dim": 16,
    "d_kv": 16,
    "vocab_size": 320,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32,
    "num_experts": 4,
    "num_local_experts": 4,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "q_lora_rank": 32,
    "kv_lora_rank": 16,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 8,
    "v_head_dim": 16,
    "first_k_dense_replace": 1,
    "n_group": 1,
    "topk_group": 1,
    "global_attn_every_n_layers": 1,
    "max_position_embeddings": 512,
    "sliding_window": 32,
    "pad_token_id": 0,
}

MODEL_TYPES = [
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
    "gemma2", "gemma3_text", "gemma3", "phi", "phi3", "olmo", "olmo2", "granite", "granitemoe", "cohere",
    "cohere2", "smollm3", "deepseek_v2", "deepseek_v3", "gpt_oss", "starcoder2", "falcon",
    "gpt_neox", "gpt2", "gptj", "gpt_bigcode", "opt", "bloom", "stablelm", "nemotron", "helium",
    "glm", "t5", "bert", "modernbert", "roberta",
]  # fmt: skip


def _tiny_config(model_type: str) -> dict[str, Any]:
    cls = transformers.CONFIG_MAPPING[model_type]
    defaults = cls()
    kwargs = {k: v for k, v in TINY.items() if hasattr(defaults, k)}
    if model_type in ("phi", "gpt_neox", "stablelm", "nemotron", "falcon"):
        kwargs.pop("head_dim", None)
    if model_type == "falcon":
        kwargs.update(new_decoder_architecture=True, num_kv_heads=2)
    cfg = cls(**kwargs)
    fields = cfg.to_dict()
    fields["model_type"] = model_type
    return fields


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_local_config_dir_of_each_model_type(model_type: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(_tiny_config(model_type)))
    arch = load_architecture(str(tmp_path))
    assert arch.resolved_from == "local directory" and arch.inventory_path == "meta-device build"
    assert arch.inventory is not None
    model = _built(json.loads((tmp_path / "config.json").read_text()), arch.inventory.task)
    assert count_params(arch).total == sum(p.numel() for p in model.parameters())
    trainable, total = _peft_counts(model, "all-linear")
    counts = count_params(arch, LoraSetup(r=8, target_modules=("all-linear",)))
    assert (counts.trainable, counts.total) == (trainable, total)


@pytest.mark.parametrize("model_type", ["qwen3_moe", "mixtral", "deepseek_v3"])
def test_moe_expert_targets_follow_peft(model_type: str, tmp_path: Path) -> None:
    """peft adapts fused experts and the router as parameters (rank doubled for gate_up)."""
    (tmp_path / "config.json").write_text(json.dumps(_tiny_config(model_type)))
    arch = load_architecture(str(tmp_path))
    names = (
        ["w1", "w2", "w3", "gate"]
        if model_type == "mixtral"
        else ["gate_proj", "up_proj", "down_proj"]
    )
    model = _built(json.loads((tmp_path / "config.json").read_text()), "causal_lm")
    trainable, _ = _peft_counts(model, names)
    assert count_params(arch, LoraSetup(r=8, target_modules=tuple(names))).trainable == trainable
    with pytest.raises(ValueError, match="fuses"):
        count_params(arch, LoraSetup(r=8, target_modules=(names[0],)))


def test_named_targets_on_a_model_with_other_names(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(_tiny_config("gpt_neox")))
    arch = load_architecture(str(tmp_path))
    model = _built(json.loads((tmp_path / "config.json").read_text()), "causal_lm")
    trainable, _ = _peft_counts(model, ["query_key_value"])
    assert count_params(arch, LoraSetup(r=8, target_modules=("query_key_value",))).trainable == (
        trainable
    )
    with pytest.raises(ValueError, match="q_proj"):
        count_params(arch, LoraSetup(r=8, target_modules=("q_proj",)))


def _cache_repo(root: Path, repo_id: str, fields: dict[str, Any]) -> Path:
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    (snap / "config.json").write_text(json.dumps(fields))
    return snap / "config.json"


def test_model_in_the_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    path = _cache_repo(tmp_path / "hf" / "hub", "someorg/tiny-qwen3", _tiny_config("qwen3"))
    arch = load_architecture("someorg/tiny-qwen3")
    assert arch.resolved_from == "Hugging Face cache" and arch.source == str(path)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    _cache_repo(tmp_path / "elsewhere", "other/tiny-gemma2", _tiny_config("gemma2"))
    assert load_architecture("other/tiny-gemma2").model_type == "gemma2"


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A local HTTP server answering as the hub does: a config, a gated repo, a missing one."""
    seen: list[str] = []
    body = json.dumps(_tiny_config("olmo2")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            seen.append(self.path)
            if self.path == "/open/tiny-olmo2/resolve/main/config.json":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)
            elif self.path.startswith("/gated/"):
                self.send_response(403)
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.delenv("MEMPLAN_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from memplan import hub

    monkeypatch.setattr(hub, "_ANSWERS", {})
    yield seen
    server.shutdown()


def test_hub_config_json_only(fake_hub: list[str]) -> None:
    arch = load_architecture("open/tiny-olmo2")
    assert arch.resolved_from == "hub" and arch.model_type == "olmo2"
    assert fake_hub == ["/open/tiny-olmo2/resolve/main/config.json"]
    with pytest.raises(UnknownModelError, match="gated or private.*accept its licence"):
        load_architecture("gated/llama")
    with pytest.raises(UnknownModelError, match="HTTP 404"):
        load_architecture("nobody/nothing")


def test_offline_never_asks_the_hub(fake_hub: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UnknownModelError, match="offline"):
        load_architecture("open/tiny-olmo2")
    with pytest.raises(UnknownModelError, match="offline"):
        load_architecture("open/tiny-olmo2", offline=True)
    assert fake_hub == []


def test_unreachable_hub_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.delenv("MEMPLAN_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from memplan import hub

    monkeypatch.setattr(hub, "_ANSWERS", {})
    with pytest.raises(UnknownModelError, match="unreachable"):
        load_architecture("someone/not-cached")


@pytest.mark.parametrize(
    ("model_type", "extra"),
    [
        ("qwen2", {"use_dora": True}),
        ("llama", {"modules_to_save": ["lm_head", "embed_tokens"]}),
        ("qwen2", {"bias": "lora_only"}),
        ("gemma2", {"modules_to_save": ["lm_head"]}),
    ],
)
def test_dora_bias_and_saved_modules_follow_peft(
    model_type: str, extra: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "config.json").write_text(json.dumps(_tiny_config(model_type)))
    arch = load_architecture(str(tmp_path))
    model = _built(json.loads((tmp_path / "config.json").read_text()), "causal_lm")
    targets = ["q_proj", "v_proj"]
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = peft.get_peft_model(model, peft.LoraConfig(r=8, target_modules=targets, **extra))
    trainable, _ = wrapped.get_nb_trainable_parameters()
    lora = LoraSetup(
        r=8,
        target_modules=tuple(targets),
        use_dora=bool(extra.get("use_dora")),
        modules_to_save=tuple(extra.get("modules_to_save", ())),
        bias=extra.get("bias", "none"),
    )
    assert count_params(arch, lora).trainable == trainable
