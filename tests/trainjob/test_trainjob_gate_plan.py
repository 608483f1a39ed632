"""The gate judges the plan trainjob really runs: save on SIGTERM on, resume from output_dir."""

from __future__ import annotations

from pathlib import Path

import preflight
from trainjob.gate import as_trainjob_runs_it

SPEC = """\
model: {name: tiny-mistral, dtype: float32}
lora: {r: 4, target_modules: [q_proj, v_proj]}
training:
  output_dir: OUT_DIR
  max_steps: 10
  save_steps: 5
compute: {provider: local}
"""


def test_gate_plan_has_sigterm_save_and_accepts_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out / "checkpoint-5").mkdir(parents=True)
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC.replace("OUT_DIR", str(out)))
    loaded = preflight.load_spec(spec)

    plain = preflight.check(loaded)
    gated = preflight.check(as_trainjob_runs_it(loaded))

    plain_rules = {f.rule for f in plain.active()}
    gated_rules = {f.rule for f in gated.active()}
    assert "PF104" in plain_rules and "PF104" not in gated_rules
    [silenced] = [f for f in gated.findings if f.rule == "PF104"]
    assert "resumes" in (silenced.silenced_by or "")
    assert as_trainjob_runs_it(loaded).spec.training.get("enable_jit_checkpoint") is True
    assert (
        loaded.spec.training.get("enable_jit_checkpoint") is False
    )  # the user's file is untouched
