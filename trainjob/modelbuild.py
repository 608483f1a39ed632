"""The model and tokenizer a run trains: a hub id, a local directory, or the bundled ``tiny-mistral``.

``tiny-mistral`` (and the shallow copies ``trainjob rehearse`` builds) are random-initialised
from a config and paired with a byte-level BPE tokenizer trained on the run's own data, so tests
and demos train for real with no download. Both are cached in the run's ``trainjob-assets``
folder on first use: a LoRA checkpoint holds only the adapters, so a resume must find the very
same base weights and vocabulary, not a fresh random draw. The cache is written whole into a
temporary sibling and renamed into place (``trainjob.atomic``); one that does not load is moved
aside and rebuilt from the seed (random init and BPE training are deterministic, so the rebuilt
cache equals the lost one).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import TrainjobError

log = logging.getLogger("trainjob")

TINY = "tiny-mistral"
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]  # ids 0..3: bos 1 and eos 2 as in Mistral's config


@dataclass
class BuiltModel:
    """What the Trainer needs, plus a line for the log saying where it came from."""

    model: Any
    tokenizer: Any
    origin: str


def bundled_config(name: str) -> dict[str, Any] | None:
    """HF config fields for a bundled architecture (memplan's catalog, else trainjob's copy).

    Matches the file's ``_name``, one of its ``_aliases`` or its file stem, case-insensitively.
    """
    wanted = name.lower()
    for package in ("memplan", "trainjob"):
        try:
            folder = resources.files(package) / "data"
            candidates = list((folder / "models").iterdir()) if package == "memplan" else []
            candidates += [p for p in folder.iterdir() if p.name.endswith(".json")]
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            continue
        for entry in candidates:
            if not entry.name.endswith(".json"):
                continue
            data = json.loads(entry.read_text(encoding="utf-8"))
            names = {str(data.get("_name", "")).lower(), entry.name[:-5].lower()}
            names |= {str(a).lower() for a in data.get("_aliases", [])}
            if wanted in names and "model_type" in data:
                return {k: v for k, v in data.items() if not k.startswith("_")}
    return None


def config_from_fields(fields: dict[str, Any]) -> Any:
    """A transformers config object from plain config.json fields."""
    from transformers import AutoConfig

    fields = dict(fields)
    model_type = fields.pop("model_type")
    fields.pop("torch_dtype", None)
    fields.pop("architectures", None)
    return AutoConfig.for_model(model_type, **fields)


def train_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer trained on ``texts`` (the run's own data), as a HF fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
    )


def build_from_config(
    fields: dict[str, Any],
    texts: list[str],
    assets: Path,
    *,
    seed: int,
    origin: str,
    tokenizer: Any | None = None,
) -> BuiltModel:
    """Random-init a causal LM from config fields; reuse the cached one in ``assets`` if present."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    model_dir = assets / "base-model"
    tok_dir = assets / "tokenizer"
    if assets.exists():
        try:
            model = AutoModelForCausalLM.from_pretrained(model_dir)
            tok = AutoTokenizer.from_pretrained(tok_dir)
            return BuiltModel(
                model, tok, f"{origin} (cached base weights and tokenizer in {assets})"
            )
        except Exception as exc:  # a cache from before atomic writes, or damaged since
            from .diskerrors import first_line

            moved = _move_aside(assets)
            log.warning(
                "the assets cache %s does not load (%s); moved aside to %s (kept) and rebuilt "
                "from the seed, which gives the same weights and vocabulary",
                assets,
                first_line(exc),
                moved.name,
            )

    vocab = int(fields.get("vocab_size", 512))
    if tokenizer is None:
        # A BPE vocabulary cannot outgrow what the sample holds; the embedding keeps its size.
        tokenizer = train_tokenizer(texts, min(vocab, 4096))
        origin += f", BPE tokenizer ({len(tokenizer)} tokens) trained on the run's data"
    fields = dict(fields)
    fields["vocab_size"] = max(vocab, len(tokenizer))
    for key, token in (("pad_token_id", "pad_token"), ("bos_token_id", "bos_token")):
        tid = getattr(tokenizer, f"{token}_id", None)
        if tid is not None:
            fields[key] = tid
    if tokenizer.eos_token_id is not None:
        fields["eos_token_id"] = tokenizer.eos_token_id
    config = config_from_fields(fields)
    set_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.config._name_or_path = origin.split(" ")[0]
    # Written whole into a temporary sibling and renamed into place: a kill mid-write leaves
    # no trainjob-assets/ at all (the sibling is replaced on the next run), never a partial one.
    from .atomic import publish_folder, staging_for

    assets.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_for(assets)
    staging.mkdir()
    model.save_pretrained(staging / "base-model")
    tokenizer.save_pretrained(staging / "tokenizer")
    publish_folder(staging, assets)
    return BuiltModel(model, tokenizer, origin)


def _move_aside(folder: Path) -> Path:
    """Rename ``folder`` to ``<name>.damaged-N`` (never deleted)."""
    n = 1
    while (target := folder.with_name(f"{folder.name}.damaged-{n}")).exists():
        n += 1
    folder.rename(target)
    return target


def load_model(
    name: str,
    texts: list[str],
    assets: Path,
    *,
    seed: int,
    dtype: str,
    attn: str,
    spec_dir: Path,
    revision: str | None = None,
) -> BuiltModel:
    """Resolve ``model.name``: ``tiny-mistral``, a local dir, or a hub id (needs network)."""
    import torch

    if name.lower() == TINY:
        fields = bundled_config(TINY)
        if fields is None:
            raise TrainjobError(
                "tiny-mistral: bundled config not found in memplan or trainjob data"
            )
        return build_from_config(fields, texts, assets, seed=seed, origin=f"{TINY} (random init)")

    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(name) if Path(name).is_absolute() else spec_dir / name
    source = str(local) if local.is_dir() else name
    use_cuda = torch.cuda.is_available()
    kwargs: dict[str, Any] = {"attn_implementation": attn if use_cuda else "sdpa"}
    if revision and not local.is_dir():
        kwargs["revision"] = revision
    if dtype in ("int8", "nf4"):
        if not use_cuda:
            raise TrainjobError(
                f"model.dtype: {dtype} needs bitsandbytes on a CUDA GPU; this machine has none"
            )
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = (
            BitsAndBytesConfig(load_in_8bit=True)
            if dtype == "int8"
            else BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
            )
        )
    elif use_cuda:
        kwargs["dtype"] = getattr(torch, dtype)
    elif dtype != "float32":
        log.info("model.dtype %s: loading in float32 on CPU (half precision is GPU-only)", dtype)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as exc:
        raise TrainjobError(
            f"model.name: cannot load {name!r}: {str(exc).splitlines()[0]}"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return BuiltModel(model, tokenizer, source)


def shallow_config(name: str, spec_dir: Path, layers: int) -> tuple[dict[str, Any], Path | None]:
    """Config fields of ``name`` with ``layers`` hidden layers, for the rehearsal copy.

    Returns the fields and the local directory the config came from (whose tokenizer, if any,
    the rehearsal uses). A hub id with no bundled config needs the network.
    """
    local = Path(name) if Path(name).is_absolute() else spec_dir / name
    if (local / "config.json").is_file():
        fields = json.loads((local / "config.json").read_text(encoding="utf-8"))
        origin: Path | None = local
    else:
        found = bundled_config(name)
        if found is None:
            from transformers import AutoConfig

            try:
                fields = AutoConfig.from_pretrained(name).to_dict()
            except OSError:
                raise TrainjobError(
                    f"model.name: no bundled config for {name!r} and it cannot be fetched "
                    "offline; point model.name at a local directory holding config.json"
                ) from None
        else:
            fields = found
        origin = None
    fields = {k: v for k, v in fields.items() if not k.startswith("_")}
    fields["num_hidden_layers"] = min(layers, int(fields.get("num_hidden_layers", layers)))
    for key in ("layer_types", "quantization_config", "auto_map"):
        fields.pop(key, None)
    return fields, origin
