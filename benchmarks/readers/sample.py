"""Pick the hand-review sample from findings.jsonl and render review.md with the verdicts.

The sample is deterministic: per repository, findings are taken round-robin over their rules
(so one noisy rule cannot fill the sample), at most PER_REPO each, in file order. Verdicts are
written by hand in verdicts.yaml, keyed ``repo | rule | file:line``, each with ``verdict``
(correct / false) and ``why``; review.md is rendered from both, with the totals.

    python benchmarks/readers/sample.py          # prints keys still without a verdict
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
PER_REPO = 16


def key(f: dict) -> str:
    return f"{f['repo']} | {f['rule']} | {f['file']}:{f.get('line')}"


def sample() -> list[dict]:
    by_repo: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for line in (HERE / "findings.jsonl").read_text().splitlines():
        f = json.loads(line)
        by_repo[f["repo"]][f["rule"]].append(f)
    out = []
    for repo in sorted(by_repo):
        rules = {
            r: sorted(fs, key=lambda f: (f["file"], f.get("line") or 0))
            for r, fs in by_repo[repo].items()
        }
        picked: list[dict] = []
        seen_files: set[tuple[str, str]] = set()
        while len(picked) < PER_REPO and any(rules.values()):
            for rule in sorted(rules):
                while rules[rule]:
                    f = rules[rule].pop(0)
                    if (rule, f["file"]) not in seen_files:  # one per rule and file
                        seen_files.add((rule, f["file"]))
                        picked.append(f)
                        break
                if len(picked) >= PER_REPO:
                    break
        out.extend(picked)
    return out


def main() -> None:
    rows = sample()
    path = HERE / "verdicts.yaml"
    verdicts = YAML(typ="safe").load(path.read_text()) if path.exists() else {}
    verdicts = verdicts or {}
    missing = [key(f) for f in rows if key(f) not in verdicts]
    for k in missing:
        print(k)
    judged = [(f, verdicts[key(f)]) for f in rows if key(f) in verdicts]
    correct = sum(1 for _, v in judged if v["verdict"] == "correct")
    lines = [
        "# Hand review of preflight's warnings and errors on public repos",
        "",
        f"{len(judged)} findings judged (sample rule: benchmarks/readers/sample.py; repos and "
        "commits: results.json). Verdict: is the finding true of that file as its project runs "
        "it (the pinned or, without a pin, today's transformers/TRL), and worth a person's time?",
        "",
        f"**{correct} of {len(judged)} correct ({100 * correct / max(len(judged), 1):.0f}%).**",
        "",
        "| # | repo | rule | sev | file:line | finding (shortened) | verdict | why |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for n, (f, v) in enumerate(judged, 1):
        msg = f["message"].replace("|", "/")[:110]
        lines.append(
            f"| {n} | {f['repo'].split('/')[1]} | {f['rule']} | {f['severity'][:4]} | "
            f"`{f['file']}:{f.get('line')}` | {msg} | {v['verdict']} | {v['why']} |"
        )
    (HERE / "review.md").write_text("\n".join(lines) + "\n")
    print(f"{len(judged)} judged, {correct} correct; {len(missing)} without a verdict")


if __name__ == "__main__":
    main()
