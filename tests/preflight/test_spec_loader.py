"""The job spec loader: every problem at once, each with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.spec import SpecError, load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, text: str, name: str = "job.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def issues_of(path: Path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(path, resolve=False)
    return [(i.line, i.key, i.message) for i in info.value.issues]


@pytest.mark.parametrize("name", ["seed-broken.yaml", "seed-fixed.yaml"])
def test_examples_load(name: str) -> None:
    loaded = load_spec(EXAMPLES / name)
    assert loaded.spec.model is not None
    assert loaded.spec.model.name == "mistralai/Mistral-7B-v0.1"
    assert loaded.line_of("training.save_steps") is not None


def test_defaults_a_user_expects(tmp_path: Path) -> None:
    spec = load_spec(
        write(tmp_path, "model: {name: x}\ncompute: {instance_type: ml.g5.xlarge}\nlora: {}\n"),
        resolve=False,
    ).spec
    assert spec.compute is not None and spec.lora is not None
    assert spec.compute.provider == "sagemaker"
    assert spec.compute.max_run_hours == 24  # SageMaker's own default MaxRuntime: 1 day
    assert spec.compute.checkpoint_local_path == "/opt/ml/checkpoints"
    assert spec.lora.target_modules == ["q_proj", "v_proj"]
    # Unstated training fields read as Trainer's defaults, stated ones as written.
    assert spec.training.get("save_steps") == 500
    assert spec.training.get("save_strategy") == "steps"
    assert spec.training.get("save_total_limit") is None
    assert spec.training.stated == set()


def test_all_problems_reported_at_once_with_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "model:\n"
        "  name: m\n"
        "  dtype: float17\n"  # line 3
        "lora:\n"
        "  r: sixteen\n"  # line 5
        "training:\n"
        "  save_steps: abc\n"  # line 7
        "  save_strategy: sometimes\n"  # line 8
        "compute:\n"
        "  instance_type: ml.g5.xlarge\n"
        "  rgion: us-east-1\n"  # line 11
        "budgt: {}\n",  # line 12
    )
    found = issues_of(path)
    keys = {(line, key) for line, key, _ in found}
    assert keys == {
        (3, "model.dtype"),
        (5, "lora.r"),
        (7, "training.save_steps"),
        (8, "training.save_strategy"),
        (11, "compute.rgion"),
        (12, "budgt"),
    }
    messages = {key: msg for _, key, msg in found}
    assert "did you mean `region`" in messages["compute.rgion"]
    assert "did you mean `budget`" in messages["budgt"]
    assert "no | steps | epoch | best" in messages["training.save_strategy"]


def test_cross_field_spot_wait(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "compute:\n  instance_type: ml.g5.xlarge\n  spot: true\n  max_run_hours: 168\n"
        "  max_wait_hours: 100\n",
    )
    [(line, key, message)] = issues_of(path)
    assert (line, key) == (5, "compute.max_wait_hours")
    assert ">= max_run_hours" in message


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        (
            "compute: {spot: false, max_wait_hours: 5, instance_type: ml.g5.xlarge}\n",
            "compute.max_wait_hours",
            "only valid with spot",
        ),
        (
            "compute: {max_run_hours: 1000, instance_type: ml.g5.xlarge}\n",
            "compute.max_run_hours",
            "28 days",
        ),
        ("compute: {provider: sagemaker}\n", "compute.instance_type", "required"),
        (
            "compute: {instance_type: ml.g5.xlarge, checkpoint_s3_uri: /tmp/x}\n",
            "compute.checkpoint_s3_uri",
            "s3://",
        ),
        (
            "compute: {instance_type: ml.g5.2xlarge, instance_count: 2}\n",
            "compute.distributed",
            "ddp",
        ),
        ("model: {name: m, dtype: nf4}\n", "model.dtype", "lora"),
        ("ignore: [{rule: PF105}]\n", "ignore.0.reason", "missing"),
        ("ignore: [{rule: X1, reason: because}]\n", "ignore.0.rule", "pattern"),
    ],
)
def test_cross_field_and_section_rules(tmp_path: Path, text: str, key: str, needle: str) -> None:
    found = issues_of(write(tmp_path, text))
    assert any(k == key and needle in m for _, k, m in found), found


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        ("", "empty", None),
        ("- a\n- b\n", "mapping of sections", 1),
        ("model:\n  name: a\nmodel:\n  name: b\n", "duplicate key", 3),
        ("model:\n\tname: a\n", "tabs", 2),
        ("model: [\n", "invalid YAML", 2),
        ("training: 5\n", "mapping of TrainingArguments", 1),
        ("lora: [1, 2]\n", "must be a mapping", 1),
    ],
)
def test_malformed_yaml(tmp_path: Path, text: str, needle: str, line: int | None) -> None:
    [(got_line, _key, message)] = issues_of(write(tmp_path, text))
    assert needle in message
    assert got_line == line


def test_bad_bytes_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"model:\n  name: \xff\xfe\n")
    [(line, _, message)] = issues_of(bad)
    assert line == 2 and "UTF-8" in message
    [(_, _, message)] = issues_of(tmp_path / "nope.yaml")
    assert message == "file not found"


def test_unknown_instance_suggests_and_an_unknown_model_is_left_to_memory(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "model:\n  name: mistralai/Mistral-7B-v0.2x\ncompute:\n  instance_type: ml.g5.xlarg\n",
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    by_key = {i.key: i for i in info.value.issues}
    assert "model.name" not in by_key  # preflight check says "memory not checked" instead
    assert by_key["compute.instance_type"].line == 4
    assert "ml.g5.xlarge" in by_key["compute.instance_type"].message


def test_vpc_keys_load(tmp_path: Path) -> None:
    spec = load_spec(
        write(
            tmp_path,
            "compute:\n  instance_type: ml.g5.xlarge\n  subnets: [subnet-0a1b2c3d]\n"
            "  security_group_ids: [sg-0123abcd, sg-99]\n",
        ),
        resolve=False,
    ).spec
    assert spec.compute is not None
    assert spec.compute.subnets == ["subnet-0a1b2c3d"]
    assert spec.compute.security_group_ids == ["sg-0123abcd", "sg-99"]
    unset = load_spec(write(tmp_path, "compute: {instance_type: ml.g5.xlarge}\n"), resolve=False)
    assert unset.spec.compute is not None
    assert unset.spec.compute.subnets is None and unset.spec.compute.security_group_ids is None


@pytest.mark.parametrize(
    ("text", "line", "key", "needle"),
    [
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  subnets: [subnet-0a1b]\n",
            3,
            "compute.subnets",
            "needs security_group_ids",
        ),
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  security_group_ids: [sg-0a1b]\n",
            3,
            "compute.security_group_ids",
            "needs subnets",
        ),
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  subnets:\n    - subnet-0a1b\n"
            "    - vpc-0a1b\n  security_group_ids: [sg-0a1b]\n",
            5,
            "compute.subnets.1",
            "subnet-...",
        ),
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  subnets: [subnet-0a1b]\n"
            "  security_group_ids:\n    - default\n",
            5,
            "compute.security_group_ids.0",
            "sg-...",
        ),
        (
            "compute:\n  instance_type: ml.g5.xlarge\n  subnets: []\n"
            "  security_group_ids: [sg-0a1b]\n",
            3,
            "compute.subnets",
            "1 to 16",
        ),
    ],
)
def test_vpc_cross_field(tmp_path: Path, text: str, line: int, key: str, needle: str) -> None:
    [(got_line, got_key, message)] = issues_of(write(tmp_path, text))
    assert (got_line, got_key) == (line, key)
    assert needle in message


def test_unknown_model_is_not_an_input_error(tmp_path: Path) -> None:
    """Only the memory estimate needs the model; preflight check reports it as not checked."""
    path = write(tmp_path, "model:\n  name: someone/not-a-known-model\n")
    assert load_spec(path).spec.model is not None
