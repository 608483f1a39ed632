"""Parameter counts: the seed's LoRA count, and every bundled config against transformers/peft."""

from __future__ import annotations

import warnings

import pytest

from memplan import LoraSetup, catalog_names, count_params, load_architecture

SEED_LORA = LoraSetup(r=16, target_modules=("q_proj", "v_proj"), alpha=32, dropout=0.05)


def test_seed_trainable_count_is_exact() -> None:
    counts = count_params(load_architecture("mistralai/Mistral-7B-v0.1"), SEED_LORA)
    assert counts.trainable == 6_815_744
    assert counts.total == 7_248_547_840
    # peft's print_trainable_parameters: 100 * trainable / all, where all includes the adapters.
    assert f"{counts.trainable_percent:.3f}" == "0.094"


# Published totals from each model card / hub page (independent of this code).
PUBLISHED_TOTALS = {
    "mistralai/Mistral-7B-v0.1": 7_241_732_096,
    "meta-llama/Llama-2-7b-hf": 6_738_415_616,
    "meta-llama/Meta-Llama-3-8B": 8_030_261_248,
    "Qwen/Qwen2.5-0.5B": 494_032_768,
    "microsoft/Phi-3-mini-4k-instruct": 3_821_079_552,
    "google/gemma-2-9b": 9_241_705_984,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_TOTALS))
def test_totals_match_published_counts(name: str) -> None:
    assert count_params(load_architecture(name)).total == PUBLISHED_TOTALS[name]


def _meta_model(arch_name: str, layers: int):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    arch = load_architecture(arch_name).with_layers(layers)
    fields = arch.hf_config_fields()
    model_type = fields.pop("model_type")
    for key in ("architectures", "torch_dtype"):
        fields.pop(key, None)
    cfg = transformers.AutoConfig.for_model(model_type, **fields)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(cfg)
    return arch, model


@pytest.mark.parametrize("name", catalog_names())
def test_counts_match_transformers_model(name: str) -> None:
    arch, model = _meta_model(name, 2)
    built = sum(p.numel() for p in model.parameters())  # tied weights are counted once
    assert count_params(arch).total == built


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("mistralai/Mistral-7B-v0.1", ("q_proj", "k_proj", "v_proj", "o_proj")),
        ("Qwen/Qwen2.5-0.5B", ("all-linear",)),
        ("microsoft/Phi-3-mini-4k-instruct", ("qkv_proj", "gate_up_proj")),
        ("google/gemma-2-9b", ("down_proj", "o_proj")),
    ],
)
def test_lora_counts_match_peft(name: str, targets: tuple[str, ...]) -> None:
    peft = pytest.importorskip("peft")
    torch = pytest.importorskip("torch")
    arch, model = _meta_model(name, 2)
    lora = LoraSetup(r=8, target_modules=targets)
    target_arg = "all-linear" if targets == ("all-linear",) else list(targets)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # transformers' deprecation notices
        wrapped = peft.get_peft_model(
            model, peft.LoraConfig(r=8, target_modules=target_arg, task_type="CAUSAL_LM")
        )
    trainable, total = wrapped.get_nb_trainable_parameters()
    counts = count_params(arch, lora)
    assert (counts.trainable, counts.total) == (trainable, total)


def test_phi3_unfused_target_names_are_rejected_with_a_hint() -> None:
    arch = load_architecture("phi-3-mini")
    with pytest.raises(ValueError, match="qkv_proj"):
        count_params(arch, LoraSetup(target_modules=("q_proj", "v_proj")))


def test_lora_rank_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rank"):
        LoraSetup(r=0)
