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
        from ..spec.field_history import trl_field_span, trl_fields_at
        from .arguments import judged_version

        config = plan.loaded.trainer_config
        pinned = judged_version(plan, "trl")
        version = pinned[0] if pinned else trl_version()
        has = trl_fields_at(config, version) if pinned else None
        why = f", {pinned[1]}" if pinned else ""
        for key in sorted(removed):
            if key not in plan.spec.training.stated:
                continue
            if has is not None and key in has:
                continue  # the release the job runs with still has it
            entry = removed[key]
            span = trl_field_span(config, key)
            last = ".".join(span[1].split(".")[:2]) if span and span[1] else None
            last = last or entry.get("last_version", "?")
            successor = entry.get("replacement")
            if successor and has is not None and successor not in has:
                successor = None
            instead = f"; use `{successor}`" if successor else ""
            yield self.finding(
                f"training.{key}",
                f"`{key}` is not a {config} field in trl {version}{why} (last in trl "
                f"{last}): TypeError when the config is built{instead}",
                fix=f"Rename it to `{successor}`." if successor else "Delete the key.",
            )
