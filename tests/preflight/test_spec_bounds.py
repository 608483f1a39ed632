"""Bad input is one exact message at its file, line and key: sizes, alias bombs, depth, ranges,
non-finite numbers, wrong kinds. Each message is compared whole, so a changed word fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.spec import SpecError, load_spec, yaml_source
from preflight.spec.models import LoraSpec
from preflight.spec.training_checks import _num, range_problem

LORA_KEYS = ", ".join(LoraSpec.model_fields)  # r, alpha, dropout, target_modules, bias, ...


def issues_of(tmp_path: Path, text: str) -> list[tuple[int | None, str, str]]:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path, resolve=False)
    assert all(i.file == str(path) for i in info.value.issues)
    return [(i.line, i.key, i.message) for i in info.value.issues]


def test_alias_bomb_is_refused_at_its_key(tmp_path: Path) -> None:
    lines = ["training:", "  a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    # 10^6 values once expanded: 20 times the limit, and still bounded (memory, time) for a
    # mutant that loses the limit; mutmut runs this test against every such mutant.
    for i in range(1, 6):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    found = issues_of(tmp_path, "\n".join(lines) + "\n")  # speed: benchmarks/safety/
    assert len(found) == 1
    line, key, message = found[0]
    assert key == "training.a4" and line == 6, found  # a0..a3 expand to 11,111 values
    assert message.startswith("the YAML expands to more than 50,000 values")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("lora: &l {r: 8, target_modules: [q_proj]}\nname: x\n")
    assert load_spec(path, resolve=False).spec.lora.r == 8  # type: ignore[union-attr]


def test_deep_nesting_and_huge_files_are_refused(tmp_path: Path) -> None:
    assert issues_of(tmp_path, "a: " + "[" * 500 + "]" * 500 + "\n") == [
        (1, "", "invalid YAML: nested deeper than 100 levels")
    ]
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(101)) + "  " * 101 + "v: 1\n"
    found = issues_of(tmp_path, block)
    assert found[0][2] == "nested deeper than 100 levels", found
    big = "# " + "x" * (yaml_source.MAX_BYTES + 10) + "\n"
    ((line, key, message),) = issues_of(tmp_path, big)
    assert line is None and key == ""
    assert message == (
        f"is {len(big):,} bytes; files over {yaml_source.MAX_BYTES:,} bytes are not read "
        "(a training config is a few KiB: is this the right file?)"
    )


def test_exactly_the_limit_is_read(tmp_path: Path) -> None:
    # A file of exactly MAX_BYTES is read and handed to the parser: the NUL right after the first
    # line stops ruamel at once (a 4 MiB comment would take it seconds to scan, per mutant).
    text = "name: x\n"
    text += "\0" * (yaml_source.MAX_BYTES - len(text))
    path = tmp_path / "job.yaml"
    path.write_text(text)
    assert path.stat().st_size == yaml_source.MAX_BYTES
    assert issues_of(tmp_path, text) == [
        (
            None,
            "",
            "invalid YAML: unacceptable character #x0000: special characters are not allowed",
        )
    ]
    path.write_text(text + "\0")
    with pytest.raises(SpecError) as info:
        load_spec(path, resolve=False)
    assert info.value.issues[0].message.startswith(f"is {yaml_source.MAX_BYTES + 1:,} bytes;")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "compute: {max_run_hours: .inf, instance_type: ml.g5.xlarge}\n",
            (1, "compute.max_run_hours", "Input should be a finite number (got inf)"),
        ),
        (
            "data: {avg_tokens: .nan}\n",
            (1, "data.avg_tokens", "Input should be a finite number (got nan)"),
        ),
        (
            "lora: {r: 1000000000}\n",
            (1, "lora.r", "Input should be less than or equal to 65536 (got 1000000000)"),
        ),
        (
            "data: {num_examples: 1000000000000000000000000000000}\n",
            (
                1,
                "data.num_examples",
                "Input should be less than or equal to 10000000000000 "
                "(got 1000000000000000000000000000000)",
            ),
        ),
        (
            "training:\n  per_device_train_batch_size: -1\n",
            (
                2,
                "training.per_device_train_batch_size",
                "must be within 1 .. 1048576 (a batch is at least 1 example; 2^20 examples of "
                "even one token fill no GPU step), got -1",
            ),
        ),
        (
            "training:\n  max_steps: 18446744073709551616\n",
            (
                2,
                "training.max_steps",
                "must be within -1 .. 1,000,000,000,000 (-1 means train by epochs; 10^12 steps "
                "would take thousands of years at any speed), got 1.84e+19",
            ),
        ),
        (
            "training:\n  learning_rate: .nan\n",
            (2, "training.learning_rate", "must be a finite number, got nan"),
        ),
        (
            "training:\n  some_new_field: 1.0e+30\n",
            (
                2,
                "training.some_new_field",
                "must be within -9,007,199,254,740,992 .. 9,007,199,254,740,992 (numbers past "
                "2^53 are no longer exact as floats, which the step, cost and JSON report "
                "arithmetic use), got 1e+30",
            ),
        ),
        (
            "lora: [1, 2]\n",
            (1, "lora", "must be a mapping of keys, not a list"),
        ),
        (
            "model: text\n",
            (1, "model", "must be a mapping of keys, not text"),
        ),
        (
            "budget: 5\n",
            (1, "budget", "must be a mapping of keys, not a number"),
        ),
        (
            "compute: true\n",
            (1, "compute", "must be a mapping of keys, not true/false"),
        ),
        (
            "data: 1.5\n",
            (1, "data", "must be a mapping of keys, not a number"),
        ),
        (
            "training: {a: 1}\nlora: {r: {x: 1}}\n",
            (2, "lora.r", "Input should be a valid integer (got a mapping)"),
        ),
        (
            "lora: {r: [1]}\n",
            (1, "lora.r", "Input should be a valid integer (got a list)"),
        ),
        (
            "lora: {rank: 8}\n",
            (
                1,
                "lora.rank",
                f"unknown key; lora accepts: {LORA_KEYS}",
            ),
        ),
        (
            "lora: {alpah: 8}\n",
            (
                1,
                "lora.alpah",
                f"unknown key (did you mean `alpha`?); lora accepts: {LORA_KEYS}",
            ),
        ),
        ("model: {dtype: float16}\n", (1, "model.name", "required key is missing")),
        ("ignore: 5\n", (1, "ignore", "must be a list of {rule: PF..., reason: ...} entries")),
        ("ignore: [5]\n", (1, "ignore.0", "must be a mapping {rule: PF..., reason: ...}")),
        (
            "ignore:\n  - {rule: PF105, reason: fine, extra: 1}\n",
            (2, "ignore.0.extra", "unknown key; ignore.0 accepts: rule, reason, field"),
        ),
        ("name: [a]\n", (1, "name", "must be text")),
        (
            "training:\n  hub_token: hf_AAAAAAAAAAAAAAAAAAAAAAAAA\n  hub_token: x\n",
            (3, "", 'invalid YAML: duplicate key "hub_token"'),
        ),
        ("model:\n  name: a\nmodel:\n  name: b\n", (3, "", 'invalid YAML: duplicate key "model"')),
        (
            "training: [a]\n",
            (1, "training", "must be a mapping of TrainingArguments fields, not a list"),
        ),
    ],
)
def test_exact_messages(tmp_path: Path, text: str, expected: tuple[int, str, str]) -> None:
    assert issues_of(tmp_path, text) == [expected]


def test_several_problems_are_all_reported_in_order(tmp_path: Path) -> None:
    text = "lora: {r: 0}\ntraining:\n  max_steps: -5\nbudget: {max_cost_usd: .inf}\n"
    found = issues_of(tmp_path, text)
    assert [(line, key) for line, key, _ in found] == [
        (1, "lora.r"),
        (3, "training.max_steps"),
        (4, "budget.max_cost_usd"),
    ]


def test_ranges_edges() -> None:
    assert range_problem("per_device_train_batch_size", 1) is None
    assert range_problem("per_device_train_batch_size", 2**20) is None
    assert range_problem("per_device_train_batch_size", 2**20 + 1) is not None
    assert range_problem("per_device_train_batch_size", 0) is not None
    assert range_problem("max_steps", -1) is None and range_problem("max_steps", -2) is not None
    assert range_problem("warmup_ratio", 1.0) is None and range_problem("warmup_ratio", 1.01)
    assert range_problem("seed", 2**32 - 1) is None and range_problem("seed", 2**32)
    assert range_problem("anything", 2**53) is None and range_problem("anything", -(2**53)) is None
    assert range_problem("anything", 2**53 + 1) is not None
    assert range_problem("anything", float("-inf")) == "must be a finite number, got -inf"
    assert range_problem("max_steps", True) is None and range_problem("max_steps", "x") is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1, "1"),
        (1.0, "1"),
        (0.5, "0.5"),
        (-1, "-1"),
        (9_999_999, "9999999"),
        (10**7, "10,000,000"),
        (-(10**7), "-10,000,000"),
        (25_000_000.0, "25,000,000"),
        (10**16, "10,000,000,000,000,000"),
        (10**16 + 1, "1e+16"),
        (1e16, "1e+16"),
        (2**64, "1.84e+19"),
        (1e30, "1e+30"),
        (1e-5, "1e-05"),
    ],
)
def test_numbers_in_messages(value: float, shown: str) -> None:
    assert _num(value) == shown
