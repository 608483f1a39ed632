"""The corpus: every config under corpus/ read and checked against its hand-written expectations.

corpus/expected.yaml says, per file, which reader the content calls for, what the plan must hold,
what must stay unknown, which findings must (and must not) come out, at which line and cell, and
what a directory walk does with the file. One test per file and aspect, so a failure names both.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from preflight.findings import Finding
from preflight.pipeline import build_plan, check_plan
from preflight.readers import read_file, read_sources
from preflight.spec import LoadedSpec

# PF510/PF511 register themselves on import; the lead adds them to RULE_MODULES.
for _module in ("preflight.rules.trl", "preflight.rules.sagemaker_sdk"):
    importlib.import_module(_module)

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = YAML(typ="safe").load((CORPUS / "expected.yaml").read_text())
READABLE = sorted(name for name, entry in EXPECTED.items() if "kind" in entry)
_CACHE: dict[str, tuple[LoadedSpec, list[Finding]]] = {}


def _checked(name: str) -> tuple[LoadedSpec, list[Finding]]:
    if name not in _CACHE:
        loaded = read_file(CORPUS / name)
        _CACHE[name] = (loaded, check_plan(build_plan(loaded)))
    return _CACHE[name]


def _value(loaded: LoadedSpec, key: str) -> Any:
    spec = loaded.spec
    if key == "name":
        return spec.name
    section, _, name = key.partition(".")
    if section == "training":
        return spec.training.values.get(name, "<unstated>")
    part = getattr(spec, section)
    return "<no section>" if part is None else getattr(part, name)


def _matches(finding: Finding, exp: dict[str, Any]) -> bool:
    if finding.rule != exp["rule"]:
        return False
    for key in ("field", "severity", "line", "cell"):
        if key in exp and getattr(finding, key) != exp[key]:
            return False
    if "file" in exp:
        return finding.file is not None and Path(finding.file) == CORPUS / exp["file"]
    return True


def _where(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.rule} {f.severity} {f.field} line={f.line} cell={f.cell}" for f in findings
    )


def test_corpus_is_big_enough() -> None:
    configs = [n for n, e in EXPECTED.items() if e.get("walk", "read") != "skipped"]
    assert len(configs) >= 30
    on_disk = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.suffix in {".py", ".ipynb", ".yaml", ".yml", ".json"} and p.name != "expected.yaml"
    }
    assert on_disk == set(EXPECTED), "every corpus file needs an entry in expected.yaml"


@pytest.mark.parametrize("name", READABLE)
def test_reads_what_the_source_states(name: str) -> None:
    entry = EXPECTED[name]
    loaded, _ = _checked(name)
    assert loaded.kind == entry["kind"]
    if "trainer_config" in entry:
        assert loaded.trainer_config == entry["trainer_config"]
    for key, want in (entry.get("spec") or {}).items():
        got = _value(loaded, key)
        if isinstance(want, float | int) and not isinstance(want, bool):
            assert got == pytest.approx(want), key
        else:
            assert got == want, key
        if loaded.stated is not None and key != "name":
            assert key in loaded.stated, f"{key} read but not marked as stated"
    for key in entry.get("unknown") or []:
        assert loaded.stated is not None and key not in loaded.stated, key
        if key.startswith("training."):
            assert key.partition(".")[2] not in loaded.spec.training.values, key
    for text in entry.get("notes") or []:
        assert any(text in note for note in loaded.notes), (text, loaded.notes)


@pytest.mark.parametrize("name", READABLE)
def test_expected_findings(name: str) -> None:
    entry = EXPECTED[name]
    _, findings = _checked(name)
    for exp in entry.get("findings") or []:
        assert any(_matches(f, exp) for f in findings), f"missing {exp}; got:\n{_where(findings)}"
    for exp in entry.get("absent") or []:
        # "not checked: needs X" infos say a rule could not run; they are not its findings
        hits = [f for f in findings if _matches(f, exp) and not f.message.startswith("not checked")]
        assert not hits, f"unexpected {exp}:\n{_where(hits)}"


NAMED_ALONE = sorted(name for name, entry in EXPECTED.items() if "named" in entry)


@pytest.mark.parametrize("name", NAMED_ALONE)
def test_a_file_that_is_no_training_config_named_alone_is_nothing_to_check(name: str) -> None:
    """Named on the command line, a file with nothing to check is exit 2, never "ready"."""
    from preflight.spec import SpecError

    with pytest.raises(SpecError) as err:
        read_sources([CORPUS / name])
    message = err.value.issues[0].message
    assert message.startswith(f"nothing to check in {CORPUS / name}"), message
    assert EXPECTED[name]["named"] in message


def test_walk_reads_configs_and_skips_the_rest() -> None:
    sources = read_sources([CORPUS])
    read = {Path(s.path).resolve().relative_to(CORPUS.resolve()).as_posix() for s in sources}
    walk = {name: entry.get("walk", "read") for name, entry in EXPECTED.items()}
    assert read == {n for n, w in walk.items() if w == "read"}
    notes = "\n".join(n for s in sources for n in s.notes)
    for name, how in walk.items():
        if how == "skipped":
            assert f"skipped {CORPUS / name}" in notes, name
        if how == "entry-script":
            assert f"{CORPUS / name} was read as the entry script" in notes, name
    assert "ignored by .gitignore" in notes


def test_check_over_the_whole_corpus_reports_every_file() -> None:
    from preflight.cli import cli

    result = CliRunner().invoke(cli, ["check", str(CORPUS), "--format", "json"])
    assert result.exit_code == 1, result.output  # the corpus is full of errors, and no crash
    report = json.loads(result.stdout)
    files = {Path(f["file"]).name for f in report["findings"] if "file" in f}
    assert {"seed_broken.ipynb", "llama3_lora.yml", "sft_config.json"} <= files
    for finding in report["findings"]:
        assert finding["rule"] != "PF900", finding  # no rule crashed on a reader's plan
        assert finding.get("file"), finding


def test_seed_snippet_in_a_notebook_is_caught_at_its_cell_and_line() -> None:
    """issue 12: the seed's TrainingArguments in a launch notebook without checkpoint settings."""
    _, findings = _checked("notebooks/seed_broken.ipynb")
    pf101 = [f for f in findings if f.rule == "PF101" and f.field == "training.output_dir"]
    assert [(f.cell, f.line) for f in pf101] == [(4, 3)]
    cells = json.loads((CORPUS / "notebooks/seed_broken.ipynb").read_text())["cells"]
    assert "/opt/ml/output/data" in cells[4 - 1]["source"][3 - 1]
    _, fixed = _checked("notebooks/seed_fixed.ipynb")
    assert not [f for f in fixed if f.rule == "PF101"]
