"""Keep the Hub token out of every checkpoint.

Trainer pickles its whole ``TrainingArguments`` into ``training_args.bin`` of every checkpoint
and of the final model (``torch.save(self.args, ...)`` in transformers 5.24 trainer.py), and
those folders sync to S3: a ``hub_token`` argument would be copied into each of them. The token
is moved into the ``HF_TOKEN`` environment variable instead, which huggingface_hub reads for
every push, so pushing still works and the pickles hold no token.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping
from typing import Any

log = logging.getLogger("trainjob")

TOKEN_ENV = "HF_TOKEN"


def without_hub_token(
    args_values: Mapping[str, Any], environ: MutableMapping[str, str] | None = None
) -> dict[str, Any]:
    """``args_values`` without ``hub_token``; a token found there is put in ``HF_TOKEN``
    (unless that already holds one) so the Hub push still authenticates."""
    env = os.environ if environ is None else environ
    values = dict(args_values)
    token = values.pop("hub_token", None)
    if token:
        if not env.get(TOKEN_ENV):
            env[TOKEN_ENV] = str(token)
        log.warning(
            "training.hub_token moved to the %s environment variable: Trainer would otherwise "
            "store it in training_args.bin of every checkpoint (and in S3); set %s instead",
            TOKEN_ENV,
            TOKEN_ENV,
        )
    return values
