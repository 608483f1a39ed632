"""Spec variants for the SageMaker tests, written into tmp dirs (examples/ stay untouched)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SEED_FIXED = ROOT / "examples" / "seed-fixed.yaml"
SEED_BROKEN = ROOT / "examples" / "seed-broken.yaml"


def variant(tmp_path: Path, name: str, replacements: dict[str, str]) -> Path:
    """seed-fixed.yaml with exact line replacements (each must match once)."""
    text = SEED_FIXED.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
