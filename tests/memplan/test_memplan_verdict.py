"""One "fits" for the toolkit: memplan's CLI, PF401/PF402 and costmodel's feasibility agree.

Each case is a real spec file run through the real loader: `memplan estimate` (its exit code
and JSON), `preflight check`'s memory rules on the real plan, and
`preflight.cost.memory_fits` for the spec's own instance. The grid walks a Mistral-7B LoRA job
on an A10G from comfortably fitting, through tight, to over, so every branch of the verdict is
crossed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memplan import estimate
from memplan.verdict import COMFORT_HEADROOM, REQUIRED_HEADROOM, judge
from preflight.cli_memplan import cli
from preflight.cost import memory_fits
from preflight.engine import run_rules
from preflight.pipeline import build_plan
from preflight.rules import get_rule
from preflight.spec import load_spec

SPEC = """\
model:
  name: mistralai/Mistral-7B-v0.1
  dtype: float16
lora:
  r: 16
  target_modules: [q_proj, k_proj, v_proj, o_proj]
training:
  per_device_train_batch_size: {batch}
  fp16: true
  gradient_checkpointing: {ckpt}
data:
  max_length: {length}
compute:
  provider: sagemaker
  instance_type: ml.g5.xlarge
"""

# (batch, max_length, checkpointing): from a comfortable fit to far over an A10G.
GRID = [
    (1, 256, "true"),
    (1, 1024, "true"),
    (4, 1024, "true"),
    (2, 2048, "true"),
    (8, 1024, "true"),
    (1, 512, "false"),
    (2, 512, "false"),
    (1, 1100, "false"),
    (1, 1300, "false"),
    (1, 1500, "false"),
    (4, 1024, "false"),
    (8, 2048, "false"),
]


def _ids(plan: object) -> set[str]:
    rules = [get_rule("PF401"), get_rule("PF402")]
    return {f.rule for f in run_rules(plan, rules)}  # type: ignore[arg-type]


@pytest.mark.parametrize(("batch", "length", "ckpt"), GRID)
def test_cli_rules_and_cost_feasibility_agree(
    tmp_path: Path, batch: int, length: int, ckpt: str
) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(SPEC.format(batch=batch, length=length, ckpt=ckpt))
    loaded = load_spec(path)

    result = CliRunner().invoke(cli, ["estimate", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    out = json.loads(result.output)
    cli_fits = out["fits_with_headroom"]
    assert (result.exit_code == 0) is cli_fits

    plan = build_plan(loaded)
    found = _ids(plan)
    rule_fits = "PF401" not in found

    import costmodel

    inst = costmodel.load_catalog().instance("ml.g5.xlarge")
    cost_fits = memory_fits(loaded, inst)

    assert cli_fits is rule_fits is cost_fits
    verdict = out["verdict"]
    assert ("PF402" in found) is bool(verdict["fits"] and verdict["tight"])
    assert out["memory"]["fits"] is cli_fits


def test_grid_crosses_every_branch(tmp_path: Path) -> None:
    """The grid above is only a test if it holds fits, tight fits and misses."""
    seen = set()
    for batch, length, ckpt in GRID:
        path = tmp_path / f"{batch}-{length}-{ckpt}.yaml"
        path.write_text(SPEC.format(batch=batch, length=length, ckpt=ckpt))
        from preflight.memory import setup_from_spec

        v = judge(estimate(setup_from_spec(load_spec(path))))
        seen.add("over" if v.peak_gib > (v.capacity_gib or 0) else str((v.fits, v.tight)))
    assert {"(True, False)", "(False, False)", "over"} <= seen
    assert "(True, True)" in seen or REQUIRED_HEADROOM == COMFORT_HEADROOM


def test_judge_thresholds() -> None:
    gib = 1024**3
    assert judge(50 * gib, 100.0).fits is True and judge(50 * gib, 100.0).tight is False
    tight = judge(100 * gib * (1 - (REQUIRED_HEADROOM + COMFORT_HEADROOM) / 2), 100.0)
    assert tight.fits is True and tight.tight is (REQUIRED_HEADROOM < COMFORT_HEADROOM)
    assert judge(100 * gib * (1 - REQUIRED_HEADROOM / 2), 100.0).fits is False
    assert judge(101 * gib, 100.0).fits is False
    assert judge(1 * gib, None).fits is None
    with pytest.raises(ValueError, match="headroom"):
        judge(1 * gib, 10.0, headroom=1.5)
