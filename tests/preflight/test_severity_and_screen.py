"""Issue 16, report half: severity by consequence, the retention rule on the seed, one screen.

Every test runs the real loader, readers, engine and renderers on real files (the seed examples,
fixtures shaped like SageMaker sample notebooks and TRL scripts); plan facts are replaced only
where a rule's threshold is the subject (the run's expected hours).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "rules"))
from rule_case_harness import make_plan

from preflight.cli import cli
from preflight.engine import run_rules
from preflight.findings import Severity
from preflight.pipeline import check
from preflight.render import Format, render
from preflight.severity import DEMO_MAX_STEPS, LONG_RUN_HOURS
from preflight.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "tests" / "readers" / "corpus"


def _rules(findings: list[Any]) -> list[str]:
    return [f.rule for f in findings]


# --- severity by consequence ---------------------------------------------------------------------


def _pf210(tmp_path: Path, max_steps: int, hours: float | None) -> list[Any]:
    """PF210 (first save after the run ends) on a run of ``max_steps`` and ``hours``."""
    fragment = {"training": {"max_steps": max_steps, "save_steps": max_steps * 10}}
    facts = None if hours is None else {"cost": {"hours": hours, "total_steps": max_steps}}
    plan = make_plan(fragment, tmp_path, facts=facts)
    return [f for f in run_rules(plan) if f.rule == "PF210"]


def test_pf210_is_info_on_a_demo_warning_on_hours_error_on_days(tmp_path: Path) -> None:
    [demo] = _pf210(tmp_path, DEMO_MAX_STEPS, None)
    assert demo.severity is Severity.INFO and f"a {DEMO_MAX_STEPS}-step run" in demo.message
    [hours] = _pf210(tmp_path, 5_000, 6.0)
    assert hours.severity is Severity.WARNING and "[" not in hours.message
    [days] = _pf210(tmp_path, 500_000, LONG_RUN_HOURS * 3)
    assert days.severity is Severity.ERROR and "an expected 72 h run" in days.message


def test_a_progress_rule_is_silent_on_a_demo(tmp_path: Path) -> None:
    # PF207 (no SIGTERM save) loses one save interval: nothing on a 50-step SageMaker demo.
    fragment = {
        "training": {"output_dir": "/opt/ml/checkpoints", "max_steps": 50, "save_steps": 10},
        "compute": {
            "provider": "sagemaker",
            "instance_type": "ml.g5.xlarge",
            "checkpoint_s3_uri": "s3://b/c",
        },
    }
    assert "PF207" not in _rules(run_rules(make_plan(fragment, tmp_path)))
    fragment["training"]["max_steps"] = 5_000
    assert "PF207" in _rules(run_rules(make_plan(fragment, tmp_path)))


# --- the retention rule on the seed ------------------------------------------------------------


def test_seed_broken_spec_gets_the_retention_warning_with_counts_and_sizes() -> None:
    [pf213] = [f for f in check(EXAMPLES / "seed-broken.yaml").findings if f.rule == "PF213"]
    assert pf213.severity is Severity.WARNING and pf213.field == "training.save_total_limit"
    # the seed story: 152 saves in 168 h, 3 kept; here 150 before MaxRuntime, best + 2 newest
    assert "writes 150 checkpoints before MaxRuntime stops it at 168 h" in pf213.message
    assert "keeps the best and the 2 newest checkpoints and deletes 147" in pf213.message
    assert "GB" in pf213.message and "in S3" in pf213.message


def test_seed_fixed_spec_does_not_get_it() -> None:
    assert "PF213" not in _rules(check(EXAMPLES / "seed-fixed.yaml").findings)


SEED_SNIPPET = """\
# WHAT WE HAD (BROKEN)
training_args = TrainingArguments(
    output_dir="/opt/ml/output/data",
    save_strategy="steps",
    save_steps=1000,
    save_total_limit=3,  # PROBLEM: Deletes old checkpoints!
    load_best_model_at_end=True,
)
"""


def test_seed_py_snippet_gets_the_retention_warning(tmp_path: Path) -> None:
    snippet = tmp_path / "train.py"
    snippet.write_text("from transformers import TrainingArguments\n\n" + SEED_SNIPPET)
    report = check(snippet)
    [pf213] = [f for f in report.findings if f.rule == "PF213"]
    assert pf213.line == 8 and "keeps only the best and the 2 newest checkpoints" in pf213.message
    assert "PF213" in _rules(check(CORPUS / "scripts" / "seed_train.py").findings)
    assert "PF213" in _rules(check(CORPUS / "notebooks" / "seed_broken.ipynb").findings)
    assert "PF213" not in _rules(check(CORPUS / "notebooks" / "seed_fixed.ipynb").findings)


# --- one screen --------------------------------------------------------------------------------


def test_one_not_checked_finding_per_file_listing_the_rules(tmp_path: Path) -> None:
    snippet = tmp_path / "train.py"
    snippet.write_text("from transformers import TrainingArguments\n\n" + SEED_SNIPPET)
    report = check(snippet)
    unchecked = [f for f in report.findings if f.message.startswith("not checked")]
    assert len(unchecked) == 1
    [summary] = unchecked
    assert summary.rule == "PF901" and summary.severity is Severity.INFO
    assert {"PF302", "PF401", "PF702"} <= set(summary.rules or [])
    assert f"{len(summary.rules or [])} rules" in summary.message
    assert "compute.instance_type" in (summary.fix or "")
    data = json.loads(render(report, Format.JSON))
    [js] = [f for f in data["findings"] if f["rule"] == "PF901"]
    assert js["rules"] == summary.rules
    assert render(report, Format.RICH).count("not checked") == 1
    for fmt in (Format.MARKDOWN, Format.JUNIT):
        assert render(report, fmt).count("not checked") == 1, fmt


def test_aws_rules_silent_without_aws_and_sagemaker_rules_silent_on_local() -> None:
    sm = check(EXAMPLES / "seed-broken.yaml")
    assert not [f for f in sm.findings if f.rule.startswith("PF6")]
    assert any("--aws" in n for n in sm.notes)
    local = check(EXAMPLES / "tiny-local.yaml")
    assert not [f for f in local.findings if f.rule.startswith(("PF6", "PF30"))], local.findings
    assert not any("--aws" in n for n in local.notes)  # nothing to audit on a laptop
    assert len([f for f in local.findings if f.message.startswith("not checked")]) <= 1


def test_pf102_on_the_pf101_line_is_one_finding() -> None:
    found = check(EXAMPLES / "seed-broken.yaml").findings
    assert "PF102" not in _rules(found)
    assert [f.field for f in found if f.rule == "PF101"].count("training.output_dir") == 1


def _two_notebooks(folder: Path) -> Path:
    """Two launch notebooks that run one entry script: the shape of
    philschmid/huggingface-sagemaker-workshop-series workshop_1 (lab_1_default_training and
    lab_3_spot_instances both launch scripts/train.py)."""
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "train.py").write_text(
        "from transformers import Trainer, TrainingArguments\n\n"
        "args = TrainingArguments(\n"
        '    output_dir="/opt/ml/model",\n'
        "    save_strategy='steps',\n"
        "    save_steps=500,\n"
        ")\n"
        "Trainer(model=None, args=args).train()\n"
    )
    for name in ("launch_a", "launch_b"):
        code = (
            "from sagemaker.huggingface import HuggingFace\n\n"
            'est = HuggingFace(entry_point="train.py", source_dir="scripts",\n'
            '    instance_type="ml.g5.xlarge", instance_count=1,\n'
            '    role="arn:aws:iam::123456789012:role/SageMakerTraining",\n'
            '    transformers_version="4.36", pytorch_version="2.1", py_version="py310",\n'
            '    max_run=48 * 3600, checkpoint_s3_uri="s3://bucket/ckpt")\n'
            'est.fit({"train": "s3://bucket/train"})\n'
        )
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": code}
        nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    return folder


def test_one_script_launched_by_two_notebooks_is_reported_once(tmp_path: Path) -> None:
    report = check(_two_notebooks(tmp_path / "repo"))
    pf101 = [f for f in report.findings if f.rule == "PF101"]
    assert len(pf101) == 1, pf101
    [f] = pf101
    assert f.file is not None and f.file.endswith("train.py")
    assert [Path(p).name for p in f.places or []] == ["launch_a.ipynb", "launch_b.ipynb"]
    assert "launch_b.ipynb" in render(report, Format.RICH)


def test_junit_carries_findings_located_in_an_entry_script(tmp_path: Path) -> None:
    report = check(_two_notebooks(tmp_path / "repo"))
    root = ET.fromstring(render(report, Format.JUNIT))
    suites = {s.get("name", "").rsplit("/", 1)[-1]: s for s in root}
    assert "train.py" in suites, list(suites)
    failed = [c.get("name") for c in suites["train.py"] if c.find("failure") is not None]
    assert failed == ["PF101 training.output_dir"]
    listed = sum(1 for s in root for c in s if c.get("classname", "").startswith("preflight.PF"))
    assert listed == len(report.listed())


def test_silenced_findings_are_counted_not_listed(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "name: x\ntraining: {max_steps: 5000, save_steps: 50000}\n"
        "ignore:\n  - {rule: PF210, reason: the final save is enough here}\n"
    )
    report = check(spec)
    assert [f.rule for f in report.findings if f.silenced_by] == ["PF210"]
    for fmt in (Format.RICH, Format.MARKDOWN, Format.JUNIT, Format.SARIF, Format.JSON):
        assert "PF210" not in render(report, fmt), fmt
    assert "1 silenced finding" in render(report, Format.RICH)
    assert json.loads(render(report, Format.JSON))["summary"]["silenced"] == 1
    report.show_silenced = True
    assert "PF210" in render(report, Format.RICH)
    run = CliRunner().invoke(cli, ["check", str(spec), "--show-silenced", "--format", "json"])
    rules = [f["rule"] for f in json.loads(run.stdout)["findings"]]
    assert "PF210" in rules


# --- formats on exit 2, instance types ---------------------------------------------------------


def test_sarif_is_written_on_exit_2_with_the_error_as_a_notification(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("name: x\ncompute: {provider: sagemaker, instance_type: g6e.xlarge}\n")
    out = tmp_path / "preflight.sarif"
    run = CliRunner().invoke(cli, ["check", str(spec), "--format", "sarif", "-o", str(out)])
    assert run.exit_code == 2
    doc = json.loads(out.read_text())
    [inv] = doc["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False and doc["runs"][0]["results"] == []
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "error" and "ml.g6e.xlarge" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_sagemaker_instance_type_without_ml_prefix_is_unusable(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("name: x\ncompute: {provider: sagemaker, instance_type: g6e.xlarge}\n")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    [issue] = err.value.issues
    assert issue.key == "compute.instance_type" and "use ml.g6e.xlarge" in issue.message
    spec.write_text("name: x\ncompute: {provider: sagemaker, instance_type: ml.g6e.xlarge}\n")
    load_spec(spec)


# --- PF101 only where checkpoints are written ---------------------------------------------------


def test_pf101_silent_on_a_job_that_saves_nothing(tmp_path: Path) -> None:
    merge = tmp_path / "launch_merge.py"  # a merge job: estimator, no Trainer arguments at all
    merge.write_text(
        "from sagemaker.huggingface import HuggingFace\n\n"
        'est = HuggingFace(entry_point="merge_adapter.py", instance_type="ml.g5.2xlarge",\n'
        '    instance_count=1, role="arn:aws:iam::123456789012:role/R",\n'
        '    transformers_version="4.36", pytorch_version="2.1", py_version="py310")\n'
        "est.fit()\n"
    )
    assert "PF101" not in _rules(check(merge).findings)
    script = tmp_path / "train.py"
    script.write_text(
        "from transformers import TrainingArguments\n"
        'args = TrainingArguments(output_dir="/opt/ml/model", save_strategy="no")\n'
    )
    assert "PF101" not in _rules(check(script).findings)


def test_estimator_instance_type_without_ml_prefix_is_an_error_with_the_fix(tmp_path: Path) -> None:
    launch = tmp_path / "launch.py"  # the shape of AWS's HuggingFace estimator samples
    launch.write_text(
        "from sagemaker.huggingface import HuggingFace\n\n"
        'est = HuggingFace(entry_point="train.py", instance_type="g6e.xlarge",\n'
        '    instance_count=1, role="arn:aws:iam::123456789012:role/R",\n'
        '    transformers_version="4.36", pytorch_version="2.1", py_version="py310",\n'
        '    hyperparameters={"output_dir": "/opt/ml/checkpoints", "max_steps": 1000},\n'
        '    checkpoint_s3_uri="s3://b/c")\n'
        "est.fit()\n"
    )
    [f] = [f for f in check(launch).findings if f.rule == "PF512"]
    assert f.severity is Severity.ERROR and f.line == 3
    assert f.fix == 'Use instance_type="ml.g6e.xlarge".'


def test_a_bad_baseline_is_exit_2_with_a_sarif_file(tmp_path: Path) -> None:
    out = tmp_path / "preflight.sarif"
    args = ["check", str(EXAMPLES / "seed-fixed.yaml"), "--baseline", str(tmp_path / "none.json")]
    run = CliRunner().invoke(cli, [*args, "--format", "sarif", "-o", str(out)])
    assert run.exit_code == 2 and "Traceback" not in run.output
    [inv] = json.loads(out.read_text())["runs"][0]["invocations"]
    assert "baseline file not found" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_trl_example_notebook_of_30_steps_is_ready_to_launch(tmp_path: Path) -> None:
    # The shape of huggingface/trl examples/notebooks/sft_trl_lora_qlora.ipynb: SFTConfig with
    # max_steps=30 and Trainer's default save_steps=500, so the only save is the final one.
    code = (
        "from trl import SFTConfig\n\n"
        "training_args = SFTConfig(\n"
        "    per_device_train_batch_size=1,\n"
        "    gradient_accumulation_steps=4,\n"
        "    max_steps=30,\n"
        "    learning_rate=2e-4,\n"
        '    output_dir="Qwen3-0.6B-SFT",\n'
        ")\n"
    )
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": code}
    nb = tmp_path / "sft.ipynb"
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}))
    report = check(nb)
    [pf210] = [f for f in report.findings if f.rule == "PF210"]
    assert pf210.severity is Severity.INFO and "a 30-step run" in pf210.message
    assert not report.failing(Severity.WARNING)
    assert "ready to launch" in render(report, Format.RICH)
