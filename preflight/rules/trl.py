"""PF510: a training key that TRL's trainer config (SFTConfig, DPOConfig, ...) no longer accepts.

TRL renames and drops config fields between releases (``SFTConfig.max_seq_length`` became
``max_length``); like a removed TrainingArguments field, the old name is a TypeError when the
config is built, at the start of a paid job. The table is the bundled snapshot of TRL's configs
(``preflight/data/trl_configs.json``), which records which fields older releases had.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan


class RemovedTrainerConfigField(Rule):
    """
    What it does:
    Flags training keys that the trainer config in use (TRL's `SFTConfig`, `DPOConfig`,
    `GRPOConfig`, ...) had in an older TRL release and no longer has, naming the successor.

    Why is this bad?
    TRL's configs are dataclasses: an unknown keyword is
    `TypeError: SFTConfig.__init__() got an unexpected keyword argument 'max_seq_length'` when
    the script builds its config, after the instance is paid for and the image pulled. Recipes
    copied from older blog posts carry these names for years.

    Example:
    ```python
    SFTConfig(output_dir="/opt/ml/checkpoints", max_seq_length=2048)
    ```

    Use instead:
    ```python
    SFTConfig(output_dir="/opt/ml/checkpoints", max_length=2048)
    ```

    References:
    - huggingface/trl PR #2895 and #2947 (max_seq_length renamed max_length), PR #3704 (alias removed)
    - preflight/data/trl_configs.json (fields of trl 1.16.0 and of older releases)
    """

    id = "PF510"
    name = "removed-trainer-config-field"
    severity = Severity.ERROR
    title = "A training key was removed from the TRL trainer config"
    fix = "Rename the key to its successor, or delete it."
    source_url = "https://github.com/huggingface/trl/releases"

    def check(self, plan: Plan) -> Iterator[Finding]:
        removed = getattr(plan.loaded, "removed_trainer_fields", None) or {}
        from ..readers.trl_fields import trl_version

        config = plan.loaded.trainer_config
        for key in sorted(removed):
            if key not in plan.spec.training.stated:
                continue
            entry = removed[key]
            successor = entry.get("replacement")
            instead = f"; use `{successor}`" if successor else ""
            yield self.finding(
                f"training.{key}",
                f"`{key}` is not a {config} field in trl {trl_version()} (last seen in trl "
                f"{entry.get('last_version', '?')}): TypeError when the config is built{instead}",
                fix=f"Rename it to `{successor}`." if successor else "Delete the key.",
            )
