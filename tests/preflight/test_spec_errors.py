"""What a user sees for a bad spec: the whole ``file:line: key: message`` line, for each way a
section, a key or a value can be wrong, and what a good spec gives the rules (lines, files,
the model to load). Messages are compared whole: the text is the product."""

from __future__ import annotations

from pathlib import Path

import pytest

import costmodel
from preflight.spec import LoadedSpec, SpecError, load_spec, validate_document
from preflight.spec.errors import SpecIssue
from preflight.spec.loader import model_target
from preflight.spec.yaml_source import load_yaml

SECTIONS = "budget, compute, data, ignore, lora, model, name, training"  # DESIGN.md's spec
HIDDEN = "(<hidden>: it holds a credential)"
TOKEN = "hf_" + "A" * 25


def spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


def error_lines(tmp_path: Path, text: str, *, resolve: bool = False) -> list[str]:
    """The lines ``preflight check`` prints for a spec it cannot use (exit 2)."""
    path = spec_file(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path) if resolve else load_spec(path, resolve=False)
    # The JSON report gives `file` and `key` as text ("" for the whole file), `line` or null.
    for issue in info.value.issues:
        assert issue.file == str(path) and isinstance(issue.key, str), issue
    return str(info.value).replace(str(path), "job.yaml").splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "job.yaml: the spec is empty"),
        ("# only a comment\n", "job.yaml: the spec is empty"),
        ("- a\n", "job.yaml:1: the spec must be a mapping of sections, not a list"),
        ("5\n", "job.yaml:1: the spec must be a mapping of sections, not a number"),
        ("text\n", "job.yaml:1: the spec must be a mapping of sections, not text"),
        ("name: x\n1: y\n", "job.yaml:2: 1: section names must be text, not 1"),
        ("? [a]\n: 1\n", "job.yaml:1: ('a',): section names must be text, not ('a',)"),
        (
            "name: x\nbudgt: {}\n",
            f"job.yaml:2: budgt: unknown section (did you mean `budget`?); known: {SECTIONS}",
        ),
        ("zzzz: 1\n", f"job.yaml:1: zzzz: unknown section; known: {SECTIONS}"),
        ("name: true\n", "job.yaml:1: name: must be text"),
        ("name: 1.5\n", "job.yaml:1: name: must be text"),
        ("lora: 2024-01-01\n", "job.yaml:1: lora: must be a mapping of keys, not date"),
        ("\nlora: [1]\n", "job.yaml:2: lora: must be a mapping of keys, not a list"),
        (
            "lora:\n  r: sixteen\n",
            "job.yaml:2: lora.r: Input should be a valid integer, unable to parse string as an "
            "integer (got 'sixteen')",
        ),
        (
            f"lora:\n  r: {TOKEN}\n",
            "job.yaml:2: lora.r: Input should be a valid integer, unable to parse string as an "
            f"integer (got text {HIDDEN})",
        ),
        (
            "lora:\n  target_modules:\n    - q_proj\n    - 5\n",
            "job.yaml:4: lora.target_modules.1: Input should be a valid string (got 5)",
        ),
        (
            "model:\n  dtype: float16\n",
            "job.yaml:1: model.name: required key is missing",
        ),
        (
            "training:\n  save_steps: abc\n",
            "job.yaml:2: training.save_steps: expects float (TrainingArguments.save_steps: "
            "float), got 'abc'",
        ),
        (
            "training:\n  bf16: 1\n",
            "job.yaml:2: training.bf16: expects bool (TrainingArguments.bf16: bool), got 1",
        ),
        (
            f"training:\n  hub_token: [{TOKEN}]\n",
            "job.yaml:2: training.hub_token: expects str or null (TrainingArguments.hub_token: "
            f"str | None), got a list {HIDDEN}",
        ),
        ("training:\n  a: 1\n  1: x\n", "job.yaml:3: training.1: keys must be text, not 1"),
        (
            "training:\n  warmup_ratio: 1.5\n",
            "job.yaml:2: training.warmup_ratio: must be within 0 .. 1 (a share of the training "
            "steps), got 1.5",
        ),
        (
            "training:\n  learning_rate: 1000000.5\n",
            "job.yaml:2: training.learning_rate: must be within 0 .. 1000000 (a learning rate "
            "cannot be negative), got 1000000.5",
        ),
        (
            "ignore:\n  - rule: PF105\n    reason: 5\n",
            "job.yaml:3: ignore.0.reason: Input should be a valid string (got 5)",
        ),
        (
            "ignore:\n  - {rule: PF105, reason: fine}\n  - 7\n",
            "job.yaml:3: ignore.1: must be a mapping {rule: PF..., reason: ...}",
        ),
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  spot: true\n  max_wait_hours: 2\n",
            "job.yaml:4: compute.max_wait_hours: max_wait_hours (2) must be >= max_run_hours "
            "(24): SageMaker rejects MaxWaitTimeInSeconds < MaxRuntimeInSeconds",
        ),
    ],
)
def test_one_bad_thing_one_exact_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_lines(tmp_path, text) == [expected]


def test_every_problem_of_every_section_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        "lora:\n"  # 1
        "  r: 8\n"  # 2
        "  rank: 8\n"  # 3
        "  alpah: 3\n"  # 4
        "bugdet: {}\n"  # 5
        "training:\n"  # 6
        "  bf16: yes please\n"  # 7
        "ignore: 3\n"  # 8
        "name: [x]\n"  # 9
    )
    lora_keys = "r, alpha, dropout, target_modules, bias, use_dora, modules_to_save"
    assert error_lines(tmp_path, text) == [
        f"job.yaml:3: lora.rank: unknown key; lora accepts: {lora_keys}",
        f"job.yaml:4: lora.alpah: unknown key (did you mean `alpha`?); lora accepts: {lora_keys}",
        f"job.yaml:5: bugdet: unknown section (did you mean `budget`?); known: {SECTIONS}",
        "job.yaml:7: training.bf16: expects bool (TrainingArguments.bf16: bool), got 'yes please'",
        "job.yaml:8: ignore: must be a list of {rule: PF..., reason: ...} entries",
        "job.yaml:9: name: must be text",
    ]


def test_each_bad_training_key_and_ignore_entry_is_reported(tmp_path: Path) -> None:
    text = (
        "training:\n"  # 1
        "  1: x\n"  # 2
        "  bf16: 1\n"  # 3
        "  warmup_ratio: 2\n"  # 4
        "  my_own_key: 1\n"  # 5: not a TrainingArguments field: PF401's to report, not ours
        "ignore:\n"  # 6
        "  - 7\n"  # 7
        "  - {rule: X1, reason: fine}\n"  # 8
    )
    assert error_lines(tmp_path, text) == [
        "job.yaml:2: training.1: keys must be text, not 1",
        "job.yaml:3: training.bf16: expects bool (TrainingArguments.bf16: bool), got 1",
        "job.yaml:4: training.warmup_ratio: must be within 0 .. 1 (a share of the training "
        "steps), got 2",
        "job.yaml:7: ignore.0: must be a mapping {rule: PF..., reason: ...}",
        "job.yaml:8: ignore.1.rule: String should match pattern '^PF\\d{3}$' (got 'X1')",
    ]


def test_cross_field_problems_wait_for_the_sections_to_be_valid(tmp_path: Path) -> None:
    # The spot/max_wait combination is wrong too, but only the wrong type is reported: the
    # cross-field checks need validated sections.
    text = "compute:\n  instance_type: ml.g5.xlarge\n  spot: true\n  max_wait_hours: 2\nlora: 1\n"
    assert error_lines(tmp_path, text) == [
        "job.yaml:5: lora: must be a mapping of keys, not a number"
    ]


def test_validate_document_gives_a_spec_or_issues_never_both(tmp_path: Path) -> None:
    path = spec_file(
        tmp_path, "compute: {instance_type: ml.g5.xlarge, spot: false, max_wait_hours: 5}\n"
    )
    spec, issues = validate_document(load_yaml(path))
    assert spec is None  # a cross-field problem: the sections were valid, the spec is not
    assert [(i.line, i.key) for i in issues] == [(1, "compute.max_wait_hours")]
    spec, issues = validate_document(load_yaml(spec_file(tmp_path, "name: ok\n")))
    assert spec is not None and spec.name == "ok" and issues == []


def test_an_unknown_instance_is_an_error_only_when_resolving(tmp_path: Path) -> None:
    text = "model:\n  name: x\ncompute:\n  instance_type: ml.g5.xlarg\n"
    with pytest.raises(costmodel.UnknownInstanceError) as exc:
        costmodel.load_catalog().instance("ml.g5.xlarg")
    assert exc.value.suggestions[0] == "ml.g5.xlarge"
    # costmodel's own message, which already lists the nearest names, once.
    assert error_lines(tmp_path, text, resolve=True) == [
        f"job.yaml:4: compute.instance_type: {exc.value}"
    ]
    assert str(exc.value).count("did you mean") == 1
    # A spec that is already unusable is not resolved (and does not crash trying).
    assert error_lines(tmp_path, "lora: 1\n", resolve=True) == [
        "job.yaml:1: lora: must be a mapping of keys, not a number"
    ]
    loaded = load_spec(spec_file(tmp_path, text), resolve=False)
    assert loaded.spec.compute is not None and loaded.spec.compute.instance_type == "ml.g5.xlarg"


def test_a_known_instance_and_no_compute_resolve(tmp_path: Path) -> None:
    known = load_spec(spec_file(tmp_path, "compute: {instance_type: ml.g5.xlarge}\n"))
    assert known.spec.compute is not None and known.spec.compute.instance_type == "ml.g5.xlarge"
    assert load_spec(spec_file(tmp_path, "name: job\n")).spec.compute is None
    local = load_spec(spec_file(tmp_path, "compute: {provider: local}\n"))
    assert local.spec.compute is not None and local.spec.compute.instance_type is None


def test_empty_sections_and_names(tmp_path: Path) -> None:
    loaded = load_spec(
        spec_file(tmp_path, "name: 42\nmodel:\nlora:\ntraining:\nignore:\n"), resolve=False
    )
    spec = loaded.spec
    assert spec.name == "42"
    assert spec.model is None and spec.lora is None
    assert spec.training.values == {} and spec.ignore == []
    assert load_spec(spec_file(tmp_path, "name:\n"), resolve=False).spec.name is None


def test_a_good_spec_keeps_what_the_rules_need(tmp_path: Path) -> None:
    text = (
        "name: job\n"  # 1
        "model:\n"  # 2
        "  name: tiny\n"  # 3
        "training:\n"  # 4
        "  save_steps: 50\n"  # 5
        "  report_to: [none]\n"  # 6
        "  my_own_key: 1\n"  # 7: unknown to TrainingArguments; PF401 reports it, not the loader
        "ignore:\n"  # 8
        "  - {rule: PF105, reason: small disk is fine}\n"  # 9
    )
    path = spec_file(tmp_path, text)
    loaded = load_spec(str(path), resolve=False)
    assert isinstance(loaded, LoadedSpec) and loaded.path == path
    assert (loaded.kind, loaded.trainer_config, loaded.stated) == (
        "spec",
        "TrainingArguments",
        None,
    )
    assert loaded.spec.training.values == {"save_steps": 50, "report_to": ["none"], "my_own_key": 1}
    assert [(e.rule, e.reason) for e in loaded.spec.ignore] == [("PF105", "small disk is fine")]
    assert loaded.lines == {
        "name": 1,
        "model": 2,
        "model.name": 3,
        "training": 4,
        "training.save_steps": 5,
        "training.report_to": 6,
        "training.report_to.0": 6,
        "training.my_own_key": 7,
        "ignore": 8,
        "ignore.0": 9,
        "ignore.0.rule": 9,
        "ignore.0.reason": 9,
    }
    assert loaded.line_of("training.save_steps") == 5
    assert loaded.line_of("training.max_steps") == 4  # unwritten: its section's line
    assert loaded.line_of("compute.spot") is None
    assert loaded.issue("training.max_steps", "m") == SpecIssue(
        str(path), 4, "training.max_steps", "m"
    )
    assert loaded.issue("compute", "m") == SpecIssue(str(path), None, "compute", "m")
    # Keys a reader took from another file name that file; the rest, the spec.
    script = tmp_path / "train.py"
    loaded.key_files["training"] = script
    assert loaded.file_of("training.save_steps") == script
    assert loaded.file_of("model.name") == path
    assert loaded.file_of(None) == path


def test_model_target_prefers_a_local_config_folder(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "model:\n  name: tiny\n")
    loaded = load_spec(path, resolve=False)
    assert loaded.model_target() == "tiny"  # no folder: the name, for the catalog or the hub
    (tmp_path / "tiny").mkdir()
    assert loaded.model_target() == str(tmp_path / "tiny")
    assert model_target(path, "org/model") == "org/model"
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert model_target(Path("/nowhere/job.yaml"), str(other)) == str(other)  # absolute stays
    assert load_spec(spec_file(tmp_path, "name: x\n"), resolve=False).model_target() is None
