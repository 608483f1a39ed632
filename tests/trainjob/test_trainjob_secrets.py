"""A hub_token in the spec never reaches the training_args.bin that Trainer pickles into every
checkpoint and the final model, and is never printed; a real run on the tiny model proves it."""

from __future__ import annotations

from pathlib import Path

import pytest
from trainjob_helpers import run_trainjob, write_spec

from trainjob.secrets import without_hub_token

TOKEN = "hf_SecretSecretSecretSecret0123"


def test_without_hub_token_moves_it_to_the_environment() -> None:
    env: dict[str, str] = {}
    values = without_hub_token({"hub_token": TOKEN, "max_steps": 3}, env)
    assert values == {"max_steps": 3} and env == {"HF_TOKEN": TOKEN}
    env = {"HF_TOKEN": "hf_already"}
    assert without_hub_token({"hub_token": TOKEN}, env) == {} and env["HF_TOKEN"] == "hf_already"


def test_training_args_bin_holds_no_token(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    out = tmp_path / "run"
    spec = write_spec(
        tmp_path,
        output_dir=out,
        training={"max_steps": 2, "save_steps": 1, "hub_token": TOKEN},
    )
    proc = run_trainjob(
        "run",
        str(spec),
        "--threads",
        "2",
        "--force",
        "--reason",
        "testing the token path",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert TOKEN not in proc.stdout + proc.stderr
    pickles = sorted(out.rglob("training_args.bin"))
    assert len(pickles) >= 3  # checkpoint-1, checkpoint-2 and the final model (+ its backup)
    for path in pickles:
        args = torch.load(path, weights_only=False)
        assert args.hub_token is None, path
        assert TOKEN.encode() not in path.read_bytes(), path
    assert not any(TOKEN.encode() in p.read_bytes() for p in out.rglob("*") if p.is_file())
