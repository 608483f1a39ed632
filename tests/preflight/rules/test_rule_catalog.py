"""The catalog as a whole: the seed's configs, silencing, metadata, and what rules may import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

import preflight
from preflight.findings import Severity
from preflight.rules import all_rules

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"

#: The seed story's TrainingArguments snippet, as the user pasted it (shared/seed, "BROKEN").
SEED_SNIPPET = """\
from transformers import TrainingArguments

training_args = TrainingArguments(
    output_dir="/opt/ml/output/data",
    save_strategy="steps",
    save_steps=1000,
    save_total_limit=3,  # PROBLEM: Deletes old checkpoints!
    load_best_model_at_end=True,
)
"""


def _active(report_findings: list, prefixes: tuple[str, ...] = ("PF1", "PF2")) -> list:
    return [
        f
        for f in report_findings
        if f.rule.startswith(prefixes) and f.severity != Severity.INFO and f.silenced_by is None
    ]


def test_seed_broken_spec_fails_with_unsynced_checkpoints() -> None:
    report = preflight.check(EXAMPLES / "seed-broken.yaml")
    pf101 = [f for f in report.findings if f.rule == "PF101"]
    # one root cause, one finding: the wrong directory and the missing S3 prefix together
    assert [f.field for f in pf101] == ["training.output_dir"]
    assert "compute.checkpoint_s3_uri is not set" in pf101[0].message
    assert all(f.severity == Severity.ERROR for f in pf101)
    assert report.failing(Severity.ERROR)


def test_seed_python_snippet_fails_with_unsynced_checkpoints(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SEED_SNIPPET)
    report = preflight.check(script)
    pf101 = [f for f in report.findings if f.rule == "PF101"]
    assert [(f.field, f.line) for f in pf101] == [("training.output_dir", 4)]


def test_seed_fixed_spec_passes_sync_rotation_and_best_model_rules() -> None:
    report = preflight.check(EXAMPLES / "seed-fixed.yaml")
    assert _active(report.findings) == []


def test_pf101_cannot_be_silenced(tmp_path: Path) -> None:
    yaml = YAML()
    spec = yaml.load((EXAMPLES / "seed-broken.yaml").read_text())
    spec["ignore"] = [
        {"rule": "PF101", "reason": "we accept losing the run"},
        {"rule": "PF207", "reason": "launched with trainjob, which saves on SIGTERM"},
    ]
    path = tmp_path / "spec.yaml"
    with path.open("w") as fh:
        yaml.dump(spec, fh)
    report = preflight.check(path)
    pf101 = [f for f in report.findings if f.rule == "PF101"]
    assert pf101 and all(f.silenced_by is None for f in pf101)
    assert all("cannot be silenced" in f.message for f in pf101)
    pf207 = [f for f in report.findings if f.rule == "PF207"]
    assert pf207 and all(f.silenced_by for f in pf207)


def test_rule_metadata_is_complete_and_unique() -> None:
    rules = all_rules()
    names = [r.name for r in rules]
    assert len(names) == len(set(names)), "rule names must be unique"
    for r in rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert r.title and not r.title.endswith("."), r.id
        assert r.source_url.startswith("https://"), r.id
        assert r.fix.strip(), r.id
    assert not next(r for r in rules if r.id == "PF101").silenceable


def test_rules_import_no_heavy_library() -> None:
    """`preflight check` on the analytic path must not import torch & co."""
    code = (
        "import sys, preflight\n"
        f"preflight.check({str(EXAMPLES / 'seed-broken.yaml')!r})\n"
        "heavy = {'torch', 'transformers', 'peft', 'boto3', 'sagemaker', 'matplotlib'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_baseline_silences_all_but_pf101(tmp_path: Path) -> None:
    from preflight.baseline import apply_baseline, write_baseline

    report = preflight.check(EXAMPLES / "seed-broken.yaml")
    path = tmp_path / "baseline.json"
    write_baseline(report, path)
    again = apply_baseline(preflight.check(EXAMPLES / "seed-broken.yaml"), path)
    assert {f.rule for f in again.failing(Severity.ERROR)} == {"PF101"}


def test_every_catalog_instance_has_its_disk_size() -> None:
    """PF105 needs the instance storage of every GPU type the cost model knows (all NVMe)."""
    import costmodel
    from preflight.rules.sync import INSTANCE_STORE_GB

    missing = sorted(set(costmodel.load_catalog().instances) - set(INSTANCE_STORE_GB))
    assert not missing, f"add their instance storage to INSTANCE_STORE_GB: {missing}"
