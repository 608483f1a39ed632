"""Loading architectures: catalog names, aliases, local directories, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplan import UnknownModelError, catalog_names, load_architecture


def test_catalog_holds_the_required_models() -> None:
    names = set(catalog_names())
    for required in (
        "mistralai/Mistral-7B-v0.1",
        "meta-llama/Llama-2-7b-hf",
        "meta-llama/Llama-2-13b-hf",
        "meta-llama/Meta-Llama-3-8B",
        "meta-llama/Meta-Llama-3-70B",
        "Qwen/Qwen2.5-0.5B",
        "Qwen/Qwen2.5-1.5B",
        "Qwen/Qwen2.5-7B",
        "google/gemma-2-9b",
        "microsoft/Phi-3-mini-4k-instruct",
        "tiny-mistral",
    ):
        assert required in names


def test_aliases_and_case_resolve_to_the_same_config() -> None:
    a = load_architecture("mistral-7b")
    b = load_architecture("MistralAI/Mistral-7B-v0.1")
    assert a == b
    assert (a.hidden_size, a.num_key_value_heads, a.head_dim) == (4096, 8, 128)


def test_gemma2_head_dim_comes_from_config() -> None:
    arch = load_architecture("google/gemma-2-9b")
    assert arch.head_dim == 256 and arch.q_dim == 4096 != arch.hidden_size


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError) as info:
        load_architecture("mistral-7b-v0.2")
    assert "mistralai/Mistral-7B-v0.1" in info.value.suggestions
    assert isinstance(info.value, ValueError)


def test_local_config_directory(tmp_path: Path) -> None:
    cfg = {
        "model_type": "llama",
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "vocab_size": 1000,
    }
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    arch = load_architecture(str(tmp_path))
    assert arch.num_key_value_heads == 4 and arch.head_dim == 32
    assert arch.tie_word_embeddings is False


def test_local_config_with_bad_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UnknownModelError, match="config.json"):
        load_architecture(str(tmp_path))


def test_unsupported_model_type_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no_such_type"}))
    with pytest.raises(UnknownModelError, match="no_such_type"):
        load_architecture(str(tmp_path))


def test_every_bundled_config_names_its_source() -> None:
    from importlib import resources

    root = resources.files("memplan") / "data" / "models"
    for entry in root.iterdir():
        data = json.loads(entry.read_text())
        assert data["_source"] and data["_name"]
