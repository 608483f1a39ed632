"""PF9xx: findings about the check itself, written by the engine, documented like any rule.

Their ``check`` yields nothing: the engine (preflight/engine.py) produces these findings when a
rule crashes (PF900) or when rules cannot run for lack of facts (PF901). Registering them gives
them a page in docs/rules.md, ``preflight explain`` and a SARIF rule entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan

DOCS = "https://github.com/preflight-toolkit/preflight/blob/main/docs/rules-usage.md"


class RuleCrashed(Rule):
    """
    What it does:
    Reports a rule that raised an exception instead of returning its findings.

    Why is this bad?
    The crashed rule said nothing about the job, so its problem may still be there; the other
    rules ran and their findings are in the report. It is a bug in preflight.

    Example:
    ```yaml
    name: any-job
    ```

    Use instead:
    ```yaml
    name: any-job
    ```

    References:
    - preflight/engine.py (a crash in applies() or check() becomes this finding)
    """

    id = "PF900"
    name = "rule-crashed"
    severity = Severity.ERROR
    title = "A rule failed while checking the job"
    fix = "Report this as a bug in preflight; the other rules still ran."
    source_url = DOCS
    silenceable = False

    def check(self, plan: Plan) -> Iterator[Finding]:
        yield from ()


class NotChecked(Rule):
    """
    What it does:
    Sums up, in one info per file, the rules that could not run because the source does not
    state a fact they need: the model, the data size, the instance type, the duration that
    follows from them. It names which keys would let how many rules run; `--format json` lists
    the rule ids in the finding's `rules`.

    Why is this bad?
    It is not a problem of the job: it says what preflight could not vouch for. A partial
    source (a training script, a TRL recipe) leaves the launch settings to other files; state
    them (or write a job spec with `preflight init`) to have them checked.

    Example:
    ```yaml
    training:
      output_dir: out
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 20000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - docs/rules-usage.md, "Partial sources: not checked"
    """

    id = "PF901"
    name = "not-checked"
    severity = Severity.INFO
    title = "Rules that could not run for lack of facts"
    fix = "State the keys it names to let those rules run."
    source_url = DOCS

    def check(self, plan: Plan) -> Iterator[Finding]:
        yield from ()
