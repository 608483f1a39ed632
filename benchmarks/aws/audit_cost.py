"""What one `preflight check --aws` costs: AWS API calls per service and wall time.

Runs against moto in server mode on 127.0.0.1 (AWS is unreachable from the build machine), with
the test suite's correct account for examples/seed-fixed.yaml and Service Quotas stubbed
(moto cannot answer it for sagemaker). Also times the unreachable-endpoint path, which must
end in seconds. Most of the wall time on moto is its HTTP 500 answer to SimulatePrincipalPolicy
being retried (botocore standard mode, 3 attempts with backoff) before the local evaluator takes
over; against real AWS the simulator answers instead. Loopback latency is near zero, so the call count, not the wall time, is what
carries over to real AWS (multiply by a region's round-trip time, typically tens of ms).

Usage: .venv/bin/python benchmarks/aws/audit_cost.py   (writes results.json and results.md here)
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "aws"))

RUNS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("moto did not start")


class Env:
    """Just enough of pytest's monkeypatch for aws_helpers.build_account."""

    def setenv(self, key: str, value: str) -> None:
        os.environ[key] = value

    def delenv(self, key: str, raising: bool = True) -> None:
        os.environ.pop(key, None)


def audit_once(url: str, spec: Path) -> tuple[float, Counter[str], int]:
    from aws_helpers import QuotaSession, build_account, quota_stub, seed_quotas

    from preflight.aws import gather_facts
    from preflight.pipeline import build_plan
    from preflight.spec import load_spec

    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"))
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    build_account(Env())
    plan = build_plan(load_spec(spec))
    session = QuotaSession({"service-quotas": quota_stub(seed_quotas())})
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    # before-parameter-build fires for stubbed clients too (the Stubber answers at before-call).
    session.session.events.register("before-parameter-build", count)
    start = time.perf_counter()
    facts = gather_facts(plan, session=session)
    elapsed = time.perf_counter() - start
    assert facts.unavailable is None, facts.unavailable
    return elapsed, calls, sum(calls.values())


def unreachable_once(spec: Path) -> float:
    from preflight.aws import gather_facts
    from preflight.pipeline import build_plan
    from preflight.spec import load_spec

    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    os.environ["PREFLIGHT_AWS_TIMEOUT"] = "1"
    os.environ["PREFLIGHT_AWS_MAX_ATTEMPTS"] = "1"
    plan = build_plan(load_spec(spec))
    start = time.perf_counter()
    facts = gather_facts(plan)
    elapsed = time.perf_counter() - start
    assert facts.unavailable is not None
    return elapsed


def import_cost() -> dict[str, Any]:
    code = (
        "import sys, time; t = time.perf_counter(); import preflight.aws.audit, "
        "preflight.rules.aws; print(time.perf_counter() - t, 'boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, boto = out.stdout.split()
    return {"import_seconds": round(float(seconds), 3), "boto3_imported": boto == "True"}


def main() -> None:
    from aws_helpers import write_spec

    proc, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            spec = write_spec(Path(tmp))
            runs = [audit_once(url, spec) for _ in range(RUNS)]
            unreachable = [unreachable_once(spec) for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    calls = runs[-1][1]
    by_service: Counter[str] = Counter()
    for key, n in calls.items():
        by_service[key.split(":")[0]] += n
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:10]
    result = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "lscpu": lscpu,
        },
        "scenario": "examples/seed-fixed.yaml, correct account in moto 5.2 server mode on loopback; "
        "Service Quotas stubbed; IAM simulator absent (local policy evaluation)",
        "runs": RUNS,
        "audit_seconds_median": round(statistics.median(r[0] for r in runs), 3),
        "audit_seconds_min": round(min(r[0] for r in runs), 3),
        "api_calls_total": runs[-1][2],
        "api_calls_by_service": dict(sorted(by_service.items())),
        "api_calls_by_operation": dict(sorted(calls.items())),
        "unreachable_endpoint_seconds_max": round(max(unreachable), 3),
        **import_cost(),
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = "\n".join(f"| {k} | {v} |" for k, v in result["api_calls_by_service"].items())
    (HERE / "results.md").write_text(
        "# AWS audit cost (benchmarks/aws/audit_cost.py)\n\n"
        f"Scenario: {result['scenario']}.\n\n"
        f"- API calls per audit (logical calls; retries not counted): **{result['api_calls_total']}**\n"
        f"- audit wall time on loopback: median {result['audit_seconds_median']} s over {RUNS} runs "
        f"(min {result['audit_seconds_min']} s)\n"
        f"- unreachable endpoint (closed loopback port, 1 attempt): warning after at most "
        f"{result['unreachable_endpoint_seconds_max']} s\n"
        f"- `import preflight.aws.audit, preflight.rules.aws`: {result['import_seconds']} s, "
        f"boto3 imported: {result['boto3_imported']}\n\n"
        "| service | calls |\n|---|---|\n" + rows + "\n\n"
        "Machine:\n\n```\n" + "\n".join(lscpu) + "\n```\n"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
