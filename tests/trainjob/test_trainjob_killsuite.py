"""The fault-injection suite: real signals at random instants, real files, a real full disk.

One uninterrupted reference run (8 steps, a checkpoint every 2, LoRA dropout 0.1 so every step
draws RNG) records its file-write events. A seeded RNG then picks the instants: SIGKILL before
or halfway through writes in every phase (asset cache, each checkpoint, final save, backup,
manifest, run record), SIGKILL after a random delay, SIGTERM/SIGINT at a random step, and
SIGKILL during the SIGTERM save. Each fault is followed by a rerun that must reach max_steps
with the reference's final adapter, bit for bit, with no traceback and nothing deleted. Then
corrupted bytes, truncations and wrong shapes in every checkpoint file; an output dir on a 2 MB
tmpfs that fills; a model dir on a full tmpfs; a read-only output dir.

The seed is printed on failure; rerun one with ``TRAINJOB_FAULT_SEED=<seed>``. Jobs run in two
forking workers (``kill_harness.py``), so the suite costs about two minutes on two cores.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import REPO, offline_env, write_spec

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).with_name("kill_harness.py")
MAX_STEPS = 8
SEED = int(os.environ.get("TRAINJOB_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
WORKERS = 2


def _spec(folder: Path, out: Path, lora: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = write_spec(folder, output_dir=out, training={"max_steps": MAX_STEPS, "save_steps": 2})
    data = json.loads(spec.read_text())
    data["lora"]["dropout"] = 0.1  # dropout on: an inexact resume changes the adapter
    data["lora"].update(lora or {})
    spec.write_text(json.dumps(data))
    return spec


def _run_workers(jobs: list[dict[str, Any]], root: Path, n: int) -> dict[str, dict[str, Any]]:
    chunks = [jobs[i::n] for i in range(n)]
    procs = []
    for i, chunk in enumerate(chunks):
        jobs_file, results_file = root / f"jobs-{i}.json", root / f"results-{i}.json"
        jobs_file.write_text(json.dumps(chunk))
        procs.append(
            (
                results_file,
                subprocess.Popen(
                    [sys.executable, str(HARNESS), str(jobs_file), str(results_file)],
                    env=offline_env(),
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    found: dict[str, dict[str, Any]] = {}
    for results_file, proc in procs:
        output, _ = proc.communicate(timeout=3600)  # a loaded shared box is slow
        assert proc.returncode == 0, f"seed {SEED}: harness failed:\n{output[-3000:]}"
        for item in json.loads(results_file.read_text()):
            found[item["id"]] = item
    return found


def _mount(path: Path, options: str) -> str | None:
    """Mount a tmpfs; the reason when this machine does not allow it."""
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True
    )
    return None if proc.returncode == 0 else (proc.stderr.strip() or "mount failed")


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("faults")
    ref_out = root / "ref" / "out"
    reference = {
        "id": "reference",
        "work": str(root / "ref"),
        "out": str(ref_out),
        "spec": str(_spec(root / "ref", ref_out)),
        "trace": True,
        "reruns": 0,
    }
    ref = _run_workers([reference], root, 1)["reference"]
    assert ref["rcs"] == [0] and ref["final_hash"], ref["logs"][0][-3000:]
    trace: list[str] = ref["trace"]
    rng = random.Random(SEED)
    jobs: list[dict[str, Any]] = []

    def job(kind: str, fault: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        i = len(jobs)
        work = root / f"case-{i:02d}"
        out = Path(extra.pop("out", work / "out"))
        item = {
            "id": f"{i:02d}-{kind}",
            "kind": kind,
            "work": str(work),
            "out": str(out),
            "spec": str(_spec(work, out, extra.pop("lora", None))),
            "fault": fault,
            "reruns": 1,
            **extra,
        }
        jobs.append(item)
        return item

    # SIGKILL at write events: at least 3 in every phase, the rest anywhere.
    by_phase: dict[str, list[int]] = {}
    for index, phase in enumerate(trace, start=1):
        by_phase.setdefault(phase, []).append(index)
    picks: list[int] = []
    for indices in by_phase.values():
        picks += rng.sample(indices, min(3, len(indices)))
    while len(picks) < 40:
        picks.append(rng.randrange(1, len(trace) + 1))
    for event in picks:
        job(f"kill@{event}:{trace[event - 1]}", {"event": event, "mid": rng.random() < 0.5})
    # the very first write of the final model, mid-write (a no-op copy_final cannot pass this)
    first_final = trace.index("final save") + 1
    job("kill@first-final-write", {"event": first_final, "mid": True})
    # SIGKILL after a random delay (any instant, not only writes)
    for _ in range(4):
        job("kill@time", {"after_seconds": round(rng.uniform(0.0, 3.0), 3)})
    # SIGTERM / SIGINT at a random step: a clean stop, exit 0, then a resume
    for sig in ("sigterm", "sigterm", "sigterm", "sigint", "sigint"):
        job(f"{sig}@step", {"at_step": rng.randrange(1, MAX_STEPS), "step_signal": sig})
    # SIGKILL during the SIGTERM save
    for _ in range(3):
        job(
            "kill-during-sigterm-save",
            {"at_step": rng.choice([1, 3, 5, 7]), "step_signal": "sigterm",
             "kill_after": rng.randrange(1, 6)},
        )  # fmt: skip
    # SIGTERM before training starts (while the asset cache is written)
    job("sigterm-before-training", {"event": trace.index("asset cache") + 1, "signal": "sigterm"})

    corrupt_cases = [
        ("adapter_model.safetensors", "flip", {}),
        ("adapter_model.safetensors", "truncate", {"unrecord": True}),
        ("adapter_config.json", "replace", {"text": "[]", "unrecord": True}),
        ("optimizer.pt", "flip", {}),
        ("optimizer.pt", "truncate", {"unrecord": True}),
        ("optimizer.pt", "torch", {"obj": "list", "unrecord": True}),
        ("scheduler.pt", "flip", {}),
        ("scheduler.pt", "truncate", {"unrecord": True}),
        ("rng_state.pth", "truncate", {"unrecord": True}),
        ("rng_state.pth", "flip", {}),
        ("rng_state.pth", "torch", {"obj": "dict", "unrecord": True}),
        ("trainer_state.json", "replace", {
            "text": '{"global_step": 6, "log_history": "x", "max_steps": 8}', "unrecord": True}),
        ("trainer_state.json", "truncate", {"unrecord": True}),
        ("training_args.bin", "flip", {}),
    ]  # fmt: skip
    for name, how, extra in corrupt_cases:
        op = {"file": f"checkpoint-6/{name}", "how": how, **extra}
        job(
            f"corrupt {name} {how}{' (not in manifest)' if extra.get('unrecord') else ''}",
            None,
            prepare_from=str(ref_out),
            remove=["checkpoint-8", "final-model", "final-model-backup"],
            corrupt=[op],
            reruns=0,
        )

    # a fresh start that finds the assets cache must be the reference run (seeded LoRA init)
    everything_but_assets = [n for n in ("checkpoint-2", "checkpoint-4", "checkpoint-6",
        "checkpoint-8", "final-model", "final-model-backup", "trainjob-manifest.json",
        "trainjob-run.json")]  # fmt: skip
    job("fresh-start-with-cache", None, prepare_from=str(ref_out), remove=everything_but_assets,
        reruns=0)  # fmt: skip
    # a changed LoRA shape is refused, naming the difference, before anything is loaded
    job("lora-r-changed", None, prepare_from=str(ref_out), lora={"r": 8}, reruns=0,
        remove=["checkpoint-8", "final-model", "final-model-backup"])  # fmt: skip

    # a real full filesystem, a model dir on a full one, a read-only output dir
    mounts: list[Path] = []
    skip_reason = None
    full = root / "fullfs"
    skip_reason = _mount(full, "size=900k")
    if skip_reason is None:
        mounts.append(full)
        job("full-fs", None, out=full / "out",
            before_rerun=["mount", "-o", "remount,size=16m", str(full)])  # fmt: skip
        small = root / "smallfs"
        if _mount(small, "size=40k") is None:
            mounts.append(small)
            job("model-dir-full-fs", None, paths={"model_dir": str(small / "final")},
                before_rerun=["mount", "-o", "remount,size=4m", str(small)])  # fmt: skip
        ro = root / "rofs"
        if _mount(ro, "size=16m") is None:
            mounts.append(ro)
            shutil.copytree(ref_out, ro / "out")
            for name in ("checkpoint-8", "final-model", "final-model-backup"):
                shutil.rmtree(ro / "out" / name)
            subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
            job("read-only-dir", None, out=ro / "out",
                before_rerun=["mount", "-o", "remount,rw", str(ro)])  # fmt: skip
    # a folder this process may not write (EACCES): mode 0555, written by a root process without
    # CAP_DAC_OVERRIDE (plain root ignores permission bits)
    if os.geteuid() == 0:
        locked = root / "locked" / "out"
        shutil.copytree(ref_out, locked)
        for name in ("checkpoint-8", "final-model", "final-model-backup"):
            shutil.rmtree(locked / name)
        locked.chmod(0o555)
        job("no-permission", {"drop_dac": True}, out=locked)
    only = os.environ.get("TRAINJOB_FAULT_KINDS")  # debugging: "corrupt,full-fs" runs those
    if only:
        jobs[:] = [j for j in jobs if any(k in j["kind"] for k in only.split(","))]
    try:
        results = _run_workers(jobs, root, WORKERS)
    finally:
        for mount in mounts:
            subprocess.run(["umount", str(mount)], capture_output=True)
    return {"ref": ref, "jobs": jobs, "results": results, "skip": skip_reason, "trace": trace}


def _find(suite: Any, kind: str) -> dict[str, Any]:
    item = next((j for j in suite["jobs"] if j["kind"] == kind), None)
    if item is None:
        pytest.skip(f"{kind}: not selected (TRAINJOB_FAULT_KINDS)")
    return item


def _clean(result: dict[str, Any]) -> None:
    for n, text in enumerate(result["logs"]):
        assert "Traceback" not in text, f"seed {SEED} {result['id']} attempt {n}:\n{text[-3000:]}"
        assert "Logging error" not in text, f"seed {SEED} {result['id']} attempt {n}"


def _nothing_deleted(result: dict[str, Any]) -> None:
    after = set(result["after_rerun"])
    for name in result["after_fault"]:
        if name.startswith("."):
            continue  # trainjob's own temporary siblings
        kept = name in after or any(a.startswith(f"quarantine-{name}-") for a in after)
        assert kept, f"seed {SEED} {result['id']}: {name} vanished"


def _reaches_reference(result: dict[str, Any], ref: dict[str, Any]) -> None:
    last = result["logs"][-1]
    assert result["rcs"][-1] == 0, f"seed {SEED} {result['id']}:\n{last[-3000:]}"
    attempt = result["attempts"][-1]
    assert attempt["outcome"] == "completed" and attempt["global_step"] == MAX_STEPS
    assert result["final_hash"] == ref["final_hash"], f"seed {SEED} {result['id']}: adapter differs"


def test_every_kill_is_followed_by_a_rerun_that_ends_on_the_reference(suite: Any) -> None:
    kinds = [j for j in suite["jobs"] if j["kind"].startswith(("kill", "sig"))]
    if not os.environ.get("TRAINJOB_FAULT_KINDS"):
        assert len(kinds) >= 50
        phases = {j["kind"].split(":", 1)[1] for j in kinds if ":" in j["kind"]}
        assert {"asset cache", "checkpoint write", "final save", "backup"} <= phases, phases
    failures = []
    for item in kinds:
        result = suite["results"][item["id"]]
        try:
            assert "harness_error" not in result, result.get("harness_error")
            if item["kind"].startswith("kill"):
                assert result["rcs"][0] in (-9, 0), result["rcs"]
                if not item["kind"].startswith("kill@time"):
                    assert result["rcs"][0] == -9, "the fault did not fire"
            _clean(result)
            _nothing_deleted(result)
            _reaches_reference(result, suite["ref"])
            assert result["backup_hash"] == suite["ref"]["final_hash"]
        except AssertionError as exc:
            failures.append(f"{item['id']}: {exc}")
    assert not failures, f"seed {SEED}:\n" + "\n".join(failures)


def test_sigterm_and_sigint_stop_cleanly_and_record_the_grace_time(suite: Any) -> None:
    for item in suite["jobs"]:
        if not item["kind"].endswith("@step"):
            continue
        result = suite["results"][item["id"]]
        assert result["rcs"][0] == 0, result["logs"][0][-2000:]
        first = result["attempts"][0]
        assert first["outcome"] == "stopped"
        assert first["sigterm_checkpoint"] == f"checkpoint-{item['fault']['at_step']}"
        assert 0 <= first["sigterm_save_seconds"] < 120
        assert result["attempts"][1]["resumed_from"] == first["sigterm_checkpoint"]


def test_sigterm_before_training_stops_cleanly(suite: Any) -> None:
    item = _find(suite, "sigterm-before-training")
    result = suite["results"][item["id"]]
    assert result["rcs"][0] == 0, result["logs"][0][-2000:]
    assert "before training started" in result["logs"][0]
    assert result["attempts"][0]["outcome"] == "stopped"
    assert result["attempts"][0]["global_step"] == 0


def test_corrupt_checkpoint_files_are_moved_aside_and_the_older_one_used(suite: Any) -> None:
    failures = []
    for item in suite["jobs"]:
        if item["kind"] != "corrupt" and not item["kind"].startswith("corrupt"):
            continue
        result = suite["results"][item["id"]]
        try:
            _clean(result)
            _reaches_reference(result, suite["ref"])
            assert "moved aside invalid checkpoint-6" in result["logs"][0], "not quarantined"
            assert result["attempts"][-1]["resumed_from"] == "checkpoint-4"
            kept = [n for n in result["after_rerun"] if n.startswith("quarantine-checkpoint-6-")]
            assert len(kept) == 1  # moved aside, not deleted
        except AssertionError as exc:
            failures.append(f"{item['id']}: {exc}")
    assert not failures, "\n".join(failures)


def _one(suite: Any, kind: str) -> dict[str, Any]:
    if suite["skip"]:
        pytest.skip(f"tmpfs cannot be mounted here: {suite['skip']}")
    item = next((j for j in suite["jobs"] if j["kind"] == kind), None)
    if item is None:
        pytest.skip(f"{kind}: tmpfs mount refused, or not selected (TRAINJOB_FAULT_KINDS)")
    return suite["results"][item["id"]]


def _one_line(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, text[-3000:]
    return lines[0]


def test_real_full_filesystem_is_one_line_and_the_rerun_resumes(suite: Any) -> None:
    result = _one(suite, "full-fs")
    assert result["rcs"][0] == 2, result["logs"][0][-3000:]
    line = _one_line(result["logs"][0], "disk full")
    assert "fullfs/out" in line and "intact" in line
    _clean(result)
    _reaches_reference(result, suite["ref"])


def test_model_dir_on_a_full_filesystem(suite: Any) -> None:
    result = _one(suite, "model-dir-full-fs")
    assert result["rcs"][0] == 2, result["logs"][0][-3000:]
    line = _one_line(result["logs"][0], "could not save the final model")
    assert "smallfs/final" in line and "disk full" in line
    first = result["attempts"][0]  # the record was written, the backup too
    assert first["outcome"] == "completed" and first["final_model_dir"].endswith(
        "final-model-backup"
    )
    _clean(result)
    _reaches_reference(result, suite["ref"])


def test_read_only_output_dir(suite: Any) -> None:
    result = _one(suite, "read-only-dir")
    assert result["rcs"][0] == 2, result["logs"][0][-3000:]
    line = _one_line(result["logs"][0], "not writable")
    assert "rofs/out" in line
    _clean(result)
    _reaches_reference(result, suite["ref"])
    assert result["attempts"][-1]["resumed_from"] == "checkpoint-6"


def test_a_fresh_start_that_finds_the_cache_is_the_reference_run(suite: Any) -> None:
    item = _find(suite, "fresh-start-with-cache")
    result = suite["results"][item["id"]]
    assert "cached base weights" in result["logs"][0]
    _clean(result)
    _reaches_reference(result, suite["ref"])


def test_a_changed_lora_shape_is_refused_before_loading(suite: Any) -> None:
    item = _find(suite, "lora-r-changed")
    result = suite["results"][item["id"]]
    assert result["rcs"] == [1], result["logs"][0][-2000:]
    assert "lora_r: 4 -> 8" in result["logs"][0] and "--allow-mismatch" in result["logs"][0]
    _clean(result)
    assert "checkpoint-6" in result["after_rerun"]  # refused, nothing moved


def test_a_folder_the_user_may_not_write(suite: Any) -> None:
    item = next((j for j in suite["jobs"] if j["kind"] == "no-permission"), None)
    if item is None:
        pytest.skip("needs root (to drop CAP_DAC_OVERRIDE in the child) or not selected")
    result = suite["results"][item["id"]]
    assert result["rcs"][0] == 2, result["logs"][0][-3000:]
    line = _one_line(result["logs"][0], "not writable")
    assert item["out"] in line
    _clean(result)
    _reaches_reference(result, suite["ref"])  # the rerun, as the owner, resumes
    assert result["attempts"][-1]["resumed_from"] == "checkpoint-6"
