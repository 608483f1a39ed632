"""Run ``preflight check REPO --format json`` over snapshots of public training repos.

Each repo is a bare mirror (the ``fetch`` tool's /work/.mirror/OWNER+NAME/repo); its HEAD is
extracted with ``git archive`` into a scratch folder (with an empty ``.git`` so the walk and the
version pins see a repository root, as in a checkout) and checked as a new user would. Records
per repo: commit, exit code, wall time, crashes (a traceback or "internal error"), files
checked, findings by severity and by rule; every warning and error goes to findings.jsonl for
the hand review in review.md.

    PYTHONPATH=. .venv/bin/python benchmarks/readers/run_repos.py /tmp/bench
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPOS = [
    "huggingface/trl",
    "axolotl-ai-cloud/axolotl",
    "hiyouga/LLaMA-Factory",
    "allenai/open-instruct",
    "huggingface/alignment-handbook",
    "huggingface/peft",
    "tloen/alpaca-lora",
    "artidoro/qlora",
    "lm-sys/FastChat",
    "unslothai/notebooks",
    "pytorch/torchtune",
    "modal-labs/llm-finetuning",
    "aws/amazon-sagemaker-examples",
]
MIRRORS = Path("/work/.mirror")
KEEP = {".py", ".yaml", ".yml", ".json", ".ipynb", ".txt", ".toml", ".cfg"}
KEEP_NAMES = {".gitignore", "setup.py", "pyproject.toml"}
HERE = Path(__file__).resolve().parent


def extract(repo: str, scratch: Path) -> tuple[Path, str]:
    git_dir = MIRRORS / repo.replace("/", "+") / "repo"
    commit = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = scratch / repo.replace("/", "+")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # Only the files a check can read (configs, code, notebooks, pins, ignores): a mirror may
    # lack its largest blobs (images, data), which ``git archive`` would stop at.
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    wanted = []
    for line in listing:
        meta, _, path = line.partition("\t")
        mode, kind, sha = meta.split()
        name = path.rsplit("/", 1)[-1]
        if kind != "blob" or mode == "120000":
            continue
        if (
            Path(name).suffix.lower() in KEEP
            or name in KEEP_NAMES
            or name.startswith("requirements")
        ):
            wanted.append((sha, path))
    batch = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha, _ in wanted).encode(),
        capture_output=True,
        check=True,
    ).stdout
    pos = 0
    for _sha, path in wanted:
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[pos : pos + size])
        pos += size + 1
    (dest / ".git").mkdir(exist_ok=True)
    return dest, commit


def main() -> None:
    scratch = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench")
    only = set(sys.argv[2:])
    results = []
    kept: list[str] = []
    old_results: list[dict] = []
    if only and (HERE / "results.json").exists():  # rerun some repos, keep the others' rows
        old_results = [
            r for r in json.loads((HERE / "results.json").read_text()) if r["repo"] not in only
        ]
        kept = [
            line
            for line in (HERE / "findings.jsonl").read_text().splitlines()
            if json.loads(line)["repo"] not in only
        ]
    findings_out = (HERE / "findings.jsonl").open("w", buffering=1)
    for line in kept:
        findings_out.write(line + "\n")
    for repo in REPOS:
        if only and repo not in only:
            continue
        root, commit = extract(repo, scratch)
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from preflight.cli import main; sys.argv[0]='preflight'; main()",
                "check",
                str(root),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        seconds = time.perf_counter() - start
        crash = "Traceback" in proc.stderr or "internal error" in (proc.stdout + proc.stderr)
        entry: dict = {
            "repo": repo,
            "commit": commit,
            "exit": proc.returncode,
            "seconds": round(seconds, 1),
            "crash": crash,
        }
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            report = {}
            entry["stderr"] = proc.stderr[-500:]
        found = report.get("findings", [])
        entry["files_checked"] = len(report.get("files", [])) or (1 if found else 0)
        entry["by_severity"] = dict(Counter(f["severity"] for f in found))
        entry["by_rule"] = dict(
            sorted(Counter(f["rule"] for f in found if f["severity"] != "info").items())
        )
        entry["notes_head"] = [
            n
            for n in report.get("notes", [])
            if n.startswith(("checked ", "1 ", "2 ", "3 ")) or "not supported" in n
        ][:6]
        for f in found:
            if f["severity"] in ("error", "warning"):
                f = dict(f, repo=repo, file=str(f.get("file", "")).replace(str(root) + "/", ""))
                findings_out.write(json.dumps(f) + "\n")
        results.append(entry)
        print(
            json.dumps(
                {
                    k: entry[k]
                    for k in ("repo", "exit", "seconds", "crash", "files_checked", "by_severity")
                }
            ),
            flush=True,
        )
    order = {repo: n for n, repo in enumerate(REPOS)}
    results = sorted(old_results + results, key=lambda r: order.get(r["repo"], 99))
    (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
