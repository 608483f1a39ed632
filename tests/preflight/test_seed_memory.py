"""The seed's OOM, end to end through preflight: its failing start is refused, its fix passes."""

from __future__ import annotations

from pathlib import Path

from preflight.pipeline import check

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _variant(tmp_path: Path, **training: object) -> Path:
    """seed-fixed.yaml with the seed's failing-start memory settings swapped in."""
    text = (EXAMPLES / "seed-fixed.yaml").read_text()
    text = text.replace(
        "target_modules: [q_proj, v_proj]", "target_modules: [q_proj, k_proj, v_proj, o_proj]"
    )
    text = text.replace("max_length: 256", "max_length: 512")
    for key, value in training.items():
        old = next(line for line in text.splitlines() if line.strip().startswith(f"{key}:"))
        text = text.replace(old, f"  {key}: {value}")
    path = tmp_path / "seed-first-try.yaml"
    path.write_text(text)
    return path


def test_seed_failing_start_is_refused(tmp_path: Path) -> None:
    spec = _variant(tmp_path, per_device_train_batch_size=2, gradient_checkpointing="false")
    report = check(spec)
    [pf401] = [f for f in report.findings if f.rule == "PF401"]
    assert pf401.severity.value == "error" and report.errors >= 1
    assert (
        report.memory is not None
        and report.memory["peak_gib"] > 0.95 * report.memory["capacity_gib"]
    )


def test_seed_final_setting_fits_with_room() -> None:
    report = check(EXAMPLES / "seed-fixed.yaml")
    assert report.memory is not None and report.memory["fits"] is True
    assert report.memory["peak_gib"] < 0.9 * report.memory["capacity_gib"]
    assert not [f for f in report.findings if f.rule in ("PF401", "PF402")]
