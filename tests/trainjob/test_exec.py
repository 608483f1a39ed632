"""``trainjob exec`` and ``protect(trainer)`` on a real TRL SFTTrainer script (chat data, LoRA,
the bundled tiny model with a locally trained tokenizer and a chat template), killed with real
SIGTERM and SIGKILL at random instants and resumed to max_steps: the final adapter must be
bit-identical to an uninterrupted run's. The same with ``accelerate launch`` and 2 CPU
processes (torchrun + gloo). Nothing here is mocked.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import DATA, REPO, offline_env

pytest.importorskip("trl")
psutil = pytest.importorskip("psutil")

SCRIPTS = Path(__file__).with_name("exec_scripts")
SFT = SCRIPTS / "sft_chat.py"
CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
ACCELERATE = [
    "-m",
    "accelerate.commands.launch",
    "--multi_gpu",  # torchrun's launcher; on a machine without GPUs the script trains on gloo
    "--num_processes",
    "2",
    "--num_machines",
    "1",
    "--mixed_precision",
    "no",
    "--dynamo_backend",
    "no",
]
SEED = int(os.environ.get("TRAINJOB_TEST_SEED", str(int(time.time()))))


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Mistral and its BPE tokenizer (with a chat template), and messages data."""
    from trainjob.modelbuild import build_from_config, bundled_config

    root = tmp_path_factory.mktemp("exec-assets")
    rows = [json.loads(line) for line in (DATA / "tiny-pairs.jsonl").read_text().splitlines()]
    texts = [f"{r['source']}\n{r['target']}" for r in rows]
    fields = bundled_config("tiny-mistral")
    assert fields is not None
    built = build_from_config(fields, texts, root / "build", seed=3, origin="tiny-mistral")
    built.tokenizer.chat_template = CHAT_TEMPLATE
    built.model.save_pretrained(root / "model")
    built.tokenizer.save_pretrained(root / "model")
    with (root / "chat.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows[:64]:
            messages = [
                {"role": "user", "content": f"Translate: {r['source']}"},
                {"role": "assistant", "content": r["target"]},
            ]
            fh.write(json.dumps({"messages": messages}) + "\n")
    return root


def exec_argv(*command: str, gate: bool = False) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trainjob.cli",
        "exec",
        *([] if gate else ["--no-gate"]),
        "--",
        *command,
    ]


def sft(assets: Path, out: Path, steps: int, *extra: str) -> list[str]:
    return [
        str(SFT),
        str(assets / "model"),
        str(assets / "chat.jsonl"),
        str(out),
        str(steps),
        *extra,
    ]


def run(argv: list[str], timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, env=offline_env(), timeout=timeout, cwd=REPO
    )


def start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=offline_env(),
        cwd=REPO,
    )


def wait_for_new_checkpoint(out: Path, before: set[str], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = {p.name for p in out.glob("checkpoint-*")} if out.is_dir() else set()
        if now - before:
            return
        if proc.poll() is not None:
            pytest.fail(
                f"ended (rc {proc.returncode}) before a checkpoint:\n{proc.stdout.read()[-3000:]}"
            )  # type: ignore[union-attr]
        time.sleep(0.05)
    pytest.fail("no new checkpoint in 120 s")


def kill_all(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the whole tree at once: the machine died, nobody gets to save."""
    tree = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def adapter(folder: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def assert_same_adapter(a: Path, b: Path, why: str) -> None:
    import torch

    ta, tb = adapter(a), adapter(b)
    assert ta.keys() == tb.keys()
    diff = {k: float((ta[k] - tb[k]).abs().max()) for k in ta if not torch.equal(ta[k], tb[k])}  # type: ignore[operator]
    assert not diff, f"{why}: adapters differ (max abs diff per tensor {diff}); seed {SEED}"


def stopped_at(text: str, manifest: dict[str, Any], out: Path) -> str:
    """The checkpoint a SIGTERM stop left: saved on SIGTERM, or (when the signal came right after
    a periodic save of that very step) the valid one already there, which is not rewritten."""
    steps = {int(m) for m in re.findall(r"stopped on SIGTERM at step (\d+)", text)}
    assert len(steps) == 1, text[-3000:]  # every rank stopped at the same step
    name = f"checkpoint-{steps.pop()}"
    entry = manifest["checkpoints"].get(name, {})
    assert entry.get("status") == "valid" and (out / name).is_dir(), text[-3000:]
    if entry.get("kind") == "sigterm":
        assert f"CHECKPOINT SAVED: {out / name} (on SIGTERM)" in text
    else:
        assert f"SIGTERM: {name} already saved and valid; stopping" in text
    return name


def checkpoints(out: Path) -> set[str]:
    return {p.name for p in out.glob("checkpoint-*")}


@pytest.mark.slow
def test_sft_killed_by_sigterm_and_sigkill_resumes_bit_exact(assets: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    steps = 32
    ref = tmp_path / "ref"
    done = run(exec_argv(sys.executable, *sft(assets, ref, steps)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "protected 1 Trainer(s) (SFTTrainer)" in done.stderr
    assert "USER SCRIPT DONE 32" in done.stdout

    out = tmp_path / "run"
    # 1. SIGTERM to trainjob exec at a random instant after training began: forwarded, saved,
    #    validated, recorded; the user's script does not go on as if training had finished.
    proc = start(exec_argv(sys.executable, *sft(assets, out, steps, "--sleep", "0.2"), gate=True))
    wait_for_new_checkpoint(out, set(), proc)
    time.sleep(rng.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGTERM)
    text = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, text[-3000:]
    assert "USER SCRIPT DONE" not in text
    manifest = json.loads((out / "trainjob-manifest.json").read_text())
    sigterm = [stopped_at(text, manifest, out)]
    assert int(sigterm[0].split("-")[1]) < steps
    gate = [e["text"] for e in manifest["events"] if "trainjob exec gate" in e["text"]]
    assert gate and f"{SFT}: 0 error(s)" in gate[0]  # preflight read the script first

    # 2. SIGKILL of everything at a random instant after the resumed run wrote a checkpoint.
    before = checkpoints(out)
    proc = start(exec_argv(sys.executable, *sft(assets, out, steps, "--sleep", "0.2")))
    wait_for_new_checkpoint(out, before, proc)
    time.sleep(rng.uniform(0.0, 1.0))
    kill_all(proc)
    text = proc.stdout.read()  # type: ignore[union-attr]
    assert f"resuming from {out / sigterm[0]}" in text

    # 3. A save cut short (what a kill mid-write leaves): the newest folder, truncated.
    from trainjob.checkpoints import list_checkpoints, validate_checkpoint

    newest = [p for p in list_checkpoints(out) if validate_checkpoint(p).valid][-1]
    broken = out / f"checkpoint-{steps - 1}"
    shutil.copytree(newest, broken)
    weights = broken / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])

    # 4. The library call (`protect(trainer)` in the script, no exec) finishes the job.
    done = run([sys.executable, *sft(assets, out, steps, "--protect")])
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"moved aside invalid checkpoint-{steps - 1}" in done.stderr
    assert f"resuming from {newest}" in done.stderr
    assert not broken.exists() and list(out.glob(f"quarantine-checkpoint-{steps - 1}-*"))
    assert_same_adapter(
        ref / f"checkpoint-{steps}", out / f"checkpoint-{steps}", "final checkpoint"
    )
    assert_same_adapter(ref / "user-final", out / "user-final", "the script's own final save")
    assert_same_adapter(ref / "final-model", out / "final-model", "trainjob's final save")


@pytest.mark.slow
def test_accelerate_two_cpu_processes_sigterm_resume_bit_exact(
    assets: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED + 1)
    steps = 16
    ref = tmp_path / "ref"
    done = run(exec_argv(sys.executable, *ACCELERATE, *sft(assets, ref, steps)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "in rank(s) 0, 1" in done.stderr, done.stderr[-3000:]

    out = tmp_path / "run"
    proc = start(exec_argv(sys.executable, *ACCELERATE, *sft(assets, out, steps, "--sleep", "0.2")))
    wait_for_new_checkpoint(out, set(), proc)
    time.sleep(rng.uniform(0.0, 1.0))
    proc.send_signal(signal.SIGTERM)
    text = proc.communicate(timeout=120)[0]
    # torchrun reports its own SIGTERM as a failure (1); both ranks saved the same step first
    assert proc.returncode != 0
    assert text.count("stopped on SIGTERM at step") == 2, text[-3000:]
    assert "got signal: 15" not in text  # torchrun itself was spared: its 30 s cut-off never ran
    assert "USER SCRIPT DONE" not in text
    saved = [stopped_at(text, json.loads((out / "trainjob-manifest.json").read_text()), out)]

    done = run(exec_argv(sys.executable, *ACCELERATE, *sft(assets, out, steps)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count(f"resuming from {out / saved[0]}") == 2  # every rank, same folder
    assert_same_adapter(ref / f"checkpoint-{steps}", out / f"checkpoint-{steps}", "2-rank resume")


def test_script_without_trainer_runs_unchanged_with_a_note(tmp_path: Path) -> None:
    done = run(exec_argv(sys.executable, str(SCRIPTS / "no_trainer.py"), "3"))
    assert done.returncode == 3  # the command's own exit code
    assert "PLAIN SCRIPT ['3'] hook config set: True" in done.stdout
    assert "nothing was protected" in done.stderr


def test_gate_reads_the_script_and_refuses_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "train.py"
    script.write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='out', evaluation_strategy='steps', max_steps=10)\n"
    )
    done = run(exec_argv(sys.executable, str(script), gate=True))
    assert done.returncode == 1, done.stderr[-2000:]
    assert "PF501" in done.stderr and f"{script}:4" in done.stderr
    assert not marker.exists()
    forced = run(
        [
            sys.executable,
            "-m",
            "trainjob.cli",
            "exec",
            "--force",
            "--reason",
            "testing",
            "--",
            sys.executable,
            "-c",
            "print('forced')",
        ]
    )
    assert forced.returncode == 0 and "forced" in forced.stdout


def test_unknown_command_is_exit_2(tmp_path: Path) -> None:
    done = run(exec_argv("no-such-command-for-trainjob"))
    assert done.returncode == 2
    assert "command not found" in done.stderr
    assert "Traceback" not in done.stderr
