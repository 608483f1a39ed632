"""PF5xx: a credential written into the training arguments of a spec or script."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from ..redact import is_secret_key, kind_of, looks_like_secret
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan


class CredentialInTrainingArguments(Rule):
    """
    What it does:
    Flags a token or key written as a value under `training:` (a `hub_token`, or any value
    shaped like a Hugging Face token `hf_...` or an AWS access key id `AKIA...`), in a spec or
    in a script's `TrainingArguments(...)`. The value itself is never printed.

    Why is this bad?
    The file holding it is shared (git, CI logs), and Trainer pickles the whole
    `TrainingArguments`, `hub_token` included, into `training_args.bin` of every checkpoint and
    of the final model (`torch.save(self.args, ...)` in transformers' trainer.py). On SageMaker
    those folders sync to S3, so the token is copied into every checkpoint of the bucket.

    Example:
    ```yaml
    training:
      push_to_hub: true
      hub_token: hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxx
    ```

    Use instead:
    ```yaml
    training:
      push_to_hub: true    # the token comes from the HF_TOKEN environment variable
    ```

    References:
    - transformers trainer.py `_save`: `torch.save(self.args, os.path.join(output_dir, TRAINING_ARGS_NAME))`
    - https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hftoken
    """

    id = "PF509"
    name = "credential-in-training-arguments"
    severity = Severity.ERROR
    title = "A token or key is written into the training arguments"
    fix = (
        "Delete it from the file and revoke it; set the HF_TOKEN environment variable instead "
        "(on SageMaker read it from AWS Secrets Manager in the job, not from the job's "
        "Environment, which anyone allowed to describe the job can read)."
    )
    source_url = "https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hftoken"

    def check(self, plan: Plan) -> Iterator[Finding]:
        values = plan.spec.training.values
        for key in sorted(plan.spec.training.stated):
            value = values.get(key)
            named = is_secret_key(key) and isinstance(value, str) and value.strip() != ""
            if not named and not looks_like_secret(value):
                continue
            yield self.finding(
                f"training.{key}",
                f"`{key}` holds a credential ({kind_of(value)}, not shown): Trainer stores it "
                "in training_args.bin of every checkpoint and of the final model, which sync to S3",
            )
